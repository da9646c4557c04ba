"""Anchors: published figures a model must meet, held as data beside it (`<model>-anchors.csv`).

Each row names a model variable, a year, a low / central / high range in the variable's units and
the source of the figure. `sdlib.check` compares a run with each (kind "anchor": value, range, pass and
the distance outside the range in range widths); `sdlib.calibrate` reads the same file as data, with
sigma = (high - low) / 4 (a range read as a 95% interval of a normal error).

>>> anchors = load_anchors("models/tokenworld-anchors.csv", spec)     # doctest: +SKIP
>>> anchors_as_data(anchors)                                           # doctest: +SKIP
   variable  time  value  sigma  id
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import BadInput
from ..core.spec import ModelSpec
from .checks import CheckResult

COLUMNS = ("id", "variable", "year", "low", "central", "high", "unit", "source", "note")


@dataclass(frozen=True)
class Anchor:
    id: str
    variable: str  # the model's spelling
    year: float
    low: float
    central: float
    high: float
    unit: str
    source: str
    note: str = ""

    @property
    def sigma(self) -> float:
        """One standard deviation: the range read as a 95% interval (+-2 sigma)."""
        return (self.high - self.low) / 4


def anchors_path(spec: ModelSpec) -> Path:
    """Where a model's anchors live: `<model>-anchors.csv` beside the `.mdl`."""
    return spec.path.with_name(spec.path.stem + "-anchors.csv")


def read_table(path: Path) -> pd.DataFrame:
    """A CSV file (lines starting with # are comments) as strings, or a one-line error naming it."""
    try:
        return pd.read_csv(path, comment="#", dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found (expected a CSV file)") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise BadInput(f"{path}: not a readable CSV file ({str(exc).splitlines()[0]})") from None


def number(path: Path, line: int, column: str, text: str) -> float:
    """A finite number from a table cell, or a one-line error naming the file, line and column."""
    try:
        value = float(text)
    except ValueError:
        raise BadInput(f"{path.name} line {line}: '{column}' must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise BadInput(f"{path.name} line {line}: '{column}' must be a finite number, got {text!r}")
    return value


def data_lines(path: Path) -> list[int]:
    """The line number in the file of each data row (after comments and the header)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [i + 1 for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    return rows[1:]


def load_anchors(path: str | Path, spec: ModelSpec) -> list[Anchor]:
    """Read and check an anchor registry: every variable in the model with the registry's units,
    low <= central <= high, unique ids, a source for each."""
    path = Path(path)
    table = read_table(path)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise BadInput(f"{path.name}: missing column(s) {', '.join(missing)} (expected {', '.join(COLUMNS)})")
    anchors, seen = [], set()
    for line, row in zip(data_lines(path), table.to_dict("records"), strict=False):
        where = f"{path.name} line {line}"
        ident = row["id"].strip()
        if not ident or ident in seen:
            raise BadInput(f"{where}: id {ident!r} is empty or used twice")
        seen.add(ident)
        name = row["variable"].strip()
        if name not in spec:
            raise BadInput(f"{where}: no variable named {name!r} in {spec.path.name}")
        element = spec[name]
        low, central, high = (number(path, line, c, row[c]) for c in ("low", "central", "high"))
        if not low <= central <= high or low == high:
            raise BadInput(f"{where}: expected low <= central <= high with low < high, got {low:g}, {central:g}, {high:g}")
        if row["unit"].strip() != element.units:
            raise BadInput(f"{where}: unit {row['unit']!r} is not the units of {element.name!r} ({element.units})")
        if not row["source"].strip():
            raise BadInput(f"{where}: no source (every anchor cites where its figure comes from)")
        anchors.append(Anchor(ident, element.name, number(path, line, "year", row["year"]), low, central, high,
                              element.units, row["source"].strip(), row["note"].strip()))
    if not anchors:
        raise BadInput(f"{path.name}: no anchors")
    return anchors


def anchors_as_data(anchors: list[Anchor]) -> pd.DataFrame:
    """The anchors as calibration data: variable, time, value (central), sigma ((high - low) / 4), id, and
    the published range (low, high) for figures."""
    return pd.DataFrame({"variable": [a.variable for a in anchors], "time": [a.year for a in anchors],
                         "value": [a.central for a in anchors], "sigma": [a.sigma for a in anchors],
                         "id": [a.id for a in anchors], "low": [a.low for a in anchors],
                         "high": [a.high for a in anchors]})


def value_at(frame: pd.DataFrame, variable: str, year: float) -> float:
    """A variable of a run at a year, linearly interpolated between saved times (NaN outside them)."""
    times = frame.index.to_numpy(dtype=float)
    if not times[0] - 1e-9 <= year <= times[-1] + 1e-9:
        return math.nan
    return float(np.interp(year, times, frame[variable].to_numpy(dtype=float)))


def distance(value: float, low: float, high: float) -> float:
    """How far outside [low, high] a value lies, in range widths: 0 inside, negative below, positive above."""
    if not math.isfinite(value):
        return math.nan
    width = high - low
    return (value - high) / width if value > high else (value - low) / width if value < low else 0.0


def anchor_results(scenario: str, frame: pd.DataFrame | None, status: str, anchors: list[Anchor],
                   documented: dict | None = None) -> list[CheckResult]:
    """Each anchor on one run: its value, range, pass and distance; a documented miss says why."""
    documented = documented or {}
    results = []
    for a in anchors:
        value = value_at(frame, a.variable, a.year) if frame is not None and status == "ok" else math.nan
        passed = bool(a.low <= value <= a.high)
        detail = f"central {a.central:.4g}" + (f"; {a.note}" if a.note else "")
        if status != "ok":
            detail = f"the run did not finish (status {status})"
        reason = documented.get(a.id)
        if reason:
            detail = (f"documented miss: {reason}" if not passed else
                      f"passes, though documented as a miss ({reason}): remove the [[anchor_miss]]")
        results.append(CheckResult(a.id, "anchor", scenario, a.variable, a.year, value, a.low, a.high, passed,
                                   a.source, detail, distance=distance(value, a.low, a.high),
                                   documented=bool(reason) and not passed))
    return results
