"""Counting, discovering and scoring the feedback loops of a model: time and memory, printed as JSON.

    python bench/loops.py [MODEL.mdl ...] [--dominance]     (default: models/tokenworld.mdl)

World3-03 (Meadows et al. 2004, about 300 variables) is the large published model issue 14 names;
it is not shipped with Tokenworld. One public copy is `test/metasd/WRLD3-03/wrld3-03.mdl` in the
bpowers/simlin repository.

For each model: variables and links of the causal graph; the census (are there more loops than
`ENUMERATION_LIMIT`?) and its seconds, uncached; for a model whose loops can be enumerated, the
exact loop count by polarity with signs from the equations alone, the seconds the streamed
enumeration took, and the growth of the process's peak resident memory while counting, which
stays flat because loops are counted one at a time, never held. Then `tokenworld loops` as a user
runs it (`sdlib.loops`: the model run, the signs it settles, every loop counted again or, past the
limit, the loops discovered along the run) and its seconds, with the census cached as it is after
a first use. With `--dominance`, Loops That Matter over the model's own run too: in this process
(`sdlib.loops(dominance=True)`) and as a user's command in a new process (`tokenworld loops
MODEL --dominance`, start-up and model loading included). Tokenworld's model is run as its
baseline scenario (2025-2100).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure(path: str, dominance: bool) -> dict:
    import sdlib
    from sdlib.analysis.discovery import ENUMERATION_LIMIT, _cycle_multiplicities, loop_census
    from sdlib.analysis.graph import causal_graph, dynamic_subgraph
    from sdlib.analysis.loops import find_loops
    from sdlib.core.paths import DEFAULT_MODEL
    from sdlib.core.spec import load_spec

    target = "baseline" if Path(path).resolve() == DEFAULT_MODEL.resolve() else path
    started = time.perf_counter()
    spec = load_spec(path)
    graph = causal_graph(spec)  # signs from the equations alone: no simulation needed to count
    prepared = time.perf_counter()
    total = 0
    for multiplicity in _cycle_multiplicities(dynamic_subgraph(graph)):  # the census, uncached
        total += multiplicity
        if total > ENUMERATION_LIMIT:
            break
    censused = time.perf_counter()
    result: dict = {
        "model": spec.path.name,
        "target": target,
        "variables": graph.number_of_nodes(),
        "links": graph.number_of_edges(),
        "stocks": sum(1 for _, d in graph.nodes(data=True) if d["type"] == "stock"),
        "translate_and_graph_seconds": round(prepared - started, 2),
        "census": total if total <= ENUMERATION_LIMIT else f"more than {ENUMERATION_LIMIT:,}",
        "census_seconds": round(censused - prepared, 2),
    }
    loop_census(graph)  # cached, as after a first use
    if total <= ENUMERATION_LIMIT:
        rss_before = peak_rss_mb()
        count, _, by_polarity = find_loops(graph, max_loops=0)
        counted = time.perf_counter()
        result.update({"loops": count, "by_polarity_from_equations": by_polarity,
                       "count_seconds": round(counted - censused, 2),
                       "loops_per_second": round(count / max(counted - censused, 1e-9)),
                       "peak_rss_mb_before_count": round(rss_before, 1),
                       "peak_rss_mb_growth_while_counting": round(peak_rss_mb() - rss_before, 1)})
    began = time.perf_counter()
    signed = sdlib.loops(target, max_loops=1)
    result["loops_command"] = {"engine": signed.attrs["engine"], "found_by": signed.attrs["found_by"],
                               "count": signed.attrs["count"], "by_polarity": json.loads(signed.attrs["by_polarity"]),
                               "links_signed_by_run": len(json.loads(signed.attrs["links_signed_by_run"])),
                               "seconds": round(time.perf_counter() - began, 2)}
    if dominance:
        began = time.perf_counter()
        scored = sdlib.loops(target, max_loops=5, dominance=True)
        in_process = time.perf_counter() - began
        began = time.perf_counter()
        subprocess.run([str(Path(sys.executable).with_name("tokenworld")), "loops", target, "--dominance",
                        "--max-loops", "5"], check=True, capture_output=True)
        result["dominance"] = {"found_by": scored.attrs["found_by"], "count": scored.attrs["count"],
                               "scored_times": scored.sizes["time"], "final_time": float(scored["time"][-1]),
                               "seconds_in_process": round(in_process, 2),
                               "seconds_command": round(time.perf_counter() - began, 2)}
    return result


def main() -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=None)
    parser.add_argument("--dominance", action="store_true", help="time loop dominance (Loops That Matter) too")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from sdlib.core.paths import DEFAULT_MODEL

    results = []
    for path in args.models or [str(DEFAULT_MODEL)]:
        print(f"the loops of {path} ...", file=sys.stderr)
        results.append(measure(path, args.dominance))
        print(json.dumps(results[-1], indent=1))
    return results


if __name__ == "__main__":
    main()
