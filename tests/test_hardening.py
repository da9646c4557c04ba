"""Faults, caches, concurrent runs and provenance (issue 16, items 2, 3, 4, 5, 7 and 8).

Each test reproduces a fault of the issue and checks the contract: no traceback, no silent wrong
answer, nothing half-written. The tests that start real processes (SIGKILL, SIGTERM, ten runs at
once, the batch engine's cache) are in the slow tier.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import MODELS, read_manifest

import sdlib
from sdlib.core import rundir

DECAY_DATA = (MODELS / "decay.mdl").read_text(encoding="utf-8").replace(
    "decay rate=\n\t0.1\n", "decay rate=\n\tGET DIRECT CONSTANTS('rate.csv', ',', 'B2')\n")


def leftovers(folder: Path) -> list[str]:
    """Hidden temporaries and claim files anywhere under `folder`."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if ".tmp-" in p.name or p.name == rundir.CLAIM)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty translation cache for this test (and the in-process caches emptied around it)."""
    from sdlib.core import spec as spec_module
    from sdlib.engine import compile as compile_module
    from sdlib.model import _loaded

    cache = tmp_path / "cache"
    monkeypatch.setenv("TOKENWORLD_CACHE", str(cache))
    for function in (spec_module._load_spec_cached, _loaded, compile_module._compiled):
        function.cache_clear()
    yield cache
    for function in (spec_module._load_spec_cached, _loaded, compile_module._compiled):
        function.cache_clear()


@pytest.fixture
def home(tmp_path):
    """A TOKENWORLD_HOME whose runs/output is this test's own (models and scenarios as the checkout's)."""
    from sdlib.core.paths import MODELS_DIR, RUNS_DIR

    root = tmp_path / "home"
    (root / "runs").mkdir(parents=True)
    (root / "models").symlink_to(MODELS_DIR.resolve())
    for scenario in RUNS_DIR.glob("*.toml"):
        (root / "runs" / scenario.name).symlink_to(scenario.resolve())
    env = {**os.environ, "TOKENWORLD_HOME": str(root), "MPLBACKEND": "Agg"}
    return root, env


