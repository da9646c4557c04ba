"""Loop dominance with Loops That Matter (Schoenberg, Davidsen and Eberlein 2020; Schoenberg,
Hayward and Eberlein 2023), as Stella Architect and Simlin compute it.

The model is run with a value saved every time step (the caller passes that run, see
`sdlib.loops`). The score at time t uses the change over the step [t - dt, t], as the published
scores of Stella and Simlin do (the logistic model's reinforcing loop scores 1 - P(t)/K at t):

- link score of x -> z (z an auxiliary or flow): |D_x z / D z| * sign(D_x z / D x), where
  D z = z(t) - z(t - dt) and D_x z = z(t) - z(x at t - dt, every other input at t) is the part
  of z's change that x's change made, obtained by evaluating z's own equation
  (`Model.equation`); 0 when z or x did not change;
- link score of x -> S, S a stock: the same, of S's net flow R (its INTEG rate): |D_x R / D R| *
  sign(D_x R / D x). For a flow f (a whole term of the rate) this is the 2023 form, the change
  of the flow over the change of the net flow, |D f / D R|, +1 for an inflow and -1 for an
  outflow; it holds as well for a rate written as any expression;
- a SMOOTH or DELAY x of an input u over a time T is scored as the first-order stock it is (for
  SMOOTH, SMOOTHI, DELAY1, DELAY1I exactly): net flow R = (u - x) / T, so the link u -> x scores
  |D u / (D u - D x)|. Third and n-th order ones are scored the same way, as first-order ones of
  the same delay time: their inner stocks are not saved, and this keeps their lag in the score;
- loop score: the product of its link scores; relative loop score: the loop score over the sum
  of the absolute loop scores of every loop of the model, so that their absolute values sum to 1
  at each step, balancing loops negative.

Models with millions of loops are handled in two streaming passes (the sum, then the ranking),
keeping only the scores of the loops asked for. Models with too many loops to enumerate have theirs
discovered along the run (`discovery.py`) and passed in as `batches`: their relative scores are then
relative to the loops found, as Stella's and Simlin's are.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from scipy import sparse

from ..core.controls import Controls
from ..core.errors import BadInput
from .loops import POLARITIES, Loop, iter_loops
from .partials import Partials


@dataclass
class Dominance:
    time: np.ndarray  # end of each scored step
    scores: dict  # loop id -> relative loop score (signed), on `time`
    importance: dict  # loop id -> mean absolute relative score over the run
    loops: list[Loop]  # the loops kept, most important first
    count: int  # all loops of the model
    by_polarity: dict = field(default_factory=dict)  # reinforcing / balancing / undetermined / inactive -> how many
    groups: dict = field(default_factory=dict)  # group name -> summed relative score of its loops (every loop counted)
    group_sizes: dict = field(default_factory=dict)  # group name -> how many loops it holds
    group_shares: dict = field(default_factory=dict)  # group name -> summed |relative score|: shares summing to 1


def run_values(data) -> tuple[np.ndarray, dict]:
    """The time axis and every variable's series of a one-run Dataset saved every time step."""
    return data["time"].to_numpy(), {name: data[name].to_numpy()[0] for name in data.data_vars}


def link_scores(graph: nx.DiGraph, model, time: np.ndarray, values: dict, edges, controls: Controls | None = None,
                params: dict | None = None) -> dict:
    """Link score series of the given edges: entry k is the score at time[k + 1], over the step
    [time[k], time[k + 1]]. `model` is a `sdlib.Model`; `values` every variable's (and constant's)
    series on `time` (see `Partials`)."""
    partials = Partials(model, time, values, controls, params)
    scores = {}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for source, target in edges:
            partial, dx, dz = partials.changes(source, target)
            ratio = np.where(dz != 0, partial / np.where(dz != 0, dz, 1.0), 0.0)
            score = np.abs(ratio) * np.where(dx != 0, np.sign(partial * np.sign(dx)), 0.0)
            scores[(source, target)] = np.nan_to_num(score, nan=0.0, posinf=0.0, neginf=0.0)
    return scores


