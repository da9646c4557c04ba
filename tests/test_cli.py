"""The command line contract of DESIGN.md section 8: run folders, exit codes, one-line errors."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import SAMPLES, read_manifest, requires_reference

from sdlib.core.paths import output_dir

pytestmark = pytest.mark.slow  # every test here runs the model through the command line


def test_run_writes_a_complete_folder(cli, tmp_path):
    out = tmp_path / "base"
    code, stdout, stderr = cli("run", "baseline", "--out", out)
    assert code == 0, stderr
    frame = pd.read_csv(out / "timeseries.csv")
    assert frame.columns[0] == "time"
    assert list(frame["time"]) == list(np.arange(2024.0, 2101.0))  # one row per SAVEPER (1 year)
    for name in ("Output per developer", "Token price", "Compute capacity", "AI electricity use", "Copper price"):
        assert name in frame.columns
    manifest = read_manifest(out)
    for key in ("scenario", "status", "final_time", "time_step", "overrides", "policies", "model_sha256", "versions",
                "parameters"):
        assert key in manifest
    assert manifest["status"] == "ok" and manifest["final_time"] == 2100
    assert manifest["overrides"] == {}  # the baseline is the model's own defaults
    # Variables only: the constants are in the manifest, not repeated in every row.
    assert "capital share" not in frame.columns and manifest["parameters"]["capital share"] == 0.33
    units = pd.read_csv(out / "units.csv", keep_default_na=False)
    assert list(units["name"]) == list(frame.columns)
    assert dict(zip(units["name"], units["units"], strict=False))["Token price"] == "$/Mtoken"
    results = xr.open_dataset(out / "results.nc")
    assert results["Token price"].attrs["units"] == "$/Mtoken" and results.attrs["status"] == "ok"
    np.testing.assert_array_equal(results["Token price"].isel(run=0).to_numpy(), frame["Token price"].to_numpy())
    plots = sorted((out / "plots").glob("*.png"))
    assert len(plots) >= 10 and all(p.stat().st_size > 5000 for p in plots)
    assert str(out) in stdout


def test_timeseries_keeps_full_precision(cli, tmp_path):
    # The CSV must round-trip floats exactly (17 significant digits).
    from conftest import run

    out = tmp_path / "p"
    assert cli("run", "paper", "--out", out, "--no-plots")[0] == 0
    written = pd.read_csv(out / "timeseries.csv", index_col=0)
    direct = run("paper").frame
    assert (written["Software output"].to_numpy() == direct["Software output"].to_numpy()).all()
    assert (written.index.to_numpy() == direct.index.to_numpy()).all()


def test_set_overrides_and_records_them(cli, tmp_path):
    out = tmp_path / "phi"
    code, _, _ = cli("run", "paper", "--set", "Token Return Parameter=0.4", "--out", out, "--no-plots")
    assert code == 0
    manifest = read_manifest(out)
    assert manifest["overrides"]["token return parameter"] == 0.4
    assert manifest["parameters"]["token return parameter"] == 0.4
    assert json.loads(xr.open_dataset(out / "results.nc").attrs["overrides"])["token return parameter"] == 0.4


def test_default_out_is_a_new_folder_under_runs_output(cli):
    outputs = output_dir()
    before = set(outputs.glob("paper-*")) if outputs.exists() else set()
    code, stdout, _ = cli("run", "paper", "--no-plots", "--final-time", "2030")
    created = set(outputs.glob("paper-*")) - before
    try:
        assert code == 0 and len(created) == 1
        assert (created.pop() / "manifest.json").is_file()
    finally:
        for folder in set(outputs.glob("paper-*")) - before:
            shutil.rmtree(folder)


BAD_INPUTS = [
    (["run", "no-such-scenario"], "unknown scenario 'no-such-scenario'"),
    (["run", "paper", "--set", "capitl share=0.3"], "did you mean 'capital share'"),
    (["run", "paper", "--set", "capital share=abc"], "is not a number"),
    (["run", "paper", "--set", "capital share=nan"], "not finite"),
    (["run", "paper", "--set", "capital share=1.5"], "out of its range [0.01, 0.99]"),
    (["run", "paper", "--set", "capital share"], "expected NAME=VALUE"),
    (["run", "paper", "--set", "Software output=3"], "computed by the model"),
    (["run", "paper", "--set", "token access mode=0.5"], "is a switch"),
    (["run", "paper", "--time-step", "-0.1"], "--time-step: -0.1 is not positive"),
    (["run", "paper", "--final-time", "2000"], "--final-time: 2000 is not after the initial time 2024"),
    (["run", "paper", "--final-time", "soon"], "--final-time: 'soon' is not a number"),
    (["run", "paper", "--engine", "fast"], "invalid choice"),
]


@pytest.mark.parametrize("args, message", BAD_INPUTS)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(cli, tmp_path, args, message):
    out = tmp_path / "never"
    outputs = output_dir()
    before = sorted(outputs.iterdir()) if outputs.exists() else []
    code, stdout, stderr = cli(*args, "--out", out)
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1
    assert message in stderr
    assert not out.exists()
    assert (sorted(outputs.iterdir()) if outputs.exists() else []) == before


def test_a_scenario_file_with_a_bad_time_step_is_named(cli, tmp_path):
    scenario = tmp_path / "coarse.toml"
    scenario.write_text('extends = "paper"\ntime_step = 0.3\n', encoding="utf-8")
    code, _, stderr = cli("run", scenario, "--out", tmp_path / "x")
    assert code == 2 and "coarse.toml: time_step 0.3 does not divide" in stderr and "--time-step" not in stderr


def test_malformed_model_exits_2_without_a_traceback(tmp_path):
    # A real process: what a user sees on the terminal, all of it.
    broken = tmp_path / "broken.mdl"
    broken.write_text("{UTF-8}\nStock= INTEG (inflow,\n  ~ Person\n ~ |\ninflow = 2 *** ~ ~ |\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "sdlib", "simulate", str(broken), "--out", str(tmp_path / "x")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "broken.mdl" in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()


def test_existing_out_folder_is_not_overwritten(cli, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, stderr = cli("run", "paper", "--out", out)
    assert code == 2 and "already exists" in stderr
    assert (out / "keep.txt").read_text() == "mine" and len(list(out.iterdir())) == 1


def test_divergence_exits_3_and_writes_what_it_has(cli, tmp_path):
    out = tmp_path / "boom"
    code, _, stderr = cli("run", "efficiency-engine", "--final-time", "2200", "--out", out)
    assert code == 3 and "diverged at" in stderr
    manifest = read_manifest(out)
    assert manifest["status"] == "diverged" and 2040 < manifest["diverged_at"] < 2100
    frame = pd.read_csv(out / "timeseries.csv", index_col=0)
    assert np.isfinite(frame.to_numpy()).all() and frame.index[-1] < manifest["diverged_at"]
    assert (out / "plots" / "output-per-developer.png").is_file()


@requires_reference
def test_simulate_runs_a_reference_model(cli, tmp_path):
    out = tmp_path / "teacup"
    code, _, stderr = cli("simulate", SAMPLES / "teacup" / "teacup.mdl", "--out", out)
    assert code == 0, stderr
    frame = pd.read_csv(out / "timeseries.csv", index_col=0)
    canonical = pd.read_csv(SAMPLES / "teacup" / "output.csv", index_col=0)
    # Vensim's own output, to its printed precision.
    assert np.allclose(frame["Teacup Temperature"].loc[canonical.index], canonical["Teacup Temperature"], rtol=1e-5)
    assert (out / "plots" / "teacup-temperature.png").is_file()


def test_list_json(cli):
    code, stdout, _ = cli("list", "--json")
    data = json.loads(stdout)
    names = {s["name"] for s in data["scenarios"]}
    assert {"baseline", "paper", "token-divide", "vibe-coding", "efficiency-engine"} <= names
    capital = next(p for p in data["parameters"] if p["name"] == "capital share")
    assert capital["value"] == 0.33 and capital["units"] == "Dmnl" and capital["range"] == [0.01, 0.99]


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "tokenworld"
    assert script.is_file(), "pip install provides the tokenworld command beside python"
    done = subprocess.run([str(script), "list"], capture_output=True, text=True)
    assert done.returncode == 0 and "baseline" in done.stdout


@pytest.mark.parametrize("args", [[], ["--help"]])
def test_bare_command_and_help_list_every_subcommand(args):
    done = subprocess.run([sys.executable, "-m", "sdlib", *args], capture_output=True, text=True)
    assert done.returncode == 0
    for command in ("run", "simulate", "list", "compare", "ensemble", "loops", "serve"):
        assert f"    {command} " in done.stdout, command


def test_version_is_the_package_version():
    import sdlib

    done = subprocess.run([sys.executable, "-m", "sdlib", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"tokenworld {sdlib.__version__}"


def test_help_imports_no_subcommand_module():
    # The table is static: `tokenworld --help` imports neither PySD nor any subcommand.
    script = ("import sys\nfrom sdlib.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
              "print([m for m in sys.modules if m.startswith(('pysd', 'sdlib.cli.', 'xarray', 'numpy'))])")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "[]"


def test_the_manifest_holds_the_command_that_reruns_the_run(cli, tmp_path):
    out = tmp_path / "again"
    assert cli("run", "paper", "--set", "capital share=0.3", "--no-plots", "--out", out)[0] == 0
    assert read_manifest(out)["command"] == (f"tokenworld run paper --set 'capital share=0.3' --no-plots --out {out} "
                                             f"--engine pysd")  # the default engine written out
