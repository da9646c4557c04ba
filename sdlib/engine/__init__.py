"""The engines: PySD (`pysd_engine`) and the batch engine, a model compiled from PySD's abstract
model into one numba kernel over N runs (`compile`). `sdlib.Model.run` puts both behind one call.

Every element is flattened into cells (one per subscript element) and each equation becomes one
statement, or one loop over its cells; the kernel computes them as PySD does and gives PySD's
numbers (to 1e-9 relative on every model it runs; to the last bit in its exact mode). What it
cannot compute faithfully it refuses with `UnsupportedConstruct`, naming the construct and the
variable.

    compile_spec(spec, method="euler" | "rk4", data_files=None, exact=False) -> CompiledModel
    CompiledModel.run(params=None, n=None, controls=None, return_columns=None, seed=0) -> BatchResult

>>> from sdlib.core.spec import load_spec                      # doctest: +SKIP
>>> from sdlib.engine import compile_spec                      # doctest: +SKIP
>>> res = compile_spec(load_spec("models/tokenworld.mdl")).run(n=1000, params={...})  # doctest: +SKIP

The batch engine (and numba with it) is imported on first use, so that a PySD run never pays for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .result import BatchResult

if TYPE_CHECKING:
    from .compile import CompiledModel, compile_spec

__all__ = ["BatchResult", "CompiledModel", "compile_spec"]


def __getattr__(name: str):
    if name in ("CompiledModel", "compile_spec"):
        return getattr(importlib.import_module(".compile", __name__), name)
    raise AttributeError(f"module 'sdlib.engine' has no attribute {name!r}")
