"""Algebraic loops: equations that need each other's values at the same instant.

`a = b + 1` with `b = a * 2` has no order in which to compute it; PySD recurses until Python's
stack runs out, and the batch engine cannot order it either. Vensim refuses such a model with
"simultaneous equations involving a, b"; so does Tokenworld, before anything runs.

A stock, a delay or a smooth breaks a loop (its value at an instant is its state), and so does
INITIAL (computed once, at the start).

>>> from sdlib.core.spec import load_spec                     # doctest: +SKIP
>>> check_simultaneous(load_spec("tests/models/logistic.mdl")) # doctest: +SKIP
"""

from __future__ import annotations

import networkx as nx
from pysd.translators.structures import abstract_expressions as ax

from .errors import ModelError
from .spec import _STATEFUL_NODES, ModelSpec, name_key


def instant_inputs(node, found: set[str], depth: int = 0) -> set[str]:
    """Names (keys) an expression needs at the same instant: references outside stateful functions."""
    if depth > 500 or node is None or isinstance(node, (int, float, str, bool)):
        return found
    if isinstance(node, ax.ReferenceStructure):
        found.add(name_key(node.reference))
    elif isinstance(node, ax.CallStructure):
        found.add(name_key(node.function.reference))
        for arg in node.arguments:
            instant_inputs(arg, found, depth + 1)
    elif isinstance(node, (*_STATEFUL_NODES, ax.InitialStructure)):
        pass  # a state (or a value fixed at the start): it breaks the loop
    elif isinstance(node, (list, tuple)):
        for item in node:
            instant_inputs(item, found, depth + 1)
    elif hasattr(node, "__dict__"):
        for value in vars(node).values():
            instant_inputs(value, found, depth + 1)
    return found


def simultaneous_groups(spec: ModelSpec) -> list[list[str]]:
    """Each group of elements whose equations need one another at the same instant (Vensim names)."""
    graph = nx.DiGraph()
    for key, element in spec.elements.items():
        if element.kind in ("stock", "delay", "constant", "lookup", "data", "control", "initial"):
            continue
        for source in instant_inputs(element.ast, set()):
            if source in spec.elements and spec.elements[source].kind not in ("stock", "delay", "lookup", "data"):
                graph.add_edge(source, key)
    groups = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1 or any(graph.has_edge(k, k) for k in component):
            groups.append(sorted(spec.elements[k].name for k in component))
    return sorted(groups)


def check_simultaneous(spec: ModelSpec) -> None:
    """Refuse a model with an algebraic loop, naming its variables as Vensim does."""
    groups = simultaneous_groups(spec)
    if groups:
        names = groups[0]
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        more = f" (and {len(groups) - 1} more such groups)" if len(groups) > 1 else ""
        raise ModelError(f"{spec.path.name}: simultaneous equations involving {shown}{more}: each needs the other at "
                         f"the same instant; break the loop with a stock (INTEG), a delay or SMOOTH")
