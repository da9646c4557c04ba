"""Vensim built-ins as PySD computes them, in two forms: scalar (compiled by numba into the batch
kernel) and array (numpy, for evaluating one equation over many values at once).

Each function follows PySD's `py_backend.functions` exactly, including its quirks: XIDZ and ZIDZ
treat any denominator smaller than 1e-6 in magnitude as zero, STEP switches half a time step
early, MIN and MAX pass NaN through as numpy does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SMALL_VENSIM = 1e-6  # what Vensim (and PySD) consider zero


# --- scalar forms, for the compiled kernel -------------------------------------------------------

@njit(cache=True)
def nmin(a, b):
    if a != a or b != b:
        return np.nan
    return a if a <= b else b


@njit(cache=True)
def nmax(a, b):
    if a != a or b != b:
        return np.nan
    return a if a >= b else b


@njit(cache=True)
def xidz(numerator, denominator, x):
    if abs(denominator) < SMALL_VENSIM:
        return x
    return numerator / denominator


@njit(cache=True)
def zidz(numerator, denominator):
    if abs(denominator) < SMALL_VENSIM:
        return 0.0
    return numerator / denominator


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
    return float(int(x))


@njit(cache=True)
def quantum(a, b):
    if b < SMALL_VENSIM:
        return a
    return b * float(int(a / b))


@njit(cache=True)
def modulo(x, m):
    return x - quantum(x, m)


@njit(cache=True)
def lookup(x, xs, ys, mode):
    """Graphical function: mode 0 holds the end values (Vensim's default), 1 extrapolates linearly."""
    n = xs.shape[0]
    if x > xs[n - 1]:
        if mode == 1:
            return ys[n - 1] + (ys[n - 1] - ys[n - 2]) / (xs[n - 1] - xs[n - 2]) * (x - xs[n - 1])
        return ys[n - 1]
    if x < xs[0]:
        if mode == 1:
            return ys[0] + (ys[1] - ys[0]) / (xs[1] - xs[0]) * (x - xs[0])
        return ys[0]
    return np.interp(x, xs, ys)


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
    return out


def vinteger(x):
    return np.trunc(x)


def vmodulo(x, m):
    q = np.where(m < SMALL_VENSIM, x, m * np.trunc(x / m))
    return x - q
