"""Run folders: results, the resolved scenario and provenance, written whole or not at all.

A folder is *claimed* before anything is computed (`claim_folder`): a new folder is created (or
an empty one marked) with a claim file naming this process, so that two runs can never write the
same folder, a folder that cannot be written fails at once, and a default name (`new_run_dir`) is
unique without relying on the clock. Results are written into a hidden temporary folder beside
the target, which replaces the claimed folder in one rename at the end: a failed run leaves
nothing, and runs never overwrite each other.

Temporaries and claims carry this machine's tag and the process id in their names; the next run
in the same folder removes those whose process is gone (a run killed with SIGKILL, which no
handler sees). The command line also removes them itself on SIGTERM and SIGINT
(`cleanup_on_signals`).

A run folder holds `results.nc` (the run's Dataset: every variable with its units, comment and
kind, provenance in its attributes), `timeseries.csv` (the same variables, `time` first, full
float precision), `units.csv` (each column's units and kind), `manifest.json` and `plots/`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .errors import BadInput
from .paths import CHECKOUT, output_dir

CLAIM = ".tokenworld-claim"
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
_TEMPORARY = re.compile(r"\.tmp-([0-9a-f]{8})-(\d+)-")
_ACTIVE: set[Path] = set()  # this process's temporaries and claims, removed on a signal
_COUNTER = [0]


# --- names, temporaries and the sweep of dead processes' leftovers ---------------------------------
def new_run_dir(label: str) -> Path:
    """A fresh folder name under runs/output/: label, UTC time and this process's id.

    Two processes alive at once never share an id, and one process numbers its own names, so the
    name is unique without the clock's resolution; `claim_folder` then takes it atomically.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    _COUNTER[0] += 1
    suffix = f"{os.getpid()}" + (f"-{_COUNTER[0]}" if _COUNTER[0] > 1 else "")
    base = output_dir() / f"{_safe_label(label)}-{stamp}-{suffix}"
    candidate, n = base, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def _safe_label(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "run"


def _tag() -> str:
    return f"{_HOST}-{os.getpid()}"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _owner_gone(name: str) -> bool:
    """Whether a temporary's name says it belongs to a process of this machine that has ended."""
    match = _TEMPORARY.search(name)
    return match is not None and match.group(1) == _HOST and not _alive(int(match.group(2)))


_LEGACY = re.compile(r"^\.(.+)\.tmp-[a-z0-9_]{8}$")  # versions before 0.2.1: no process in the name


def _legacy_stale(entry: os.DirEntry) -> bool:
    """A temporary folder of an older version, untouched for a day (no run takes that long to write)."""
    if not _LEGACY.match(entry.name):
        return False
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > 86400
    except OSError:
        return False


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass


def sweep(parent: Path) -> list[Path]:
    """Remove what processes that have ended left in `parent`: hidden temporaries, and folders they
    claimed and never filled. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith(".") and (_owner_gone(entry.name) or _legacy_stale(entry)):
            _remove(path)
            removed.append(path)
        elif not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
            owner = _claim_owner(path)
            if owner is not None and _owner_gone(owner):
                _release_claim(path)
                removed.append(path)
    return removed


@contextmanager
def temporary_dir(parent: Path, name: str):
    """A hidden folder in `parent` named for this process: removed at the end, on a signal, or by
    the next process's `sweep` if this one is killed."""
    parent.mkdir(parents=True, exist_ok=True)
    sweep(parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{_safe_label(name)}.tmp-{_tag()}-", dir=parent))
    _ACTIVE.add(tmp)
    try:
        yield tmp
    finally:
        _ACTIVE.discard(tmp)
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def temporary_file(target: Path) -> Path:
    """A hidden file name beside `target` for this process (see `temporary_dir`)."""
    return target.with_name(f".{target.name}.tmp-{_tag()}-{os.urandom(4).hex()}")


# --- signals ---------------------------------------------------------------------------------------
class Interrupted(BaseException):
    """SIGINT or SIGTERM: unwinds like KeyboardInterrupt, so that every temporary is removed."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


_RECEIVED: list[int] = []


@contextmanager
def cleanup_on_signals():
    """While inside: on SIGTERM or SIGINT, unwind (removing temporaries and claims) so that the
    caller exits with 128 + the signal (143, 130). A second signal removes what is left and exits at
    once. The previous handlers come back on leaving."""
    def handler(signum, frame):
        if _RECEIVED:
            remove_active()
            os._exit(128 + signum)
        _RECEIVED.append(signum)
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except Interrupted:
        raise
    except BaseException as exc:
        if _RECEIVED:  # a library turned the interruption into another error (matplotlib does)
            raise Interrupted(_RECEIVED[0]) from exc
        raise
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        _RECEIVED.clear()


def remove_active() -> None:
    """Remove this process's temporaries and unfilled claims (what a signal interrupts)."""
    for path in sorted(_ACTIVE, key=lambda p: -len(p.parts)):
        if path.name == CLAIM:
            _release_claim(path.parent)
        else:
            _remove(path)
    _ACTIVE.clear()


# --- claiming a folder before the work starts ------------------------------------------------------
def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISREG, "a file"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a folder"


def _claim_owner(folder: Path) -> str | None:
    """The temporary-style tag of the process that claimed `folder`, or None if unclaimed."""
    try:
        data = json.loads((folder / CLAIM).read_text(encoding="utf-8"))
        return str(data["owner"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return ".tmp-00000000-0-"  # unreadable: no living process can be shown to own it


def _release_claim(folder: Path) -> None:
    """Drop a claim; a folder the claim created and that is still empty goes too."""
    try:
        created = bool(json.loads((folder / CLAIM).read_text(encoding="utf-8")).get("created"))
    except (OSError, ValueError, AttributeError):
        created = False
    _remove(folder / CLAIM)
    if created:
        try:
            folder.rmdir()
        except OSError:
            pass


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Claim:
    """A folder taken for one run: `commit(tmp)` puts the results in its place; `release()` gives
    it back untouched (as it was: absent, or empty)."""

    def __init__(self, target: Path, created: bool, tmp: Path):
        self.target, self.created, self.tmp = target, created, tmp
        self.committed = False

    def __repr__(self) -> str:
        return f"Claim({str(self.target)!r})"

    def check_space(self, needed: float, what: str = "the results") -> None:
        """Refuse now, before the work, when the disk cannot hold `needed` bytes."""
        try:
            free = shutil.disk_usage(self.tmp).free
        except OSError:
            return
        if free < needed:
            self.release()
            raise BadInput(f"out: {self.target.parent} has {free / 1e6:.0f} MB free; {what} need about "
                           f"{needed / 1e6:.0f} MB (free some space or choose another --out)", "out")

    def commit(self) -> Path:
        """Move the finished temporary folder into place, with the permissions of any new folder."""
        os.chmod(self.tmp, 0o777 & ~_umask())
        _remove(self.target / CLAIM)
        _ACTIVE.discard(self.target / CLAIM)
        try:
            os.replace(self.tmp, self.target)
        except OSError as exc:
            self.release()
            raise BadInput(f"out: could not move the results into {self.target} ({exc.strerror}); nothing "
                           f"written", "out") from None
        _ACTIVE.discard(self.tmp)
        self.committed = True
        return self.target

    def release(self) -> None:
        if self.committed:
            return
        _ACTIVE.discard(self.tmp)
        _remove(self.tmp)
        if (self.target / CLAIM).exists() and _claim_owner(self.target) == self._owner:
            _release_claim(self.target)
        elif self.created and not (self.target / CLAIM).exists():
            try:  # interrupted between dropping the claim and the rename: the folder it made, still empty
                self.target.rmdir()
            except OSError:
                pass
        _ACTIVE.discard(self.target / CLAIM)
        _remove_empty(self.made)
        self.made = []

    _owner = ""
    made: list[Path] = []  # parent folders the claim created


def _remove_empty(folders: list[Path]) -> None:
    """Remove folders (deepest first) that are still empty."""
    for folder in sorted(folders, key=lambda p: -len(p.parts)):
        try:
            folder.rmdir()
        except OSError:
            break


def claim_folder(target: str | Path, argument: str = "out") -> Claim:
    """Take `target` for one run before anything is computed, or say exactly why it cannot be.

    A new folder is created; an existing empty one is marked. Either way a claim file names this
    process, and a hidden temporary folder is made beside it (proof that the results can be
    written there). Stale claims and temporaries of ended processes are swept first.
    """
    text = str(target)
    flag = argument
    if not text.strip():
        raise BadInput(f"{flag}: an empty path (expected a folder to create, e.g. runs/output/mine)", argument)
    if "\x00" in text:
        raise BadInput(f"{flag}: the path holds a NUL character", argument)
    target = Path(text)
    try:
        info = os.lstat(target)
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except OSError as exc:
        raise BadInput(f"{flag}: cannot use {target} ({exc.strerror})", argument) from None
    if info is not None:
        if not stat.S_ISDIR(info.st_mode):
            raise BadInput(f"{flag}: {target} is {_kind(info.st_mode)}, not a folder (expected a new or empty "
                           f"folder)", argument)
        sweep(target.parent)
        owner = _claim_owner(target)
        if owner is not None and not _owner_gone(owner):
            pid = _TEMPORARY.search(owner)
            raise BadInput(f"{flag}: {target} is being written by another tokenworld run"
                           f"{f' (process {pid.group(2)})' if pid else ''}; choose another folder", argument)
        if owner is not None:
            _release_claim(target)
        try:
            entries = os.listdir(target)
        except OSError as exc:
            raise BadInput(f"{flag}: cannot read the folder {target} ({exc.strerror})", argument) from None
        if entries:
            raise BadInput(f"{flag}: {target} already exists and is not empty (expected a new folder; nothing "
                           f"is written over existing results)", argument)
        created, made = False, []
    else:
        ancestor = target.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if ancestor.exists() and not ancestor.is_dir():
            raise BadInput(f"{flag}: {ancestor} is a file, so {target} cannot be created in it", argument)
        made = [p for p in target.parents if not p.exists()]  # made here, removed again if the run fails
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            sweep(target.parent)
            os.mkdir(target)
            created = True
        except FileExistsError:
            return claim_folder(target, argument)  # another process made it: look again
        except OSError as exc:
            _remove_empty(made)
            raise BadInput(f"{flag}: cannot create {target} ({exc.strerror or exc})", argument) from None
    claim = Claim(target, created, Path())
    claim.made = made
    claim._owner = f".claim.tmp-{_tag()}-0"
    try:
        _take(target / CLAIM, json.dumps({"owner": claim._owner, "created": created, "pid": os.getpid()}))
    except FileExistsError:  # another process took the folder first (even one this process made)
        return claim_folder(target, argument)
    except OSError as exc:
        if created:
            try:
                target.rmdir()
            except OSError:
                pass
        _remove_empty(made)
        raise BadInput(f"{flag}: cannot write in {target} ({exc.strerror or exc})", argument) from None
    _ACTIVE.add(target / CLAIM)
    try:
        claim.tmp = Path(tempfile.mkdtemp(prefix=f".{_safe_label(target.name)}.tmp-{_tag()}-", dir=target.parent))
    except OSError as exc:
        claim.release()
        raise BadInput(f"{flag}: cannot write in {target.parent} ({exc.strerror or exc}); the results are "
                       f"written there first, then renamed", argument) from None
    _ACTIVE.add(claim.tmp)
    return claim


@contextmanager
def claimed(out: str | Path | None):
    """The folder `out` claimed before any work (taken, or refused now; None for no folder), released
    when the work is done or has failed."""
    target = claim_folder(out) if out is not None else None
    try:
        yield target
    finally:
        if target is not None:
            target.release()


def _take(path: Path, text: str) -> None:
    """Create `path` holding `text`, or raise FileExistsError: exactly one process succeeds. The text
    is written beside it and linked into place, so no one ever reads it half-written; where the file
    system has no hard links, the file is created exclusively and then written."""
    marker = temporary_file(path)
    try:
        marker.write_text(text, encoding="utf-8")
        try:
            os.link(marker, path)
            return
        except FileExistsError:
            raise
        except OSError:
            pass  # no hard links here (e.g. FAT, some network file systems)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    finally:
        _remove(marker)


@contextmanager
def atomic_dir(target: Path | Claim):
    """Yield a temporary folder; on success it becomes the target, on failure it disappears.

    `target` is a folder claimed earlier (`claim_folder`), or a path claimed now.
    """
    claim = target if isinstance(target, Claim) else claim_folder(target)
    try:
        yield claim.tmp
        claim.commit()
    except OSError as exc:
        raise BadInput(f"out: could not write {claim.target} ({exc.strerror or exc}); nothing written",
                       "out") from None
    finally:
        claim.release()


def write_cache_file(target: Path, data: bytes) -> None:
    """One cache file written whole: beside it first (a temporary this process removes on a signal),
    synced, then renamed over it."""
    tmp = temporary_file(target)
    _ACTIVE.add(tmp)
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        _ACTIVE.discard(tmp)
        _remove(tmp)


def write_file_atomic(path: Path, text: str, argument: str) -> None:
    """Write one file whole: beside it first, then renamed over it. Only a regular file (or nothing)
    is ever replaced, never a device, a pipe or a folder."""
    path = check_output_file(path, argument)
    tmp = temporary_file(path)
    made = [p for p in path.parents if not p.exists()]  # folders made for it, removed again on failure
    _ACTIVE.add(tmp)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        _remove_empty(made)
        raise BadInput(f"{argument}: could not write {path} ({exc.strerror or exc}); nothing written",
                       argument) from None
    finally:
        _ACTIVE.discard(tmp)
        _remove(tmp)


def check_output_file(path: str | Path, argument: str) -> Path:
    """The file an option names, checked before the work: a regular file or nothing, in a folder that
    exists (or can be made) and can be written. Symbolic links are followed."""
    text = str(path)
    if not text.strip():
        raise BadInput(f"{argument}: an empty path (expected a file name)", argument)
    path = Path(text)
    if path.exists() or path.is_symlink():
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise BadInput(f"{argument}: cannot use {path} ({exc.strerror})", argument) from None
        if not stat.S_ISREG(mode):
            raise BadInput(f"{argument}: {path} is {_kind(mode) if not stat.S_ISDIR(mode) else 'a folder'}, "
                           f"not a file (only a regular file is ever replaced)", argument)
        path = path.resolve()
    _check_creatable(path, path.parent, argument)
    return path


def check_output_dir(path: str | Path, argument: str) -> Path:
    """A folder an option names for files written into it (e.g. `loops --plot`): a folder or
    nothing, writable. Checked before the work."""
    text = str(path)
    if not text.strip():
        raise BadInput(f"{argument}: an empty path (expected a folder)", argument)
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise BadInput(f"{argument}: {path} is {_kind(os.stat(path).st_mode)}, not a folder", argument)
    _check_creatable(path, path, argument)
    return path


def _check_creatable(path: Path, start: Path, argument: str) -> None:
    """`path` can be made: the nearest existing folder at or above `start` is a writable folder."""
    ancestor = start
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise BadInput(f"{argument}: {ancestor} is a file, so {path} cannot be created in it", argument)
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise BadInput(f"{argument}: {ancestor} cannot be written (permission denied or read-only)", argument)


# --- what a run folder holds -----------------------------------------------------------------------
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


def estimated_size(rows: int, columns: int, runs: int = 1) -> float:
    """Bytes a run folder of this shape takes (netCDF 8 bytes and CSV about 24 per value), plus plots."""
    return runs * rows * columns * 32.0 + 5e6


def timeseries_frame(dataset: xr.Dataset, run: int = 0) -> pd.DataFrame:
    """One run of a Dataset as a table: index `time`, one column per variable (sorted by name)."""
    names = sorted((str(name) for name in dataset.data_vars), key=str.lower)
    values = np.column_stack([dataset[name].isel(run=run).to_numpy() for name in names]) if names else None
    frame = pd.DataFrame(values, index=pd.Index(dataset["time"].to_numpy(), name="time"), columns=names)
    return frame


def read_run(folder: Path) -> xr.Dataset:
    """A run folder's results: `results.nc`, or for older folders `timeseries.csv` (and `units.csv`).

    A damaged folder (a manifest that is not a JSON object, an unreadable or empty table, text in a
    number column, times not increasing) is refused naming the file, never read as numbers.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"{folder}: not a run folder (expected a folder holding results.nc and manifest.json)")
    manifest = read_manifest(folder)
    if (folder / "results.nc").is_file():
        try:
            data = xr.load_dataset(folder / "results.nc", engine="scipy")
        except Exception as exc:  # scipy and xarray raise many kinds on a damaged file
            raise BadInput(f"{folder / 'results.nc'}: not a readable netCDF file ({_first_line(exc)})") from None
        if "time" not in data.coords or "run" not in data.dims:
            raise BadInput(f"{folder / 'results.nc'}: not a run's results (expected dimensions run and time)")
        for name in data.data_vars:
            if not np.issubdtype(data[name].dtype, np.number):
                raise BadInput(f"{folder / 'results.nc'}: '{name}' holds {data[name].dtype} values, not numbers")
        _check_times(data["time"].to_numpy(), folder / "results.nc")
        for key in ("model_sha256", "model_file"):
            data.attrs.setdefault(key, str(manifest.get(key, "")))
        return data
    csv = folder / "timeseries.csv"
    if not csv.is_file():
        raise BadInput(f"{folder}: not a run folder (expected results.nc or timeseries.csv, and manifest.json)")
    try:
        frame = pd.read_csv(csv, index_col=0)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadInput(f"{csv}: not a readable table ({_first_line(exc)})") from None
    if frame.empty or not len(frame.columns):
        raise BadInput(f"{csv}: no rows or no columns (expected time and one column per variable)")
    for name in [frame.index.name or "time", *frame.columns]:
        values = frame.index.to_series() if name == (frame.index.name or "time") else frame[name]
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna() & values.notna() & (values.astype(str).str.strip().str.lower() != "nan")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            raise BadInput(f"{csv}: column '{name}' holds {str(values[bad].iloc[0])[:40]!r} on line {row}, not a number")
    times = pd.to_numeric(frame.index.to_series(), errors="coerce").to_numpy(dtype=float)
    _check_times(times, csv)
    units = {}
    if (folder / "units.csv").is_file():
        try:
            table = pd.read_csv(folder / "units.csv", keep_default_na=False)
            units = dict(zip(table["name"], table["units"], strict=False))
        except (ValueError, KeyError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise BadInput(f"{folder / 'units.csv'}: not a readable table of name and units ({_first_line(exc)})") from None
    columns = {name: (("run", "time"), pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)[None, :],
                      {"units": str(units.get(name, ""))}) for name in frame.columns}
    return xr.Dataset(columns, coords={"run": [0], "time": times},
                      attrs={"scenario": str(manifest.get("scenario", folder.name)),
                             "status": str(manifest.get("status", "")),
                             "model_sha256": str(manifest.get("model_sha256", "")),
                             "model_file": str(manifest.get("model_file", ""))})


def read_manifest(folder: Path) -> dict:
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise BadInput(f"{folder}: not a run folder (no manifest.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadInput(f"{path}: not valid JSON ({_first_line(exc)})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a JSON object (scenario, status, ...), found a {type(data).__name__}")
    return data


def _check_times(times: np.ndarray, where: Path) -> None:
    if len(times) == 0:
        raise BadInput(f"{where}: no saved times")
    if not np.isfinite(times).all():
        raise BadInput(f"{where}: a time that is not a finite number")
    steps = np.diff(times)
    if (steps <= 0).any():
        i = int(np.flatnonzero(steps <= 0)[0])
        raise BadInput(f"{where}: times are not increasing ({times[i]:g} then {times[i + 1]:g}); expected one row "
                       f"per saved time, earliest first")


def _first_line(exc: BaseException) -> str:
    return ((str(exc).strip().splitlines() or [type(exc).__name__])[0])[:160]


def write_json(data: dict, path: Path) -> None:
    path.write_text(json_text(data), encoding="utf-8")


def json_text(data: dict) -> str:
    """`data` as indented JSON (paths, arrays and numpy numbers written as JSON values)."""
    return json.dumps(data, indent=2, default=_jsonable) + "\n"


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
