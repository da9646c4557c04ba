"""Ensembles (issue 7): SALib sampling and analysis on the batch engine, xarray results, Dask."""

import json

import numpy as np
import pytest
import xarray as xr
from conftest import read_manifest

import sdlib

pytestmark = pytest.mark.slow  # the first batch run of Tokenworld compiles its kernel (about a minute)


def ensemble(cli, tmp_path, *args):
    out = tmp_path / "ens"
    code, stdout, err = cli("ensemble", *args, "--out", out, "--no-plots")
    return code, out, err


def test_lhs_results_have_runs_times_samples_and_status(cli, tmp_path):
    code, out, err = ensemble(cli, tmp_path, "baseline", "--n", "40", "--method", "lhs",
                              "--vary", "token return parameter=0.2:0.4", "--vary", "grid connection lead time=2:6",
                              "--outcome", "AI electricity use", "--outcome", "Token price", "--seed", "3")
    assert code == 0, err
    data = xr.open_dataset(out / "results.nc")
    assert dict(data.sizes) == {"run": 40, "time": 77}
    assert set(data.data_vars) >= {"AI electricity use", "Token price"}
    lead = data["grid_connection_lead_time"]
    assert lead.attrs["vensim_name"] == "grid connection lead time"
    assert 2 <= float(lead.min()) and float(lead.max()) <= 6
    # Latin hypercube: each of the 40 strata of [2, 6] holds exactly one sample.
    strata = np.floor((lead.to_numpy() - 2) / 4 * 40).astype(int)
    assert sorted(strata) == list(range(40))
    assert (data["status"].to_numpy() == "ok").all()
    summary = json.loads((out / "summary.json").read_text())
    band = summary["AI electricity use"]["2050.0"]
    assert band["p5"] < band["median"] < band["p95"]
    manifest = read_manifest(out)
    assert manifest["runs"] == 40 and manifest["method"] == "lhs"


def test_sobol_finds_the_driver_in_paper_mode(cli, tmp_path):
    # In paper mode long-run output per developer depends on phi (g_T - n): varying g_T over
    # 0.5-0.8 must dominate the capital depreciation rate (which only moves the level a little).
    code, out, err = ensemble(cli, tmp_path, "paper", "--n", "256", "--method", "sobol",
                              "--vary", "token frontier growth rate=0.5:0.8", "--vary", "capital depreciation rate=0.03:0.07",
                              "--outcome", "Output per developer", "--at", "2100")
    assert code == 0, err
    indices = json.loads((out / "sensitivity.json").read_text())["Output per developer"]
    g_t, delta = indices["token frontier growth rate"], indices["capital depreciation rate"]
    assert g_t["ST"] > 0.9 and delta["ST"] < 0.05
    assert read_manifest(out)["runs"] == 256 * (2 + 2)


def test_morris_reports_mu_star(cli, tmp_path):
    code, out, err = ensemble(cli, tmp_path, "paper", "--n", "10", "--method", "morris",
                              "--vary", "token frontier growth rate=0.5:0.8", "--vary", "capital depreciation rate=0.03:0.07",
                              "--outcome", "Output per developer")
    assert code == 0, err
    indices = json.loads((out / "sensitivity.json").read_text())["Output per developer"]
    assert indices["token frontier growth rate"]["mu_star"] > 10 * indices["capital depreciation rate"]["mu_star"]


def test_diverging_runs_are_marked_and_skipped(cli, tmp_path):
    # chi near 1 explodes (Proposition 5); those runs are marked and the statistics stay finite.
    code, out, err = ensemble(cli, tmp_path, "efficiency-engine", "--n", "30", "--method", "lhs",
                              "--vary", "efficiency returns exponent=0:1", "--outcome", "Output per developer")
    assert code == 0, err
    data = xr.open_dataset(out / "results.nc")
    status = data["status"].to_numpy()
    chi = data["efficiency_returns_exponent"].to_numpy()
    assert (status == "diverged").any() and (status == "ok").any()
    assert chi[status == "diverged"].min() > chi[status == "ok"].max() - 0.2  # high chi diverges
    summary = json.loads((out / "summary.json").read_text())["Output per developer"]["2100.0"]
    assert all(np.isfinite(v) for v in summary.values())


def test_dask_gives_the_same_results_as_local(cli, tmp_path):
    args = ["paper", "--n", "24", "--method", "mc", "--seed", "7", "--chunk", "8",
            "--vary", "token return parameter=0.2:0.4", "--outcome", "Output per developer"]
    assert cli("ensemble", *args, "--out", tmp_path / "local", "--no-plots")[0] == 0
    code, _, err = cli("ensemble", *args, "--scheduler", "dask", "--out", tmp_path / "dask", "--no-plots")
    assert code == 0, err
    local = xr.open_dataset(tmp_path / "local" / "results.nc")
    remote = xr.open_dataset(tmp_path / "dask" / "results.nc")
    np.testing.assert_array_equal(local["Output per developer"], remote["Output per developer"])
    np.testing.assert_array_equal(local["token_return_parameter"], remote["token_return_parameter"])


