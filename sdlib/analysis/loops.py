"""Feedback loops: every elementary cycle of the causal graph, streamed, with its polarity.

Enumeration streams networkx's Johnson's algorithm over each strongly connected component, so
counting millions of loops holds one path at a time, never a list of them. A loop is reinforcing
when the product of its link polarities is positive, balancing when negative, undetermined when
any link's polarity is, and inactive when a link never acts in the run the signs came from (a
policy switched off, a flat table): such a loop has no effect there, whatever its structure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import networkx as nx

from .graph import dynamic_subgraph


@dataclass(frozen=True)
class Loop:
    id: str
    variables: tuple[str, ...]  # in causal order: each causes the next, the last causes the first
    polarity: str  # reinforcing | balancing | undetermined | inactive

    @property
    def links(self) -> list[tuple[str, str]]:
        v = self.variables
        return [(v[i], v[(i + 1) % len(v)]) for i in range(len(v))]

    def as_dict(self) -> dict:
        return {"id": self.id, "polarity": self.polarity, "variables": list(self.variables), "length": len(self.variables)}


POLARITIES = ("reinforcing", "balancing", "undetermined", "inactive")


def loop_polarity(graph: nx.DiGraph, cycle, polarities: dict | None = None) -> str:
    """Reinforcing or balancing (the product of the link polarities), undetermined (a link's sign
    changes with the values) or inactive (a link never acts)."""
    if polarities is None:
        polarities = nx.get_edge_attributes(graph, "polarity")
    negatives = 0
    undetermined = False
    for i, node in enumerate(cycle):
        symbol = polarities[node, cycle[(i + 1) % len(cycle)]]
        if symbol == "0":
            return "inactive"
        undetermined |= symbol == "?"
        negatives += symbol == "-"
    if undetermined:
        return "undetermined"
    return "balancing" if negatives % 2 else "reinforcing"


def canonical(cycle: list) -> tuple:
    """A cycle rotated to start at its smallest name, so that a loop has one spelling."""
    i = min(range(len(cycle)), key=lambda k: cycle[k])
    return tuple(cycle[i:] + cycle[:i])


def iter_cycles(graph: nx.DiGraph) -> Iterator[tuple]:
    """Every elementary cycle, one at a time, component by component (deterministic order)."""
    dynamic = dynamic_subgraph(graph)
    components = sorted((sorted(c) for c in nx.strongly_connected_components(dynamic) if len(c) > 1 or
                         dynamic.has_edge(next(iter(c)), next(iter(c)))), key=lambda c: c[0])
    for component in components:
        # Johnson's algorithm walks sets of nodes; on integer labels (hashed the same in every
        # process, unlike strings) the order, and so every loop's id, is the same from run to run.
        sub = nx.DiGraph()
        sub.add_nodes_from(range(len(component)))
        index = {name: i for i, name in enumerate(component)}
        sub.add_edges_from(sorted((index[a], index[b]) for a, b in dynamic.subgraph(component).edges))
        for cycle in nx.simple_cycles(sub):
            yield canonical([component[i] for i in cycle])


def iter_loops(graph: nx.DiGraph) -> Iterator[Loop]:
    polarities = nx.get_edge_attributes(graph, "polarity")
    for n, cycle in enumerate(iter_cycles(graph), start=1):
        yield Loop(id=f"L{n}", variables=cycle, polarity=loop_polarity(graph, cycle, polarities))


def find_loops(graph: nx.DiGraph, max_loops: int | None = None) -> tuple[int, list[Loop], dict]:
    """Count every loop exactly; keep the first `max_loops` of them. Also counts by polarity."""
    kept: list[Loop] = []
    count = 0
    by_polarity = dict.fromkeys(POLARITIES, 0)
    for loop in iter_loops(graph):
        count += 1
        by_polarity[loop.polarity] += 1
        if max_loops is None or len(kept) < max_loops:
            kept.append(loop)
    return count, kept, by_polarity


def count_loops(graph: nx.DiGraph) -> int:
    """The number of elementary feedback loops, streamed (bounded memory)."""
    return sum(1 for _ in iter_cycles(graph))
