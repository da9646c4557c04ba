"""numpy's own inner loops, called from the compiled kernel, so that EXP, LN, SIN, ... give PySD's bits.

PySD evaluates `np.exp(x)` and friends; numpy computes them with its own SIMD code (AVX-512 and
SVML where the processor has them), which differs from the C library (what numba calls) in the
last bit of a few percent of inputs. To give PySD's numbers to the last bit, the kernel calls the
very loop numpy calls: `ufunc._get_strided_loop` (numpy's documented hook for compilers such as
numba, private API since numpy 1.24) hands out the loop's address; `table` collects them into an
int64 array that the kernel receives as an argument (addresses differ between processes, so they
are never baked into the cached machine code), and `call1` / `call2` call a loop on one value.

A numpy without the hook gets `table(...) is None`; the kernel then uses numba's own functions
(the C library), equal to PySD to about one unit in the last place.
"""

from __future__ import annotations

import ctypes

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from ..core.expressions import UFUNC_ORDER, UFUNCS

ORDER = UFUNC_ORDER  # row of each numpy ufunc in the table
ARITY = {name: nin for name, nin in UFUNCS.values()}
SCRATCH = 12  # float64 slots per run: inputs, output, then the loop's data pointers, length, strides

_KEEP: list = []  # the call-info capsules own the loops' contexts: they must outlive every kernel
_TABLE = None


def table() -> np.ndarray | None:
    """(len(ORDER), 3) int64: each ufunc's float64 loop, its context and auxiliary data; None if unavailable."""
    global _TABLE
    if _TABLE is None:
        try:
            _TABLE = _build()
        except (AttributeError, TypeError, ValueError, OSError):
            _TABLE = False
    return _TABLE if _TABLE is not False else None


def _build() -> np.ndarray:
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    rows = []
    for name in ORDER:
        ufunc = getattr(np, name)
        nin = ARITY[name]
        _, info = ufunc._resolve_dtypes_and_context((np.dtype("f8"),) * nin + (None,))
        ufunc._get_strided_loop(info, fixed_strides=(8,) * (nin + 1))
        _KEEP.append(info)
        address = get_pointer(info, b"numpy_1.24_ufunc_call_info")
        loop, context, aux = (ctypes.c_void_p * 3).from_address(address)
        rows.append([loop, context, aux or 0])
    found = np.array(rows, dtype=np.int64)
    W = np.empty(SCRATCH)
    setup(W)
    probe = 0.7853981633974483
    for name in ORDER:  # the loops must answer as numpy does, or we do not use them
        k = ORDER.index(name)
        got = call1(found, k, W, probe) if ARITY[name] == 1 else call2(found, k, W, probe, 1.5)
        want = getattr(np, name)(probe) if ARITY[name] == 1 else getattr(np, name)(probe, 1.5)
        if got != want:
            raise ValueError(f"numpy loop {name} answered {got}, numpy {want}")
    return found


@intrinsic
def _call_loop(typingctx, loop, context, data, dims, strides, aux):
    """Call a numpy strided loop at an address: loop(context, data, dims, strides, aux)."""
    sig = types.int32(types.int64, types.int64, types.int64, types.int64, types.int64, types.int64)

    def codegen(context_, builder, signature, args):
        char_p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.IntType(32), [char_p] * 5)
        function = builder.inttoptr(args[0], fnty.as_pointer())
        return builder.call(function, [builder.inttoptr(a, char_p) for a in args[1:]])

    return sig, codegen


@njit(cache=True)
def setup(W):
    """Lay out a run's scratch: W[0], W[1] inputs, W[1] or W[2] output, then pointers, length 1, strides 8."""
    P = W.view(np.int64)
    base = W.ctypes.data
    P[4] = base
    P[5] = base + 8
    P[6] = base + 16
    P[7] = 1
    P[8] = 8
    P[9] = 8
    P[10] = 8


@njit(cache=True)
def call1(T, k, W, x):
    W[0] = x
    base = W.ctypes.data
    _call_loop(T[k, 0], T[k, 1], base + 32, base + 56, base + 64, T[k, 2])
    return W[1]


@njit(cache=True)
def call2(T, k, W, a, b):
    W[0] = a
    W[1] = b
    base = W.ctypes.data
    _call_loop(T[k, 0], T[k, 1], base + 32, base + 56, base + 64, T[k, 2])
    return W[2]
