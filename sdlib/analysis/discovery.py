"""Loop discovery for models with too many loops to enumerate: the strongest-path search of
Eberlein and Schoenberg (2020, "Finding the loops that matter"), as Stella Architect and Simlin do it.

A model's loops can be far too many to list (Tokenworld's closed economy has over 10^8). The loops
that matter are the ones whose links are strong when they are: at each scored time of a run, the
links are weighted by their absolute link scores (Loops That Matter) and, from each stock in turn,
a depth-first search follows the strongest links first, keeping for every variable the strongest
path score that has reached it (kept across the stocks of one time) and abandoning any path weaker
than that. Whenever the search returns to the stock it started from, it has found a loop. The
distinct loops found over the whole run are then scored with Loops That Matter like enumerated ones;
their relative scores are relative to the loops found.

The search is a heuristic: it finds the strongest loop at most times, not at every time (the
paper's figure 7 shows a graph where it cannot), and no loop through a link that never acts.

Whether a model's loops can be enumerated is decided by counting them up to `ENUMERATION_LIMIT`
once per causal structure; the answer is cached beside the translations (`loop_census`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import networkx as nx
import numpy as np

from ..core.paths import cache_dir
from ..core.rundir import write_cache_file
from .graph import dynamic_subgraph
from .loops import Loop, canonical, loop_polarity

ENUMERATION_LIMIT = 2_000_000  # more loops than this are discovered, not enumerated (World3-03 has 1,863,803)
CENSUS_FORMAT = 2


def loop_census(graph: nx.DiGraph, limit: int = ENUMERATION_LIMIT, progress: bool = False) -> int | None:
    """The number of elementary loops of the graph, or None when there are more than `limit`.

    Counting stops at the limit (a model with 10^8 loops is not counted to the end); the answer is
    cached under the hash of the graph's links between variables, so each structure is counted once."""
    edges = sorted(dynamic_subgraph(graph).edges)
    key = hashlib.sha256(json.dumps([CENSUS_FORMAT, limit, edges]).encode()).hexdigest()
    path = cache_dir() / "loops" / f"census-{key}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["count"]
    except (OSError, ValueError, KeyError):
        pass  # not counted yet, or a damaged entry: count again
    count = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc=f"counting loops (up to {limit:,}, once per model)", unit="loop", leave=False)
    for multiplicity in _cycle_multiplicities(dynamic_subgraph(graph)):
        count += multiplicity
        if bar is not None:
            bar.update(multiplicity)
        if count > limit:
            break
    if bar is not None:
        bar.close()
    result = count if count <= limit else None
    _write_atomically(path, json.dumps({"count": result, "limit": limit}))
    return result


def _cycle_multiplicities(graph: nx.DiGraph):
    """For each elementary cycle of a smaller graph, how many loops of `graph` it stands for.

    A variable with one input (or one output) is merged into the variable before (or after) it: each
    loop through it passes that link, so the loops of the graph and of the merged one correspond,
    except that two paths merged into one link (u -> w directly and through v) count as a link of
    multiplicity 2. Merging until no such variable is left shrinks Tokenworld's 280 variables to
    134 (and World3-03's 178 to 52), and its loops to count ten times."""
    out: dict = {v: {} for v in graph}
    into: dict = {v: {} for v in graph}
    for a, b in graph.edges:
        out[a][b] = into[b][a] = 1
    changed = True
    while changed:
        changed = False
        for v in sorted(out):
            if v in out[v] or (len(into[v]) != 1 and len(out[v]) != 1):
                continue  # a self-loop stays; so does a variable of several inputs and outputs
            if len(into[v]) == 1:  # u -> v -> w becomes u -> w
                ((u, before),) = into[v].items()
                del out[u][v]
                for w, after in out[v].items():
                    out[u][w] = into[w][u] = out[u].get(w, 0) + before * after
                    del into[w][v]
            else:  # u -> v -> w becomes u -> w, v's one output w
                ((w, after),) = out[v].items()
                del into[w][v]
                for u, before in into[v].items():
                    into[w][u] = out[u][w] = into[w].get(u, 0) + before * after
                    del out[u][v]
            del out[v], into[v]
            changed = True
    merged = nx.DiGraph()
    merged.add_nodes_from(range(len(out)))
    index = {name: i for i, name in enumerate(sorted(out))}
    merged.add_edges_from(sorted((index[a], index[b]) for a in out for b in out[a]))
    names = sorted(out)
    for cycle in nx.simple_cycles(merged):
        multiplicity = 1
        for i, node in enumerate(cycle):
            multiplicity *= out[names[node]][names[cycle[(i + 1) % len(cycle)]]]
        yield multiplicity


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_cache_file(path, text.encode())
    except OSError:
        pass  # a read-only or full cache costs a recount next time, nothing else