def tokenworld(*args, env=None, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sdlib", *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


# --- item 4: the translation cache never recovered and could lie ----------------------------------
@pytest.mark.parametrize("damage", ["truncated", "emptied", "deleted", "edited", "checksums deleted", "file added"])
def test_a_damaged_translation_is_rebuilt_never_run(damage, fresh_cache):
    from sdlib.engine.translate import translated_path, verified

    model = MODELS / "decay.mdl"
    before = sdlib.run(model, progress=False)["Stock"].to_numpy()
    module = translated_path(model)
    text = module.read_text(encoding="utf-8")
    assert "return 0.1" in text
    if damage == "truncated":
        module.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "emptied":
        module.write_text("", encoding="utf-8")
    elif damage == "deleted":
        module.unlink()
    elif damage == "edited":  # the issue's `return 0.33` -> `return 0.5`: a wrong answer with exit 0
        module.write_text(text.replace("return 0.1", "return 0.5"), encoding="utf-8")
    elif damage == "checksums deleted":
        (module.parent / "checksums.json").unlink()
    else:
        (module.parent / "extra.py").write_text("import os\n", encoding="utf-8")
    after = sdlib.run(model, progress=False)["Stock"].to_numpy()
    np.testing.assert_array_equal(after, before)  # the same numbers: the damage was seen and repaired
    assert "return 0.1" in translated_path(model).read_text(encoding="utf-8") and verified(module.parent)
    assert after[0, -1] == pytest.approx(100 * 0.975**80, rel=1e-12)  # Euler, dt = 0.25: S(20) = 100 (1 - 0.1 dt)^80


@pytest.mark.slow
def test_tokenworld_translation_edited_by_hand_is_not_run(tmp_path):
    """The issue's own reproduction, on Tokenworld's translation in the suite's cache."""
    from sdlib.core.paths import DEFAULT_MODEL
    from sdlib.engine.translate import translated_path, verified

    module = translated_path(DEFAULT_MODEL)
    text = module.read_text(encoding="utf-8")
    match = re.search(r"def capital_share\(\):\n(?:.*\n)*?    return ([0-9.]+)\n", text)
    assert match, "capital share is not a plain number in the translation"
    edited = text[:match.start(1)] + "0.5" + text[match.end(1):]
    reference = sdlib.run("paper", progress=False, final_time=2050)["Output per developer"].to_numpy()
    try:
        module.write_text(edited, encoding="utf-8")
        again = sdlib.run("paper", progress=False, final_time=2050)["Output per developer"].to_numpy()
    finally:
        translated_path(DEFAULT_MODEL)  # repaired either way
    np.testing.assert_array_equal(again, reference)
    assert edited != module.read_text(encoding="utf-8") and verified(module.parent)  # rebuilt (PySD orders imports anew)


def test_the_cache_key_holds_the_versions_and_the_data_files(fresh_cache, tmp_path, monkeypatch):
    from sdlib.core.spec import load_spec
    from sdlib.engine import translate

    model = tmp_path / "decay.mdl"
    model.write_text(DECAY_DATA, encoding="utf-8")
    (tmp_path / "rate.csv").write_text("name,value\nrate,0.1\n", encoding="utf-8")
    first = translate.translation_dir(model)
    slow = sdlib.run(model, progress=False)["Stock"].to_numpy()
    assert (first / "data" / "0.csv").read_text() == "name,value\nrate,0.1\n"  # the data travel with it
    # Another PySD or Tokenworld version: another folder.
    monkeypatch.setattr(translate, "_versions", lambda: {"pysd": "9.9", "tokenworld": "9.9", "format": 2})
    assert translate.translation_dir(model) != first
    monkeypatch.undo()
    monkeypatch.setenv("TOKENWORLD_CACHE", str(fresh_cache))
    # Edited data: another folder and the new numbers (the model file itself did not change).
    (tmp_path / "rate.csv").write_text("name,value\nrate,0.2\n", encoding="utf-8")
    assert translate.translation_dir(model) != first
    fast = sdlib.run(model, progress=False)["Stock"].to_numpy()
    assert fast[0, -1] == pytest.approx(100 * 0.95**80, rel=1e-12) and slow[0, -1] == pytest.approx(100 * 0.975**80)
    assert load_spec(model).sha256 == load_spec(model).sha256


def test_a_copy_of_a_model_under_another_name_uses_the_same_translation(fresh_cache, tmp_path):
    """The translation is keyed by content: a renamed copy (e.g. an old version kept as old/x.mdl)
    runs from it, whatever its name."""
    from sdlib.engine.translate import translated_path

    copy = tmp_path / "another name.mdl"
    copy.write_bytes((MODELS / "decay.mdl").read_bytes())
    first = sdlib.run(MODELS / "decay.mdl", progress=False)["Stock"].to_numpy()
    again = sdlib.run(copy, progress=False)["Stock"].to_numpy()
    np.testing.assert_array_equal(again, first)
    assert translated_path(copy) == translated_path(MODELS / "decay.mdl")


def test_a_missing_data_file_is_named(fresh_cache, tmp_path, cli, monkeypatch):
    (tmp_path / "decay.mdl").write_text(DECAY_DATA, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("simulate", "decay.mdl", "--no-plots", "--out", "out")
    assert code == 2 and "'decay rate' reads the data file 'rate.csv', which is not found" in err
    assert not (tmp_path / "out").exists()


def test_the_spec_cache_is_named_by_versions_and_checked(fresh_cache):
    from sdlib.core import spec as spec_module

    spec = spec_module.load_spec(MODELS / "decay.mdl")
    cached = spec_module.spec_cache_file(spec.sha256)
    assert f"tokenworld{sdlib.__version__}" in cached.name and "pysd" in cached.name
    data = cached.read_bytes()
    cached.write_bytes(data[:-10] + b"0123456789")  # the same length, other bytes: the checksum says so
    spec_module._load_spec_cached.cache_clear()
    again = spec_module.load_spec(MODELS / "decay.mdl")
    assert set(again.elements) == set(spec.elements) and cached.read_bytes() == data


@pytest.mark.slow
def test_the_batch_kernel_cache_is_checked(fresh_cache, tmp_path):
    """An edited kernel source is written again; damaged numba cache files are compiled again."""
    def simulate(out):
        done = subprocess.run([sys.executable, "-m", "sdlib", "simulate", MODELS / "decay.mdl", "--engine", "batch",
                               "--no-plots", "--out", tmp_path / out], capture_output=True, text=True,
                              env={**os.environ, "TOKENWORLD_CACHE": str(fresh_cache)})
        assert done.returncode == 0, done.stderr
        return pd.read_csv(tmp_path / out / "timeseries.csv", index_col=0)

    reference = simulate("a")
    (kernel,) = fresh_cache.glob("engine/*/tokenworld_kernel.py")
    assert (kernel.parent / "numba-cache.json").is_file()
    kernel.write_text(kernel.read_text().replace("0.1", "0.5"), encoding="utf-8")  # any edit
    pd.testing.assert_frame_equal(simulate("b"), reference)
    for cached in kernel.parent.glob("__pycache__/*.nbc"):
        cached.write_bytes(cached.read_bytes()[:100])
    pd.testing.assert_frame_equal(simulate("c"), reference)
    assert reference["Stock"].iloc[-1] == pytest.approx(100 * 0.975**80, rel=1e-12)


# --- items 2 and 3: killed and concurrent runs ------------------------------------------------------
def test_a_folder_is_claimed_once(tmp_path):
    target = tmp_path / "run"
    claim = rundir.claim_folder(target)
    try:
        with pytest.raises(sdlib.BadInput, match=r"being written by another tokenworld run \(process \d+\)"):
            rundir.claim_folder(target)
    finally:
        claim.release()
    assert not target.exists() and leftovers(tmp_path) == []  # released: as it was (absent)


def test_a_failed_run_leaves_no_parent_folders_it_made(cli, tmp_path, monkeypatch):
    import sdlib.api

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(sdlib.api, "write_results", broken)
    code, _, err = cli("simulate", MODELS / "decay.mdl", "--no-plots", "--out", tmp_path / "a" / "b" / "out")
    assert code == 2 and "Input/output error" in err and list(tmp_path.iterdir()) == []


def test_a_stale_claim_and_temporaries_of_a_dead_process_are_swept(tmp_path):
    pid = dead_pid()
    tag = f"{rundir._HOST}-{pid}"
    stale_claim = tmp_path / "old-run"
    stale_claim.mkdir()
    (stale_claim / rundir.CLAIM).write_text(json.dumps({"owner": f".claim.tmp-{tag}-0", "created": True}))
    (tmp_path / f".old-run.tmp-{tag}-abc").mkdir()
    (tmp_path / f".old-run.tmp-{tag}-abc" / "results.nc").write_bytes(b"x" * 1000)
    alive = tmp_path / f".other.tmp-{rundir._HOST}-{os.getpid()}-def"  # this process: never swept
    alive.mkdir()
    legacy_old, legacy_new = tmp_path / ".old.tmp-k2j4h5g6", tmp_path / ".new.tmp-a1b2c3d4"  # before 0.2.1
    legacy_old.mkdir()
    legacy_new.mkdir()
    os.utime(legacy_old, (time.time() - 2 * 86400,) * 2)
    claim = rundir.claim_folder(tmp_path / "new-run")
    claim.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, legacy_new.name])


