"""The batch engine (issue 7): the same numbers as PySD, N runs at once, refusals, divergence."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sdlib.engine import compile_spec
from sdlib.errors import BadInput, UnsupportedConstruct
from sdlib.modelspec import load_spec
from sdlib.paths import DEFAULT_MODEL, PROJECT_ROOT
from sdlib.runner import RunRequest, resolve, run_scenario
from sdlib.scenario import load_scenario
from sdlib.translate import load_model

REFERENCE = PROJECT_ROOT.parent / "shared" / "reference-models"
SUPPORTED = sorted(p for p in REFERENCE.glob("*/*/*.mdl")
                   if p.parent.name not in ("arithmetics", "control_vars"))  # refused: see below


def pysd_run(path: Path) -> pd.DataFrame:
    with np.errstate(all="ignore"):
        return load_model(path).run()


def assert_close(batch: pd.DataFrame, reference: pd.DataFrame, rel: float):
    columns = [c for c in reference.columns if c in batch.columns]
    assert len(columns) >= 1
    for column in columns:
        a = batch[column].to_numpy(dtype=float)
        b = reference[column].to_numpy(dtype=float)
        np.testing.assert_allclose(a, b, rtol=rel, atol=0, err_msg=column)


@pytest.mark.parametrize("path", SUPPORTED, ids=lambda p: p.parent.name)
def test_reference_model_equals_pysd(path):
    # Same equations, same order of operations, same libm: equal to 1e-9 relative (the bar).
    batch = compile_spec(load_spec(path)).run().to_frame(0)
    reference = pysd_run(path)
    assert list(batch.index) == pytest.approx(list(reference.index.astype(float)), abs=1e-9)
    assert_close(batch, reference, rel=1e-9)


@pytest.mark.parametrize("name", ["teacup", "SIR"])
def test_reference_model_against_canonical_output(name):
    # As close to Vensim/Stella's own output as PySD itself comes (their printed precision).
    folder = REFERENCE / "samples" / name
    canonical = pd.read_csv(folder / "output.csv", index_col=0)
    batch = compile_spec(load_spec(next(folder.glob("*.mdl")))).run().to_frame(0)
    reference = pysd_run(next(folder.glob("*.mdl")))
    for column in canonical.columns:
        if column in batch.columns:
            times = canonical.index.astype(float)
            ours = np.interp(times, batch.index, batch[column])
            pysds = np.interp(times, reference.index.astype(float), reference[column].astype(float))
            gap_pysd = np.max(np.abs(pysds - canonical[column]) / np.maximum(np.abs(canonical[column]), 1e-9))
            gap_ours = np.max(np.abs(ours - canonical[column]) / np.maximum(np.abs(canonical[column]), 1e-9))
            assert gap_ours <= gap_pysd * (1 + 1e-6) + 1e-12, column


@pytest.mark.parametrize("path, message", [
    (REFERENCE / "features" / "arithmetics" / "test_arithmetics.mdl", "subscripts in 'add substract'"),
    (REFERENCE / "features" / "control_vars" / "test_control_vars.mdl", "time-varying 'INITIAL TIME'"),
])
def test_unsupported_constructs_are_refused(path, message):
    with pytest.raises(UnsupportedConstruct, match=message):
        compile_spec(load_spec(path))


def test_unsupported_function_is_refused_naming_it(tmp_path):
    model = tmp_path / "game.mdl"
    model.write_text(
        "{UTF-8}\nx = GET TIME VALUE(0, 0, 0)\n ~ Dmnl\n ~ |\nFINAL TIME = 1\n ~ Year\n ~ |\nINITIAL TIME = 0\n"
        " ~ Year\n ~ |\nSAVEPER = 1\n ~ Year\n ~ |\nTIME STEP = 1\n ~ Year\n ~ |\n", encoding="utf-8")
    with pytest.raises(UnsupportedConstruct, match=r"GET_TIME_VALUE in 'x'"):
        compile_spec(load_spec(model))


def test_cli_refusal_is_exit_2(cli, tmp_path):
    code, _, err = cli("simulate", REFERENCE / "features" / "arithmetics" / "test_arithmetics.mdl",
                       "--engine", "batch", "--out", tmp_path / "x")
    assert code == 2 and "subscripts" in err and not (tmp_path / "x").exists()


def test_n_runs_equal_n_separate_pysd_runs():
    path = REFERENCE / "samples" / "teacup" / "teacup.mdl"
    compiled = compile_spec(load_spec(path))
    times = [5.0, 10.0, 20.0]
    batch = compiled.run(params={"characteristic time": np.array(times)}, n=3)
    for i, value in enumerate(times):
        with np.errstate(all="ignore"):
            reference = load_model(path).run(params={"characteristic time": value})
        np.testing.assert_allclose(batch.values["Teacup Temperature"][i], reference["Teacup Temperature"], rtol=1e-12)


def test_time_series_override_equals_pysd():
    path = REFERENCE / "samples" / "teacup" / "teacup.mdl"
    series = pd.Series([70.0, 70.0, 20.0, 20.0], index=[0.0, 10.0, 15.0, 30.0])
    batch = compile_spec(load_spec(path)).run(params={"Room Temperature": series}).to_frame(0)
    with np.errstate(all="ignore"):
        reference = load_model(path).run(params={"Room Temperature": series})
    assert_close(batch, reference, rel=1e-12)


def test_diverging_runs_are_marked_and_do_not_poison_the_others(tmp_path):
    model = tmp_path / "boom.mdl"
    model.write_text(
        "{UTF-8}\nStock = INTEG(growth, 1)\n ~ Dmnl\n ~ |\ngrowth = Stock * Stock * rate\n ~ 1/Year\n ~ |\n"
        "rate = 0.1\n ~ 1/Year [0,10]\n ~ |\nFINAL TIME = 20\n ~ Year\n ~ |\nINITIAL TIME = 0\n ~ Year\n ~ |\n"
        "SAVEPER = 1\n ~ Year\n ~ |\nTIME STEP = 0.125\n ~ Year\n ~ |\n", encoding="utf-8")
    # dS/dt = rate S^2 blows up at t = 1/(rate S0): 10 years for 0.1, never within 20 for 0.01.
    # Euler at 1/8 year lags the exact blow-up: the values pass 1e300 a little after year 10.
    result = compile_spec(load_spec(model)).run(params={"rate": np.array([0.01, 0.1, 0.04])}, n=3)
    assert list(result.status) == ["ok", "diverged", "ok"]
    assert 10 < result.diverged_at[1] <= 12.5
    stock = result.values["Stock"]
    assert np.isfinite(stock[0]).all() and np.isfinite(stock[2]).all()
    assert np.isnan(stock[1][result.time > result.diverged_at[1]]).all()
    assert stock[0][-1] == pytest.approx(1 / (1 - 0.01 * 20), rel=0.02)  # exact solution 1/(1 - rate t)


@pytest.mark.parametrize("scenario", ["baseline", "paper", "vibe-coding", "token-budget", "public-compute",
                                      "paper-subsidy", "token-divide"])
def test_tokenworld_scenarios_equal_pysd(scenario):
    # Every column, every saved time, 1e-9 relative, with the scenario's overrides and policies.
    resolved = resolve(RunRequest(scenario=load_scenario(scenario)))
    c = resolved.controls
    batch = compile_spec(load_spec(DEFAULT_MODEL)).run(
        params=resolved.params, final_time=c.final_time, time_step=c.time_step, saveper=c.saveper).to_frame(0)
    reference = run_scenario(scenario).frame
    assert len(batch) == len(reference)
    assert_close(batch, reference, rel=1e-9)


def test_cli_batch_engine_writes_the_same_csv(cli, tmp_path):
    for engine in ("pysd", "batch"):
        assert cli("run", "paper-subsidy", "--engine", engine, "--no-plots", "--out", tmp_path / engine)[0] == 0
    a = pd.read_csv(tmp_path / "batch" / "timeseries.csv", index_col=0)
    b = pd.read_csv(tmp_path / "pysd" / "timeseries.csv", index_col=0)
    assert set(a.columns) == set(b.columns)
    assert_close(a, b, rel=1e-9)


def test_equation_evaluates_one_element_from_its_inputs():
    compiled = compile_spec(load_spec(DEFAULT_MODEL))
    frame = run_scenario("baseline").frame
    env = {name: frame[name].to_numpy() for name in frame.columns}
    for name in ("Software output", "Token price", "Copper substitution effect", "Token fill rate"):
        value = compiled.equation(name)(env, frame.index.to_numpy())
        np.testing.assert_allclose(value, frame[name], rtol=1e-12, err_msg=name)
    net = compiled.equation("Computing capital")(env, frame.index.to_numpy())  # a stock: its net flow
    np.testing.assert_allclose(net, frame["capital investment"] - frame["capital depreciation"], rtol=1e-12)
    with pytest.raises(BadInput):
        compiled.equation("capital share")


def test_equation_reads_initial_from_the_start_of_the_run():
    # Model quality = LN(frontier / INITIAL(frontier)): the INITIAL is the run's first value, even
    # when env holds the series from the second step on (as the loop analysis passes it).
    compiled = compile_spec(load_spec(DEFAULT_MODEL))
    frame = run_scenario("baseline").frame
    values = {name: frame[name].to_numpy() for name in frame.columns}
    later = {name: v[1:] for name, v in values.items()}
    quality = compiled.equation("Model quality")
    np.testing.assert_allclose(quality(later, frame.index.to_numpy()[1:], values), frame["Model quality"][1:],
                               rtol=1e-12, atol=1e-15)
    assert quality(later, frame.index.to_numpy()[1:])[0] == 0.0  # without init, env's own first entry
