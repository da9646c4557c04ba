"""One evaluator for constants and equations: PySD's abstract syntax, evaluated as the kernel does.

`constant(ast)` is the number a constant's equation stands for (None if it refers to anything),
computed from the same translation the batch kernel compiles, with the kernel's functions run as
plain Python: `-2^2` is -4, `2^3^2` is 512, `GAME(12)` is 12, `:NA:` is NaN, as in PySD.

>>> from pysd.translators.structures.abstract_expressions import ArithmeticStructure
>>> constant(ArithmeticStructure(["^", "^"], (2, 3, 2)))
512.0
"""

from __future__ import annotations

import numpy as np

from ..core.errors import BadInput
from . import functions

KERNEL_FUNCTIONS = ("nmin", "nmax", "nanmin2", "nanmax2", "nz", "nz1", "xidz", "zidz", "step", "ramp", "pulse",
                    "integer", "quantum", "modulo", "lookup", "lookup_vensim", "data", "ppow", "uniform01",
                    "random_uniform", "random_normal", "random_exponential")


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
    """What `python`-dialect text is evaluated with: PySD's numbers with the kernel's functions."""
    space = {"np": np, "E": np.zeros(1, dtype=np.int64)}
    for name in KERNEL_FUNCTIONS:
        space[name] = getattr(functions, name).py_func
    return space


def evaluate_python(text: str, values: dict | None = None, owner: str = "a constant") -> float:
    """Evaluate `python`-dialect text (cells named c<id> bound from `values`)."""
    space = python_namespace()
    space.update(values or {})
    try:
        with np.errstate(all="ignore"):
            value = eval(text, space)  # noqa: S307 - text generated from PySD's parse tree
    except ZeroDivisionError:
        raise BadInput(f"{owner} divides by zero (PySD fails there too)") from None
    except OverflowError:
        raise BadInput(f"{owner} overflows (PySD fails there too)") from None
    except TypeError:  # a complex number met a comparison
        raise BadInput(f"{owner} is a complex number (PySD gives one; the batch engine refuses)") from None
    if isinstance(value, complex):
        raise BadInput(f"{owner} is a complex number (PySD gives one; the batch engine refuses)")
    if space["E"][0]:
        raise BadInput(f"{owner} raises a negative number to a fractional power: PySD gives a complex "
                       f"number; the batch engine refuses")
    return float(value)
