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
    charts = [{"name": name, "log": log, "units": model.units(name)} for name, log in display.charts]
    return {"levers": levers, "uncertainties": uncertainties, "scenarios": scenarios, "charts": charts}
