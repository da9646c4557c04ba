"""The causal graph of a model, built from what PySD parsed (networkx DiGraph).

Nodes are the model's variables, typed stock / flow / auxiliary / constant / lookup, with their
units. An edge x -> z means z's equation uses x; a stock's edges come from its flows (its INTEG
rate), never from what sets its initial value, which is a one-time dependency and no causal link.
Each edge carries the link polarity derived from the equation (`polarity`: "+", "-", "?" when
its sign depends on the values, "0" when it never acts with the values of the run given).

>>> graph = causal_graph(load_spec("models/tokenworld.mdl"))    # doctest: +SKIP
>>> graph.edges["capital investment", "Computing capital"]["polarity"]   # doctest: +SKIP
'+'
"""

from __future__ import annotations

import networkx as nx

from ..core.spec import CONTROL_NAMES, ModelSpec
from .polarity import SYMBOL, PolarityAnalyser

NODE_TYPES = {"stock": "stock", "delay": "stock", "flow": "flow", "auxiliary": "auxiliary", "initial": "auxiliary",
              "constant": "constant", "lookup": "lookup", "data": "constant"}


def causal_graph(spec: ModelSpec, value_signs: dict | None = None) -> nx.DiGraph:
    """Variables and their causal links, with link polarities from the equations."""
    analyser = PolarityAnalyser(spec, value_signs)
    graph = nx.DiGraph(model=spec.path.name)
    for key, el in spec.elements.items():
        if key in CONTROL_NAMES:
            continue
        graph.add_node(el.name, type=NODE_TYPES.get(el.kind, "auxiliary"), units=el.units, key=key)
    for key, el in spec.elements.items():
        if key in CONTROL_NAMES:
            continue
        for dep in sorted(el.deps):
            if dep not in spec.elements or dep in CONTROL_NAMES:
                continue
            source = spec.elements[dep]
            polarity = analyser.link_polarity(dep, key) if source.kind != "lookup" else None
            graph.add_edge(source.name, el.name, polarity=SYMBOL.get(polarity, "?"))
    return graph


def dynamic_subgraph(graph: nx.DiGraph) -> nx.DiGraph:
    """The graph without constants and lookups, which can never be part of a feedback loop."""
    keep = [n for n, d in graph.nodes(data=True) if d["type"] not in ("constant", "lookup")]
    return graph.subgraph(keep).copy()
