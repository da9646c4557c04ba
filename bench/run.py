"""Time a baseline run: the command line cold and warm, `--help`, and the run itself.

    python bench/run.py            # prints JSON

- `cli_cold_seconds`: `tokenworld run baseline --no-plots` with an empty cache (PySD translates
  the model and parses it: the first run after the model changes);
- `cli_warm_seconds`: the same command again (best of 3): what a user waits for every run;
- `cli_warm_with_plots_seconds`: the same with the figures;
- `help_seconds`: `tokenworld --help` (best of 3);
- `pysd_run_seconds`: the simulation alone, PySD's own stepping to 2100 in this process, and
  `api_run_seconds`: `sdlib.run("baseline")` around it (checks, policies, the labelled Dataset).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def command(*args: str, env: dict | None = None) -> None:
    script = Path(sys.executable).parent / "tokenworld"
    subprocess.run([str(script), *args], check=True, capture_output=True, env=env)


def main() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TOKENWORLD_CACHE": str(Path(tmp) / "cache")}
        outs = iter(Path(tmp) / f"run{i}" for i in range(100))
        cold = best_of(lambda: command("run", "baseline", "--no-plots", "--out", str(next(outs)), env=env), 1)
        warm = best_of(lambda: command("run", "baseline", "--no-plots", "--out", str(next(outs)), env=env))
        plots = best_of(lambda: command("run", "baseline", "--out", str(next(outs)), env=env), 1)
        help_seconds = best_of(lambda: command("--help", env=env))
    import sdlib
    from sdlib.engine.translate import load_model

    model = sdlib.Model.load()
    controls = model.controls()

    def pysd_run():
        load_model(model.path).run(final_time=controls.final_time, time_step=controls.time_step,
                                   saveper=controls.saveper)

    report = {
        "model": model.path.name,
        "cli_cold_seconds": round(cold, 3),
        "cli_warm_seconds": round(warm, 3),
        "cli_warm_with_plots_seconds": round(plots, 3),
        "help_seconds": round(help_seconds, 3),
        "pysd_run_seconds": round(best_of(pysd_run), 3),
        "api_run_seconds": round(best_of(lambda: sdlib.run("baseline", progress=False)), 3),
        "time_step": controls.time_step,
        "steps_to_2100": controls.n_steps,
        "goals": {"cli_warm_seconds": 2.0, "help_seconds": 0.5},
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
