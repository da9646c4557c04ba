"""Vensim built-ins as PySD computes them, in two forms: scalar (compiled by numba into the batch
kernel) and array (numpy, for evaluating one equation over many values at once).

Each function follows PySD's `py_backend.functions`, `lookups` and `data` exactly, including their
quirks: XIDZ and ZIDZ treat any denominator smaller than 1e-6 in magnitude as zero, STEP switches
half a time step early, MIN and MAX pass NaN through as numpy does, a lookup hit exactly at one
of its points returns that point, data hold their end values outside their time range.

Powers: PySD computes `a ^ b` with Python's `**` on plain numbers, which gives a complex number
for a negative base and a fractional exponent. `ppow` computes the same real results and, for
that case, records the place in the run's error slot so that the run is refused instead of
answered (numpy arrays, as PySD uses for subscripted variables, give NaN there instead; the
translator uses numpy's own power for those).

Random numbers (`RANDOM 0 1`, `RANDOM UNIFORM`, `RANDOM NORMAL`, `RANDOM EXPONENTIAL`) come from
a documented counter-based stream, not from PySD's (numpy's global generator, which no other
engine can reproduce). The uniform number of call site `site` at time step `k` is

    u = (splitmix64(splitmix64(splitmix64(splitmix64(S) ^ R) ^ site) ^ k) >> 11) * 2**-53

where S is the function's own seed argument when it is not 0 (R = 0: the same numbers in every
run, as Vensim gives for a fixed seed) and otherwise the run's `seed` (R = the run's index, so
that the runs of an ensemble differ). A value is drawn once per time step and call site (and per
subscript element). Truncated distributions are drawn by inverting their distribution function
at u, with PySD's parameters: NORMAL(min, max, mean, sd) truncated to [min, max], EXPONENTIAL
(min, max, shift, stretch) as shift' + stretch * Exp(1) truncated at max, with shift' = max(min, shift).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, objmode

SMALL_VENSIM = 1e-6  # what Vensim (and PySD) consider zero


# --- scalar forms, for the compiled kernel -------------------------------------------------------

# MIN, MAX, XIDZ and ZIDZ as selects with numpy's error model (no ZeroDivisionError branch; the
# division is guarded anyway), so that the lane kernel's loop over runs vectorises them too.
@njit(cache=True, error_model="numpy")
def nmin(a, b):
    return np.nan if (a != a or b != b) else (a if a <= b else b)


@njit(cache=True, error_model="numpy")
def nmax(a, b):
    return np.nan if (a != a or b != b) else (a if a >= b else b)


@njit(cache=True, error_model="numpy")
def xidz(numerator, denominator, x):
    return x if abs(denominator) < SMALL_VENSIM else numerator / denominator


@njit(cache=True, error_model="numpy")
def zidz(numerator, denominator):
    return 0.0 if abs(denominator) < SMALL_VENSIM else numerator / denominator


@njit(cache=True)
def step(t, dt, value, tstep):
    return value * (1.0 if t + dt / 2 > tstep else 0.0)


@njit(cache=True)
def ramp(t, slope, start, finish):
    final = t if finish != finish else min(finish, t)  # finish NaN: the ramp never ends
    return (1.0 if t + SMALL_VENSIM > start else 0.0) * slope * (final - start)


@njit(cache=True)
def pulse(t, dt, start, repeat_time, width, magnitude, end):
    width = 0.5 * dt if width != width else width
    out = magnitude / dt if magnitude == magnitude else 1.0
    if repeat_time == 0:
        return out if start - SMALL_VENSIM <= t < start + width else 0.0
    if start <= t and (end != end or t < end):
        return out if (t - start + SMALL_VENSIM) % repeat_time < width else 0.0
    return 0.0


@njit(cache=True)
def integer(x):
    return np.trunc(x)


@njit(cache=True)
def quantum(a, b):
    if b < SMALL_VENSIM:
        return a
    return b * np.trunc(a / b)


@njit(cache=True)
def modulo(x, m):
    return x - quantum(x, m)


@njit(cache=True)
def ppow(a, b, E, site):
    """a ** b as Python computes it on numbers; a complex result marks the run's error slot E."""
    result = float(a) ** float(b)
    if result != result and a < 0.0 and b == b and abs(b) != np.inf and b != np.floor(b):
        if E[0] == 0:
            E[0] = site
    return result


