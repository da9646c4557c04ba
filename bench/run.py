"""Time PySD on Tokenworld: translation, and one baseline run to 2100 and to 2200.

    python bench/run.py            # prints JSON

Each figure is the best of a few repeats, measured side by side in this process.
"""

from __future__ import annotations

import json
import os
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


def main() -> dict:
    from sdlib.paths import DEFAULT_MODEL
    from sdlib.runner import run_scenario
    from sdlib.scenario import load_scenario
    from sdlib.simulate import model_controls
    from sdlib.translate import translated_path

    with tempfile.TemporaryDirectory() as cache:
        os.environ["TOKENWORLD_CACHE"] = cache
        start = time.perf_counter()
        translated_path(DEFAULT_MODEL)
        translation = time.perf_counter() - start
    os.environ.pop("TOKENWORLD_CACHE")
    translated_path(DEFAULT_MODEL)  # warm the ordinary cache
    scenario = load_scenario("baseline")
    controls = model_controls(scenario.model, time_step=scenario.time_step)
    to_2100 = best_of(lambda: run_scenario("baseline", final_time=2100))
    to_2200 = best_of(lambda: run_scenario("baseline", final_time=2200))
    report = {
        "model": str(Path(DEFAULT_MODEL).name),
        "engine": "pysd",
        "translation_seconds": round(translation, 3),
        "baseline_to_2100_seconds": round(to_2100, 3),
        "baseline_to_2200_seconds": round(to_2200, 3),
        "time_step": controls.time_step,
        "steps_to_2100": int(round((2100 - controls.initial_time) / controls.time_step)),
        "seconds_per_step": round(to_2100 / ((2100 - controls.initial_time) / controls.time_step), 7),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
