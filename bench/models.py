"""Every model in some folders, run by PySD and by the batch engine, compared.

    python bench/models.py FOLDER [FOLDER...] [--only TEXT] [--timeout S] [--jobs N] [--details]

Finds every Vensim `.mdl` under the folders (for example the reference models beside the
project and a local clone of SDXorg/test-models) and, for each, in a worker process:

- runs it with PySD itself (`pysd.read_vensim` on a temporary copy of its folder, `model.run()`),
  and compares PySD with the model's canonical output (`output.csv` / `output.tab`, as written
  by Vensim or Stella) with PySD's own test tolerance (rtol 1e-5, atol 1e-5);
- runs it on the batch engine and compares every column PySD returns with rtol 1e-9 and an atol
  of 1e-9 times the column's range (max - min of PySD's values), NaN equal to NaN.

A batch run is `equal`, `wrong` (a column differs or is missing), `refused` (the engine said
which construct it does not support: UnsupportedConstruct and other bad-input errors),
`random` (the model draws random numbers: the engine's documented stream is not PySD's, so the
two runs are not expected to agree) or `crashed` (any other error, a killed worker or a
timeout). Models PySD cannot run are not compared. `--exact` compiles the batch engine in its
exact mode (numpy's own EXP, LN, ...; the gaps then show PySD's bits). Prints JSON: a summary
with the counts and one record per model (all with --details, else those not equal); progress
goes to stderr. Nothing is written beside the models.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

RTOL = 1e-9
CANONICAL_TOL = 1e-5  # PySD's own assert_frames_close default (rtol and atol)
CONTROLS = {"initial time", "final time", "time step", "saveper", "time"}  # compared by name_key


def _control(column: str) -> bool:
    return " ".join(column.replace("_", " ").lower().split()) in CONTROLS


def data_files(folder: Path) -> list[str]:
    """Files a model's DATA variables may read (Vensim .tab outputs beside it, not its canonical output)."""
    return sorted(str(p) for p in folder.iterdir() if p.suffix == ".tab" and not p.stem.startswith("output"))


# --- one model (in a worker process) --------------------------------------------------------------

def measure(path: str, exact: bool = False) -> dict:
    """PySD vs canonical output and batch engine vs PySD for one model file."""
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")
    np.seterr(all="ignore")
    path = Path(path)
    record = {"model": str(path)}
    pysd_frame = _run_pysd(path, record)
    if pysd_frame is not None:
        record["canonical"] = _against_canonical(path, pysd_frame)
    record["batch"] = _run_batch(path, pysd_frame, exact)
    return record


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _run_pysd(path: Path, record: dict):
    import pysd

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        shutil.copytree(path.parent, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
        files = data_files(folder)
        try:
            model = pysd.read_vensim(str(folder / path.name), data_files=files or None)
            frame = model.run()
        except Exception as exc:  # any PySD failure is a result here
            record["pysd"] = {"status": "error", "error": _first_line(exc)}
            return None
    record["pysd"] = {"status": "ok", "seconds": round(time.perf_counter() - started, 3),
                      "columns": int(frame.shape[1]), "rows": int(frame.shape[0])}
    if any(frame[c].dtype.kind == "c" or (frame[c].dtype == object and frame[c].map(type).eq(complex).any())
           for c in frame.columns):
        record["pysd"]["complex"] = True
    return frame


def _numeric(series):
    import numpy as np
    import pandas as pd

    try:
        return pd.to_numeric(series, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError):
        return np.array([complex(v).real if complex(v).imag == 0 else np.nan for v in series], dtype=float)


def _against_canonical(path: Path, frame) -> dict:
    import numpy as np
    from pysd.py_backend.utils import detect_encoding, load_outputs

    for name in ("output.csv", "output.tab"):
        file = path.parent / name
        if file.is_file():
            break
    else:
        return {"status": "none"}
    try:
        canon = load_outputs(file, encoding=detect_encoding(file))
    except Exception as exc:
        return {"status": "unreadable", "error": _first_line(exc)}
    times = np.asarray(frame.index, dtype=float)
    ctimes = np.asarray(canon.index, dtype=float)
    rows = [int(np.argmin(np.abs(times - t))) for t in ctimes]
    keep = [i for i, t in enumerate(ctimes) if abs(times[rows[i]] - t) < 1e-9]
    columns = [c for c in canon.columns if c in frame.columns and not _control(c)]
    bad = []
    for column in columns:
        ours = _numeric(frame[column])[[rows[i] for i in keep]]
        theirs = _numeric(canon[column])[keep]
        if np.isnan(theirs[1:]).all() and len(theirs) > 1:  # Vensim writes constants on the first row only
            theirs = np.full_like(theirs, theirs[0])
        close = np.abs(theirs - ours) <= CANONICAL_TOL + CANONICAL_TOL * np.abs(ours)
        close |= np.isnan(ours) & np.isnan(theirs)
        if not close.all():
            bad.append(column)
    return {"status": "close" if not bad and columns else ("different" if bad else "no shared columns"),
            "columns": len(columns), "times": len(keep), "not_close": bad[:10], "not_close_count": len(bad)}


def _run_batch(path: Path, pysd_frame, exact: bool = False) -> dict:
    import numpy as np

    from sdlib.core.errors import TokenworldError

    started = time.perf_counter()
    try:
        from sdlib.core.spec import load_spec
        from sdlib.engine import compile_spec

        compiled = compile_spec(load_spec(path), data_files=data_files(path.parent) or None, exact=exact)
        compiled_at = time.perf_counter()
        frame = compiled.run().to_frame(0)
    except TokenworldError as exc:
        return {"status": "refused", "error": str(exc)[:300]}
    except Exception as exc:  # a crash is what this bench counts
        return {"status": "crashed", "error": _first_line(exc), "where": traceback.format_exc(limit=-3)[-600:]}
    result = {"seconds_compile": round(compiled_at - started, 3),
              "seconds_run": round(time.perf_counter() - compiled_at, 4)}
    if pysd_frame is None:
        return {"status": "ran (PySD did not)", **result}
    times = np.asarray(pysd_frame.index, dtype=float)
    if len(frame.index) != len(times) or not np.allclose(np.asarray(frame.index, dtype=float), times,
                                                          rtol=0, atol=1e-9):
        return {"status": "wrong", "error": f"time grid differs: {len(frame.index)} rows, PySD {len(times)}", **result}
    missing, different, worst = [], [], 0.0
    for column in pysd_frame.columns:
        if _control(column):
            continue
        if column not in frame.columns:
            missing.append(column)
            continue
        theirs = _numeric(pysd_frame[column])
        ours = np.asarray(frame[column], dtype=float)
        finite = theirs[np.isfinite(theirs)]
        atol = RTOL * (finite.max() - finite.min()) if finite.size else 0.0
        gap = np.abs(ours - theirs)
        same = (gap <= atol + RTOL * np.abs(theirs)) | (np.isnan(ours) & np.isnan(theirs)) | (ours == theirs)
        if not same.all():
            different.append(column)
        scale = np.maximum(np.abs(theirs), atol / RTOL if atol else 0)
        with np.errstate(all="ignore"):
            rel = np.where(same, 0.0, gap / np.where(scale > 0, scale, 1.0))
        worst = max(worst, float(np.nanmax(rel, initial=0.0)) if np.isfinite(rel).any() else float("inf"))
    status = "equal" if not missing and not different else ("random" if compiled.uses_random else "wrong")
    out = {"status": status, **result, "max_relative_gap": worst}
    if missing:
        out["missing_columns"] = missing[:10]
        out["missing_count"] = len(missing)
    if different:
        out["different_columns"] = different[:10]
        out["different_count"] = len(different)
    return out


# --- workers --------------------------------------------------------------------------------------

def _serve(conn, exact: bool):
    while True:
        path = conn.recv()
        if path is None:
            return
        try:
            conn.send(measure(path, exact))
        except Exception as exc:
            conn.send({"model": path, "batch": {"status": "crashed", "error": _first_line(exc)}})


class Worker:
    """A process that measures models one at a time; replaced when it dies or overruns."""

    def __init__(self, exact: bool = False):
        self.exact = exact
        self._start()

    def _start(self):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, self.exact), daemon=True)
        self.proc.start()

    def measure(self, path: str, timeout: float) -> dict:
        self.conn.send(path)
        if self.conn.poll(timeout):
            try:
                return self.conn.recv()
            except EOFError:
                reason = f"worker died (exit code {self.proc.exitcode})"
        else:
            reason = f"timeout after {timeout:g} s"
        self.proc.kill()
        self.proc.join()
        self._start()
        return {"model": path, "batch": {"status": "crashed", "error": reason}}

    def close(self):
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()