CHUNK = 4096  # loops scored at once: a (CHUNK x time) array, tens of MB


def dominance(graph: nx.DiGraph, model, data, keep: int = 20, progress: bool = False, group_of=None,
              stride: int = 1, batches=None, params: dict | None = None, scores: dict | None = None) -> Dominance:
    """Relative loop scores of the `keep` most important loops; every loop counts in the normaliser.

    `model` is the `sdlib.Model` and `data` one finite run of it saved at every time step
    (`model.run(params, controls.every_step(), engine="batch")`).

    `group_of(loop) -> name or None` sorts loops into named families (a model's loops often come
    in thousands of variants of one mechanism); each family's relative scores are summed.
    `stride` scores every stride-th step only (the link scores still use every step).
    `batches` (from `loop_batches`) reuses the loops of an earlier call instead of enumerating them.
    `params`: the constants the run was given (for equations PySD evaluates, see `Model.equation`).
    `scores`: the link scores of this run (`link_scores` of `loop_edges`), when the caller has them.

    Loops stream in chunks: a chunk's loop scores are one sparse product of its loop-link incidence
    matrix with the logarithms of the link scores, so the two passes (the normaliser, then the
    ranking) cost seconds, not minutes, for a quarter of a million loops.
    """
    time, values = run_values(data)
    edges = loop_edges(graph)
    if batches is None:
        batches = _stream_batches(graph, edges, progress)
    if scores is None:
        scores = link_scores(graph, model, time, values, edges, params=params)
    columns = scored_columns(len(time), stride)
    link = np.array([scores[e][columns] for e in edges]) if edges else np.zeros((0, len(columns)))
    zero = (link == 0).astype(float)
    negative = (link < 0).astype(float)
    with np.errstate(divide="ignore"):
        log_abs = np.where(link != 0, np.log(np.abs(link)), 0.0)

    def chunk_scores(m):
        """log |loop score| and sign (0 when a link is 0) of each loop of a batch."""
        sign = np.where((m @ negative) % 2 == 1, -1.0, 1.0)
        sign[(m @ zero) > 0] = 0.0
        logs = m @ log_abs
        logs[sign == 0] = -np.inf
        return logs, sign

    # Pass 1: the normaliser, sum over loops of |loop score|, as a running log-sum-exp per time
    # (loop scores can be far beyond the range of a float; relative scores never are).
    peak = np.full(len(columns), -np.inf)
    total = np.zeros(len(columns))
    count = 0
    by_polarity = dict.fromkeys(POLARITIES, 0)
    with np.errstate(invalid="ignore", over="ignore"):
        for batch, m in batches("loop scores (1/2)"):
            logs, _ = chunk_scores(m)
            count += len(batch)
            for loop in batch:
                by_polarity[loop.polarity] += 1
            new_peak = np.maximum(peak, logs.max(axis=0))
            finite = np.isfinite(new_peak)
            total = np.where(finite, total * np.exp(np.where(finite, peak - new_peak, 0.0)), 0.0)
            total += np.where(finite, np.exp(logs - np.where(finite, new_peak, 0.0)).sum(axis=0), 0.0)
            peak = new_peak
    scale = np.where(np.isfinite(peak) & (total > 0), peak + np.log(np.where(total > 0, total, 1.0)), np.inf)

    # Pass 2: relative scores, the `keep` most important loops, and the families' sums.
    heap: list = []
    groups: dict = {}
    shares: dict = {}
    sizes: dict = {}
    offset = 0
    for batch, m in batches("ranking (2/2)"):
        logs, sign = chunk_scores(m)
        relative = sign * np.exp(logs - scale)
        relative[~np.isfinite(relative)] = 0.0
        importance = np.abs(relative).mean(axis=1)
        best = np.argsort(-importance, kind="stable")[:keep]
        for i in best:
            item = (float(importance[i]), -(offset + int(i)), batch[i], relative[i].copy())
            if len(heap) < keep:
                heapq.heappush(heap, item)
            elif item[:2] > heap[0][:2]:
                heapq.heapreplace(heap, item)
        if group_of is not None:
            names = np.array([group_of(loop) or "" for loop in batch])
            for name in np.unique(names):
                if name:
                    rows = relative[names == name]
                    groups[name] = groups.get(name, 0.0) + rows.sum(axis=0)
                    shares[name] = shares.get(name, 0.0) + np.abs(rows).sum(axis=0)
                    sizes[name] = sizes.get(name, 0) + len(rows)
        offset += len(batch)
    kept = sorted(heap, key=lambda item: (-item[0], -item[1]))
    return Dominance(
        time=time[1:][columns],
        scores={loop.id: relative for _, _, loop, relative in kept},
        importance={loop.id: importance for importance, _, loop, _ in kept},
        loops=[loop for _, _, loop, _ in kept],
        count=count,
        by_polarity=by_polarity,
        groups=groups,
        group_sizes=sizes,
        group_shares=shares,
    )


