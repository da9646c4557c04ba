"""The batch engine (issue 7): the same numbers as PySD, N runs at once, refusals, divergence."""

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE, SAMPLES, assert_frames_close, requires_reference

import sdlib
from sdlib.core.errors import BadInput, UnsupportedConstruct
from sdlib.core.paths import DEFAULT_MODEL
from sdlib.core.spec import load_spec
from sdlib.engine import compile_spec
from sdlib.engine.translate import load_model

# What the batch engine refuses (UnsupportedConstruct, naming the construct): the tests expect the
# refusal, and fail (XPASS, strict) once the engine supports it, so that the list shrinks as the
# engine grows. Everything else must equal PySD.
GAPS = {
    "dynamic_final_time": "time-varying 'FINAL TIME'",  # PySD re-reads its time controls at every step
    "control_vars": "time-varying 'INITIAL TIME'",
}
# Wrong or crashing today: known engine bugs, reported to the engine's issue (14), strict xfail.
BUGS: dict[str, str] = {}
# PySD itself cannot run these here: they read files by a relative path, or data files given at run
# time (the batch engine's own tests cover them: test_engine_evaluator, test_engine_data).
PYSD_CANNOT = {"get_constants": "external constants file", "get_data": "external data file",
               "data_from_other_model": "DATA read from data files given at run time",
               "get_time_value": "GET TIME VALUE relative to the initial time (PySD: not implemented)"}


def reference_models():
    if not REFERENCE.is_dir():
        return [pytest.param(None, marks=requires_reference, id="reference-models")]
    found = []
    for path in sorted(REFERENCE.glob("*/*/*.mdl")):
        name = path.parent.name
        marks = [pytest.mark.slow]
        if name in GAPS:
            marks.append(pytest.mark.xfail(raises=UnsupportedConstruct, strict=True,
                                           reason=f"the batch engine refuses {GAPS[name]}"))
        elif name in BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=BUGS[name]))
        elif name in PYSD_CANNOT and not path.name.endswith("_simple.mdl"):
            marks.append(pytest.mark.skip(reason=f"PySD cannot run {name} here: {PYSD_CANNOT[name]}"))
        found.append(pytest.param(path, marks=marks, id=f"{name}/{path.stem}"))
    return found


