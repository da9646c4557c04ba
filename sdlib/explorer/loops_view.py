"""The explorer's loop view: which families of feedback loops drive the current run (Loops That Matter).

The loops of the model are enumerated once per server (about 20 s and 0.5 GB for Tokenworld's
242,000 loops, done on the first request) and kept; each run is then scored in a few seconds on
a coarse time grid (about 40 times), enough to see which loops dominate when.
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import BadInput
from ..graph import causal_graph
from ..loops_cli import family_classifier, loop_families
from ..ltm import dominance, loop_batches
from ..modelspec import load_spec

POINTS = 40  # scored times per run


class LoopView:
    def __init__(self):
        self._lock = threading.Lock()
        self._models: dict = {}

    def _prepared(self, model):
        with self._lock:
            if model not in self._models:
                spec = load_spec(model)
                graph = causal_graph(spec)
                families = loop_families(spec)
                classify = family_classifier(families) if families else (lambda loop: "all loops")
                batches = loop_batches(graph)
                names = {loop.id: classify(loop) for batch, _ in batches("") for loop in batch}
                self._models[model] = (graph, batches, names)
            return self._models[model]

    def analyse(self, model, resolved) -> dict:
        """Family shares and net scores of one run, and its most important single loops."""
        from ..engine import compile_spec

        graph, batches, names = self._prepared(model)
        c = resolved.controls
        compiled = compile_spec(load_spec(model))
        stride = max(1, int(round((c.final_time - c.initial_time) / c.time_step / POINTS)))
        try:
            dom = dominance(graph, compiled, keep=3, params=resolved.params, final_time=c.final_time,
                            time_step=c.time_step, stride=stride, batches=batches,
                            group_of=lambda loop: names[loop.id])
        except BadInput as exc:
            raise BadInput(f"loop view: {exc}") from None
        ranked = sorted(dom.group_shares, key=lambda n: -float(np.mean(dom.group_shares[n])))
        return {
            "time": [float(t) for t in dom.time],
            "families": [{"name": n, "share": [round(float(v), 4) for v in dom.group_shares[n]],
                          "net": [round(float(v), 4) for v in dom.groups[n]]} for n in ranked],
            "top_loops": [{"id": loop.id, "polarity": loop.polarity, "variables": list(loop.variables),
                           "importance": round(dom.importance[loop.id], 4)} for loop in dom.loops],
            "count": dom.count,
        }
