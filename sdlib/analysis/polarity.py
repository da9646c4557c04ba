"""Link polarity from the equations: the sign of the partial derivative of a variable's equation
with respect to one of its inputs.

The sign is derived from the expression tree with the rules of calculus (sums, products,
quotients, powers, monotone functions, MIN/MAX, IF THEN ELSE with a condition that does not depend
on the input, lookups by the slope of their table). Products need the signs of the *values* of
the other factors: constants have theirs; variables have theirs from a simulation of the model
(the range each took) when one is given, and from their declared range otherwise. What cannot be
proven is "undetermined", never guessed. A link whose derivative is zero with the values the run
has (a factor that stays 0, a flat table) never acts in that run: "0".
"""

from __future__ import annotations

from pysd.translators.structures import abstract_expressions as ax

from ..core.registry import constant_value
from ..core.spec import ModelSpec, name_key

POSITIVE, NEGATIVE, ZERO, UNKNOWN = 1, -1, 0, None
SYMBOL = {POSITIVE: "+", NEGATIVE: "-", ZERO: "0", UNKNOWN: "?"}  # "0": never acts (a zero factor)

MONOTONE_INCREASING = {"exp", "ln", "log", "sqrt", "arctan", "sinh", "tanh", "integer"}


def _neg(s):
    return None if s is None else -s


def _mul(a, b):
    if a == ZERO or b == ZERO:
        return ZERO
    if a is None or b is None:
        return None
    return a * b


def _add(a, b):
    """Sign of a sum of two terms of known signs."""
    if a == ZERO:
        return b
    if b == ZERO:
        return a
    if a is None or b is None or a != b:
        return None
    return a


