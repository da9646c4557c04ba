"""The PySD path runs every model PySD runs (issue 14, item 1): array states, NaN that a model
means, failures part-way through a run, SAVEPER and FINAL TIME written as equations, time
grids the model changes as it runs, complex numbers refused. Each small model below has a
closed form of its own, or PySD's own `run` to compare with.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import MODELS, REFERENCE, read_manifest, requires_reference

import sdlib
from sdlib.core.errors import BadInput
from sdlib.engine.translate import load_model


def model(tmp_path, name: str, equations: str, final=10, dt=0.25, saveper="TIME STEP", initial=0):
    """A Vensim model file of the given equations and time grid."""
    path = tmp_path / f"{name}.mdl"
    path.write_text("{UTF-8}\n" + equations.strip() + f"""
FINAL TIME = {final}
\t~\tYear
\t~\t|
INITIAL TIME = {initial}
\t~\tYear
\t~\t|
SAVEPER = {saveper}
\t~\tYear
\t~\t|
TIME STEP = {dt}
\t~\tYear
\t~\t|
""", encoding="utf-8")
    return path


def pysd_run(path):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return load_model(path).run()


def test_array_stock_smooth_and_delay_run_as_pysd_runs_them():
    # A subscripted stock beside a SMOOTH and a DELAY3 of arrays: PySD's states are a mix of
    # scalars and arrays. Every element comes back as PySD names it, with PySD's very numbers.
    data = sdlib.run(MODELS / "regions.mdl")
    reference = pysd_run(MODELS / "regions.mdl")
    assert data.attrs["status"] == "ok"
    frame = sdlib.frame(data)
    assert {"Population[north]", "Population[south]", "perceived population[south]", "arriving[north]",
            "total population"} <= set(frame.columns)
    for column in frame.columns:
        np.testing.assert_array_equal(frame[column].to_numpy(), reference[column].to_numpy(dtype=float))
    assert data["Population[south]"].attrs["units"] == "Person"
    # the SUM over the array is the sum of its elements
    np.testing.assert_allclose(frame["total population"], frame["Population[north]"] + frame["Population[south]"],
                               rtol=1e-15)


def test_an_exploding_element_of_an_array_stops_the_run_when_it_passes_the_bound(tmp_path):
    # S[b] grows by (1 + 1000 dt) = 501 a step (dt = 0.5): past 1e300 after n steps with
    # 501^n > 1e300, n = 112 (t = 56). Element a (x 1.05 a step) is still finite then.
    path = model(tmp_path, "explode", """
r: a, b ~~|
S[r] = INTEG(S[r] * rate[r], 1) ~~|
rate[r] = 0.1, 1000 ~~|
smoothed[r] = SMOOTH(S[r], 1) ~~|
""", final=100, dt=0.5)
    data = sdlib.run(path)
    n = int(np.ceil(300 / np.log10(501)))
    assert data.attrs["status"] == "diverged" and n == 112
    assert data.attrs["diverged_reason"] == "a stock became infinite or passed 1e300"
    assert data.attrs["diverged_at"] == pytest.approx(n * 0.5)
    assert data["time"].to_numpy()[-1] == pytest.approx((n - 1) * 0.5)  # rows before it are kept
    assert np.isfinite(data["S[a]"].to_numpy()).all()


def test_na_in_an_equation_is_a_value_not_divergence(tmp_path, cli):
    # :NA: from t > 5 on, carried into a stock (NaN from t = 6.25 on, a step later): the run is
    # "ok", as in Vensim and PySD, with the NaN written.
    path = model(tmp_path, "na", """
variable = IF THEN ELSE(Time > 5, :NA:, Time) ~~|
Stock = INTEG(variable, 0) ~~|
""")
    code, _, err = cli("simulate", path, "--out", tmp_path / "run", "--no-plots")
    assert code == 0, err
    frame = sdlib.frame(sdlib.open_run(tmp_path / "run"))
    t = frame.index.to_numpy()
    assert np.isnan(frame["variable"][t > 5]).all() and (frame["variable"][t <= 5] == t[t <= 5]).all()
    assert np.isnan(frame["Stock"][t > 5.25]).all() and np.isfinite(frame["Stock"][t <= 5.25]).all()
    assert read_manifest(tmp_path / "run")["status"] == "ok"


def test_nan_made_out_of_numbers_is_divergence_naming_the_variable(tmp_path, cli):
    # SQRT of a negative number is NaN from finite inputs: divergence, at its first time (4.25).
    path = model(tmp_path, "sqrt", """