@njit(cache=True)
def int_cast(x, E, site):
    """x written into one of PySD's integer arrays (truncated towards zero); a value no integer holds
    (NaN, infinite, beyond 2**63) marks the run's error slot E, as PySD's answer there is arbitrary."""
    if not abs(x) < 9.2e18:
        if E[0] == 0:
            E[0] = site
        return x
    return float(np.trunc(x))


@njit(cache=True)
def nz(x):
    """NaN as 0: SUM and PROD skip missing values, as xarray does."""
    return 0.0 if x != x else x


@njit(cache=True)
def nz1(x):
    return 1.0 if x != x else x


@njit(cache=True)
def nanmin2(a, b):
    """VMIN of two: xarray skips missing values (NaN only if both are)."""
    if a != a:
        return b
    if b != b:
        return a
    return a if a <= b else b


@njit(cache=True)
def nanmax2(a, b):
    if a != a:
        return b
    if b != b:
        return a
    return a if a >= b else b


@njit(cache=True)
def _find(x, xs):
    """Index j with xs[j] <= x < xs[j + 1] (xs sorted, x inside the range)."""
    lo, hi = 0, xs.shape[0] - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xs[mid] <= x:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def lookup(x, xs, ys, mode):
    """PySD's lookup of a number: mode 0 holds the end values, 1 extrapolates, 2 holds backward."""
    n = xs.shape[0]
    if x > xs[n - 1]:
        if mode == 1:
            return ys[n - 1] + (ys[n - 1] - ys[n - 2]) / (xs[n - 1] - xs[n - 2]) * (x - xs[n - 1])
        return ys[n - 1]
    if x < xs[0]:
        if mode == 1:
            return ys[0] + (ys[1] - ys[0]) / (xs[1] - xs[0]) * (x - xs[0])
        return ys[0]
    if x != x:
        return np.nan
    j = _find(x, xs)
    if xs[j] == x:
        return ys[j]
    if j + 1 < n and xs[j + 1] == x:
        return ys[j + 1]
    if mode == 2:
        return ys[j]
    return np.interp(x, xs, ys)


@njit(cache=True)
def lookup_vensim(x, xs, ys, kind):
    """Vensim's LOOKUP EXTRAPOLATE (kind 1), LOOKUP FORWARD (2) and LOOKUP BACKWARD (3)."""
    n = xs.shape[0]
    if kind == 1:
        return lookup(x, xs, ys, 1)
    if x != x:
        return np.nan
    if x >= xs[n - 1]:
        return ys[n - 1]
    if x <= xs[0]:
        return ys[0]
    j = _find(x, xs)
    if xs[j] == x:
        return ys[j]
    return ys[j + 1] if kind == 2 else ys[j]


@njit(cache=True)
def data(t, xs, ys, mode):
    """PySD's data at time t: mode 0 interpolates, 1 raw (NaN off the points), 2 looks forward, 3 holds backward."""
    n = xs.shape[0]
    if t != t:
        return np.nan
    j = _find(t, xs) if xs[0] <= t <= xs[n - 1] else (0 if t < xs[0] else n - 1)
    if xs[j] == t:
        return ys[j]
    if j + 1 < n and xs[j + 1] == t:
        return ys[j + 1]
    if mode == 1:
        return np.nan
    if t > xs[n - 1]:
        return ys[n - 1]
    if t < xs[0]:
        return ys[0]
    if mode == 2:
        return ys[j + 1]
    if mode == 3:
        return ys[j]
    return np.interp(t, xs, ys)


# --- functions of a whole vector (VECTOR ..., INVERT MATRIX, ALLOCATE ...) -----------------------