def test_new_run_dir_names_are_unique_without_the_clock(monkeypatch, tmp_path):
    monkeypatch.setattr(rundir, "output_dir", lambda: tmp_path)
    names = {rundir.new_run_dir("baseline").name for _ in range(1000)}
    assert len(names) == 1000 and all(str(os.getpid()) in n for n in names)


def test_a_run_folder_has_the_permissions_of_any_new_folder(cli, tmp_path):
    assert cli("simulate", MODELS / "decay.mdl", "--no-plots", "--out", tmp_path / "out")[0] == 0
    mask = rundir._umask()
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o777 & ~mask
    assert leftovers(tmp_path) == []


@pytest.mark.slow
def test_a_sigkilled_run_leaves_nothing_once_the_next_run_starts(home):
    root, env = home
    output = root / "runs" / "output"
    victim = tokenworld("run", "baseline", env=env)
    deadline = time.time() + 120
    while time.time() < deadline and not any(".tmp-" in p.name for p in output.glob(".*")):
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    left = leftovers(output)
    assert left, "the run was killed before it claimed its folder: nothing to sweep"
    claimed = [p for p in output.iterdir() if not p.name.startswith(".")]
    assert len(claimed) == 1 and [p.name for p in claimed[0].iterdir()] == [rundir.CLAIM]
    survivor = tokenworld("run", "paper", "--no-plots", env=env)
    out, err = survivor.communicate(timeout=300)
    assert survivor.returncode == 0, err
    assert leftovers(output) == [] and len(list(output.iterdir())) == 1  # only the new run's folder


