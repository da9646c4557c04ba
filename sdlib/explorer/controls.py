"""What the explorer offers: levers (from policies/), key uncertainties and charts (from the
model's display file), scenarios."""

from __future__ import annotations

import sdlib

from ..core.spec import name_key


def meta() -> dict:
    """Everything the page needs to build its controls."""
    model = sdlib.Model.load()
    display = model.display
    params = model.parameters
    controls = model.controls()
    uncertainties = []
    for slider in display.sliders:
        param = params[name_key(slider.name)]
        uncertainties.append({"name": param.name, "value": param.value, "units": param.units, "doc": slider.doc,
                              "low": slider.low, "high": slider.high, "switch": param.is_switch})
    levers = []
    for policy in sorted(sdlib.policies().values(), key=lambda p: p.name):
        arguments = []
        for a in policy.arguments:
            entry = a.describe()
            if entry["low"] is None:  # start: within the run
                entry["low"], entry["high"] = controls.initial_time, controls.final_time
            arguments.append(entry)
        levers.append({"name": policy.name, "summary": policy.summary, "seed": policy.seed, "arguments": arguments})
    scenarios = [{"name": name, "description": s.description} for name, s in sdlib.scenarios().items()]
    anchors = chart_anchors(model)
    charts = [{"name": name, "log": log, "units": model.units(name), "anchors": anchors.get(name, [])}
              for name, log in display.charts]
    return {"levers": levers, "uncertainties": uncertainties, "scenarios": scenarios, "charts": charts}


def chart_anchors(model) -> dict:
    """The model's published anchors (`<model>-anchors.csv`) by variable, for points with error bars."""
    from ..analysis.anchors import anchors_path, load_anchors

    path = anchors_path(model.spec)
    found: dict = {}
    for a in load_anchors(path, model.spec) if path.is_file() else []:
        found.setdefault(a.variable, []).append({"id": a.id, "year": a.year, "low": a.low, "central": a.central,
                                                 "high": a.high, "source": a.source})
    return found
