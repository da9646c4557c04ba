"""The batch engine: a model compiled from PySD's abstract model into one numba kernel over N runs.

>>> from sdlib.modelspec import load_spec                      # doctest: +SKIP
>>> from sdlib.engine import compile_spec                      # doctest: +SKIP
>>> res = compile_spec(load_spec("models/tokenworld.mdl")).run(n=1000, params={...})  # doctest: +SKIP
"""

from .compile import CompiledModel, compile_spec
from .result import BatchResult

__all__ = ["BatchResult", "CompiledModel", "compile_spec"]