def scored_columns(n_times: int, stride: int) -> np.ndarray:
    """The entries of the link score series (one per step) scored at every stride-th step, always
    keeping the last."""
    return np.arange(n_times - 1)[::-1][::stride][::-1]


def loop_edges(graph: nx.DiGraph) -> list:
    """The links that lie on some loop (inside a strongly connected component), in a fixed order:
    the columns of the loop-link incidence matrices."""
    found = set()
    for component in nx.strongly_connected_components(graph):
        node = next(iter(component))
        if len(component) > 1 or graph.has_edge(node, node):
            found |= set(graph.subgraph(component).edges)
    return sorted(found)


def _stream_batches(graph, edges, progress):
    """Loops enumerated afresh on each pass, a chunk at a time, with their incidence matrices."""
    edge_index = {e: i for i, e in enumerate(edges)}

    def passes(label):
        for batch in _batches(iter_loops(graph), progress, label):
            yield batch, _incidence(batch, edge_index, len(edges))

    return passes


def loop_batches(graph: nx.DiGraph, limit: int | None = None):
    """Every loop with its incidence matrices, held in memory, for repeated analyses of one
    model (the explorer): about 0.5 kB a loop. With `limit`, a model with more loops than that is
    refused (TooManyLoops) once the limit is passed, before memory runs out."""
    edges = loop_edges(graph)
    held, count = [], 0
    for batch in _stream_batches(graph, edges, False)(""):
        held.append(batch)
        count += len(batch[0])
        if limit is not None and count > limit:
            raise TooManyLoops(f"{graph.graph.get('model', 'the model')} has more than {limit:,} feedback loops: too "
                               f"many to hold and score all of them")
    return lambda label: iter(held)


def held_batches(loops: list[Loop], graph: nx.DiGraph):
    """Given loops (discovered ones, say) in the form `dominance` takes as `batches`."""
    edges = loop_edges(graph)
    edge_index = {e: i for i, e in enumerate(edges)}
    held = [(batch, _incidence(batch, edge_index, len(edges))) for batch in _batches(iter(loops), False, "")]
    return lambda label: iter(held)


class TooManyLoops(BadInput):
    """A model with more loops than an analysis can hold."""


def _incidence(batch, edge_index: dict, n_edges: int):
    """Sparse (loops x links) matrix: 1 where a loop passes through a link."""
    lengths = [len(loop.variables) for loop in batch]
    rows = np.repeat(np.arange(len(batch)), lengths)
    cols = np.fromiter((edge_index[link] for loop in batch for link in loop.links), dtype=np.int64, count=len(rows))
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(batch), n_edges))


def _batches(loops, progress: bool, label: str):
    batch = []
    for loop in _progress(loops, progress, label):
        batch.append(loop)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _progress(iterable, show: bool, label: str):
    if not show:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=label, unit="loop", leave=False)
