"""The explorer's loop view: which families of feedback loops drive the current run (Loops That Matter).

A model with at most MAX_LOOPS loops has them enumerated once per server (on the first request) and
kept, about 0.5 kB a loop. One with more (Tokenworld's closed economy has over 10^8) has its loops
discovered along each run instead, by the strongest-path search (`sdlib.analysis.discovery`), in
about a second. Each run is then scored on a coarse time grid (about 40 times), enough to see which
loops dominate when.
"""

from __future__ import annotations

import threading

import numpy as np

from ..analysis.discovery import loop_census
from ..analysis.graph import causal_graph
from ..analysis.loops_report import discovered_loops, family_classifier, loop_families
from ..analysis.ltm import dominance, loop_batches
from ..core.errors import BadInput

POINTS = 40  # scored times per run
MAX_LOOPS = 1_000_000  # about 0.5 GB held


class LoopView:
    def __init__(self):
        self._lock = threading.Lock()
        self._models: dict = {}

    def _prepared(self, model):
        """(graph, held loops or None when they are to be discovered, loop id -> family, classifier)."""
        with self._lock:
            if model.path not in self._models:
                graph = causal_graph(model.spec)
                families = loop_families(model.spec)
                classify = family_classifier(families) if families else (lambda loop: "all loops")
                count = loop_census(graph)
                batches, names = None, {}
                if count is not None and count <= MAX_LOOPS:
                    batches = loop_batches(graph, limit=MAX_LOOPS)
                    names = {loop.id: classify(loop) for batch, _ in batches("") for loop in batch}
                self._models[model.path] = (graph, batches, names, classify)
            return self._models[model.path]

    def analyse(self, resolved) -> dict:
        """Family shares and net scores of one run, and its most important single loops."""
        model = resolved.model
        graph, batches, names, classify = self._prepared(model)
        c = resolved.controls
        data = model.run(resolved.params, c.every_step(), columns=model.variables(constants=True), engine="batch",
                         progress=False)
        if data.attrs["status"] != "ok":
            raise BadInput(f"loop view: the run diverged at {data.attrs['diverged_at']:g}; loop dominance needs a "
                           f"finite run")
        stride = max(1, int(round(c.n_steps / POINTS)))
        scores = None
        if batches is None:  # too many to enumerate: the loops of this run, discovered
            batches, scores, found = discovered_loops(graph, model, data, stride, resolved.params)
            names = {loop.id: classify(loop) for loop in found}
        dom = dominance(graph, model, data, keep=3, stride=stride, batches=batches, scores=scores,
                        group_of=lambda loop: names[loop.id])
        ranked = sorted(dom.group_shares, key=lambda n: -float(np.mean(dom.group_shares[n])))
        return {
            "time": [float(t) for t in dom.time],
            "families": [{"name": n, "share": [round(float(v), 4) for v in dom.group_shares[n]],
                          "net": [round(float(v), 4) for v in dom.groups[n]]} for n in ranked],
            "top_loops": [{"id": loop.id, "polarity": loop.polarity, "variables": list(loop.variables),
                           "importance": round(dom.importance[loop.id], 4)} for loop in dom.loops],
            "count": dom.count,
            "found_by": "discovery" if scores is not None else "enumeration",
        }