flow = SQRT(4 - Time) ~~|
Stock = INTEG(flow, 0) ~~|
""")
    code, _, err = cli("simulate", path, "--out", tmp_path / "run", "--no-plots")
    assert code == 3 and "diverged at 4.25 in 'flow' (NaN out of numbers" in err
    manifest = read_manifest(tmp_path / "run")
    assert manifest["diverged_at"] == 4.25 and manifest["diverged_variable"] == "flow"
    assert sdlib.open_run(tmp_path / "run")["time"].to_numpy()[-1] == 4.0


def test_a_division_by_zero_part_way_stops_the_run_there(tmp_path, cli):
    # 1/(5 - Time) raises at t = 5, in the middle of a SAVEPER of four steps: the saved rows up
    # to 4 are kept, the run is "diverged" at 5 in 'inflow', exit 3 (PySD's collect used to crash).
    path = model(tmp_path, "divzero", """
Stock = INTEG(inflow, 1) ~~|
inflow = 1/(5 - Time) ~~|
other = Stock * 2 ~~|
""", saveper=1)
    code, _, err = cli("simulate", path, "--out", tmp_path / "run", "--no-plots")
    assert code == 3 and "diverged at 5 in 'inflow' (ZeroDivisionError" in err
    data = sdlib.open_run(tmp_path / "run")
    assert list(data["time"].to_numpy()) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(data["inflow"].to_numpy()[0], 1 / (5 - np.arange(5)), rtol=1e-15)


def test_saveper_a_multiple_of_the_time_step_saves_every_that_many_steps(tmp_path):
    path = model(tmp_path, "saveper", "Stock = INTEG(1, 0) ~~|", saveper="2 * TIME STEP")
    data = sdlib.run(path)
    assert data.attrs["saveper"] == 0.5
    np.testing.assert_allclose(data["time"].to_numpy(), np.arange(0, 10.01, 0.5), rtol=0, atol=1e-12)
    np.testing.assert_allclose(data["Stock"].to_numpy()[0], data["time"].to_numpy(), rtol=1e-14)
    # a changed time step changes SAVEPER = 2 * TIME STEP with it, as in PySD
    assert sdlib.run(path, time_step=0.125).attrs["saveper"] == 0.25


def test_a_saveper_off_the_time_step_grid_saves_where_pysd_saves(tmp_path):
    # SAVEPER 0.1 with TIME STEP 1/128 (the pendulum models): PySD saves the steps on the SAVEPER
    # grid, every 0.5; so do we, with PySD's numbers.
    path = model(tmp_path, "pendulum", "Stock = INTEG(Stock * 0.1, 1) ~~|", final=2, dt=0.0078125, saveper=0.1)
    data = sdlib.run(path)
    reference = pysd_run(path)
    assert list(data["time"].to_numpy()) == [0, 0.5, 1, 1.5, 2] == list(reference.index)
    np.testing.assert_array_equal(data["Stock"].to_numpy()[0], reference["Stock"].to_numpy(dtype=float))
    # asked for by a caller, such a pair is a mistake, and refused naming the argument
    with pytest.raises(BadInput, match="time_step: 0.04 does not divide SAVEPER 0.1"):
        sdlib.run(path, time_step=0.04)


def test_final_time_written_as_an_expression(tmp_path):
    path = model(tmp_path, "final", "horizon = 8 ~~|\nStock = INTEG(1, 0) ~~|", final="INITIAL TIME + horizon",
                 initial=2)
    data = sdlib.run(path)
    assert (data.attrs["initial_time"], data.attrs["final_time"]) == (2, 10)
    assert data["time"].to_numpy()[-1] == 10 and data["Stock"].to_numpy()[0, -1] == pytest.approx(8)


def test_final_time_the_model_changes_as_it_runs(tmp_path):
    # The run ends when the stock (1 + t) first exceeds 5: at t = 4.25, as PySD (and Vensim) end it.
    path = model(tmp_path, "dynamic", "Stock = INTEG(1, 1) ~~|", final="IF THEN ELSE(Stock > 5, Time, 100)")
    data = sdlib.run(path)
    assert data["time"].to_numpy()[-1] == 4.25 and data.attrs["dynamic_controls"] == "final time"
    assert list(data["time"].to_numpy()) == list(pysd_run(path).index)
    with pytest.raises(BadInput, match="FINAL TIME.*batch engine|batch engine.*FINAL TIME"):
        sdlib.run(path, engine="batch")


@requires_reference
def test_controls_that_change_during_the_run_follow_vensim():
    # INITIAL TIME, TIME STEP, SAVEPER and FINAL TIME all change with Time: Vensim's own output.
    path = REFERENCE / "features" / "control_vars" / "test_control_vars.mdl"
    data = sdlib.run(path)
    expected = [0, 1, 2, 3, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 9.5, 10, 15, 20, 25, 30, 35, 40, 45, 50]
    assert list(data["time"].to_numpy()) == expected
    np.testing.assert_array_equal(data["var"].to_numpy()[0], expected)


def test_a_complex_number_is_refused_naming_the_variable(tmp_path, cli):
    path = model(tmp_path, "complex", "root = (2 - Time) ^ 0.5 ~~|\nStock = INTEG(root, 0) ~~|")
    code, _, err = cli("simulate", path, "--out", tmp_path / "run", "--no-plots")
    assert code == 2 and not (tmp_path / "run").exists()
    assert len(err.strip().splitlines()) == 1
    assert "'root' became a complex number at 2.25" in err


def test_a_time_step_that_makes_pysd_fail_gives_one_line(tmp_path, cli):
    # Decay with k = 0.5: from dt = 4 on, Euler overshoots below zero (1 - k dt = -1) and the
    # square root of the stock becomes complex; at the model's own dt the run is fine.
    path = model(tmp_path, "overshoot", """
