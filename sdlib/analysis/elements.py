"""Feedback loops over array elements: the causal graph of a subscripted model element by element.

A subscripted model's variables hold arrays (`Population[region]`), and its feedback runs through
their elements: each region's population feeds its own births (a loop per region), while
migration carries one region's people to another (a loop across the elements). The element
graph has a node per element (`Population[north]`, as PySD and Vensim name the columns) and a link
a -> b where element b's equation reads element a.

Which elements an equation reads is found the way PySD computes it, not by re-deriving Vensim's
subscript rules (ranges, subranges, mappings, SUM over a range, elements defined one by one): each
element of an input is made NaN, and then nudged, at a few times of a run, and the elements of
the output that change are the ones that read it. A link no probe sees (the input only switches
a condition) links elements whose subscripts match. The link's sign is the sign of its
derivative along the run (the output's change when the input is nudged up, at up to 60 times of
the run), unless the equations give it for the whole variable.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from ..core.errors import BadInput
from .ltm import loop_edges

PROBE_TIMES = 5  # times of the run at which an equation's reads are probed
SIGN_TIMES = 60  # times at which a link's derivative is signed
RELATIVE_NOISE = 1e-9


def has_arrays(graph: nx.DiGraph, spec) -> bool:
    """Whether a variable on some feedback loop is an array."""
    return any(spec[n].subscripted for edge in loop_edges(graph) for n in edge)


def element_graph(resolved, graph: nx.DiGraph, data) -> nx.DiGraph:
    """The causal graph element by element (see the module's docstring); `graph` is the variable
    graph with its link polarities, `data` a one-run Dataset of the model with its constants."""
    from ..engine.pysd_engine import PySDEquations

    model = resolved.model
    equations = PySDEquations(model.path, resolved.params, resolved.controls)
    values = {name: np.asarray(data[name].to_numpy()[0], dtype=float) for name in data.data_vars}
    time = data["time"].to_numpy().astype(float)
    rows = np.flatnonzero(np.all([np.isfinite(v) for v in values.values()], axis=0)) if values else np.arange(0)
    rows = rows if rows.size else np.arange(len(time))
    probe_rows = rows[np.unique(np.linspace(0, len(rows) - 1, min(PROBE_TIMES, len(rows))).round().astype(int))]
    sign_rows = rows[np.unique(np.linspace(0, len(rows) - 1, min(SIGN_TIMES, len(rows))).round().astype(int))]
    elements = nx.DiGraph(model=graph.graph.get("model", ""))
    cells: dict[str, list[str]] = {}
    for node, attributes in graph.nodes(data=True):
        if attributes["type"] in ("constant", "lookup"):
            continue
        cells[node] = equations.cells(node)
        for cell in cells[node]:
            elements.add_node(cell, **attributes, variable=node)
    for source, target in loop_edges(graph):
        polarity = graph.edges[source, target]["polarity"]
        if len(cells[source]) == 1 and len(cells[target]) == 1 and not model.spec[source].subscripted:
            elements.add_edge(cells[source][0], cells[target][0], polarity=polarity)
            continue
        links = _probed_links(equations, source, target, cells, values, time, probe_rows, sign_rows)
        if not links:  # no probe saw the link: the elements whose subscripts match
            links = {(a, b): "?" for a in cells[source] for b in cells[target] if _matching(a, b)}
        for (a, b), sign in links.items():
            elements.add_edge(a, b, polarity=polarity if polarity != "?" else sign)
    return elements


def _probed_links(equations, source, target, cells, values, time, probe_rows, sign_rows) -> dict:
    """(element of source, element of target) -> the sign of the link along the run."""
    try:
        evaluate = equations.array_equation(target)
    except BadInput:
        return {}
    reads: dict = {}
    env = {name: series[probe_rows] for name, series in values.items()}
    base = evaluate(env, time[probe_rows])
    for a in cells[source]:
        if a not in values:
            continue
        changed = np.zeros(base.shape[1], dtype=bool)
        for probe in (np.full(len(probe_rows), np.nan), env[a] + 1e-6 * np.maximum(np.abs(env[a]), 1.0)):
            out = evaluate({**env, a: probe}, time[probe_rows])
            with np.errstate(invalid="ignore"):
                changed |= ((np.isnan(out) & ~np.isnan(base)) | (np.abs(out - base) > RELATIVE_NOISE * np.abs(base))
                            ).any(axis=0)
        reads[a] = [cells[target][b] for b in np.flatnonzero(changed)]
    return _signs(evaluate, reads, cells[target], values, time, sign_rows)


def _signs(evaluate, reads: dict, targets: list[str], values, time, rows) -> dict:
    """Each link's derivative sign at `rows`, inputs nudged a group at a time: no two inputs of a
    group are read by the same element, so one evaluation signs the whole group."""
    position = {b: j for j, b in enumerate(targets)}
    groups: list[tuple[list[str], set]] = []
    for a, read in reads.items():
        for members, taken in groups:
            if not taken & set(read):
                members.append(a)
                taken |= set(read)
                break
        else:
            groups.append(([a], set(read)))
    env = {name: series[rows] for name, series in values.items()}
    base = evaluate(env, time[rows])
    links = {}
    for members, _ in groups:
        nudged = dict(env)
        for a in members:
            nudged[a] = env[a] + 1e-6 * np.maximum(np.abs(env[a]), 1.0)
        change = evaluate(nudged, time[rows]) - base
        for a in members:
            for b in reads[a]:
                column = change[:, position[b]]
                scale = RELATIVE_NOISE * np.maximum(np.abs(base[:, position[b]]), 1e-300)
                signs = np.sign(column[np.isfinite(column) & (np.abs(column) > scale)])
                links[(a, b)] = ("+" if signs.size and (signs > 0).all() else "-" if signs.size and (signs < 0).all()
                                 else "0" if not signs.size else "?")
    return links


def _matching(a: str, b: str) -> bool:
    """Whether two elements' subscripts agree where they overlap (a scalar matches every element)."""
    left = set(a[a.index("[") + 1:-1].split(",")) if a.endswith("]") else set()
    right = set(b[b.index("[") + 1:-1].split(",")) if b.endswith("]") else set()
    return not left or not right or bool(left & right)


def variable_cycle(graph: nx.DiGraph, loop) -> tuple:
    """The variables an element loop runs through, in order (a loop across elements may pass one twice)."""
    return tuple(graph.nodes[cell]["variable"] for cell in loop.variables)