def summarize(records: list[dict]) -> dict:
    pysd_ok = [r for r in records if r.get("pysd", {}).get("status") == "ok"]
    batch = [r["batch"]["status"] for r in pysd_ok]
    count = {s: batch.count(s) for s in ("equal", "wrong", "random", "refused", "crashed")}
    canonical = [r.get("canonical", {}).get("status") for r in pysd_ok]
    return {
        "models": len(records),
        "pysd_runs": len(pysd_ok),
        "pysd_fails": len(records) - len(pysd_ok),
        "pysd_vs_canonical": {s: canonical.count(s) for s in sorted(set(canonical), key=str)},
        "batch_vs_pysd": count,
        "batch_equal_share_of_pysd_runs": round(count["equal"] / len(pysd_ok), 4) if pysd_ok else None,
        "batch_crashes_where_pysd_fails": sum(1 for r in records if r not in pysd_ok
                                              and r.get("batch", {}).get("status") == "crashed"),
        "tolerance": {"rtol": RTOL, "atol": "1e-9 x the column's range in PySD"},
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--only", default="", help="only models whose path contains this text")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per model (PySD and batch)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--exact", action="store_true", help="the batch engine's exact mode (numpy's EXP, LN, ...)")
    parser.add_argument("--details", action="store_true", help="print every model's record (default: summary "
                        "and the models that are not equal)")
    args = parser.parse_args(argv)
    paths = []
    for folder in args.folders:
        if not folder.is_dir():
            parser.error(f"{folder}: not a folder")
        paths += sorted(str(p) for p in folder.rglob("*.mdl") if args.only in str(p))
    records: list[dict] = [None] * len(paths)
    queue = list(enumerate(paths))
    lock = threading.Lock()
    started = time.perf_counter()

    def drain():
        worker = Worker(args.exact)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    i, path = queue.pop(0)
                record = worker.measure(path, args.timeout)
                with lock:
                    records[i] = record
                    done = sum(r is not None for r in records)
                    status = record.get("batch", {}).get("status")
                    print(f"[{done}/{len(paths)} {time.perf_counter() - started:.0f}s] "
                          f"pysd {record.get('pysd', {}).get('status')}, batch {status}: {path}", file=sys.stderr)
        finally:
            worker.close()

    threads = [threading.Thread(target=drain) for _ in range(max(1, args.jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = {"summary": summarize(records), "seconds": round(time.perf_counter() - started, 1)}
    report["models"] = records if args.details else [
        r for r in records if r.get("pysd", {}).get("status") != "ok" or r["batch"]["status"] != "equal"]
    print(json.dumps(report, indent=2, default=str))
    return report


if __name__ == "__main__":
    main()