Stock = INTEG(-Stock * 0.5, 1) ~~|
root = Stock ^ 0.5 ~~|
""", final=40, dt=0.25)
    assert sdlib.run(path).attrs["status"] == "ok"
    code, _, err = cli("simulate", path, "--time-step", "4", "--out", tmp_path / "run", "--no-plots")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "'root' became a complex number at 4" in err and "smaller time step" in err


@pytest.mark.parametrize("time_step", [4, 2])
def test_coarse_time_steps_on_the_baseline_say_in_one_line_where_the_run_failed(cli, tmp_path, time_step):
    # Euler steps of 2 or 4 years overshoot (a markup below zero, a negative number to a power):
    # PySD used to crash with a TypeError (complex) or a ValueError. Now one line says where.
    code, _, err = cli("run", "baseline", "--time-step", time_step, "--final-time", 2040, "--out", tmp_path / "run",
                       "--no-plots")
    lines = [line for line in err.strip().splitlines() if not line.startswith("tokenworld: note:")]
    assert code in (2, 3) and len(lines) == 1, err
    assert ("diverged at" in lines[0] and " in '" in lines[0]) or "became a complex number" in lines[0]


def test_a_model_pysd_cannot_start_is_refused_in_one_line(tmp_path, cli):
    path = model(tmp_path, "unimplemented", "x = GET TIME VALUE(1, 0, 0) ~~|")
    code, _, err = cli("simulate", path, "--out", tmp_path / "run")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "PySD does not implement" in err


def test_pysd_evaluates_each_equation_as_the_batch_engine_does():
    # The loop analysis's two ways of evaluating one equation on a run's values: PySD's own
    # function time by time (for models the batch engine does not compile) and the batch
    # engine's numpy. On Tokenworld (every kind of element but delays) and on the table, ramp,
    # step and switch constructs they agree to rounding.
    from sdlib.engine.pysd_engine import PySDEquations

    for path, final_time in ((MODELS / "constructs.mdl", None), (sdlib.Model().path, 2030)):
        model = sdlib.Model(path)
        controls = model.controls(final_time=final_time)
        data = model.run(controls=controls.every_step(), columns=model.variables(constants=True), engine="batch")
        values = {name: data[name].to_numpy()[0] for name in data.data_vars}
        time = data["time"].to_numpy()
        pysd = PySDEquations(model.path, None, controls)
        checked = 0
        for element in model.spec.elements.values():
            if element.kind not in ("auxiliary", "flow", "stock"):
                continue
            batch = model.compiled().equation(element.name, controls)(values, time, values)
            ours = pysd.equation(element.name)(values, time, values)
            np.testing.assert_allclose(ours, batch, rtol=1e-12, atol=1e-300, err_msg=element.name)
            checked += 1
        assert checked >= (150 if final_time else 5)


def test_pysd_equations_follow_a_changed_input(tmp_path):
    # z = x * y + LOOKUP(x): held inputs are the ones given, not the run's
    from sdlib.engine.pysd_engine import PySDEquations

    path = model(tmp_path, "eq", """
x = Time ~~|
y = 2 ~~|
table([(0,0)-(10,10)],(0,0),(10,5)) ~~|
z = x * y + table(x) ~~|
""")
    z = PySDEquations(path).equation("z")
    t = np.array([0.0, 1.0, 4.0])
    np.testing.assert_allclose(z({"x": np.array([1.0, 2.0, 20.0]), "y": 3.0}, t), [3.5, 7.0, 65.0], rtol=1e-15)


def test_nan_in_an_array_is_divergence_only_where_an_equation_makes_it(tmp_path):
    # x[b] is left undefined (NaN all along: a value, as in PySD); y takes the square root of a
    # number that turns negative at t > 4: NaN out of numbers, divergence at 4.25 in y.
    path = model(tmp_path, "arrays", """
r: a, b ~~|
x[a] = Time ~~|
y[r] = SQRT(4 - Time) ~~|
""")
    data = sdlib.run(path)
    assert data.attrs["status"] == "diverged" and data.attrs["diverged_at"] == 4.25
    assert data.attrs["diverged_variable"] in ("y[a]", "y[b]")
    fine = sdlib.run(model(tmp_path, "undefined", "r: a, b, c ~~|\nx[a] = Time ~~|\nx[c] = -Time ~~|\n"))
    assert fine.attrs["status"] == "ok" and np.isnan(fine["x[b]"].to_numpy()).all()