@pytest.mark.slow
def test_a_sigkilled_translation_leaves_nothing_once_the_next_starts(tmp_path):
    """Killed while PySD writes the translation: the next run of the model removes the remains."""
    from sdlib.core.paths import DEFAULT_MODEL

    cache = tmp_path / "cache"
    env = {**os.environ, "TOKENWORLD_CACHE": str(cache), "MPLBACKEND": "Agg"}
    victim = tokenworld("simulate", DEFAULT_MODEL, "--no-plots", "--out", tmp_path / "a", env=env)
    deadline = time.time() + 120
    while time.time() < deadline and not any(cache.glob("*/.translate.tmp-*")):
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert any(cache.glob("*/.translate.tmp-*")), "killed before the translation began: nothing to sweep"
    survivor = tokenworld("simulate", DEFAULT_MODEL, "--no-plots", "--out", tmp_path / "b", env=env)
    out, err = survivor.communicate(timeout=600)
    assert survivor.returncode == 0, err
    assert leftovers(cache) == [] and not (tmp_path / "a").exists() and (tmp_path / "b" / "timeseries.csv").is_file()


@pytest.mark.slow
def test_concurrent_first_runs_share_one_translation(tmp_path):
    """Four processes translating one model at once into an empty cache: all run, one translation stays."""
    cache = tmp_path / "cache"
    env = {**os.environ, "TOKENWORLD_CACHE": str(cache), "MPLBACKEND": "Agg"}
    runs = [tokenworld("simulate", MODELS / "logistic.mdl", "--no-plots", "--out", tmp_path / f"run{i}", env=env)
            for i in range(4)]
    assert [p.wait(timeout=600) for p in runs] == [0] * 4, [p.stderr.read() for p in runs]
    assert len(list(cache.glob("*/pysd-*/model.py"))) == 1 and leftovers(cache) == []
    frames = [pd.read_csv(tmp_path / f"run{i}" / "timeseries.csv", index_col=0) for i in range(4)]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])


@pytest.mark.slow
def test_ten_concurrent_runs_give_ten_complete_distinct_folders(home):
    root, env = home
    runs = [tokenworld("run", "paper", "--no-plots", env=env) for _ in range(10)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in runs]
    assert [code for code, _ in results] == [0] * 10, [err for _, err in results]
    output = root / "runs" / "output"
    folders = sorted(p for p in output.iterdir())
    assert len(folders) == 10 and leftovers(output) == []
    reference = pd.read_csv(folders[0] / "timeseries.csv", index_col=0)
    for folder in folders:
        assert {p.name for p in folder.iterdir()} == {"results.nc", "timeseries.csv", "units.csv", "manifest.json"}
        assert read_manifest(folder)["status"] == "ok"
        pd.testing.assert_frame_equal(pd.read_csv(folder / "timeseries.csv", index_col=0), reference)


@pytest.mark.slow
def test_sigterm_during_a_run_exits_143_and_leaves_nothing(home):
    root, env = home
    output = root / "runs" / "output"
    run = tokenworld("run", "baseline", env=env)
    deadline = time.time() + 120
    while time.time() < deadline and not any(".tmp-" in p.name for p in output.glob(".*")):
        time.sleep(0.05)
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 143 and "Traceback" not in err and "interrupted (SIGTERM)" in err
    assert not output.exists()  # the folders the run made (runs/output, its claim) are gone too


