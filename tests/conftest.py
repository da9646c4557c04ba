"""Shared fixtures: scenario runs are cached per test session, since many tests read the same run."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from sdlib.runner import run_scenario


@functools.lru_cache(maxsize=64)
def _cached_run(scenario: str, set_items: tuple, final_time, time_step):
    return run_scenario(scenario, set=dict(set_items), final_time=final_time, time_step=time_step)


def run(scenario: str, set: dict | None = None, final_time=None, time_step=None):
    """A scenario's SimResult, computed once per session for the same arguments."""
    return _cached_run(scenario, tuple(sorted((set or {}).items())), final_time, time_step)


def growth(frame, column: str, t0: float, t1: float) -> float:
    """Average exponential growth rate of a column between two saved times."""
    series = np.log(frame[column])
    return float((series.loc[t1] - series.loc[t0]) / (t1 - t0))


@pytest.fixture
def cli(capsys):
    """Run `tokenworld ARGS` in-process; returns (exit code, stdout, stderr)."""
    from sdlib.cli import main

    def invoke(*args):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def read_manifest(folder) -> dict:
    return json.loads((folder / "manifest.json").read_text())
