"""Calibration (issue 13): the anchor registry, `tokenworld check`'s anchors, `tokenworld calibrate`
(least squares and MCMC on the batch engine), recovery of known parameters from synthetic data,
out-of-sample scoring, and bad input refused with one line and nothing written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import sdlib
from sdlib.analysis import calibration as cal
from sdlib.analysis.anchors import anchor_results, anchors_path, load_anchors
from sdlib.analysis.ensemble import parse_vary
from sdlib.core.errors import BadInput
from sdlib.core.paths import MODELS_DIR

pytest.importorskip("numba")
pytest.importorskip("emcee")

REGISTRY = MODELS_DIR / "tokenworld-anchors.csv"
# Three parameters the data below identify, with their plausible ranges (models/tokenworld-display.toml
# and the parameters' comments), and the variables that carry them.
VARY = ["data centre copper intensity=20:66", "compute useful life=4:8", "normal markup=1.3:2.5"]
SERIES = ["Data centre copper demand", "Compute capacity", "Lab gross margin", "Token price"]
TIMES = [2024.5, 2025.5, 2026.5, 2027.5]
NOISE = 0.03  # sigma: 3% of each true value


def synthetic(tmp_path, truth: dict, seed: int, name: str = "data.csv") -> tuple:
    """Data made by the model at `truth` (baseline otherwise), with normal noise of known sigma."""
    resolved = sdlib.resolve("baseline")
    uncertainties = parse_vary(VARY, resolved.model)
    points = pd.DataFrame([{"variable": v, "time": t, "value": 1.0, "sigma": 1.0, "id": f"{v} {t}"}
                           for v in SERIES for t in TIMES])
    objective = cal.Objective(resolved, uncertainties, points)
    exact = objective.predict(objective.unit([truth[u.name] for u in uncertainties])[None, :])[0]
    sigma = NOISE * np.abs(exact)
    points["value"] = exact + sigma * np.random.default_rng(seed).standard_normal(len(exact))
    points["sigma"] = sigma
    path = tmp_path / name
    points[["variable", "time", "value", "sigma"]].to_csv(path, index=False, float_format="%.17g")
    return path, uncertainties


def test_registry_names_model_variables_with_their_units_and_sources():
    # Every anchor names a variable of the model in that variable's units, with low <= central <= high
    # and a source (load_anchors refuses anything else); the 29 figures are all there.
    spec = sdlib.Model.load().spec
    anchors = load_anchors(REGISTRY, spec)
    assert len(anchors) >= 29 and anchors_path(spec).resolve() == REGISTRY.resolve()
    assert all(a.source and a.low < a.high for a in anchors)
    assert "Compute capacity growth" in {a.variable for a in anchors}


def test_a_bad_registry_row_is_refused_naming_file_and_line(tmp_path):
    spec = sdlib.Model.load().spec
    bad = tmp_path / "anchors.csv"
    bad.write_text("id,variable,year,low,central,high,unit,source,note\n"
                   "x,World GDP,2024.5,1e14,1.1e14,1.2e14,$/Year,IMF,\n"
                   "y,Wrld GDP,2024.5,1e14,1.1e14,1.2e14,$/Year,IMF,\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"anchors.csv line 3: no variable named 'Wrld GDP'"):
        load_anchors(bad, spec)
    bad.write_text("id,variable,year,low,central,high,unit,source,note\n"
                   "x,World GDP,2024.5,1e14,1.1e14,1.2e14,$/Year,IMF,\n"
                   "y,Token use,2024.5,1,2,3,token/Month,Alphabet,\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"line 3: unit 'token/Month' is not the units of 'Token use' \(token/Year\)"):
        load_anchors(bad, spec)


def test_baseline_meets_at_least_80_percent_of_the_anchors():
    # Issue 13: after calibration the baseline passes at least 80% of the registry's anchors, and every
    # miss is documented (models/tokenworld-checks.toml [[anchor_miss]], printed in docs/calibration.md).
    from sdlib.analysis.checks import load_checks

    model = sdlib.Model.load()
    anchors = load_anchors(REGISTRY, model.spec)
    resolved = sdlib.resolve("baseline")
    grid = cal.grid_until(resolved.controls, max(a.year for a in anchors))
    data = model.run(resolved.params, grid, columns=sorted({a.variable for a in anchors}), engine="batch")
    documented = load_checks(MODELS_DIR / "tokenworld-checks.toml", model.spec).anchor_misses.get("baseline", {})
    results = anchor_results("baseline", sdlib.frame(data), data.attrs["status"], anchors, documented)
    passed = sum(r.passed for r in results)
    assert passed >= 0.8 * len(results), [r.id for r in results if not r.passed]
    assert {r.id for r in results if not r.passed} <= set(documented)
    # A value inside its range is 0 range widths away; outside, the signed distance in widths.
    for r in results:
        assert (r.distance == 0) == r.passed
        assert r.passed or abs(r.distance) == pytest.approx(min(abs(r.value - r.low), abs(r.value - r.high)) /
                                                            (r.high - r.low))


def test_least_squares_recovers_known_parameters_within_their_noise(tmp_path):
    # Synthetic data from the model at known values with 3% noise: the fit lands within three of its
    # own standard deviations (Laplace approximation) of each true value, and chi2 is what noise gives
    # (16 points, 3 parameters: chi2 ~ 13 +- 5; we allow up to 35).
    truth = {"data centre copper intensity": 31.0, "compute useful life": 6.5, "normal markup": 1.9}
    path, _ = synthetic(tmp_path, truth, seed=1)
    result = sdlib.calibrate("baseline", data=path, vary=VARY, method="least-squares", seed=0, progress=False)
    report = json.loads(result.attrs["calibration"])
    assert report["fit"]["converged"] and report["fit"]["chi2"] < 35
    for name, value in truth.items():
        p = report["parameters"][name]
        assert abs(p["value"] - value) <= 3 * p["sd"], (name, p)
        # The data do identify it: its standard deviation is under 15% of the prior's width (a 90% interval
        # under half of it). The normal markup is the loosest: the markup moves toward it at one log-point a
        # year, so four years of data pin it to 11% of its prior's width.
        assert p["sd"] < 0.15 * (p["prior"][1] - p["prior"][0]), (name, p)


def _coverage(tmp_path, repetitions: int, seed: int) -> tuple[int, int]:
    rng = np.random.default_rng(seed)
    covered = total = 0
    for k in range(repetitions):
        truth = {u.name: u.low + rng.random() * (u.high - u.low)  # drawn from the prior
                 for u in parse_vary(VARY, sdlib.Model.load())}
        path, _ = synthetic(tmp_path, truth, seed=seed + k, name=f"data{k}.csv")
        result = sdlib.calibrate("baseline", data=path, vary=VARY, method="mcmc", seed=k, samples=3200, walkers=32,
                                 burn=150, progress=False)
        report = json.loads(result.attrs["calibration"])
        for name, value in truth.items():
            p = report["parameters"][name]
            covered += p["low"] <= value <= p["high"]
            total += 1
    return covered, total


@pytest.mark.slow
def test_mcmc_90_percent_intervals_cover_the_truth_in_at_least_80_percent_of_20_repetitions(tmp_path):
    # Issue 13: 20 seeded repetitions, true values drawn from the uniform priors, synthetic data with
    # known noise; the 5-95% posterior intervals cover the truth in >= 80% of parameter-repetitions
    # (a calibrated posterior gives 90%: with 60 trials, fewer than 48 has a probability of about 1%).
    covered, total = _coverage(tmp_path, 20, seed=13)
    assert total == 60 and covered >= 0.8 * total, f"{covered} of {total}"


def test_calibrate_command_writes_the_folder_and_a_runnable_scenario(cli, tmp_path):
    # MCMC from the command line: calibration.json with best values, 90% intervals, R-hat and ESS;
    # scenario.toml extending baseline; posterior.nc (chain x draw); figures incl. a corner plot.
    truth = {"data centre copper intensity": 45.0, "compute useful life": 5.0, "normal markup": 1.6}
    path, _ = synthetic(tmp_path, truth, seed=2)
    out = tmp_path / "cal"
    code, stdout, err = cli("calibrate", "baseline", "--data", path, *[f"--vary={v}" for v in VARY],
                            "--method", "mcmc", "--samples", "1600", "--walkers", "32", "--burn", "100",
                            "--holdout", "2026", "--out", out)
    assert code == 0, err
    report = json.loads((out / "calibration.json").read_text())
    assert set(report["fit"]) >= {"chi2", "n_data", "converged", "max_r_hat", "min_ess_bulk", "acceptance"}
    assert report["fit"]["n_data"] == 8 and report["fit"]["samples"] == 1600
    for name in truth:
        p = report["parameters"][name]
        assert p["low"] <= p["median"] <= p["high"] and p["r_hat"] > 0.9 and p["ess_bulk"] > 10
    held = report["holdout"]
    assert held["year"] == 2026 and held["points"] == 8 and len(held["errors"]) == 8
    assert all(e["band"][0] <= e["forecast"] <= e["band"][1] for e in held["errors"])
    posterior = xr.load_dataset(out / "posterior.nc")
    assert posterior["normal_markup"].dims == ("chain", "draw") and posterior.sizes["chain"] == 32
    assert (out / "plots" / "corner.png").is_file() and (out / "plots" / "fit-lab-gross-margin.png").is_file()
    scenario = sdlib.load_scenario(str(out / "scenario.toml"))
    assert scenario.chain == ["baseline"]
    assert scenario.overrides["normal markup"] == pytest.approx(report["parameters"]["normal markup"]["value"])
    resolved = sdlib.resolve(str(out / "scenario.toml"))
    assert resolved.overrides["compute useful life"] == report["parameters"]["compute useful life"]["value"]


@pytest.mark.parametrize("case, rows, vary, message", [
    ("unknown variable", "Wrld GDP,2025,1,1", VARY[0], "data.csv line 2: 'Wrld GDP' is no variable of tokenworld.mdl"),
    ("a constant", "normal markup,2025,1,1", VARY[0], "data.csv line 2: 'normal markup' is a constant"),
    ("time outside the run", "World GDP,2300,1e14,1e13", VARY[0], "data.csv line 2: time 2300 is outside the run"),
    ("sigma zero", "World GDP,2025,1e14,0", VARY[0], "data.csv line 2: sigma 0 must be positive"),
    ("NaN value", "World GDP,2025,nan,1e13", VARY[0], "data.csv line 2: 'value' must be a finite number"),
    ("range outside the declared one", "World GDP,2025,1e14,1e13", "normal markup=0.5:2",
     "'normal markup' must stay within its range [1.05, 4]"),
    ("LO >= HI", "World GDP,2025,1e14,1e13", "normal markup=2:1.5", "expected finite LO < HI"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(cli, tmp_path, case, rows, vary, message):
    data = tmp_path / "data.csv"
    data.write_text("variable,time,value,sigma\n" + rows + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, err = cli("calibrate", "baseline", "--data", data, f"--vary={vary}", "--out", out)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (case, err)
    assert not out.exists() and list(tmp_path.iterdir()) == [data]


def test_an_unknown_scenario_exits_2(cli, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("variable,time,value,sigma\nWorld GDP,2025,1e14,1e13\n", encoding="utf-8")
    code, stdout, err = cli("calibrate", "basline", "--data", data, f"--vary={VARY[0]}", "--out", tmp_path / "o")
    assert code == 2 and "unknown scenario 'basline'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_check_baseline_reports_anchors_and_exits_0_when_every_miss_is_documented(cli, tmp_path):
    # `tokenworld check baseline`: each anchor with its value, range, pass, distance in range widths and
    # source (JSON schema of issue 13); the misses models/tokenworld-checks.toml documents are printed
    # with their reasons and do not make it exit 1.
    code, out, err = cli("check", "baseline", "--engine", "batch", "--json", tmp_path / "checks.json")
    assert code == 0, err
    checks = json.loads((tmp_path / "checks.json").read_text())["checks"]
    anchors = [c for c in checks if c["kind"] == "anchor"]
    assert len(anchors) == len(load_anchors(REGISTRY, sdlib.Model.load().spec))
    assert set(anchors[0]) >= {"id", "kind", "scenario", "variable", "year", "value", "low", "high", "pass", "source",
                               "distance"}
    assert sum(c["pass"] for c in anchors) >= 0.8 * len(anchors)
    assert all(c["pass"] or c["documented"] for c in anchors)
    assert all(c["pass"] for c in checks if c["kind"] != "anchor")
    assert "documented miss:" in out and f"{sum(c['pass'] for c in anchors)} of {len(anchors)} anchors pass" in out


def test_an_undocumented_anchor_miss_exits_1(cli, tmp_path):
    # A copy of the model whose registry holds one figure it cannot meet: the miss is a finding (exit 1).
    from sdlib.core.paths import DEFAULT_MODEL

    model = tmp_path / "tokenworld.mdl"
    model.write_bytes(DEFAULT_MODEL.read_bytes())
    (tmp_path / "tokenworld-checks.toml").write_text('final_time = 2030\nanchored = ["copy"]\n', encoding="utf-8")
    (tmp_path / "tokenworld-anchors.csv").write_text(
        "id,variable,year,low,central,high,unit,source,note\n"
        "gdp,World GDP,2024.5,1e15,2e15,3e15,$/Year,a test,ten times too high\n", encoding="utf-8")
    scenario = tmp_path / "copy.toml"
    scenario.write_text(f'model = "{model.as_posix()}"\n', encoding="utf-8")
    code, out, err = cli("check", scenario, "--json", tmp_path / "checks.json")
    assert code == 1 and "MISS" in out and "gdp" in out, err
    (gdp,) = [c for c in json.loads((tmp_path / "checks.json").read_text())["checks"] if c["kind"] == "anchor"]
    # 1.12e14 is 0.89e15 below the range's low end of 1e15: -0.44 range widths.
    assert gdp["pass"] is False and gdp["distance"] == pytest.approx((gdp["value"] - 1e15) / 2e15)
    assert gdp["distance"] == pytest.approx(-0.444, abs=0.01)


def test_walkers_start_spread_in_every_parameter_even_at_a_bound():
    # A fit pressed against a bound with a near-singular Laplace covariance (a parameter the data up to a
    # holdout year cannot see) once started every walker at the same value of it, and emcee refused the start
    # ("large condition number"). Each parameter now starts with a spread of at least START_SPREAD / 2 around
    # the fit, inside the cube, so the walkers' covariance is well conditioned (emcee's limit: 1e8).
    fit = {"u": np.array([0.0, 0.5, 1.0]), "cov_u": np.diag([1e-14, 1e-2, 4.0])}
    p0 = cal.starting_points(fit, 32, seed=0)
    assert p0.shape == (32, 3) and np.all((p0 > 0) & (p0 < 1))
    assert np.all(p0.std(axis=0) >= cal.START_SPREAD / 4)
    assert np.linalg.cond(np.cov(p0, rowvar=False)) < 1e8
