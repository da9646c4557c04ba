"""`--engine batch` for single runs: the batch engine answering like `simulate` does with PySD."""

from __future__ import annotations

from pathlib import Path

from .modelspec import load_spec
from .simulate import Controls, SimResult, _trim_divergence


def simulate_batch(model_path: Path, params: dict, controls: Controls) -> SimResult:
    """One run on the batch engine, as a SimResult with the same columns as PySD's."""
    from .engine import compile_spec

    compiled = compile_spec(load_spec(model_path))
    result = compiled.run(params=params, n=1, final_time=controls.final_time, time_step=controls.time_step,
                          saveper=controls.saveper)
    frame = result.to_frame(0)
    for name, value in (("FINAL TIME", controls.final_time), ("INITIAL TIME", controls.initial_time),
                        ("SAVEPER", controls.saveper), ("TIME STEP", controls.time_step)):
        frame[name] = value
    frame = frame[sorted(frame.columns, key=str.lower)]
    stopped = float(result.diverged_at[0]) if result.status[0] != "ok" else None
    return _trim_divergence(frame, stopped, controls, "batch")