class PolarityAnalyser:
    """Signs of partial derivatives, given what is known about the signs of values."""

    def __init__(self, spec: ModelSpec, value_signs: dict | None = None):
        self.spec = spec
        self.value_signs = value_signs or {}

    # --- signs of values ---------------------------------------------------------------------
    def value_sign(self, node, depth: int = 0):
        if isinstance(node, bool):
            return POSITIVE if node else ZERO
        if isinstance(node, (int, float)):
            return POSITIVE if node > 0 else NEGATIVE if node < 0 else ZERO
        if depth > 30:
            return None
        if isinstance(node, ax.ReferenceStructure):
            key = name_key(node.reference)
            if key == "time" or key in ("time step", "initial time", "final time", "saveper"):
                return POSITIVE if key != "time" else self.value_signs.get("time", None)
            el = self.spec.elements.get(key)
            if el is not None and el.kind == "constant":
                return self._constant_sign(el)
            if key in self.value_signs:
                return self.value_signs[key]
            if el is None:
                return None
            low = el.limits[0]
            if low is not None and low > 0:
                return POSITIVE
            return None
        if isinstance(node, ax.ArithmeticStructure):
            signs = [self.value_sign(a, depth + 1) for a in node.arguments]
            if node.operators == ["negative"]:
                return _neg(signs[0])
            if set(node.operators) <= {"*", "/"}:
                result = POSITIVE
                for s in signs:
                    result = _mul(result, s)
                return result
            if set(node.operators) <= {"+", "-"}:
                result = signs[0]
                for op, s in zip(node.operators, signs[1:], strict=False):
                    result = _add(result, s if op == "+" else _neg(s))
                return result
            if node.operators == ["^"] * len(node.operators) and signs[0] == POSITIVE:
                return POSITIVE
            return None
        if isinstance(node, ax.CallStructure):
            name = node.function.reference.lower()
            if name in ("exp",):
                return POSITIVE
            if name in ("abs", "sqrt"):
                return None if name == "abs" and self.value_sign(node.arguments[0], depth + 1) is None else POSITIVE
            if name in ("min", "max"):
                a, b = (self.value_sign(x, depth + 1) for x in node.arguments[:2])
                return a if a == b else None
            if name in ("xidz", "zidz"):
                a, b = (self.value_sign(x, depth + 1) for x in node.arguments[:2])
                return _mul(a, b)
        return None

    def _constant_sign(self, el):
        """A constant's sign: its value's, or for a constant at 0 (a lever switched off) the sign of
        the values its declared range allows, so that the link it gates keeps the polarity it has
        whenever it is on."""
        value = self.value_signs.get(el.key) if el.key in self.value_signs else None
        if value is None:
            number = constant_value(el.ast)
            value = None if number is None else self.value_sign(number)
        if value != ZERO:
            return value
        low, high = el.limits
        if low is not None and low >= 0 and (high is None or high > 0):
            return POSITIVE
        if high is not None and high <= 0 and (low is None or low < 0):
            return NEGATIVE
        return ZERO

    # --- signs of partial derivatives --------------------------------------------------------
    def derivative_sign(self, node, x: str, depth: int = 0):
        """Sign of d(node)/d(x): +1, -1, 0 (no dependence) or None (undetermined)."""
        if isinstance(node, (bool, int, float)) or node is None:
            return ZERO
        if isinstance(node, ax.ReferenceStructure):
            return POSITIVE if name_key(node.reference) == x else ZERO
        if not self._depends(node, x):
            return ZERO
        if isinstance(node, ax.ArithmeticStructure):
            return self._arithmetic(node, x, depth)
        if isinstance(node, ax.CallStructure):
            return self._call(node, x, depth)
        if isinstance(node, ax.InlineLookupsStructure):
            return _mul(self._table_slope(node.lookups), self.derivative_sign(node.argument, x, depth + 1))
        if isinstance(node, ax.IntegStructure):
            return self.derivative_sign(node.flow, x, depth + 1)
        if isinstance(node, (ax.SmoothStructure, ax.SmoothNStructure, ax.DelayStructure, ax.DelayNStructure,
                             ax.DelayFixedStructure)):
            # The output follows the input (a positive link); a delay time's effect has no one sign.
            if self._depends(node.input, x) and not any(
                    self._depends(getattr(node, f, None), x) for f in ("delay_time", "smooth_time")):
                return self.derivative_sign(node.input, x, depth + 1)
            return None
        if isinstance(node, ax.GameStructure):
            return self.derivative_sign(node.expression, x, depth + 1)
        return None

    def _depends(self, node, x: str) -> bool:
        if isinstance(node, ax.ReferenceStructure):
            return name_key(node.reference) == x
        if isinstance(node, (list, tuple)):
            return any(self._depends(n, x) for n in node)
        if hasattr(node, "__dict__"):
            if isinstance(node, ax.InitialStructure):
                return False  # an initial value is fixed: no causal dependence
            return any(self._depends(v, x) for k, v in vars(node).items()
                       if not (k == "initial" and isinstance(node, (ax.IntegStructure,))))
        return False

    def _arithmetic(self, node, x, depth):
        args, ops = node.arguments, node.operators
        if ops == ["negative"]:
            return _neg(self.derivative_sign(args[0], x, depth + 1))
        if set(ops) <= {"+", "-"}:
            result = self.derivative_sign(args[0], x, depth + 1)
            for op, arg in zip(ops, args[1:], strict=False):
                d = self.derivative_sign(arg, x, depth + 1)
                result = _add(result, d if op == "+" else _neg(d))
            return result
        if set(ops) <= {"*", "/"}:
            # Product rule over all factors: sum of terms d(f_i) * prod(other f_j), divisors squared.
            terms = []
            for i, arg in enumerate(args):
                op = "*" if i == 0 else ops[i - 1]
                d = self.derivative_sign(arg, x, depth + 1)
                if d == ZERO:
                    continue
                sign = d if op == "*" else _neg(d)  # d(1/g) = -g'/g^2, and g^2 > 0
                for j, other in enumerate(args):
                    if j != i:  # other factors multiply or divide: 1/g has the sign of g
                        sign = _mul(sign, self.value_sign(other, depth + 1))
                terms.append(sign)
            result = ZERO
            for t in terms:
                result = _add(result, t)
            return result
        if ops == ["^"]:
            base, exponent = args
            if not self._depends(exponent, x):
                # d(a^b)/dx = b a^(b-1) a': positive base keeps a^(b-1) positive.
                if self.value_sign(base, depth + 1) == POSITIVE:
                    return _mul(self.value_sign(exponent, depth + 1), self.derivative_sign(base, x, depth + 1))
                return None
            if not self._depends(base, x):
                # d(a^b)/dx = a^b ln(a) b': needs the sign of ln(a).
                value = constant_value(base) if isinstance(base, (int, float, ax.ArithmeticStructure)) else None
                if value is not None and value > 0:
                    ln_sign = POSITIVE if value > 1 else NEGATIVE if value < 1 else ZERO
                    return _mul(ln_sign, self.derivative_sign(exponent, x, depth + 1))
            return None
        return None  # comparisons and logic: not differentiable

    def _call(self, node, x, depth):
        name = node.function.reference.lower()
        args = node.arguments
        key = name_key(node.function.reference)
        if key in self.spec.elements and self.spec.elements[key].kind == "lookup":
            return _mul(self._table_slope(self.spec.elements[key].ast), self.derivative_sign(args[0], x, depth + 1))
        if name in MONOTONE_INCREASING:
            return self.derivative_sign(args[0], x, depth + 1)
        if name in ("min", "max"):  # non-decreasing in each argument
            return _add(self.derivative_sign(args[0], x, depth + 1), self.derivative_sign(args[1], x, depth + 1))
        if name == "abs":
            return _mul(self.value_sign(args[0], depth + 1), self.derivative_sign(args[0], x, depth + 1))
        if name == "if_then_else":
            if self._depends(args[0], x):
                return None  # a switch on x: no single sign
            return _add(self.derivative_sign(args[1], x, depth + 1), self.derivative_sign(args[2], x, depth + 1))
        if name in ("xidz", "zidz"):
            quotient = ax.ArithmeticStructure(["/"], (args[0], args[1]))
            fallback = self.derivative_sign(args[2], x, depth + 1) if name == "xidz" else ZERO
            return _add(self.derivative_sign(quotient, x, depth + 1), fallback)
        if name == "power":
            return self._arithmetic(ax.ArithmeticStructure(["^"], (args[0], args[1])), x, depth)
        if name == "active_initial":
            return self.derivative_sign(args[0], x, depth + 1)
        return None

    @staticmethod
    def _table_slope(table):
        """+1 if a lookup never falls, -1 if it never rises, None otherwise."""
        if not isinstance(table, ax.LookupsStructure):
            return None
        ys = list(table.y)
        rises = any(b > a for a, b in zip(ys, ys[1:], strict=False))
        falls = any(b < a for a, b in zip(ys, ys[1:], strict=False))
        if rises and falls:
            return None
        return POSITIVE if rises else NEGATIVE if falls else ZERO

    def link_polarity(self, source: str, target: str):
        """Polarity of the link source -> target from target's equation (every definition of an
        array defined piece by piece: one sign if those that use the source agree)."""
        el = self.spec.elements[target]
        definitions = [a for a in (el.asts or (el.ast,)) if self._depends(a, source)] or [el.ast]
        signs = {self.derivative_sign(a, source) for a in definitions}
        return signs.pop() if len(signs) == 1 else None


def value_signs_from_run(frame) -> dict:
    """Signs of every variable over a simulation: +1 if never negative (and not all zero), -1 if
    never positive, None otherwise; keyed by name key."""
    signs: dict[str, int | None] = {}
    columns: dict[str, list] = {}  # an array's elements count together, as the variable
    for column in frame.columns:
        base = column.split("[", 1)[0] if column.endswith("]") else column
        columns.setdefault(name_key(base), []).append(column)
    for key, names in columns.items():
        values = frame[names].to_numpy(dtype=float).ravel()
        values = values[values == values]
        if not values.size:
            continue
        if values.min() >= 0 and values.max() > 0:
            signs[key] = POSITIVE
        elif values.max() <= 0 and values.min() < 0:
            signs[key] = NEGATIVE
        elif (values == 0).all():
            signs[key] = ZERO
        else:
            signs[key] = None
    signs["time"] = POSITIVE if frame.index.min() >= 0 else None
    return signs
