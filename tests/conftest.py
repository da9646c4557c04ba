"""Shared fixtures: scenario runs are cached per test session, since many tests read the same run.

Tests that need the PySD reference models (`../shared/reference-models` beside the checkout, or
`TOKENWORLD_SHARED`) skip, naming them, when they are not there.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sdlib
from sdlib.core.paths import CHECKOUT

HERE = Path(__file__).resolve().parent
MODELS = HERE / "models"
SHARED = Path(os.environ.get("TOKENWORLD_SHARED") or (CHECKOUT or HERE.parent).parent / "shared")
REFERENCE = SHARED / "reference-models"
SAMPLES = REFERENCE / "samples"
requires_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="needs the PySD reference models in ../shared/reference-models "
                                   "(or TOKENWORLD_SHARED); a fresh clone does not have them")


@dataclass
class Run:
    """A scenario's Dataset, with the one run as a table for readable assertions."""

    data: xr.Dataset

    @functools.cached_property
    def frame(self) -> pd.DataFrame:
        return sdlib.frame(self.data)

    @property
    def status(self) -> str:
        return self.data.attrs["status"]

    @property
    def diverged_at(self):
        return self.data.attrs.get("diverged_at")

    @property
    def time_step(self) -> float:
        return float(self.data.attrs["time_step"])


@functools.lru_cache(maxsize=64)
def _cached_run(scenario: str, set_items: tuple, final_time, time_step, policies: str):
    return Run(sdlib.run(scenario, set=dict(set_items), final_time=final_time, time_step=time_step,
                         policies=json.loads(policies), progress=False))


def run(scenario: str, set: dict | None = None, final_time=None, time_step=None, policies=None) -> Run:
    """A scenario's run, computed once per session for the same arguments."""
    return _cached_run(scenario, tuple(sorted((set or {}).items())), final_time, time_step,
                       json.dumps(policies or []))


def growth(frame, column: str, t0: float, t1: float) -> float:
    """Average exponential growth rate of a column between two saved times."""
    series = np.log(frame[column])
    return float((series.loc[t1] - series.loc[t0]) / (t1 - t0))


def assert_frames_close(actual: pd.DataFrame, expected: pd.DataFrame, rtol: float, atol_share: float = 1e-12,
                        columns=None) -> None:
    """PySD's assert_frames_close: |a - e| <= atol + rtol |e|, column by column, with atol scaled to
    the column's range (atol_share of its largest magnitude), so that a column near zero is not
    held to a relative tolerance of numbers that are only rounding."""
    columns = [c for c in (columns or expected.columns) if c in actual.columns]
    assert columns, "no common columns to compare"
    for column in columns:
        a = actual[column].to_numpy(dtype=float)
        e = expected[column].to_numpy(dtype=float)
        scale = np.nanmax(np.abs(e)) if np.isfinite(e).any() else 0.0
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol_share * scale, err_msg=column)


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
    return json.loads((Path(folder) / "manifest.json").read_text())
