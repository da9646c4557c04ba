"""Policy levers: small components that turn a few arguments into time-varying parameter overrides.

Each lever lives in its own module in the `policies/` package and exposes `POLICY`, a `Policy`
object: its kebab-case name, what it represents and which seed supports it, its arguments (with
units and valid ranges; at least `start`, `ramp` and `size`) and, for every model parameter it
touches, an `Effect`: how the lever moves that parameter over time and the rule by which it
combines with other levers that touch the same parameter (`add`, `multiply`, `max`, `min` or
`refuse`). Two levers that touch one parameter with different rules, or a `refuse` rule, are an
error, never a silent overwrite.

Example
-------
>>> from sdlib.core.policy import available_policies
>>> sorted(available_policies())[:2]
['adoption-programme', 'copper-supply']
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import BadInput, OutOfRange, UnknownName
from .registry import check_value, find_parameter, parameters
from .spec import ModelSpec, name_key

RULES = ("add", "multiply", "max", "min", "refuse")


@dataclass(frozen=True)
class Argument:
    """One argument of a lever; a range of None (only `start`'s) means "within the run"."""

    name: str
    units: str
    low: float | None
    high: float | None
    default: float
    doc: str

    def describe(self) -> dict:
        return {"name": self.name, "units": self.units, "low": self.low, "high": self.high,
                "default": self.default, "doc": self.doc}


def standard_arguments(size_units: str, size_low: float, size_high: float, size_default: float, size_doc: str,
                       start: float = 2026) -> list[Argument]:
    """The three arguments every lever has: when it starts, how fast it ramps up, how big it is."""
    return [
        Argument("start", "Year", None, None, start, "year the lever begins (within the run)"),
        Argument("ramp", "Year", 0, 50, 0, "years from start to full size (0: at once)"),
        Argument("size", size_units, size_low, size_high, size_default, size_doc),
    ]


def ramp_profile(times: np.ndarray, start: float, ramp: float) -> np.ndarray:
    """0 before `start`, rising linearly to 1 over `ramp` years, 1 after."""
    if ramp <= 0:
        return (times >= start).astype(float)
    return np.clip((times - start) / ramp, 0.0, 1.0)


@dataclass(frozen=True)
class Effect:
    """How a lever moves one parameter: `value(args, profile, base)` gives the lever's term over time.

    The term is a delta for `add`, a factor for `multiply`, and a level for `max`, `min` and
    `refuse` (the level applies where the profile is positive, the base value elsewhere).
    """

    parameter: str
    rule: str
    value: Callable[[dict, np.ndarray, float], np.ndarray]

    def __post_init__(self):
        if self.rule not in RULES:
            raise BadInput(f"policy effect on '{self.parameter}': unknown rule '{self.rule}' "
                           f"(expected one of {', '.join(RULES)})")


@dataclass(frozen=True)
class Policy:
    name: str
    summary: str
    doc: str
    seed: str
    arguments: list[Argument]
    effects: list[Effect]

    def describe(self) -> dict:
        return {
            "name": self.name,
            "summary": self.summary,
            "seed": self.seed,
            "arguments": [a.describe() for a in self.arguments],
            "parameters": {e.parameter: e.rule for e in self.effects},
            "doc": self.doc,
        }

    def resolve_arguments(self, given: dict, initial_time: float, final_time: float) -> dict:
        """Defaults filled in, every value checked against its range and the run's span."""
        known = {a.name: a for a in self.arguments}
        unknown = set(given) - set(known) - {"name"}
        if unknown:
            raise UnknownName(
                f"policy '{self.name}': unknown argument(s) {', '.join(sorted(unknown))} "
                f"(expected some of {', '.join(known)})"
            )
        args = {}
        for arg in self.arguments:
            raw = given.get(arg.name, arg.default)
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise BadInput(f"policy '{self.name}': argument {arg.name}={raw!r} is not a number") from None
            low = -math.inf if arg.low is None else arg.low
            high = math.inf if arg.high is None else arg.high
            if not math.isfinite(value) or not low <= value <= high:
                raise OutOfRange(
                    f"policy '{self.name}': argument {arg.name}={raw} is out of its range "
                    f"[{low:g}, {high:g}] {arg.units}".rstrip()
                )
            args[arg.name] = value
        if not initial_time <= args["start"] <= final_time:
            raise OutOfRange(
                f"policy '{self.name}': start={args['start']:g} is outside the run "
                f"{initial_time:g}-{final_time:g}"
            )
        return args


def available_policies() -> dict[str, Policy]:
    """Every `POLICY` defined by a module of the `policies` package, by name."""
    import policies

    found = {}
    for info in pkgutil.iter_modules(policies.__path__):
        module = importlib.import_module(f"policies.{info.name}")
        policy = getattr(module, "POLICY", None)
        if isinstance(policy, Policy):
            found[policy.name] = policy
    return found


def find_policy(name: str) -> Policy:
    known = available_policies()
    if name not in known:
        raise UnknownName(f"unknown policy '{name}' (known policies: {', '.join(sorted(known))})")
    return known[name]


@dataclass
class _Terms:
    rule: str
    policies: list[str] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    profiles: list[np.ndarray] = field(default_factory=list)


def apply_policies(spec: ModelSpec, requested: list[dict], controls, overrides: dict) -> tuple[list[dict], dict]:
    """Resolve policies into time series of parameter values.

    Returns the policies with all their arguments, and {parameter: pandas.Series} sampled at every
    time step of the run (so PySD's linear interpolation reproduces them exactly). Raises BadInput
    for an unknown policy or argument, a value out of range, or levers whose rules conflict.
    """
    times = controls.step_times()
    params = parameters(spec)
    terms: dict[str, _Terms] = {}
    resolved = []
    for given in requested:
        policy = find_policy(str(given.get("name", "")))
        args = policy.resolve_arguments(given, controls.initial_time, controls.final_time)
        resolved.append({"name": policy.name, **args})
        profile = ramp_profile(times, args["start"], args["ramp"])
        for effect in policy.effects:
            param = find_parameter(spec, effect.parameter, source=f"policy '{policy.name}'")
            base = _base_value(param, overrides, policy.name)
            entry = terms.setdefault(param.name, _Terms(effect.rule))
            if entry.rule != effect.rule or (effect.rule == "refuse" and entry.policies):
                raise BadInput(
                    f"policy '{policy.name}' and policy '{entry.policies[0]}' both set '{param.name}' "
                    f"(rules {effect.rule} and {entry.rule}); they cannot be combined"
                )
            entry.policies.append(policy.name)
            entry.values.append(np.asarray(effect.value(args, profile, base), dtype=float) * np.ones_like(times))
            entry.profiles.append(profile)
    series = {}
    for name, entry in terms.items():
        param = params[name_key(name)]
        values = _combine(entry, _base_value(param, overrides, entry.policies[0]))
        check_value(param, pd.Series(values, index=times), source=f"policies {', '.join(entry.policies)}")
        series[name] = pd.Series(values, index=times, name=name)
    return resolved, series


def _base_value(param, overrides: dict, policy: str) -> float:
    """The value a lever builds on: the run's override, else the model's own number."""
    value = overrides.get(param.name, param.value)
    if value is None:
        raise BadInput(f"policy '{policy}': '{param.name}' has no plain number in the model to build on")
    return float(value)


def _combine(entry: _Terms, base: float) -> np.ndarray:
    values = np.asarray(entry.values)
    if entry.rule == "add":
        return base + values.sum(axis=0)
    if entry.rule == "multiply":
        return base * values.prod(axis=0)
    levels = np.where(np.asarray(entry.profiles) > 0, values, base)
    if entry.rule == "max":
        return np.maximum(base, levels.max(axis=0))
    if entry.rule == "min":
        return np.minimum(base, levels.min(axis=0))
    return levels[0]  # refuse: one policy only


def parse_policy_args(items: list[str], source: str = "policies") -> list[dict]:
    """`"NAME:key=value,..."` strings (the command line's `--policy`) into the form scenario files use.

    Each item becomes {"name": NAME, key: value, ...}; values are checked by the policy itself.
    """
    found = []
    for item in items or []:
        name, _, rest = item.partition(":")
        name = name.strip()
        if not name:
            raise BadInput(f"{source}: {item!r}: expected POLICY[:key=value,...], e.g. token-price-subsidy:size=0.5",
                           source)
        policy: dict = {"name": name}
        for pair in filter(None, (p.strip() for p in rest.split(","))):
            if "=" not in pair:
                raise BadInput(f"{source}: {item!r}: argument {pair!r} is not key=value", source)
            key, value = (s.strip() for s in pair.split("=", 1))
            if key == "name":
                raise BadInput(f"{source}: {item!r}: 'name' is not an argument (the policy is named before ':')",
                               source)
            if key in policy:
                raise BadInput(f"{source}: {item!r}: argument {key!r} is given twice; give it once", source)
            try:
                policy[key] = float(value)
            except ValueError:
                policy[key] = value
        found.append(policy)
    return found
