"""Which values PySD holds as integers when a model initialises (a quirk the batch engine follows).

PySD writes a Vensim number without a decimal point as a Python int, and keeps it so through
integer arithmetic (`+`, `-`, `*`, MIN, MAX, ABS, MODULO, ACTIVE INITIAL's initial value, a
stock's initial value). Where such an int sets the initial state of a SMOOTH (`SMOOTHI(x, t, 1)`,
or a SMOOTH of an ACTIVE INITIAL with an integer initial value, as in World3), PySD's state is an
integer numpy array until the first Euler step: the step writes the smooth's input into that array
(`targets[0] = input`), which truncates it towards zero, so the first step moves the smooth by
(trunc(input) - state) / time. The same holds for a DELAY N whose delay time starts as an int:
every new delay time is truncated. The batch engine reproduces both; `pysd_int` says where.

`pysd_int(translator, node, ctx)` answers True (an int), False (a float) or None (it depends on
values only a run knows, e.g. an IF THEN ELSE between an int and a float), with the settable
constants the answer assumed to be ints (a run that sets one of them gives PySD a float).
"""

from __future__ import annotations

import numpy as np
from pysd.translators.structures import abstract_expressions as ax

# PySD's functions that keep an int an int (np.minimum, np.maximum, np.abs, np.mod, xarray's sum ...);
# STEP, PULSE, RAMP, INTEGER and ELMCOUNT are written out below, every other function gives a float
KEEPS = {"min", "max", "abs", "modulo", "sum", "prod", "vmin", "vmax"}


class Answer:
    def __init__(self, value: bool | None, constants: frozenset = frozenset()):
        self.value = value
        self.constants = constants


def pysd_int(translator, node, ctx, depth: int = 0) -> Answer:
    """Whether PySD holds this expression as an integer at initialisation (see the module)."""
    if depth > 200:
        return Answer(None)
    if isinstance(node, (bool, np.bool_)):
        return Answer(None)
    if isinstance(node, (int, np.integer)):
        return Answer(True)
    if isinstance(node, (float, np.floating)):
        return Answer(False)
    if isinstance(node, np.ndarray):
        return Answer(node.dtype.kind in "iu")
    if isinstance(node, ax.ReferenceStructure):
        return _reference(translator, node, ctx, depth)
    if isinstance(node, ax.ArithmeticStructure):
        ops = list(node.operators)
        parts = [pysd_int(translator, a, ctx, depth + 1) for a in node.arguments]
        if any(op in ("/",) for op in ops):
            return Answer(False)
        if "^" in ops:  # int ** int is an int only for a non-negative exponent
            exponents = node.arguments[1:]
            if not all(isinstance(e, (int, np.integer)) and e >= 0 for e in exponents):
                return _all(parts) if _all(parts).value is False else Answer(None)
        return _all(parts)
    if isinstance(node, ax.CallStructure):
        name = node.function.reference
        var = translator._find(name, ctx) if translator.s is not None else None
        if var is not None and var.kind == "lookup":
            return Answer(False)
        if name == "active_initial":
            return pysd_int(translator, node.arguments[1], ctx, depth + 1)
        if name == "if_then_else":
            yes, no = (pysd_int(translator, a, ctx, depth + 1) for a in node.arguments[1:])
            if yes.value == no.value:
                return Answer(yes.value, yes.constants | no.constants)
            return Answer(None)
        if name in ("elmcount", "integer"):
            return Answer(True)  # len(...), int(x)
        args = list(node.arguments)
        if name == "step":  # value * (time > tstep)
            return pysd_int(translator, args[0], ctx, depth + 1)
        if name in ("pulse", "pulse_train"):  # 1 or 0 (without a magnitude)
            return Answer(True)
        if name in ("Xpulse", "Xpulse_train"):  # magnitude / TIME STEP, or the int 0
            return Answer(None)
        if name in ("ramp", "Xramp"):  # (time > start) * slope * (min(finish, time) - start)
            time = ax.ReferenceStructure("time", None)
            return _all([pysd_int(translator, a, ctx, depth + 1) for a in args + [time] if a is not None])
        if name in KEEPS:
            return _all([pysd_int(translator, a, ctx, depth + 1) for a in node.arguments])
        if translator.s is not None and name in translator.s.macros:
            return Answer(None)
        return Answer(False)  # numpy's float functions, lookups, data, random numbers
    if isinstance(node, (ax.IntegStructure, ax.InitialStructure, ax.SmoothStructure, ax.SmoothNStructure,
                         ax.DelayFixedStructure)):
        return pysd_int(translator, node.initial, ctx, depth + 1)  # the state starts as the initial value
    if isinstance(node, (ax.InlineLookupsStructure, ax.DelayStructure, ax.DelayNStructure, ax.TrendStructure,
                         ax.ForecastStructure, ax.GetConstantsStructure, ax.GetDataStructure, ax.DataStructure,
                         ax.LookupsStructure, ax.GetLookupsStructure)):
        return Answer(False)
    if isinstance(node, ax.GameStructure):
        return pysd_int(translator, node.expression, ctx, depth + 1)
    return Answer(None)


def _all(parts: list[Answer]) -> Answer:
    constants = frozenset().union(*(p.constants for p in parts)) if parts else frozenset()
    if any(p.value is False for p in parts):
        return Answer(False)
    if any(p.value is None for p in parts):
        return Answer(None)
    return Answer(True, constants)


def _reference(translator, node, ctx, depth: int) -> Answer:
    from ..core.expressions import CONTROL_VARIABLES

    reference = node.reference
    if ctx.macro is not None and reference in ctx.macro.params:
        var, labels = ctx.macro.params[reference], ()
    else:
        key = " ".join(reference.replace("_", " ").split())
        if key == "time":
            var, labels = translator.s.vars.get("initial time"), ()
        else:
            var = translator._find(reference, ctx)
            if var is None:
                if key in CONTROL_VARIABLES:
                    var = translator.s.vars.get(key)
                elif translator.s.is_subscript_name(reference):
                    return Answer(False)  # PySD's position of an element: a float array
            if var is None:
                return Answer(None)
            subs = list(node.subscripts.subscripts) if node.subscripts else []
            try:
                labels = translator._resolve(var, subs, ctx)[0] if subs else ()
            except Exception:  # a range summed over (SUM(x[A!])): every element is alike
                labels = next(iter(var.cells))
    cell = var.cells.get(labels) if var is not None else None
    memo = translator.__dict__.setdefault("_pysd_int_memo", {})
    if cell is not None and cell.id in memo:
        return memo[cell.id]
    answer = _cell(translator, var, cell, depth)
    if cell is not None:
        memo[cell.id] = answer
    return answer


def _cell(translator, var, cell, depth: int) -> Answer:
    from ..core.expressions import Context

    if cell is None or cell.component is None:
        return Answer(False)  # undefined: NaN
    if var.dims and len(var.components) > 1:
        return Answer(False)  # PySD builds it in a float array of NaN, element by element
    if var.kind in ("lookup", "data"):
        return Answer(False)
    inner = cell.context or Context(cell, cell.point, tuple(cell.component.subs), var.macro)
    answer = pysd_int(translator, cell.component.ast, inner, depth + 1)
    if answer.value and isinstance(cell.component.ast, (int, np.integer, np.ndarray)) and not var.hidden:
        return Answer(True, answer.constants | {var.key})  # a settable constant: a float when a run sets it
    return answer