def test_sigint_during_plotting_exits_130_and_leaves_nothing(cli, tmp_path, monkeypatch):
    """The issue's `ValueError: Invalid bounding box` and exit 1: a signal inside matplotlib."""
    import sdlib.plots.run as plots

    def plot_then_interrupt(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        raise ValueError("Invalid bounding box")  # what matplotlib made of the interruption

    monkeypatch.setattr(plots, "plot_run", plot_then_interrupt)
    code, out, err = cli("simulate", MODELS / "decay.mdl", "--out", tmp_path / "out")
    assert code == 130 and "Traceback" not in err and "interrupted (SIGINT)" in err
    assert list(tmp_path.iterdir()) == []


def test_sigterm_while_simulating_exits_143_and_leaves_nothing(cli, tmp_path, monkeypatch):
    from sdlib.model import Model

    def terminated(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this

    monkeypatch.setattr(Model, "run", terminated)
    code, out, err = cli("simulate", MODELS / "decay.mdl", "--out", tmp_path / "out")
    assert code == 143 and "interrupted (SIGTERM)" in err and list(tmp_path.iterdir()) == []


# --- item 5: a Dask address where no scheduler answers ---------------------------------------------
@pytest.fixture
def fake_service():
    """A local TCP service that is not a Dask scheduler: it answers in HTTP, or says nothing."""
    import socket
    import threading

    servers = []

    def start(talks: bool) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)
        held = []

        def serve():
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                if talks:
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    conn.close()
                else:
                    held.append(conn)  # open and silent

        threading.Thread(target=serve, daemon=True).start()
        return f"tcp://127.0.0.1:{server.getsockname()[1]}"

    yield start
    for server in servers:
        server.close()


def test_a_service_that_is_not_dask_is_refused_in_one_line(fake_service):
    # It gave "out of memory" (exit 1): Dask read the HTTP bytes as a frame length of exbibytes.
    from sdlib.analysis.ensemble import check_scheduler
    from sdlib.core.errors import BadInput

    address = fake_service(talks=True)
    with pytest.raises(BadInput, match=f"address: {address} answers, but not as a Dask scheduler"):
        check_scheduler(address)


def test_a_silent_service_is_given_up_on_after_the_timeout(fake_service):
    # Dask's client waited for its handshake for as long as the service kept the connection open.
    from sdlib.analysis.ensemble import check_scheduler
    from sdlib.core.errors import BadInput

    address = fake_service(talks=False)
    start = time.monotonic()
    with pytest.raises(BadInput, match=f"cannot reach the Dask scheduler at {address} \\(TimeoutError\\)"):
        check_scheduler(address, seconds=1.0)
    assert time.monotonic() - start < 5


def test_a_real_scheduler_passes_the_check():
    from distributed import LocalCluster

    from sdlib.analysis.ensemble import check_scheduler

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        check_scheduler(cluster.scheduler_address)  # no error


# --- item 5: output places that cannot be written ---------------------------------------------------
def test_a_full_disk_is_found_before_simulating(cli, tmp_path, monkeypatch):
    from collections import namedtuple

    from sdlib.model import Model

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(rundir.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    monkeypatch.setattr(Model, "run", lambda *a, **k: pytest.fail("simulated although the disk is full"))
    code, out, err = cli("simulate", MODELS / "decay.mdl", "--no-plots", "--out", tmp_path / "out")
    assert code == 2 and re.search(r"--out: .* has 0 MB free; the results need about \d+ MB", err)
    assert list(tmp_path.iterdir()) == []


def test_a_disk_that_fills_while_writing_leaves_nothing(cli, tmp_path, monkeypatch):
    import sdlib.api

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sdlib.api, "write_results", full)
    code, out, err = cli("simulate", MODELS / "decay.mdl", "--no-plots", "--out", tmp_path / "out")
    assert code == 2 and "(No space left on device); nothing written" in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["/proc/tokenworld-test/out", "/sys/tokenworld-test"])
def test_out_on_a_filesystem_that_cannot_hold_it(cli, where):
    code, out, err = cli("simulate", MODELS / "decay.mdl", "--no-plots", "--out", where)
    assert code == 2 and err.startswith("tokenworld: error: --out: cannot create") and len(err.splitlines()) == 1