@njit(cache=True)
def psum(values):
    """numpy's pairwise sum of a vector (what xarray's sum computes on one dimension)."""
    n = values.shape[0]
    if n < 8:
        total = 0.0
        for i in range(n):
            total += values[i]
        return total
    if n <= 128:
        r = values[:8].copy()
        i = 8
        while i < n - (n % 8):
            for j in range(8):
                r[j] += values[i + j]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            total += values[i]
            i += 1
        return total
    half = n // 2
    half -= half % 8
    return psum(values[:half]) + psum(values[half:])


@njit(cache=True)
def _sort_order(values, direction):
    order = np.argsort(values, kind="mergesort")
    return order[::-1].copy() if direction <= 0 else order


@njit(cache=True)
def vector_sort_order(values, direction, i):
    """VECTOR SORT ORDER: the position (0-based) of the i-th smallest (direction > 0) or largest value."""
    return float(_sort_order(values, direction)[i])


@njit(cache=True)
def vector_rank(values, direction, i):
    """VECTOR RANK: the rank (1-based) of value i, as PySD's argsort of the sort order."""
    return float(np.argsort(_sort_order(values, direction), kind="mergesort")[i] + 1)


@njit(cache=True)
def vector_reorder(values, index):
    """VECTOR REORDER: the value at the position a sort order gives."""
    return values[int(index)]


@njit(cache=True)
def vector_select(selection, values, missing, action, error, E, site):
    """VECTOR SELECT as PySD: the selected values (non-zero selection) combined by numerical action;
    the missing value when nothing is selected; an error action that PySD raises marks the run."""
    n = selection.shape[0]
    selected = 0
    for i in range(n):
        if selection[i] != 0:
            selected += 1
    if (selected == 0 and (error == 1 or error == 3)) or (selected > 1 and (error == 2 or error == 3)):
        if E[0] == 0:
            E[0] = site
        return np.nan
    if action != np.floor(action) or action < 0 or action > 10:
        if E[0] == 0:
            E[0] = site
        return np.nan
    array = np.empty(n)
    for i in range(n):
        if selection[i] == 0:
            array[i] = np.nan
        elif action <= 4:
            array[i] = selection[i] * values[i]
        elif action == 5:
            array[i] = values[i] ** selection[i]
        else:
            array[i] = values[i]
    if selected == 0:
        return missing
    if action == 0 or action == 6:
        return psum(np.where(np.isnan(array), 0.0, array))
    if action == 1 or action == 5 or action == 7:
        total = 1.0
        for i in range(n):
            if array[i] == array[i]:
                total *= array[i]
        return total
    if action == 2 or action == 8:
        return np.nanmin(array)
    if action == 3 or action == 9:
        return np.nanmax(array)
    return psum(np.where(np.isnan(array), 0.0, array)) / selected


@njit(cache=True)
def invert_matrix(values, n, i, j):
    """INVERT MATRIX: element (i, j) of the inverse of the n x n matrix given row by row."""
    return np.linalg.inv(values.reshape((n, n)))[i, j]


def _allocate_available(request, profiles, available, i):
    from pysd.py_backend.allocation import _allocate_available_1d

    try:
        with np.errstate(all="ignore"):
            return float(_allocate_available_1d(request, profiles, available)[i]), True
    except Exception:  # PySD refuses negative requests and the like
        return np.nan, False


def _allocate_by_priority(request, priority, width, supply, i):
    from pysd.py_backend.allocation import _allocate_by_priority_1d

    try:
        with np.errstate(all="ignore"):
            return float(_allocate_by_priority_1d(request, priority, width, supply)[i]), True
    except Exception:
        return np.nan, False


@njit(cache=True)
def allocate_available(request, profiles, available, i, E, site):
    """ALLOCATE AVAILABLE by PySD's own algorithm (called in Python: it solves for a common priority)."""
    with objmode(value="float64", ok="boolean"):
        value, ok = _allocate_available(request, profiles, available, i)
    if not ok and E[0] == 0:
        E[0] = site
    return value


