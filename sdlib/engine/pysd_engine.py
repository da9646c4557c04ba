"""The PySD engine: run a translated model step by step, stopping cleanly if it diverges.

PySD itself would carry `inf` and `NaN` on to the final time. Here the run advances one SAVEPER
at a time; as soon as a stock is non-finite or beyond the divergence bound (1e300) it stops, and
the values from the first saved row with a non-finite value on are blanked: the status is then
"diverged" and `diverged_at` says when. A progress bar shows long runs.

Runs come back as a `BatchResult` (one row of arrays per run), the same raw form as the batch
engine's; `sdlib.Model.run` turns either into the labelled Dataset every caller sees.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.controls import Controls
from ..core.errors import BadInput
from .result import DIVERGENCE_BOUND, BatchResult
from .translate import load_model


def run_pysd(model_path: Path, params: list[dict], controls: Controls, columns: list[str] | None = None,
             progress: bool | None = None) -> BatchResult:
    """Simulate each parameter set in turn; `params` must already be checked (see `registry`)."""
    time = controls.saved_times()
    runs = [_one_run(Path(model_path), p, controls, columns, progress) for p in params]
    names = list(runs[0][0].columns)
    out = np.full((len(runs), len(names), len(time)), np.nan)
    status = np.zeros(len(runs), dtype=np.int64)
    diverged_at = np.full(len(runs), np.nan)
    culprits = []
    for i, (frame, stopped_at, culprit) in enumerate(runs):
        rows = min(len(frame), len(time))
        out[i, :, :rows] = frame[names].to_numpy(dtype=float)[:rows].T
        if stopped_at is not None:
            status[i], diverged_at[i] = 1, stopped_at
        culprits.append(culprit)
    result = BatchResult.build(time, names, out, status, diverged_at)
    result.culprits = culprits
    return result


def _one_run(model_path: Path, params: dict, controls: Controls, columns, progress):
    from pysd.py_backend.output import ModelOutput
    from tqdm import tqdm

    model = load_model(model_path)
    output = ModelOutput()
    stopped_at = culprit = None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # A run that diverges makes numpy warn on every step after; PySD warns when a time series
        # override starts after the initial time. Neither is news: divergence is reported below.
        # PySD's own notes on pandas deprecations are about PySD, not the run.
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        warnings.filterwarnings("ignore", message=".*extrapolat.*")
        warnings.filterwarnings("ignore", message="Replacing a constant value with a time-dependent value")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pysd")
        warnings.filterwarnings("ignore", category=FutureWarning, module="pysd")
        try:
            model.set_stepper(output, params=params, return_columns=columns, final_time=controls.final_time,
                              time_step=controls.time_step, saveper=controls.saveper)
        except (ArithmeticError, ValueError, TypeError) as exc:
            name = _culprit(exc, model) or "an equation"
            raise BadInput(
                f"{model_path.name}: with these values '{name}' cannot be computed at the initial time "
                f"({type(exc).__name__}: {exc}); check the parameters it depends on"
            ) from None
        chunks, remainder = divmod(controls.n_steps, controls.steps_per_save)
        sizes = [controls.steps_per_save] * chunks + ([remainder] if remainder else [])
        bar = tqdm(sizes, desc=model_path.stem, unit="save", disable=True if progress is False else None, leave=False)
        for size in bar:
            try:
                model.step(size)
            except (ArithmeticError, ValueError, TypeError) as exc:  # e.g. a power of a negative number
                stopped_at, culprit = float(model.time()), _culprit(exc, model)
                break
            if not _finite(model.state):
                stopped_at = float(model.time())
                break
        frame = output.collect(model)
    frame = frame.apply(pd.to_numeric, errors="coerce")
    return frame, stopped_at, culprit


def _culprit(exc: BaseException, model) -> str | None:
    """The Vensim name of the deepest model equation in the traceback of a failed step."""
    module_file = getattr(model, "py_model_file", None)
    names = dict(zip(model.doc["Py Name"], model.doc["Real Name"], strict=False))
    tb, found = exc.__traceback__, None
    while tb is not None:
        code = tb.tb_frame.f_code
        if (module_file is None or str(module_file) == code.co_filename) and code.co_name in names:
            found = names[code.co_name]
        tb = tb.tb_next
    return found


def _finite(state) -> bool:
    values = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in state]) if len(state) else np.zeros(0)
    return bool(np.all(np.isfinite(values)) and np.all(np.abs(values) <= DIVERGENCE_BOUND))
