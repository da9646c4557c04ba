"""Both engines on the project's own small models (tests/models/), against analytic solutions.

Euler integration has closed forms of its own: a decay S_n = S_0 (1 - k dt)^n, a constant inflow
t, a linear one t (t - dt) / 2. Each model is run through the public API on PySD and on the
batch engine; both must equal the formula (1e-12 relative: rounding only) and each other.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import MODELS

import sdlib

ENGINES = ["pysd", "batch"]
DT = 0.25


def frame(model: str, engine: str, **kwargs) -> pd.DataFrame:
    return sdlib.frame(sdlib.Model(MODELS / model).run(engine=engine, **kwargs))


@pytest.mark.parametrize("engine", ENGINES)
def test_decay_is_eulers_geometric_sequence(engine):
    result = frame("decay.mdl", engine)
    t = result.index.to_numpy()
    np.testing.assert_allclose(result["Stock"], 100 * (1 - 0.1 * DT) ** (t / DT), rtol=1e-12)
    # and the continuous solution within Euler's error, 1 - exp(-k^2 dt t / 2) relative: 2.5% at t = 20
    gap = np.abs(result["Stock"] / (100 * np.exp(-0.1 * t)) - 1)
    assert (gap <= 1 - np.exp(-(0.1**2) * DT * t / 2 * 1.05)).all() and gap.iloc[-1] > 0.02


@pytest.mark.parametrize("engine", ENGINES)
def test_decay_runs_many_parameter_sets_at_once(engine):
    rates = np.array([0.05, 0.1, 0.2])
    data = sdlib.Model(MODELS / "decay.mdl").run({"decay rate": rates}, engine=engine)
    t = data["time"].to_numpy()
    expected = 100 * (1 - rates[:, None] * DT) ** (t[None, :] / DT)
    np.testing.assert_allclose(data["Stock"].to_numpy(), expected, rtol=1e-12)
    assert list(data["status"].to_numpy()) == ["ok"] * 3


@pytest.mark.parametrize("engine", ENGINES)
def test_every_supported_construct_against_its_formula(engine):
    r = frame("constructs.mdl", engine)
    t = r.index.to_numpy()
    n = np.round(t / DT)
    expected = {
        "linear": t,
        "quadratic": t * (t - DT) / 2,
        "ramp out": np.clip(2 * (t - 1), 0, 8),
        "step out": np.where(t >= 4, 3.0, 0.0),
        "table out": np.where(t <= 10, t / 2, (20 - t) / 2),
        "switch out": np.where(t > 10, np.maximum(t, 12), np.minimum(t, 3)),
        "ratio out": np.where(t == 5, 99, 1 / np.where(t == 5, 1, t - 5)) + np.where(t == 7, 0, t / np.where(t == 7, 1, t - 7)),
        "delayed time": np.where(t >= 3, t - 3, 0.0),
        "smooth out": 1 - (1 - DT / 2) ** n,
        "delay out": 1 - (1 - DT / 2) ** n,
        "start time": np.zeros_like(t),
        "growth": 2 ** (t / 10) + 2 * t,
    }
    for name, values in expected.items():
        np.testing.assert_allclose(r[name].to_numpy(), values, rtol=1e-12, atol=1e-12, err_msg=f"{name} ({engine})")


def test_the_engines_agree_on_a_time_series_override():
    series = pd.Series([0.1, 0.1, 0.3, 0.3], index=[0.0, 5.0, 5.0 + DT, 20.0])
    results = [frame("decay.mdl", engine, params={"decay rate": series}) for engine in ENGINES]
    np.testing.assert_allclose(results[0]["Stock"], results[1]["Stock"], rtol=1e-12)
    # before year 5 the decay is the geometric sequence at 0.1
    early = results[0].loc[:5, "Stock"]
    np.testing.assert_allclose(early, 100 * (1 - 0.1 * DT) ** (early.index / DT), rtol=1e-12)


def test_a_dataset_carries_units_comments_kinds_and_the_time_grid():
    data = sdlib.Model(MODELS / "decay.mdl").run(engine="pysd")
    assert data["Stock"].attrs == {"units": "Widget", "kind": "stock", "comment": data["Stock"].attrs["comment"]}
    assert "First-order decay" in data["Stock"].attrs["comment"]
    assert data["outflow"].attrs["kind"] == "flow" and data["time"].attrs["units"] == "Year"
    assert "decay rate" not in data  # a constant: not a time series
    assert data.attrs["time_step"] == DT and data.attrs["status"] == "ok"
    np.testing.assert_array_equal(data["time"].to_numpy(), np.arange(0.0, 21.0))
