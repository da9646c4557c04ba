"""`tokenworld compare`: runs side by side, in a table and in pictures, with the differences that matter marked.

Each argument is a run folder (with `timeseries.csv` and `manifest.json`), a scenario name, or a
scenario file; scenarios are run on the spot. The first is the reference: every other run's value
at each chosen year is shown with its difference from the reference, and marked when the relative
difference exceeds the threshold (5% unless told).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .errors import BadInput  # noqa: E402
from .plots import HEADLINE, file_name, set_log_scale, wants_log  # noqa: E402
from .rundir import atomic_dir, check_target, provenance, write_json  # noqa: E402


@dataclass
class Compared:
    label: str
    source: str
    frame: pd.DataFrame


def load_run(item: str) -> Compared:
    """A run folder as written by `tokenworld run`, or a scenario simulated now."""
    path = Path(item)
    if path.is_dir():
        if not (path / "timeseries.csv").is_file() or not (path / "manifest.json").is_file():
            raise BadInput(f"{item}: not a run folder (expected timeseries.csv and manifest.json in it)")
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        frame = pd.read_csv(path / "timeseries.csv", index_col=0)
        return Compared(label=manifest.get("scenario", path.name), source=str(path), frame=frame)
    from .runner import run_scenario

    result = run_scenario(item)
    return Compared(label=Path(item).stem, source=f"scenario {item}", frame=result.frame)


def unique_labels(runs: list[Compared]) -> None:
    seen: dict[str, int] = {}
    for run in runs:
        n = seen.get(run.label, 0)
        seen[run.label] = n + 1
        if n:
            run.label = f"{run.label} ({n + 1})"


def comparison_table(runs: list[Compared], indicators: list[str], years: list[float], threshold: float) -> pd.DataFrame:
    """Long table: indicator, year, run, value, and its difference from the first run."""
    rows = []
    reference = runs[0]
    for name in indicators:
        for year in years:
            ref = _value_at(reference.frame, name, year)
            for run in runs:
                value = _value_at(run.frame, name, year)
                diff = value - ref
                rel = diff / abs(ref) if ref not in (0, None) and np.isfinite(ref) and ref != 0 else np.nan
                rows.append({
                    "indicator": name, "year": year, "run": run.label, "value": value,
                    "difference": diff if run is not reference else 0.0,
                    "relative_difference": rel if run is not reference else 0.0,
                    "marked": bool(run is not reference and np.isfinite(rel) and abs(rel) > threshold),
                })
    return pd.DataFrame(rows)


def _value_at(frame: pd.DataFrame, name: str, year: float) -> float:
    if name not in frame.columns or year < frame.index[0] or year > frame.index[-1]:
        return np.nan
    return float(np.interp(year, frame.index.to_numpy(dtype=float), frame[name].to_numpy(dtype=float)))


def markdown_table(table: pd.DataFrame, runs: list[Compared]) -> str:
    """A human-readable wide table; marked differences in bold with their percentage."""
    labels = [r.label for r in runs]
    lines = ["| indicator | year | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
    for (name, year), group in table.groupby(["indicator", "year"], sort=False):
        cells = []
        for label in labels:
            row = group[group["run"] == label].iloc[0]
            text = f"{row['value']:.4g}"
            if label != labels[0] and np.isfinite(row["relative_difference"]):
                pct = f"{100 * row['relative_difference']:+.1f}%"
                text += f" (**{pct}**)" if row["marked"] else f" ({pct})"
            cells.append(text)
        lines.append(f"| {name} | {year:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def overlay_figure(runs: list[Compared], name: str, units: str, years: list[float], table: pd.DataFrame):
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    fig.subplots_adjust(left=0.13, right=0.97, top=0.9, bottom=0.12)
    values = []
    for run in runs:
        if name in run.frame.columns:
            series = run.frame[name]
            ax.plot(series.index, series.to_numpy(), lw=2, label=run.label)
            values.append(series.to_numpy(dtype=float))
    if values:
        joined = np.concatenate(values)
        if wants_log(joined) and np.nanmax(joined) < 1e200:
            set_log_scale(ax)
    marked = table[(table["indicator"] == name) & table["marked"]]
    for _, row in marked.iterrows():
        ax.plot([row["year"]], [row["value"]], "o", ms=9, mfc="none", mec="red", mew=2)
        ax.annotate(f"{100 * row['relative_difference']:+.0f}%", (row["year"], row["value"]), xytext=(5, 5),
                    textcoords="offset points", color="red", fontsize=8)
    for year in years:
        ax.axvline(year, color="grey", lw=0.6, ls=":")
    ax.set_title(f"{name}" + (" — red: differs from the first run by more than the threshold" if len(marked) else ""),
                 fontsize=10)
    ax.set_xlabel("Year")
    ax.set_ylabel(units)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def compare(items: list[str], out: Path, years: list[float], threshold: float = 0.05,
            indicators: list[str] | None = None) -> Path:
    """Write a comparison folder: comparison.csv, comparison.md, plots/ and manifest.json."""
    if len(items) < 2:
        raise BadInput("compare: give at least two runs or scenarios")
    check_target(out)
    runs = [load_run(item) for item in items]
    unique_labels(runs)
    columns = set.intersection(*(set(r.frame.columns) for r in runs))
    indicators = indicators or [n for n in HEADLINE if n in columns]
    missing = [n for n in indicators if n not in columns]
    if missing:
        raise BadInput(f"compare: indicator(s) {', '.join(missing)} not in every run")
    table = comparison_table(runs, indicators, years, threshold)
    units = _units()
    with atomic_dir(out) as tmp:
        table.to_csv(tmp / "comparison.csv", index=False, float_format="%.17g")
        (tmp / "comparison.md").write_text(markdown_table(table, runs), encoding="utf-8")
        (tmp / "plots").mkdir()
        for name in indicators:
            fig = overlay_figure(runs, name, units.get(name, ""), years, table)
            fig.savefig(tmp / "plots" / file_name(name), dpi=100)
            plt.close(fig)
        write_json({"runs": [{"label": r.label, "source": r.source} for r in runs], "years": years,
                    "threshold": threshold, "indicators": indicators,
                    "marked": int(table["marked"].sum()), **provenance()}, tmp / "manifest.json")
    return out


def _units() -> dict[str, str]:
    from .modelspec import load_spec
    from .paths import DEFAULT_MODEL

    return {el.name: el.units for el in load_spec(DEFAULT_MODEL).elements.values()}


def add_compare_parser(sub) -> None:
    p = sub.add_parser("compare", help="compare runs or scenarios side by side")
    p.add_argument("runs", nargs="+", help="run folders or scenario names; the first is the reference")
    p.add_argument("--out", required=True, metavar="DIR", help="comparison folder to create")
    p.add_argument("--years", default="2030,2050,2100", help="years for the table (comma-separated)")
    p.add_argument("--threshold", type=float, default=0.05, help="relative difference that is marked (0.05 = 5%%)")
    p.add_argument("--indicator", action="append", default=None, metavar="NAME", help="indicator to compare; repeatable")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args) -> int:
    try:
        years = [float(y) for y in args.years.split(",") if y.strip()]
    except ValueError:
        raise BadInput(f"--years {args.years!r}: expected years separated by commas, e.g. 2030,2050,2100") from None
    folder = compare(args.runs, Path(args.out), years, args.threshold, args.indicator)
    table = pd.read_csv(folder / "comparison.csv")
    print(f"{int(table['marked'].sum())} differences above {100 * args.threshold:g}% marked")
    print(f"comparison folder: {folder}")
    return 0
