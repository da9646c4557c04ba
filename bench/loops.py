"""Counting every feedback loop of a large model: time and memory, printed as JSON.

    python bench/loops.py [MODEL.mdl ...]     (default: models/tokenworld.mdl)

World3-03 (Meadows et al. 2004, about 300 variables) is the large published model the issue
names; it is not shipped with Tokenworld. One public copy is `test/metasd/WRLD3-03/wrld3-03.mdl`
in the bpowers/simlin repository.

For each model: variables and links of the causal graph, the exact loop count by polarity with
signs from the equations alone, the seconds the streamed enumeration took (translation and graph
building timed apart), and the growth of the process's peak resident memory while counting,
which stays flat because loops are counted one at a time, never held. Then `tokenworld loops` as
a user runs it (`sdlib.loops`): the model run, the signs the equations leave open settled by
that run, every loop counted again, and its seconds.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import warnings


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def count(path: str) -> dict:
    from sdlib.analysis.graph import causal_graph
    from sdlib.analysis.loops import find_loops
    from sdlib.core.spec import load_spec

    started = time.perf_counter()
    spec = load_spec(path)
    graph = causal_graph(spec)  # signs from the equations alone: no simulation needed to count
    prepared = time.perf_counter()
    rss_before = peak_rss_mb()
    total, _, by_polarity = find_loops(graph, max_loops=0)
    counted = time.perf_counter()
    import sdlib

    signed = sdlib.loops(path, max_loops=1)
    done = time.perf_counter()
    return {
        "model": spec.path.name,
        "variables": graph.number_of_nodes(),
        "links": graph.number_of_edges(),
        "stocks": sum(1 for _, d in graph.nodes(data=True) if d["type"] == "stock"),
        "loops": total,
        "by_polarity_from_equations": by_polarity,
        "translate_and_graph_seconds": round(prepared - started, 2),
        "count_seconds": round(counted - prepared, 2),
        "loops_per_second": round(total / max(counted - prepared, 1e-9)),
        "peak_rss_mb_before_count": round(rss_before, 1),
        "peak_rss_mb_growth_while_counting": round(peak_rss_mb() - rss_before, 1),
        "loops_command": {"engine": signed.attrs["engine"], "count": signed.attrs["count"],
                          "by_polarity": json.loads(signed.attrs["by_polarity"]),
                          "links_signed_by_run": len(json.loads(signed.attrs["links_signed_by_run"])),
                          "seconds": round(done - counted, 2)},
    }


def main() -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=None)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from sdlib.core.paths import DEFAULT_MODEL

    results = []
    for path in args.models or [str(DEFAULT_MODEL)]:
        print(f"counting the loops of {path} ...", file=sys.stderr)
        results.append(count(path))
        print(json.dumps(results[-1], indent=1))
    return results


if __name__ == "__main__":
    main()