def discover_loops(graph: nx.DiGraph, scores: dict, columns) -> list[Loop]:
    """The distinct loops the strongest-path search finds at the given columns of the link scores.

    `scores` maps each link on a loop (`ltm.loop_edges`) to its link score series; `columns` are
    the entries of those series searched. Loops come in the order they were first found, with ids
    D1, D2, ... and their polarity from the graph."""
    dynamic = dynamic_subgraph(graph)
    edges = sorted(e for e in scores if dynamic.has_edge(*e))
    names = sorted({v for e in edges for v in e})
    index = {name: i for i, name in enumerate(names)}
    stocks = [index[n] for n in names if graph.nodes[n]["type"] == "stock"]
    source = np.array([index[a] for a, _ in edges], dtype=np.int64)
    target = np.array([index[b] for _, b in edges], dtype=np.int64)
    series = np.array([scores[e] for e in edges]).reshape(len(edges), -1)
    found: dict = {}
    for column in columns:
        strength = np.abs(series[:, column])
        acting = np.flatnonzero(np.isfinite(strength) & (strength > 0))  # a link that does not act makes no loop
        # each variable's links, strongest first (ties in the fixed order of `edges`)
        order = acting[np.lexsort((-strength[acting], source[acting]))]
        adjacency: list[list] = [[] for _ in names]
        for e, weight in zip(order.tolist(), np.log(strength[order]).tolist(), strict=True):
            adjacency[source[e]].append((int(target[e]), weight))
        for cycle in _strongest_paths(adjacency, stocks):
            found.setdefault(canonical([names[i] for i in cycle]), None)
    polarities = nx.get_edge_attributes(graph, "polarity")
    return [Loop(id=f"D{n}", variables=cycle, polarity=loop_polarity(graph, cycle, polarities))
            for n, cycle in enumerate(found, start=1)]


def _strongest_paths(adjacency: list[list], stocks: list[int]) -> list[tuple]:
    """Appendix I of Eberlein and Schoenberg (2020), with log scores: from each stock, follow the
    strongest links first; a path reaching a variable more weakly than an earlier path of this
    time did goes no further; a path back to its stock is a loop."""
    best = [-np.inf] * len(adjacency)
    visiting = [False] * len(adjacency)
    loops = []
    for start in stocks:
        if 0.0 < best[start]:
            continue
        best[start], visiting[start] = 0.0, True
        path = [start]
        frames = [(start, 0.0, 0)]  # (variable, log score of the path to it, next link to try)
        while frames:
            node, score, i = frames[-1]
            links = adjacency[node]
            if i == len(links):
                frames.pop()
                visiting[node] = False
                path.pop()
                continue
            frames[-1] = (node, score, i + 1)
            nxt, weight = links[i]
            reached = score + weight
            if visiting[nxt]:
                if nxt == start:
                    loops.append(tuple(path))
                continue
            if reached < best[nxt]:
                continue
            best[nxt], visiting[nxt] = reached, True
            path.append(nxt)
            frames.append((nxt, reached, 0))
    return loops
