"""The bad-input corpus (issue 16): one folder per case under tests/bad_inputs/, as FaIR keeps its
reproductions. Each holds `case.toml` (what it reproduces, the command line, the expected exit code
and a pattern of the one line it must print) and the files the command reads.

Every case runs in a scratch copy of its folder, with run folders sent to a scratch `runs/output`.
Exit 2 means: exactly one line on stderr, no traceback, and nothing written (the scratch folder and
the output folder are as they were). Exit 0 means the case now runs, and what it must not create
(`absent`, e.g. the file an injected command would touch) is not there.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = sorted(p for p in CORPUS.iterdir() if (p / "case.toml").is_file())
PARAMS = [pytest.param(p, id=p.name, marks=[pytest.mark.slow] if "slow = true" in (p / "case.toml").read_text() else [])
          for p in CASES]


def tree(folder: Path) -> dict:
    """Every path under `folder` with its size (what "nothing written" compares)."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): (p.stat().st_size if p.is_file() else -1) for p in folder.rglob("*")}


def load_case(folder: Path) -> dict:
    case = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
    assert {"what", "args", "exit"} <= set(case), f"{folder.name}: case.toml needs what, args and exit"
    return case


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A scratch working folder, with default run folders going to a scratch runs/output."""
    from sdlib.core import rundir

    output = tmp_path / "runs-output"
    monkeypatch.setattr(rundir, "output_dir", lambda: output)
    work = tmp_path / "work"
    return work, output


def test_the_corpus_is_there():
    assert len(CASES) >= 35, "the bad-input corpus lost cases"


@pytest.mark.parametrize("folder", PARAMS)
def test_bad_input_case(folder, scratch, cli, monkeypatch):
    case = load_case(folder)
    work, output = scratch
    shutil.copytree(folder, work)
    (work / "case.toml").unlink()
    for name in case.get("substitute", []):
        path = work / name
        path.write_text(path.read_text(encoding="utf-8").replace("MODELDIR", str(work)), encoding="utf-8")
    monkeypatch.chdir(work)
    before, before_output = tree(work), tree(output)
    code, out, err = cli(*case["args"])
    assert "Traceback" not in err, f"{folder.name}: a traceback\n{err}"
    assert code == case["exit"], f"{folder.name}: exit {code}, expected {case['exit']}\nstdout: {out}\nstderr: {err}"
    lines = err.strip().splitlines()
    if case["exit"] == 2:
        assert len(lines) == 1, f"{folder.name}: expected one line on stderr, got {len(lines)}:\n{err}"
        assert tree(work) == before, f"{folder.name}: files were written or changed in the working folder"
        assert tree(output) == before_output, f"{folder.name}: a run folder was written"
    if "stderr" in case:
        assert re.search(case["stderr"], err), f"{folder.name}: stderr does not match {case['stderr']!r}:\n{err}"
    for name in case.get("absent", []):
        assert not (work / name).exists(), f"{folder.name}: {name} exists: the model ran code"
