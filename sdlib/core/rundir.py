"""Run folders: results, the resolved scenario and provenance, written atomically.

Everything is written into a hidden temporary folder beside the target and renamed into place
at the end, so a failed run leaves no half-written folder and runs never overwrite each other.

A run folder holds `results.nc` (the run's Dataset: every variable with its units, comment and
kind, provenance in its attributes), `timeseries.csv` (the same variables, `time` first, full
float precision), `units.csv` (each column's units and kind), `manifest.json` and `plots/`.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .errors import BadInput
from .paths import CHECKOUT, output_dir


def new_run_dir(label: str) -> Path:
    """A fresh folder name under runs/output/: label plus UTC timestamp, never reused."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    base = output_dir() / f"{label}-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def check_target(target: Path) -> Path:
    """Refuse to write over an existing, non-empty folder (nothing is lost)."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BadInput(f"out: {target} already exists and is not empty (expected a new folder)", "out")
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


def write_results(dataset: xr.Dataset, folder: Path) -> None:
    """`results.nc`, `timeseries.csv` and `units.csv` of a one-run Dataset."""
    dataset.to_netcdf(folder / "results.nc", engine="scipy")
    frame = timeseries_frame(dataset)
    frame.to_csv(folder / "timeseries.csv", float_format="%.17g")
    pd.DataFrame({
        "name": ["time", *frame.columns],
        "units": [dataset["time"].attrs.get("units", ""), *(dataset[c].attrs.get("units", "") for c in frame.columns)],
        "kind": ["time", *(dataset[c].attrs.get("kind", "") for c in frame.columns)],
    }).to_csv(folder / "units.csv", index=False)


def timeseries_frame(dataset: xr.Dataset, run: int = 0) -> pd.DataFrame:
    """One run of a Dataset as a table: index `time`, one column per variable (sorted by name)."""
    names = sorted((str(name) for name in dataset.data_vars), key=str.lower)
    values = np.column_stack([dataset[name].isel(run=run).to_numpy() for name in names]) if names else None
    frame = pd.DataFrame(values, index=pd.Index(dataset["time"].to_numpy(), name="time"), columns=names)
    return frame


def read_run(folder: Path) -> xr.Dataset:
    """A run folder's results: `results.nc`, or for older folders `timeseries.csv` (and `units.csv`)."""
    if (folder / "results.nc").is_file():
        return xr.load_dataset(folder / "results.nc", engine="scipy")
    if not (folder / "timeseries.csv").is_file() or not (folder / "manifest.json").is_file():
        raise BadInput(f"{folder}: not a run folder (expected results.nc or timeseries.csv, and manifest.json)")
    frame = pd.read_csv(folder / "timeseries.csv", index_col=0)
    units = {}
    if (folder / "units.csv").is_file():
        table = pd.read_csv(folder / "units.csv", keep_default_na=False)
        units = dict(zip(table["name"], table["units"], strict=False))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    data = {name: (("run", "time"), frame[name].to_numpy(dtype=float)[None, :], {"units": units.get(name, "")})
            for name in frame.columns}
    return xr.Dataset(data, coords={"run": [0], "time": frame.index.to_numpy(dtype=float)},
                      attrs={"scenario": manifest.get("scenario", folder.name), "status": manifest.get("status", "")})


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
    versions, commit = _code_in_this_process()
    info = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": dict(versions),
    }
    if commit:
        info["git_commit"] = commit
    return info


@functools.lru_cache(maxsize=1)
def _code_in_this_process() -> tuple[tuple, str | None]:
    """Package versions and the checkout's commit, read once: the code a process runs is the code it
    loaded (and reading them costs about 20 ms, which every explorer run would otherwise pay)."""
    versions = [("python", platform.python_version())]
    for package in ("tokenworld", "pysd", "numpy", "pandas", "xarray", "numba", "matplotlib", "networkx"):
        try:
            versions.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            pass
    return tuple(versions), _git_commit()


def _git_commit() -> str | None:
    if CHECKOUT is None or not (CHECKOUT / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        )
        dirty = subprocess.run(
            ["git", "-C", str(CHECKOUT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
