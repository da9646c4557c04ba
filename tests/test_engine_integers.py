"""PySD's integer states, followed by the batch engine (`sdlib.engine.integers`).

A SMOOTH whose initial value PySD holds as an int (SMOOTHI(x, t, 1), or the SMOOTH of an ACTIVE
INITIAL with an integer initial value, as World3-03's perceived food ratio) keeps an integer state
until the first Euler step, which truncates its input: the first step moves the smooth by
(trunc(input) - state) / time, not (input - state) / time. World3-03 on the batch engine differed
from PySD by 8% until the engine followed this.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_engine_evaluator import assert_equal_to_pysd, pysd_run, write_model

from sdlib.core.spec import load_spec
from sdlib.engine import compile_spec

SMOOTHS = ("x = 1.5 + Time\n ~ Dmnl\n ~ |\n"
           "start = 1\n ~ Dmnl\n ~ |\n"
           "literal = SMOOTHI(x, 2, 1)\n ~ Dmnl\n ~ |\n"
           "through constant = SMOOTH3I(x, 3, start * 2)\n ~ Dmnl\n ~ |\n"
           "fractional = SMOOTHI(x, 2, 1.0)\n ~ Dmnl\n ~ |\n"
           "ratio = ACTIVE INITIAL(x * 2, 1)\n ~ Dmnl\n ~ |\n"
           "perceived = SMOOTH(ratio, 2)\n ~ Dmnl\n ~ |\n"
           "negative = SMOOTHI(-x, 2, -1)\n ~ Dmnl\n ~ |\n")


def test_smooths_pysd_starts_as_integers_equal_pysd(tmp_path):
    path = write_model(tmp_path, SMOOTHS)
    batch = compile_spec(load_spec(path)).run().to_frame(0)
    assert_equal_to_pysd(batch, pysd_run(path, tmp_path))
    # The first step (dt 0.5, smooth time 2): trunc(1.5) = 1 for the integer state, 1.5 for the float one
    assert batch.loc[1.0, "literal"] == pytest.approx(1 + 0.5 * (2 - 1) / 2)  # second step only moves it
    assert batch.loc[1.0, "fractional"] > batch.loc[1.0, "literal"]
    assert batch.loc[1.0, "negative"] == pytest.approx(-1 + 0.5 * (-2 + 1) / 2)  # trunc(-1.5) = -1


def test_a_run_that_sets_the_constant_gives_pysd_a_float(tmp_path):
    import pysd

    path = write_model(tmp_path, SMOOTHS)
    batch = compile_spec(load_spec(path)).run(params={"start": np.array([1.0, 1.0])}, n=2).to_frame(1)
    with np.errstate(all="ignore"):
        reference = pysd.read_vensim(str(path)).run(params={"start": 1.0})
    np.testing.assert_array_equal(batch["through constant"], reference["through constant"])
    untouched = compile_spec(load_spec(path)).run().to_frame(0)
    assert (batch["through constant"] != untouched["through constant"]).any()  # the float's first step differs


def test_delay_n_with_an_integer_delay_time_truncates_new_times(tmp_path):
    path = write_model(tmp_path, "base = 3\n ~ Dmnl\n ~ |\n"
                                 "lag = ACTIVE INITIAL(base + Time / 4, 3)\n ~ Dmnl\n ~ |\n"
                                 "out = DELAY N(10 + Time, lag, 5, 2)\n ~ Dmnl\n ~ |\n")
    batch = compile_spec(load_spec(path)).run().to_frame(0)
    assert_equal_to_pysd(batch, pysd_run(path, tmp_path))
