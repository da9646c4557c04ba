"""Run folders: results, the resolved scenario and provenance, written atomically.

Everything is written into a hidden temporary folder beside the target and renamed into place
at the end, so a failed run leaves no half-written folder and runs never overwrite each other.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

from .errors import BadInput
from .paths import OUTPUT_DIR, PROJECT_ROOT


def new_run_dir(label: str) -> Path:
    """A fresh folder name under runs/output/: label plus UTC timestamp, never reused."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = OUTPUT_DIR / f"{label}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def check_target(target: Path) -> Path:
    """Refuse to write over an existing, non-empty folder (nothing is lost)."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BadInput(f"--out: {target} already exists and is not empty (expected a new folder)")
    return target


@contextmanager
def atomic_dir(target: Path):
    """Yield a temporary folder; on success it becomes `target`, on failure it disappears."""
    target = check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_timeseries(frame: pd.DataFrame, path: Path) -> None:
    """CSV with `time` first and one column per variable, at full float precision."""
    out = frame.copy()
    out.index.name = "time"
    out.to_csv(path, float_format="%.17g")


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, default=_jsonable) + "\n", encoding="utf-8")


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def provenance() -> dict:
    """Versions and origin, so a result can be traced and re-run."""
    versions = {"python": platform.python_version()}
    for package in ("tokenworld", "pysd", "numpy", "pandas", "matplotlib", "networkx"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    info = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["tokenworld", *sys.argv[1:]]) if sys.argv and "tokenworld" in sys.argv[0] else None,
        "versions": versions,
    }
    commit = _git_commit()
    if commit:
        info["git_commit"] = commit
    return info


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )
        dirty = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