def test_a_1200_deep_extends_chain_is_refused(cli, tmp_path, monkeypatch):
    for i in range(1200):
        parent = f'extends = "s{i + 1}.toml"\n' if i < 1199 else 'extends = "paper"\n'
        (tmp_path / f"s{i}.toml").write_text(parent, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("run", "s0.toml", "--no-plots", "--out", "out")
    assert code == 2 and "'extends' goes more than 32 scenarios deep" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("step", ["4", "2"])
def test_time_step_that_breaks_pysd_gives_one_line_and_nothing_written(step, cli, tmp_path):
    """`--time-step 4` or `2` made PySD compute a complex number (a traceback). The engine's answer
    is issue 14's; here: one line, no traceback, nothing half-written, whatever the engine says."""
    code, out, err = cli("run", "paper", "--time-step", step, "--no-plots", "--out", tmp_path / "out")
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    if code == 3:  # diverged: what was computed is written, whole, and says so
        assert read_manifest(tmp_path / "out")["status"] == "diverged"
    else:
        assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


# --- item 7: output files never replace what is not a regular file ---------------------------------
@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_loops_json_never_replaces_what_is_not_a_file(kind, cli, tmp_path):
    target = tmp_path / "target"
    os.mkfifo(target) if kind == "fifo" else target.mkdir()
    code, out, err = cli("loops", MODELS / "logistic.mdl", "--json", target)
    assert code == 2 and f"--json: {target} is" in err and "not a file" in err
    assert (target.is_fifo() if kind == "fifo" else target.is_dir())
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_check_json_never_replaces_what_is_not_a_file(kind, cli, tmp_path, monkeypatch):
    # It was written after the scenarios ran: onto a device an internal error, onto a pipe a hang.
    target = Path("/dev/null") if kind == "device" else tmp_path / "target"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    monkeypatch.setattr(sdlib, "check", lambda *a, **k: pytest.fail("ran the checks although --json is refused"))
    code, out, err = cli("check", "paper", "--json", target)
    assert code == 2 and f"--json: {target} is" in err and "not a file" in err, err
    assert target.is_char_device() if kind == "device" else target.is_fifo() if kind == "fifo" else target.is_dir()
    assert leftovers(tmp_path) == []


def test_an_output_file_in_a_new_folder_is_written_after_the_work(cli, tmp_path):
    target = tmp_path / "new" / "deeper" / "loops.json"
    assert cli("loops", MODELS / "logistic.mdl", "--json", target)[0] == 0
    assert json.loads(target.read_text())["count"] == 2 and leftovers(tmp_path) == []


def test_loops_json_is_written_whole(cli, tmp_path):
    target = tmp_path / "loops.json"
    target.write_text("old")
    assert cli("loops", MODELS / "logistic.mdl", "--json", target)[0] == 0
    assert json.loads(target.read_text())["count"] == 2 and leftovers(tmp_path) == []  # logistic: R and B


# --- item 8: provenance that can be replayed -------------------------------------------------------
def test_the_manifest_command_replays_to_the_same_csv(cli, tmp_path):
    first = tmp_path / "first"
    code, _, err = cli("run", "paper", "--set", "capital share=0.3", "--policy", "token-price-subsidy:start=2030,size=0.3",
                       "--final-time", "2060", "--no-plots", "--out", first)
    assert code == 0, err
    command = shlex.split(read_manifest(first)["command"])
    assert command[:2] == ["tokenworld", "run"] and "--engine" in command
    again = tmp_path / "again"
    command[command.index("--out") + 1] = str(again)
    assert cli(*command[1:])[0] == 0
    assert (again / "timeseries.csv").read_bytes() == (first / "timeseries.csv").read_bytes()
    assert read_manifest(again)["overrides"]["capital share"] == 0.3 == read_manifest(first)["overrides"]["capital share"]


def test_the_explorer_command_names_its_engine():
    from sdlib.explorer.app import command_line

    settings = {"scenario": "baseline", "set": {"capital share": 0.3}, "policies": [], "final_time": None}
    assert shlex.split(command_line(settings, "batch")) == ["tokenworld", "run", "baseline", "--set",
                                                            "capital share=0.3", "--engine", "batch"]
