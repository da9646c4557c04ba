"""What the explorer offers: levers (from policies/), key uncertainties (model parameters), charts."""

from __future__ import annotations

from ..modelspec import load_spec, name_key
from ..paths import DEFAULT_MODEL
from ..policy import available_policies
from ..registry import parameters
from ..scenario import load_scenario, scenario_files

# Key uncertainties: model parameters with the slider range a user should explore (within the
# range declared in the model) and a one-line explanation.
UNCERTAINTIES = [
    ("frontier mode", None, None, "0: the paper's exogenous frontier; 1: compute, power and copper set it"),
    ("token return parameter", 0.1, 0.6, "phi: how much more a developer produces with more tokens"),
    ("algorithmic efficiency growth rate", 0.1, 1.0, "how fast inference algorithms improve (per year)"),
    ("hardware energy efficiency growth rate", 0.1, 0.6, "how fast new hardware gets more energy efficient"),
    ("agent token price elasticity", 1.0, 2.5, "Jevons: how strongly agent use rises as tokens get cheaper"),
    ("grid connection lead time", 1, 8, "years to connect a data centre to the grid"),
    ("maximum AI share of generation", 0.02, 0.4, "largest share of world electricity AI may use"),
    ("maximum AI capex share", 0.002, 0.05, "largest share of world output invested in AI compute"),
    ("mine lead time", 5, 25, "years from discovery to a producing copper mine"),
    ("copper backstop price", 15000, 150000, "copper price at which half its uses switch to substitutes ($/t)"),
    ("algorithmic efficiency ceiling", 10, 100000, "most tokens per FLOP can improve on 2024"),
]

CHARTS = [
    ("Tokens per person per day", True),
    ("Token price", True),
    ("Compute capacity", True),
    ("AI electricity use", True),
    ("Copper price", False),
    ("Copper reserves", False),
    ("Output per developer", True),
    ("Public token share", False),
]


def meta() -> dict:
    """Everything the page needs to build its controls."""
    params = parameters(load_spec(DEFAULT_MODEL))
    uncertainties = []
    for name, low, high, doc in UNCERTAINTIES:
        param = params[name_key(name)]
        uncertainties.append({
            "name": param.name, "value": param.value, "units": param.units, "doc": doc,
            "low": param.low if low is None else low, "high": param.high if high is None else high,
            "switch": param.is_switch,
        })
    levers = []
    for policy in sorted(available_policies().values(), key=lambda p: p.name):
        levers.append({"name": policy.name, "summary": policy.summary, "seed": policy.seed,
                       "arguments": [a.describe() for a in policy.arguments]})
    scenarios = [{"name": n, "description": load_scenario(n).description} for n in scenario_files()]
    units = {el.name: el.units for el in load_spec(DEFAULT_MODEL).elements.values()}
    charts = [{"name": n, "log": log, "units": units.get(n, "")} for n, log in CHARTS]
    return {"levers": levers, "uncertainties": uncertainties, "scenarios": scenarios, "charts": charts}