@pytest.mark.parametrize("args, message", [
    (["--vary", "capital share"], "expected NAME=LO:HI"),
    (["--vary", "no such thing=0:1"], "no parameter named"),
    (["--vary", "capital share=0.5:2"], "must stay within its range"),
    (["--vary", "capital share=0.4:0.3"], "LO < HI"),
    (["--vary", "capital share=0.3:0.4", "--method", "sobol"], "power of two"),
    (["--vary", "capital share=0.3:0.4", "--outcome", "Nonsense"], "no variable named 'Nonsense'"),
    (["--vary", "token-price-subsidy.speed=0:1"], "has no argument 'speed'"),
    (["--vary", "token-price-subsidy.size=0:2"], "must stay within its range [0, 0.95]"),
])
def test_bad_ensemble_input_exits_2(cli, tmp_path, args, message):
    code, out, err = ensemble(cli, tmp_path, "paper", "--n", "10", *args)
    assert code == 2 and message in err and not out.exists()


def test_the_api_returns_a_labelled_dataset():
    # What a notebook does: no folder, a Dataset with units, the samples and the status per run.
    data = sdlib.ensemble("paper", vary=["token return parameter=0.2:0.4"], n=16, method="lhs",
                          outcomes=["Output per developer"], progress=False)
    assert dict(data.sizes) == {"run": 16, "time": 77}
    assert data["Output per developer"].attrs["units"] == "$/(Person*Year)"
    phi = data["token_return_parameter"].to_numpy()
    # Long-run growth is phi (g_T - n) in paper mode: output in 2100 rises with phi in every pair.
    final = data["Output per developer"].sel(time=2100).to_numpy()
    order = np.argsort(phi)
    assert (np.diff(final[order]) > 0).all()
    assert "not sensitivity indices" in data.attrs["sensitivity"]  # lhs: said, not an empty {}


def test_a_lever_is_varied_like_a_parameter(cli, tmp_path):
    # EMA Workbench's levers: the subsidy's size sampled; each run gets the series the lever makes.
    code, out, err = ensemble(cli, tmp_path, "paper", "--n", "6", "--method", "lhs", "--final-time", "2060",
                              "--vary", "token-price-subsidy.size=0:0.5", "--outcome", "Output per developer")
    assert code == 0, err
    data = xr.open_dataset(out / "results.nc")
    size = data["token-price-subsidy.size"].to_numpy()
    assert data["token-price-subsidy.size"].attrs["units"] == "Dmnl"
    for i in range(len(size)):  # each run equals the single run with that lever
        single = sdlib.run("paper", final_time=2060, engine="batch", progress=False,
                           policies=[{"name": "token-price-subsidy", "size": float(size[i])}])
        np.testing.assert_allclose(data["Output per developer"][i], single["Output per developer"][0], rtol=1e-12)
    # Corollary 1: a bigger subsidy is a higher level of output (by 2060).
    final = data["Output per developer"].sel(time=2060).to_numpy()
    assert (np.diff(final[np.argsort(size)]) > 0).all()


def test_a_declared_uncertainty_needs_no_range(cli, tmp_path):
    code, out, err = ensemble(cli, tmp_path, "baseline", "--n", "8", "--final-time", "2030",
                              "--vary", "grid connection lead time", "--outcome", "AI electricity use")
    assert code == 0, err
    lead = xr.open_dataset(out / "results.nc")["grid_connection_lead_time"]
    assert (lead.attrs["low"], lead.attrs["high"]) == (2, 6)  # tokenworld-display.toml's plausible range
    assert 2 <= float(lead.min()) and float(lead.max()) <= 6


def test_samples_drawn_again_are_the_same_and_a_fresh_copy():
    # The explorer draws the same Latin hypercube for every lever move; the second draw comes from
    # memory, equal to a fresh one, and changing what one caller got changes nothing for the next.
    from sdlib.analysis import ensemble as ens
    from sdlib.core.display import Uncertainty

    varied = [Uncertainty("a", 0.0, 1.0), Uncertainty("b", 10.0, 20.0)]
    first = ens.sample(varied, "lhs", 50, seed=3)
    first[:] = -1.0
    again = ens.sample(varied, "lhs", 50, seed=3)
    np.testing.assert_array_equal(again, ens._draw(varied, "lhs", 50, 3))
    assert again.min() >= 0.0 and (again[:, 1] >= 10.0).all()
    assert not np.array_equal(ens.sample(varied, "lhs", 50, seed=4), again)
