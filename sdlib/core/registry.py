"""The model's parameters (value, units, range, comment), read from the `.mdl` itself.

The `.mdl` is the parameter registry: a constant's value, units and `[min,max]` range live in its
equation and units field. This module reads them through `modelspec` and checks user overrides
against them, so that a wrong name or value is refused with one line that says what was expected.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

import pandas as pd

from .errors import BadInput, OutOfRange, UnknownName, argument_of
from .evaluate import constant
from .spec import CONTROL_NAMES, ModelSpec, name_key


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float | None
    units: str
    low: float | None
    high: float | None
    increment: float | None
    comment: str

    @property
    def is_switch(self) -> bool:
        return self.increment == 1

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "value": self.value,
            "units": self.units,
            "range": [self.low, self.high],
            "switch": self.is_switch,
            "comment": self.comment,
        }


def constant_value(ast) -> float | None:
    """The number a constant's equation stands for, or None if it is not a plain number.

    Evaluated by the one evaluator of equations (`sdlib.core.evaluate`, which the batch engine
    compiles from too), so that it follows PySD: `-2^2` is -4, `2^3^2` is 512, `GAME(12)` is 12,
    `:NA:` is NaN; a division by zero or a complex number is no plain number (PySD fails there).
    """
    return constant(ast)


_READ: dict[tuple[str, str], dict[str, Parameter]] = {}  # by (model path, content hash): specs are never changed


def parameters(spec: ModelSpec) -> dict[str, Parameter]:
    """Every settable constant of the model, keyed by `name_key` (read once per model file's content)."""
    key = (str(spec.path), spec.sha256)
    if key not in _READ:
        _READ[key] = _read_parameters(spec)
    return dict(_READ[key])


def _read_parameters(spec: ModelSpec) -> dict[str, Parameter]:
    found = {}
    for key, el in spec.elements.items():
        if el.kind == "constant" and key not in CONTROL_NAMES:
            found[key] = Parameter(
                name=el.name,
                value=constant_value(el.ast),
                units=el.units,
                low=el.limits[0],
                high=el.limits[1],
                increment=el.increment,
                comment=el.comment,
            )
    return found


def _suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(name_key(name), list(choices), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def find_parameter(spec: ModelSpec, name: str, source: str = "set") -> Parameter:
    """The parameter a user named, or a clear error saying why it cannot be set."""
    params = parameters(spec)
    key = name_key(name)
    if key in params:
        return params[key]
    if key in CONTROL_NAMES:
        raise BadInput(
            f"{source}: '{name}' is a simulation control; set final_time / time_step instead", argument_of(source)
        )
    if key in spec.elements:
        el = spec.elements[key]
        raise BadInput(
            f"{source}: '{el.name}' is computed by the model ({el.kind}); only parameters "
            f"(constants) can be set", argument_of(source)
        )
    raise UnknownName(
        f"{source}: no parameter named '{name}' in {spec.path.name}{_suggest(name, params)}", argument_of(source)
    )


def check_value(param: Parameter, value, source: str = "set") -> float | pd.Series:
    """A finite number (or time series of them) within the parameter's declared range."""
    if isinstance(value, pd.Series):
        for v in pd.unique(value.to_numpy()):  # each distinct value once, in order of first appearance
            check_value(param, v, source)
        return value.astype(float)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(
            f"{source}: value {value!r} for '{param.name}' is not a number "
            f"(expected a number in {param.units or 'model units'})", argument_of(source)
        ) from None
    if not math.isfinite(number):
        raise BadInput(f"{source}: value {value!r} for '{param.name}' is not finite (expected a real number)",
                       argument_of(source))
    low, high = param.low, param.high
    if (low is not None and number < low) or (high is not None and number > high):
        span = f"[{_fmt(low)}, {_fmt(high)}]"
        raise OutOfRange(
            f"{source}: '{param.name}' = {_fmt(number)} is out of its range {span} {param.units}".rstrip(),
            argument_of(source),
        )
    if param.is_switch and number != round(number):
        raise OutOfRange(f"{source}: '{param.name}' is a switch; expected a whole number, got {_fmt(number)}",
                         argument_of(source))
    return number


def _fmt(x) -> str:
    return "?" if x is None else f"{x:g}"


def resolve_overrides(spec: ModelSpec, overrides: dict, source: str = "set") -> dict:
    """Check overrides against the model; returns them keyed by the model's own spelling."""
    resolved = {}
    given: dict[str, str] = {}
    for name, value in overrides.items():
        param = find_parameter(spec, name, source)
        if param.name in resolved:
            raise BadInput(f"{source}: '{param.name}' is given twice (as {given[param.name]!r} and {name!r}); "
                           f"give it once", argument_of(source))
        given[param.name] = name
        resolved[param.name] = check_value(param, value, source)
    return resolved
