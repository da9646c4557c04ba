"""Batch engine against PySD on the Tokenworld baseline to 2100, measured side by side in one run.

    python bench/ensemble.py [--sizes 1,100,1000,10000]

Prints JSON: seconds per run for PySD (best of 3) and for the batch engine at each N (two
varied parameters, five outcomes saved), the ratio to PySD, runs per second, and the peak
memory numpy allocated during each batch (tracemalloc). The kernel is compiled (or loaded from
the cache) before timing.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
import warnings

import numpy as np

OUTCOMES = ["Output per developer", "AI electricity use", "Data centre copper demand", "Token price",
            "Tokens per person per day"]


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,100,1000,10000")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import sdlib

    model = sdlib.Model.load()
    controls = model.controls(final_time=2100)
    started = time.perf_counter()
    model.run(n=2, controls=controls, columns=OUTCOMES, engine="batch")
    compile_seconds = time.perf_counter() - started
    pysd = min(_timed(lambda: model.run(controls=controls, engine="pysd", progress=False)) for _ in range(3))
    rng = np.random.default_rng(0)
    batches = []
    for n in [int(x) for x in args.sizes.split(",")]:
        params = {"token return parameter": rng.uniform(0.2, 0.4, n),
                  "grid connection lead time": rng.uniform(2, 6, n)}
        tracemalloc.start()
        seconds = _timed(lambda params=params, n=n: model.run(params, controls, n=n, columns=OUTCOMES, engine="batch"))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        batches.append({
            "n": n, "seconds": round(seconds, 4), "seconds_per_run": seconds / n,
            "speedup_per_run_vs_pysd": round(pysd / (seconds / n), 1),
            "runs_per_second": round(n / seconds, 1), "peak_numpy_memory_mb": round(peak / 2**20, 2),
        })
    report = {
        "model": "tokenworld.mdl baseline to 2100", "time_step": controls.time_step,
        "steps": controls.n_steps,
        "pysd_seconds_per_run": round(pysd, 4),
        "batch_compile_or_load_seconds": round(compile_seconds, 2),
        "batch": batches,
        "goals": {"speedup_per_run": 1000, "seconds_for_10000_runs": 10},
    }
    print(json.dumps(report, indent=2))
    return report


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
