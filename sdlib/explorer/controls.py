"""What the explorer offers: levers (from policies/), key uncertainties and charts (from the
model's display file), scenarios; each with its units in plain words.

Values travel between page and server in the model's own units; `plain` says how the page shows
them: the units in words and a factor (shares are shown in percent, dollars per year in
billions). "Dmnl" is never shown. (Both sit beside the value's other keys: the server's JSON
limits keep the page's data at most six levels deep.)

>>> plain("Dmnl", "maximum AI share of generation")
{'shown_units': '%', 'scale': 100}
>>> plain("token/(Person*Day)")["shown_units"]
'tokens per person per day'
"""

from __future__ import annotations

import sdlib

from ..core.spec import name_key
from .fans import DEFAULT_RUNS

# A unit's word as a quantity (plural) and after "per" (singular).
WORDS = {
    "token": ("tokens", "token"),
    "Mtoken": ("million tokens", "million tokens"),
    "Person": ("people", "person"),
    "Day": ("days", "day"),
    "Year": ("years", "year"),
    "t": ("tonnes", "tonne"),
    "H100e": ("H100-equivalents", "H100-equivalent"),
}


def plain(units: str, name: str = "", high: float | None = None, share: bool = False) -> dict:
    """{"shown_units": words, "scale": factor from model units to shown units} for a value's units.

    A dimensionless value is a share shown in percent when `share` or its name says so, else a
    bare number; a rate per year is shown in percent per year.
    """
    text = (units or "").strip()
    if text in ("", "Dmnl", "1"):
        return _shown("%", 100) if share or "share" in name.lower() else _shown("", 1)
    if text == "1/Year":
        return _shown("% per year", 100)
    if text.startswith("$") and high is not None and high >= 1e9:
        return _shown("billion " + words(text), 1e-9)
    return _shown(words(text), 1)


def _shown(units: str, scale: float) -> dict:
    return {"shown_units": units, "scale": scale}


def words(units: str) -> str:
    """Vensim units in words: "$/(Person*Year)" -> "$ per person per year"."""
    top, _, bottom = units.partition("/")
    parts = [WORDS.get(top.strip(), (top.strip(), ""))[0]]
    for word in bottom.strip("() ").split("*") if bottom else []:
        word = word.strip()
        parts.append("per " + WORDS.get(word, ("", word))[1])
    return " ".join(parts)


def lever_title(name: str) -> str:
    """'frontier-rd' -> 'Frontier R&D'."""
    text = " ".join("R&D" if w == "rd" else w for w in name.split("-"))
    return text[0].upper() + text[1:]


ARGUMENT_LABELS = {"start": "starts in", "ramp": "reaches full size over"}


def meta() -> dict:
    """Everything the page needs to build its controls."""
    model = sdlib.Model.load()
    display = model.display
    params = model.parameters
    controls = model.controls()
    uncertainties = []
    for slider in display.sliders:
        param = params[name_key(slider.name)]
        declared = display.uncertainty(param.name)
        uncertainties.append({"name": param.name, "value": param.value, "units": param.units, "doc": slider.doc,
                              "low": slider.low, "high": slider.high, "switch": param.is_switch,
                              **plain(param.units, param.name, slider.high),
                              "range": [declared.low, declared.high] if declared else None})
    levers = []
    for policy in sorted(sdlib.policies().values(), key=lambda p: p.name):
        arguments = []
        for a in policy.arguments:
            entry = a.describe()
            if entry["low"] is None:  # start: within the run
                entry["low"], entry["high"] = controls.initial_time, controls.final_time
            if a.name == "start":
                entry.update(_shown("", 1))
            else:  # a lever's dimensionless argument is a share or a fraction of a value: percent
                entry.update(plain(a.units, a.name, entry["high"], share=True))
            entry["label"] = ARGUMENT_LABELS.get(a.name, a.doc)
            arguments.append(entry)
        levers.append({"name": policy.name, "title": lever_title(policy.name), "summary": policy.summary,
                       "seed": policy.seed, "main": "size", "arguments": arguments})
    scenarios = [{"name": name, "description": s.description} for name, s in sdlib.scenarios().items()]
    anchors = chart_anchors(model)
    charts = [{"name": name, "log": log, "units": model.units(name), "anchors": anchors.get(name, []),
               **plain(model.units(name), name)} for name, log in display.charts]
    return {"levers": levers, "uncertainties": uncertainties, "scenarios": scenarios, "charts": charts,
            "fans": {"runs": DEFAULT_RUNS, "uncertainties": [{"name": u.name, "low": u.low, "high": u.high, "doc": u.doc}
                                                     for u in display.uncertainties]}}


def chart_anchors(model) -> dict:
    """The model's published anchors (`<model>-anchors.csv`) by variable, for points with error bars."""
    from ..analysis.anchors import anchors_path, load_anchors

    path = anchors_path(model.spec)
    found: dict = {}
    for a in load_anchors(path, model.spec) if path.is_file() else []:
        found.setdefault(a.variable, []).append({"id": a.id, "year": a.year, "low": a.low, "central": a.central,
                                                 "high": a.high, "source": a.source})
    return found
