"""Macros and the functions the batch engine gained: ACTIVE INITIAL, FORECAST, TREND, GET TIME VALUE,
DELAY FIXED, SAMPLE IF TRUE, INITIAL (against PySD, `tests/models/functions.mdl`); LOOKUP EXTRAPOLATE,
FORWARD and BACKWARD (PySD does not implement them: against Vensim's definitions); the random
functions (their documented stream, not PySD's: checked for what a stream must do).
"""

from __future__ import annotations

import numpy as np
from conftest import MODELS
from test_engine_evaluator import write_model
from test_engine_subscripts import assert_equal_to_pysd, pysd_run

from sdlib.core.spec import load_spec
from sdlib.engine import compile_spec

MODEL = MODELS / "functions.mdl"


def test_macros_and_functions_equal_pysd(tmp_path):
    batch = compile_spec(load_spec(MODEL)).run().to_frame(0)
    reference = pysd_run(MODEL, tmp_path)
    assert_equal_to_pysd(batch, reference, rtol=1e-12)
    # Each macro call keeps its own stock: two calls with different inputs give different paths.
    assert not np.allclose(batch["Regional growth[north]"], batch["Regional growth[south]"])
    # ACTIVE INITIAL: 1 while initialising (the smooth starts there), the expression afterwards.
    assert batch["Smoothed active"].iloc[0] == 1.0
    assert batch["Active"].iloc[0] == batch["Smoothed active"].iloc[0] + 0.0
    assert (batch["Time shifted"] == batch.index + 2.5).all()
    # A macro's internals are not variables of the model.
    assert not [c for c in batch.columns if "#" in c]


LOOKUPS = ("curve(\n [(0,0)-(10,10)],(0,0),(5,3),(10,4))\n ~ Dmnl\n ~ |\n"
           "extrapolated = LOOKUP EXTRAPOLATE(curve, Time * 2 - 4)\n ~ Dmnl\n ~ |\n"
           "forward = LOOKUP FORWARD(curve, Time * 2 - 4)\n ~ Dmnl\n ~ |\n"
           "backward = LOOKUP BACKWARD(curve, Time * 2 - 4)\n ~ Dmnl\n ~ |\n")


def test_lookup_extrapolate_forward_backward_follow_vensim(tmp_path):
    batch = compile_spec(load_spec(write_model(tmp_path, LOOKUPS))).run().to_frame(0)
    x = batch.index.to_numpy() * 2 - 4
    xs, ys = np.array([0, 5, 10.0]), np.array([0, 3, 4.0])
    # EXTRAPOLATE: the end segments continue as straight lines.
    slope_low, slope_high = (3 - 0) / 5, (4 - 3) / 5
    expected = np.where(x < 0, slope_low * x, np.where(x > 10, 4 + slope_high * (x - 10), np.interp(x, xs, ys)))
    np.testing.assert_allclose(batch["extrapolated"], expected, rtol=1e-15, atol=1e-15)
    # FORWARD: the value at the next point (at or after x); BACKWARD: at the last point at or before x.
    forward = [ys[min(np.searchsorted(xs, v, side="left"), 2)] for v in x]
    backward = [ys[max(np.searchsorted(xs, v, side="right") - 1, 0)] for v in x]
    np.testing.assert_array_equal(batch["forward"], forward)
    np.testing.assert_array_equal(batch["backward"], backward)


RANDOM = ("u = RANDOM UNIFORM(2, 5, 0)\n ~ Dmnl\n ~ |\n"
          "own = RANDOM UNIFORM(0, 1, 7)\n ~ Dmnl\n ~ |\n"
          "n = RANDOM NORMAL(-1, 3, 1, 0.5, 0)\n ~ Dmnl\n ~ |\n"
          "e = RANDOM EXPONENTIAL(0, 100, 1, 2, 0)\n ~ Dmnl\n ~ |\n"
          "z = RANDOM 0 1()\n ~ Dmnl\n ~ |\n"
          "noisy stock = INTEG(u - 3.5, 0)\n ~ Dmnl\n ~ |\n")


def test_random_functions_follow_their_documented_stream(tmp_path):
    path = write_model(tmp_path, RANDOM.replace("FINAL TIME = 10", ""))
    text = path.read_text().replace("FINAL TIME = 10", "FINAL TIME = 2000")
    path.write_text(text)
    compiled = compile_spec(load_spec(path))
    result = compiled.run(n=3)
    u, own, n, e, z = (result.values[k] for k in ("u", "own", "n", "e", "z"))
    assert u.shape[1] == 2001  # saved every year, drawn every half year
    # Bounds and moments over 2001 draws per run (tolerances are about 4 standard errors).
    assert 2 <= u.min() and u.max() < 5 and abs(u.mean() - 3.5) < 4 * 3 / np.sqrt(12 * u.size)
    assert 0 <= z.min() and z.max() < 1 and abs(z.mean() - 0.5) < 4 / np.sqrt(12 * z.size)
    assert -1 <= n.min() and n.max() <= 3 and abs(n.mean() - 1) < 4 * 0.5 / np.sqrt(n.size)
    assert abs(n.std() - 0.5) < 0.02  # truncation at 4 standard deviations barely shows
    assert 1 <= e.min() and e.max() <= 100 and abs(e.mean() - 3) < 4 * 2 / np.sqrt(e.size)
    # Draws at successive steps and of different functions are uncorrelated.
    assert abs(np.corrcoef(u[0, 1:], u[0, :-1])[0, 1]) < 0.05
    assert abs(np.corrcoef(u[0], z[0])[0, 1]) < 0.05
    # Runs differ; a function with its own seed gives the same numbers in every run; a run seed repeats.
    assert not np.array_equal(u[0], u[1])
    np.testing.assert_array_equal(own[0], own[2])
    again = compiled.run(n=3)
    np.testing.assert_array_equal(again.values["u"], u)
    assert not np.array_equal(compiled.run(n=3, seed=1).values["u"], u)
    # The stream is the documented one: draw 0 of run 0 under seed 0 at the first call site.
    from sdlib.engine.functions import uniform01

    assert u[0, 0] == 2 + 3 * uniform01.py_func(0.0, 0, 0, 1, 0)
