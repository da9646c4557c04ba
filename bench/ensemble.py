"""Batch engine against PySD and pysimlin on the Tokenworld baseline to 2100, side by side in one run.

    python bench/ensemble.py [--sizes 1,100,1000,10000]

Prints JSON: seconds per run (best of 3) for PySD's own `model.run` (the translated model, all
variables returned), for the toolkit's PySD engine (`Model.run(engine="pysd")`: PySD's run plus
checks and collection), and for pysimlin's `Model.run` (the Rust engine behind Simlin, without
loop analysis; a bench-only dependency, `pip install pysimlin`, left out with a note when absent);
then the batch engine at each N (two varied parameters, five outcomes saved) with the ratio per run
to each of them, runs per second, and the peak memory numpy allocated during each batch
(tracemalloc). The kernel is compiled (or loaded from the cache) before timing.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
import warnings

import numpy as np
from timing import timed

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
    model.run(n=2, controls=controls, columns=OUTCOMES, engine="batch")  # the kernel for many runs
    model.run(n=1, controls=controls, columns=OUTCOMES, engine="batch")  # and the one for one run
    compile_seconds = time.perf_counter() - started
    compiled = model.compiled()
    pysd = min(timed(lambda: model.run(controls=controls, engine="pysd", progress=False)) for _ in range(3))
    pysd_own = _pysd_own_run(model.path, controls)
    simlin = _pysimlin_run(model.path)
    rng = np.random.default_rng(0)
    batches = []
    for n in [int(x) for x in args.sizes.split(",")]:
        params = {"token return parameter": rng.uniform(0.2, 0.4, n),
                  "grid connection lead time": rng.uniform(2, 6, n)}
        tracemalloc.start()
        seconds = timed(lambda params=params, n=n: model.run(params, controls, n=n, columns=OUTCOMES, engine="batch"))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        batches.append({
            "n": n, "seconds": round(seconds, 4), "seconds_per_run": seconds / n,
            "speedup_per_run_vs_pysd": round(pysd / (seconds / n), 1),
            "speedup_per_run_vs_pysd_model_run": round(pysd_own / (seconds / n), 1),
            "speedup_per_run_vs_pysimlin": round(simlin["seconds"] / (seconds / n), 1) if simlin["seconds"] else None,
            "runs_per_second": round(n / seconds, 1), "peak_numpy_memory_mb": round(peak / 2**20, 2),
        })
    report = {
        "model": "tokenworld.mdl baseline to 2100", "time_step": controls.time_step,
        "steps": controls.n_steps,
        "pysd_seconds_per_run": round(pysd, 4),
        "pysd_model_run_seconds": round(pysd_own, 4),
        "pysimlin": simlin,
        "batch_compile_or_load_seconds": round(compile_seconds, 2),
        "batch": batches,
        "batch_kernel": (f"lane kernel, {compiled.lanes} runs side by side (sdlib/engine/lanes.py)"
                         if compiled.lanes else "run-major kernel: " + compiled.generated.lanes_obstacle),
        "goals": {"speedup_per_run_vs_pysd_model_run": 1000, "speedup_per_run_vs_pysimlin": 20,
                  "seconds_for_10000_runs": 2},
    }
    print(json.dumps(report, indent=2))
    return report


def _pysd_own_run(path, controls) -> float:
    """PySD's own `model.run` on the translated model, best of 3 (the anchor of issue 17)."""
    from sdlib.engine.translate import load_model

    pysd_model = load_model(path)
    pysd_model.set_components({"final_time": controls.final_time, "time_step": controls.time_step,
                               "saveper": controls.time_step})
    return min(timed(lambda: pysd_model.run(progress=False)) for _ in range(3))


def _pysimlin_run(path) -> dict:
    """pysimlin's `Model.run` on the same .mdl (its own time specs: 2024-2100, dt 1/16) without loop
    analysis, best of 3."""
    try:
        import simlin
    except ImportError:
        return {"seconds": None, "note": "pysimlin is not installed (pip install pysimlin)"}
    from importlib.metadata import version

    sim_model = simlin.load(str(path))
    seconds = min(timed(lambda: sim_model.run(analyze_loops=False)) for _ in range(3))
    return {"seconds": round(seconds, 5), "version": version("pysimlin")}


if __name__ == "__main__":
    main()
