"""The command line contract of DESIGN.md section 8: run folders, exit codes, one-line errors."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import read_manifest

from sdlib.paths import OUTPUT_DIR, PROJECT_ROOT

REFERENCE = PROJECT_ROOT.parent / "shared" / "reference-models" / "samples"


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
    for key in ("scenario", "status", "final_time", "time_step", "overrides", "policies", "model_sha256", "versions"):
        assert key in manifest
    assert manifest["status"] == "ok" and manifest["final_time"] == 2100
    assert manifest["overrides"] == {}  # the baseline is the model's own defaults
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


def test_set_overrides_and_records_them(cli, tmp_path):
    out = tmp_path / "phi"
    code, _, _ = cli("run", "paper", "--set", "Token Return Parameter=0.4", "--out", out, "--no-plots")
    assert code == 0
    assert read_manifest(out)["overrides"]["token return parameter"] == 0.4
    frame = pd.read_csv(out / "timeseries.csv", index_col=0)
    assert frame["token return parameter"].iloc[-1] == 0.4


def test_default_out_is_a_new_folder_under_runs_output(cli):
    before = set(OUTPUT_DIR.glob("paper-*")) if OUTPUT_DIR.exists() else set()
    code, stdout, _ = cli("run", "paper", "--no-plots", "--final-time", "2030")
    created = set(OUTPUT_DIR.glob("paper-*")) - before
    try:
        assert code == 0 and len(created) == 1
        assert (created.pop() / "manifest.json").is_file()
    finally:
        for folder in set(OUTPUT_DIR.glob("paper-*")) - before:
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
    (["run", "paper", "--time-step", "-0.1"], "is not positive"),
    (["run", "paper", "--final-time", "2000"], "is not after the initial time 2024"),
    (["run", "paper", "--final-time", "soon"], "is not a number"),
    (["run", "paper", "--engine", "fast"], "invalid choice"),
]


@pytest.mark.parametrize("args, message", BAD_INPUTS)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(cli, tmp_path, args, message):
    out = tmp_path / "never"
    before = sorted(OUTPUT_DIR.iterdir()) if OUTPUT_DIR.exists() else []
    code, stdout, stderr = cli(*args, "--out", out)
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert message in stderr
    assert not out.exists()
    assert (sorted(OUTPUT_DIR.iterdir()) if OUTPUT_DIR.exists() else []) == before


def test_malformed_model_exits_2(cli, tmp_path):
    broken = tmp_path / "broken.mdl"
    broken.write_text("{UTF-8}\nStock= INTEG (inflow,\n  ~ Person\n ~ |\ninflow = 2 *** ~ ~ |\n", encoding="utf-8")
    code, _, stderr = cli("simulate", broken, "--out", tmp_path / "x")
    assert code == 2 and "broken.mdl" in stderr and "Traceback" not in stderr
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


def test_simulate_runs_a_reference_model(cli, tmp_path):
    out = tmp_path / "teacup"
    code, _, stderr = cli("simulate", REFERENCE / "teacup" / "teacup.mdl", "--out", out)
    assert code == 0, stderr
    frame = pd.read_csv(out / "timeseries.csv", index_col=0)
    canonical = pd.read_csv(REFERENCE / "teacup" / "output.csv", index_col=0)
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
    done = subprocess.run([sys.executable, "-m", "sdlib.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "run" in done.stdout
    from pathlib import Path

    script = Path(sys.executable).parent / "tokenworld"
    assert script.is_file(), "pip install -e . provides the tokenworld command beside python"
    done = subprocess.run([str(script), "list"], capture_output=True, text=True)
    assert done.returncode == 0 and "baseline" in done.stdout