@njit(cache=True)
def allocate_by_priority(request, priority, width, supply, i, E, site):
    """ALLOCATE BY PRIORITY by PySD's own algorithm."""
    with objmode(value="float64", ok="boolean"):
        value, ok = _allocate_by_priority(request, priority, width, supply, i)
    if not ok and E[0] == 0:
        E[0] = site
    return value


# --- random numbers (documented stream, see the module's docstring) ------------------------------

@njit(cache=True)
def _splitmix(z):
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def uniform01(own_seed, run_seed, r, site, k):
    if own_seed != 0:
        z = _splitmix(np.uint64(np.int64(own_seed)))
    else:
        z = _splitmix(_splitmix(np.uint64(np.int64(run_seed))) ^ np.uint64(r))
    z = _splitmix(_splitmix(z ^ np.uint64(site)) ^ np.uint64(k))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def random_uniform(low, high, u):
    return low + (high - low) * u


@njit(cache=True)
def _phi(z):
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


@njit(cache=True)
def _phi_inverse(p):
    """The standard normal quantile: Acklam's approximation polished by two Newton steps."""
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)
    elif p > 1.0 - 0.02425:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)
    else:
        q = p - 0.5
        r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
    for _ in range(2):
        density = math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        if density > 0.0:
            x = x - (_phi(x) - p) / density
    return x


@njit(cache=True)
def random_normal(low, high, mean, sd, u):
    lo = xidz(low - mean, sd, -np.inf)
    hi = xidz(high - mean, sd, np.inf)
    if lo > 0.0:  # draw from the mirrored distribution: the upper tail keeps its precision
        return mean - sd * _truncated_standard_normal(-hi, -lo, 1.0 - u)
    return mean + sd * _truncated_standard_normal(lo, hi, u)


@njit(cache=True)
def _truncated_standard_normal(lo, hi, u):
    plo, phi = _phi(lo), _phi(hi)
    z = _phi_inverse(plo + u * (phi - plo))
    return min(max(z, lo), hi)


@njit(cache=True)
def random_exponential(low, high, shift, stretch, u):
    loc = max(low, shift)
    b = xidz(high - loc, stretch, np.inf)
    return loc + stretch * -math.log1p(-u * -math.expm1(-b))


# --- array forms, for evaluating one equation over many values (loop analysis) -------------------

def vmin(a, b):
    return np.minimum(a, b)


def vmax(a, b):
    return np.maximum(a, b)


def vxidz(numerator, denominator, x):
    numerator, denominator = np.broadcast_arrays(np.asarray(numerator, float), np.asarray(denominator, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(denominator) < SMALL_VENSIM, x, numerator / denominator)


def vzidz(numerator, denominator):
    return vxidz(numerator, denominator, 0.0)


def vstep(t, dt, value, tstep):
    return value * (t + dt / 2 > tstep)


def vramp(t, slope, start, finish):
    final = t if np.all(np.isnan(finish)) else np.minimum(finish, t)
    return (t + SMALL_VENSIM > start) * slope * (final - start)


def vlookup(x, xs, ys, mode):
    x = np.asarray(x, dtype=float)
    out = np.interp(x, xs, ys)
    if mode == 1:
        high, low = x > xs[-1], x < xs[0]
        out = np.where(high, ys[-1] + (ys[-1] - ys[-2]) / (xs[-1] - xs[-2]) * (x - xs[-1]), out)
        out = np.where(low, ys[0] + (ys[1] - ys[0]) / (xs[1] - xs[0]) * (x - xs[0]), out)
    elif mode == 2:
        inside = (x >= xs[0]) & (x <= xs[-1])
        index = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 1)
        out = np.where(inside, np.asarray(ys)[index], out)
    return out


def vinteger(x):
    return np.trunc(x)


def vmodulo(x, m):
    q = np.where(m < SMALL_VENSIM, x, m * np.trunc(x / m))
    return x - q
