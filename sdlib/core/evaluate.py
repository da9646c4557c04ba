"""One evaluator for constants and equations: PySD's abstract syntax, translated as the batch engine
compiles it, evaluated in Python with PySD's own functions.

`constant(ast)` is the number a constant's equation stands for (None if it refers to anything, or
PySD could not compute it): `-2^2` is -4, `2^3^2` is 512, `GAME(12)` is 12, `:NA:` is NaN, as in
PySD. The batch engine compiles the same translation (its `kernel` dialect) with numba.

>>> from pysd.translators.structures.abstract_expressions import ArithmeticStructure
>>> constant(ArithmeticStructure(["^", "^"], (2, 3, 2)))
512.0
"""

from __future__ import annotations

import numpy as np

from .errors import BadInput


def constant(ast) -> float | None:
    """The number an expression without references stands for, or None (it refers to something, or
    PySD could not compute it: a division by zero, a complex number)."""
    from .expressions import Context, Refused, Translator

    try:
        text = Translator(None, "python").translate(ast, Context(None, {}, ())).text
        return evaluate_python(text)
    except (Refused, BadInput):
        return None


def python_namespace() -> dict:
    """What `python`-dialect text is evaluated with: PySD's functions on PySD's numbers."""
    from pysd.py_backend.functions import integer, modulo, quantum, xidz, zidz

    return {"np": np, "E": np.zeros(1, dtype=np.int64), "xidz": xidz, "zidz": zidz, "integer": integer,
            "quantum": quantum, "modulo": modulo, "nmin": _minimum, "nmax": _maximum, "ppow": _power,
            "lookup": _lookup}


def _minimum(a, b) -> float:
    return float(np.minimum(a, b))


def _maximum(a, b) -> float:
    return float(np.maximum(a, b))


def _power(a, b, E, site):
    """a ** b as PySD's Python computes it; a complex result marks the error slot (and is NaN here)."""
    result = a ** b
    if isinstance(result, complex):
        if E[0] == 0:
            E[0] = site
        return float("nan")
    return result


def _lookup(x, xs, ys, mode: int) -> float:
    """PySD's lookup of a number: a point's own value, the end values held (mode 0) or extrapolated
    (mode 1), the previous point's value (mode 2, hold backward), linear interpolation otherwise."""
    if x in xs:
        return float(ys[list(xs).index(x)])
    if x > xs[-1]:
        return float(ys[-1] + (ys[-1] - ys[-2]) / (xs[-1] - xs[-2]) * (x - xs[-1])) if mode == 1 else float(ys[-1])
    if x < xs[0]:
        return float(ys[0] + (ys[1] - ys[0]) / (xs[1] - xs[0]) * (x - xs[0])) if mode == 1 else float(ys[0])
    if mode == 2:
        return float(ys[np.searchsorted(xs, x, side="right") - 1])
    return float(np.interp(x, xs, ys))


def evaluate_python(text: str, values: dict | None = None, owner: str = "a constant") -> float:
    """Evaluate `python`-dialect text (cells named c<id> bound from `values`)."""
    space = python_namespace()
    space.update(values or {})
    try:
        with np.errstate(all="ignore"):
            value = eval(text, space)  # text generated from PySD's parse tree, never from user text
    except ZeroDivisionError:
        raise BadInput(f"{owner} divides by zero (PySD fails there too)") from None
    except OverflowError:
        raise BadInput(f"{owner} overflows (PySD fails there too)") from None
    except ValueError:  # INTEGER of NaN and the like
        raise BadInput(f"{owner} is not a number PySD can compute") from None
    except TypeError:  # a complex number met a comparison
        raise BadInput(f"{owner} is a complex number (PySD gives one; the batch engine refuses)") from None
    if isinstance(value, complex):
        raise BadInput(f"{owner} is a complex number (PySD gives one; the batch engine refuses)")
    if space["E"][0]:
        raise BadInput(f"{owner} raises a negative number to a fractional power: PySD gives a complex "
                       f"number; the batch engine refuses")
    return float(value)
