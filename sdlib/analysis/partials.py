"""How much of a variable's change over each step of a run one of its inputs made: the partial
changes that Loops That Matter's link scores are made of, and the link polarities a run shows.

Over the step [t - dt, t], the partial change of z by its input x is D_x z = z(t) - z(x at
t - dt, every other input at t): z's own equation (`Model.equation`) evaluated with x alone held
back. For a stock the same is taken of its net flow (its INTEG rate); a SMOOTH or DELAY is taken
as the first-order stock it is, net flow (input - output) / delay time.

`run_polarity` gives a link whose sign the equations leave open (a product with a factor that
could be of either sign, a lookup that rises and falls) the sign its partial changes have over
the whole run: sign(D_x z / D x) at every step where both moved. A link whose input never moves
in the run is given the sign of its partial derivative at the run's values instead (z with x
nudged up); one whose derivative is zero all through the run never acts in it ("0": a policy
switched off, a flat table). A link whose sign changes during the run stays undetermined ("?").
"""

from __future__ import annotations

import numpy as np
from pysd.translators.structures import abstract_expressions as ax

from ..core.controls import Controls
from ..core.errors import UnsupportedConstruct
from ..core.spec import name_key

RELATIVE_NOISE = 1e-9
FIRST_ORDER_LIKE = (ax.SmoothStructure, ax.SmoothNStructure, ax.DelayStructure, ax.DelayNStructure,
                    ax.DelayFixedStructure)  # a partial change smaller than this share of the value it is taken of is rounding


class Partials:
    """Partial changes of a model's variables along one run saved at every time step.

    `model` is a `sdlib.Model`; `time` the run's times; `values` every variable's (and
    constant's) series on them; `params` the constants the run was given (for equations PySD
    evaluates).
    """

    def __init__(self, model, time: np.ndarray, values: dict, controls: Controls | None = None,
                 params: dict | None = None):
        self.model = model
        self.time = np.asarray(time, dtype=float)
        self.values = values
        self.controls = controls
        self.params = params
        self.current = {name: v[1:] for name, v in values.items()}
        self._equations: dict = {}
        self._rates: dict = {}

    def equation(self, target: str):
        if target not in self._equations:
            self._equations[target] = self.model.equation(target, self.controls, self.params)
        return self._equations[target]

    def rate(self, target: str) -> np.ndarray:
        """A stock's net flow (or a SMOOTH's or DELAY's, as a first-order stock) at every time."""
        if target not in self._rates:
            element = self.model.spec[target]
            if element.kind == "delay":
                self._rates[target] = first_order(element, self.values)(self.values)
            else:
                self._rates[target] = self.equation(target)(self.values, self.time, self.values)
        return self._rates[target]

    def changes(self, source: str, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(D_x z, D x, D z) over each step: entry k is over [time[k], time[k + 1]]."""
        element = self.model.spec[target]
        values = self.values
        dx = np.diff(values[source])
        with np.errstate(all="ignore"):
            if element.kind == "delay":
                lagged = dict(values)
                lagged[source] = np.concatenate([values[source][:1], values[source][:-1]])
                rate = self.rate(target)
                return rate[1:] - first_order(element, values)(lagged)[1:], dx, np.diff(rate)
            env = dict(self.current)
            env[source] = values[source][:-1]  # only x at its value before the step
            after = self.rate(target)[1:] if element.kind == "stock" else values[target][1:]
            partial = after - self.equation(target)(env, self.time[1:], values)
            whole = np.diff(self.rate(target)) if element.kind == "stock" else np.diff(values[target])
        return partial, dx, whole

    def nudged(self, source: str, target: str) -> np.ndarray:
        """z(x + h) - z(x), every other input as in the run, at every time: the sign of dz/dx there."""
        element = self.model.spec[target]
        x = np.asarray(self.values[source], dtype=float)
        bumped = dict(self.values)
        bumped[source] = x + 1e-6 * np.maximum(np.abs(x), 1.0)
        with np.errstate(all="ignore"):
            if element.kind == "delay":
                rule = first_order(element, self.values)
                return rule(bumped) - rule(self.values)
            base = self.rate(target) if element.kind == "stock" else self.equation(target)(
                self.values, self.time, self.values)
            return self.equation(target)(bumped, self.time, self.values) - base


def run_polarity(partials: Partials, source: str, target: str) -> str:
    """'+', '-', '?' (its sign changes) or '0' (it never acts): the sign the link's partial
    changes have all through the run."""
    partial, dx, _ = partials.changes(source, target)
    scale = np.abs(partials.rate(target)[1:] if partials.model.spec[target].kind in ("stock", "delay")
                   else partials.values[target][1:])
    moved = (dx != 0) & np.isfinite(partial) & (np.abs(partial) > RELATIVE_NOISE * np.maximum(scale, 1e-300))
    signs = np.sign(partial[moved]) * np.sign(dx[moved])
    if not signs.size:  # x never moved (or never moved z): the derivative at the run's values
        nudge = partials.nudged(source, target)
        base = np.abs(partials.values[target]) if partials.model.spec[target].kind not in ("stock", "delay") else 1
        finite = np.isfinite(nudge)
        signs = np.sign(nudge[finite & (np.abs(nudge) > 1e-6 * RELATIVE_NOISE * np.maximum(base, 1e-300))])
        if not signs.size and finite.any():
            return "0"
    if signs.size and (signs > 0).all():
        return "+"
    if signs.size and (signs < 0).all():
        return "-"
    return "?"


def first_order(element, values: dict):
    """series -> the net flow (u - x) / T of a SMOOTH or DELAY x of input u over time T, as a
    first-order stock (exact for SMOOTH, SMOOTHI, DELAY1 and DELAY1I)."""
    node = element.ast
    names = {name_key(n): n for n in values}
    output = values[element.name]

    def value(part, series):
        if isinstance(part, (int, float)):
            return float(part)
        if isinstance(part, ax.ReferenceStructure) and name_key(part.reference) in names:
            return series[names[name_key(part.reference)]]
        if isinstance(part, ax.ArithmeticStructure) and set(part.operators) <= {"+", "-", "*", "/", "negative"}:
            args = [value(a, series) for a in part.arguments]
            if part.operators == ["negative"]:
                return -args[0]
            result = args[0]
            for op, arg in zip(part.operators, args[1:], strict=False):
                result = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[op](result, arg)
            return result
        raise UnsupportedConstruct(f"loop analysis: the input or delay time of '{element.name}' "
                                   f"({type(part).__name__}) is not a sum, product or quotient of variables")

    if not isinstance(node, FIRST_ORDER_LIKE):
        raise UnsupportedConstruct(f"loop analysis: '{element.name}' ({type(node).__name__}) is not a SMOOTH "
                                   f"or a DELAY, the stateful functions it scores")
    time_node = node.smooth_time if isinstance(node, (ax.SmoothStructure, ax.SmoothNStructure)) else node.delay_time
    return lambda series: (value(node.input, series) - output) / value(time_node, series)
