"""The bench scripts' one clock (run as `python bench/NAME.py`, which puts this folder on the path)."""

from __future__ import annotations

import time


def timed(fn) -> float:
    """Seconds one call of `fn` takes (wall clock)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