def pysd_run(path: Path) -> pd.DataFrame:
    """PySD's own run of a model: from the translation cache, or, for a model that reads files beside
    it (GET XLS, GET DIRECT ...), translated in a copy of its folder (PySD reads them from there)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PySD's notes on the reference models' own oddities
        if not _reads_files(path):
            return load_model(path).run()
        import pysd

        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "model"
            shutil.copytree(path.parent, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
            return pysd.read_vensim(str(folder / path.name)).run()


def _reads_files(path: Path) -> bool:
    return any(p.suffix.lower() in (".xls", ".xlsx", ".csv", ".tab", ".txt") and not p.stem.startswith("output")
               for p in path.parent.iterdir())


# Columns that are differences of nearly equal numbers, compared to an absolute tolerance: the copper
# mass balance error is (copper now / copper at the start - 1), zero but for rounding (1e-16), and an
# ulp's difference in a stock changes it by 100%; conservation to 1e-12 is what it checks.
ABSOLUTE = {"Copper mass balance error": 1e-12}


def assert_close(batch: pd.DataFrame, reference: pd.DataFrame, rel: float):
    # rtol, with atol a trillionth of each column's range: a column of rounding noise near zero
    # (1e-14 where the values are 1) is not held to a relative tolerance.
    relative = [c for c in reference.columns if c not in ABSOLUTE]
    assert_frames_close(batch, reference, rtol=rel, atol_share=1e-12, columns=relative)
    for column, atol in ABSOLUTE.items():
        if column in reference.columns:
            np.testing.assert_allclose(batch[column], reference[column], rtol=0, atol=atol, err_msg=column)


@pytest.mark.parametrize("path", reference_models())
def test_reference_model_equals_pysd(path):
    # Same equations, same order of operations, same libm: equal to 1e-9 relative (the bar).
    batch = compile_spec(load_spec(path)).run().to_frame(0)
    reference = pysd_run(path)
    assert list(batch.index) == pytest.approx(list(reference.index.astype(float)), abs=1e-9)
    assert_close(batch, reference, rel=1e-9)


WORLD3 = os.environ.get("TOKENWORLD_WORLD3")


@pytest.mark.slow
@pytest.mark.skipif(not WORLD3, reason="needs World3-03 (wrld3-03.mdl, e.g. from bpowers/simlin's "
                                       "test/metasd/WRLD3-03/); set TOKENWORLD_WORLD3 to its path")
def test_world3_equals_pysd():
    # The bar: World3-03 on the batch engine equal to PySD to 1e-9 (its SMOOTHs of ACTIVE
    # INITIALs start as PySD's integers, see sdlib.engine.integers).
    path = Path(WORLD3)
    batch = compile_spec(load_spec(path)).run().to_frame(0)
    reference = pysd_run(path)
    assert len(batch.columns) > 200
    assert_close(batch, reference, rel=1e-9)


@requires_reference
def test_every_subscripted_feature_model_is_compared():
    # The bar: every subscripted feature model is run and compared with PySD, none refused.
    from sdlib.engine.compile import _abstract
    from sdlib.engine.structure import Structure

    subscripted = []
    for path in sorted(REFERENCE.glob("features/*/*.mdl")):
        spec = load_spec(path)
        if any(var.dims for var in Structure(_abstract(spec.path, spec.sha256), spec.path).vars.values()):
            subscripted.append(path.parent.name)
    assert len(subscripted) >= 55
    assert not [name for name in subscripted if name in GAPS or name in BUGS]


@requires_reference
@pytest.mark.parametrize("name", ["teacup", "SIR"])
def test_reference_model_against_canonical_output(name):
    # As close to Vensim/Stella's own output as PySD itself comes (their printed precision).
    folder = SAMPLES / name
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


@requires_reference
def test_time_varying_controls_are_refused():
    path = REFERENCE / "features" / "control_vars" / "test_control_vars.mdl"
    with pytest.raises(UnsupportedConstruct, match="time-varying 'INITIAL TIME'"):
        compile_spec(load_spec(path))


def _model(tmp_path, equations: str):
    model = tmp_path / "model.mdl"
    model.write_text("{UTF-8}\n" + equations + "FINAL TIME = 1\n ~ Year\n ~ |\nINITIAL TIME = 0\n ~ Year\n ~ |\n"
                     "SAVEPER = 1\n ~ Year\n ~ |\nTIME STEP = 1\n ~ Year\n ~ |\n", encoding="utf-8")
    return model


def test_unsupported_function_is_refused_naming_it(tmp_path):
    # GET TIME VALUE(2, ...) reads the computer's clock: no two runs would agree.
    model = _model(tmp_path, "x = GET TIME VALUE(2, 0, 1)\n ~ Dmnl\n ~ |\n")
    with pytest.raises(UnsupportedConstruct, match=r"GET TIME VALUE .* in 'x' is not supported by the batch engine"):
        compile_spec(load_spec(model))


def test_cli_refusal_is_exit_2(cli, tmp_path):
    model = _model(tmp_path, "x = GET TIME VALUE(2, 0, 1)\n ~ Dmnl\n ~ |\n")
    code, _, err = cli("simulate", model, "--engine", "batch", "--out", tmp_path / "x")
    assert code == 2 and "GET TIME VALUE" in err and "'x'" in err and not (tmp_path / "x").exists()


@requires_reference
def test_n_runs_equal_n_separate_pysd_runs():
    path = SAMPLES / "teacup" / "teacup.mdl"
    compiled = compile_spec(load_spec(path))
    times = [5.0, 10.0, 20.0]
    batch = compiled.run(params={"characteristic time": np.array(times)}, n=3)
    for i, value in enumerate(times):
        with np.errstate(all="ignore"):
            reference = load_model(path).run(params={"characteristic time": value})
        np.testing.assert_allclose(batch.values["Teacup Temperature"][i], reference["Teacup Temperature"], rtol=1e-12)


@requires_reference
def test_time_series_override_equals_pysd():
    path = SAMPLES / "teacup" / "teacup.mdl"
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


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["baseline", "paper", "vibe-coding", "token-budget", "public-compute",
                                      "paper-subsidy", "token-divide"])
def test_tokenworld_scenarios_equal_pysd(scenario):
    # Every variable, every saved time, 1e-9 relative, with the scenario's overrides and policies:
    # the same API call on the two engines.
    batch = sdlib.frame(sdlib.run(scenario, engine="batch", progress=False))
    reference = sdlib.frame(sdlib.run(scenario, engine="pysd", progress=False))
    assert list(batch.columns) == list(reference.columns) and (batch.index == reference.index).all()
    assert_close(batch, reference, rel=1e-9)


@pytest.mark.slow
def test_cli_batch_engine_writes_the_same_csv(cli, tmp_path):
    for engine in ("pysd", "batch"):
        assert cli("run", "paper-subsidy", "--engine", engine, "--no-plots", "--out", tmp_path / engine)[0] == 0
    a = pd.read_csv(tmp_path / "batch" / "timeseries.csv", index_col=0)
    b = pd.read_csv(tmp_path / "pysd" / "timeseries.csv", index_col=0)
    assert set(a.columns) == set(b.columns)
    assert_close(a, b, rel=1e-9)


def baseline_frame() -> pd.DataFrame:
    """The baseline with its constants as columns too (what an equation may read)."""
    model = sdlib.Model.load()
    return sdlib.frame(model.run(columns=model.variables(constants=True)))


def test_equation_evaluates_one_element_from_its_inputs():
    compiled = compile_spec(load_spec(DEFAULT_MODEL))
    frame = baseline_frame()
    env = {name: frame[name].to_numpy() for name in frame.columns}
    for name in ("Software output", "Token price", "Copper substitution effect", "Token fill rate"):
        value = compiled.equation(name)(env, frame.index.to_numpy())
        np.testing.assert_allclose(value, frame[name], rtol=1e-12, err_msg=name)
    net = compiled.equation("Computing capital")(env, frame.index.to_numpy())  # a stock: its net flow
    np.testing.assert_allclose(net, frame["capital investment"] - frame["capital depreciation"], rtol=1e-12)
    with pytest.raises(BadInput):
        compiled.equation("capital share")


def test_equation_reads_initial_from_the_start_of_the_run():
    # Copper mass balance error = copper now / INITIAL(copper) - 1: the INITIAL is the run's first value,
    # even when env holds the series from the second step on (as the loop analysis passes it).
    compiled = compile_spec(load_spec(DEFAULT_MODEL))
    frame = baseline_frame()
    values = {name: frame[name].to_numpy() for name in frame.columns}
    later = {name: v[1:] for name, v in values.items()}
    balance = compiled.equation("Copper mass balance error")
    np.testing.assert_allclose(balance(later, frame.index.to_numpy()[1:], values), frame["Copper mass balance error"][1:],
                               rtol=0, atol=1e-15)
    shifted = dict(later, **{"Copper in use": later["Copper in use"] * 1.5})  # a different first entry
    assert balance(shifted, frame.index.to_numpy()[1:], values)[0] > 0.01  # INITIAL from init: the change shows
    assert balance(shifted, frame.index.to_numpy()[1:])[0] == 0.0  # without init, env's own first entry


def test_saveper_off_the_step_grid_is_saved_where_pysd_saves(tmp_path):
    # SAVEPER 0.1 with TIME STEP 1/128 (SDXorg's pendulum models): PySD saves the steps that fall on
    # the SAVEPER grid, every 0.5; the batch engine's own time grid is the same.
    import pysd

    model = tmp_path / "pendulum.mdl"
    model.write_text("{UTF-8}\nAngle = INTEG(speed, 1)\n ~ Radian\n ~ |\nspeed = INTEG(-SIN(Angle) * 9.81, 0)\n"
                     " ~ Radian/Second\n ~ |\nFINAL TIME = 2\n ~ Second\n ~ |\nINITIAL TIME = 0\n ~ Second\n ~ |\n"
                     "SAVEPER = 0.1\n ~ Second\n ~ |\nTIME STEP = 0.0078125\n ~ Second\n ~ |\n", encoding="utf-8")
    batch = compile_spec(load_spec(model)).run().to_frame(0)
    with np.errstate(all="ignore"):
        reference = pysd.read_vensim(str(model)).run()
    assert list(batch.index) == list(reference.index) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert_close(batch, reference, rel=1e-12)
