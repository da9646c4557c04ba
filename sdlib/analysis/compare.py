"""Runs side by side: each indicator over time, its difference from the first run (the
reference), and the table at chosen years with the differences above a threshold marked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..core.errors import BadInput


def unique_labels(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    found = []
    for label in labels:
        n = seen.get(label, 0)
        seen[label] = n + 1
        found.append(f"{label} ({n + 1})" if n else label)
    return found


def compare_runs(runs: list[tuple[str, str, xr.Dataset]], indicators: list[str], years: list[float],
                 threshold: float) -> xr.Dataset:
    """(label, source, one-run Dataset) items -> the comparison Dataset (see `sdlib.compare`)."""
    if len(runs) < 2:
        raise BadInput("runs: give at least two runs or scenarios to compare", "runs")
    if not threshold > 0:
        raise BadInput(f"threshold: {threshold:g} is not positive (expected e.g. 0.05 for 5%)", "threshold")
    labels = unique_labels([label for label, _, _ in runs])
    common = set.intersection(*(set(data.data_vars) for _, _, data in runs))
    missing = [n for n in indicators if n not in common]
    if missing:
        raise BadInput(f"indicators: {', '.join(missing)} not in every run", "indicators")
    time = runs[0][2]["time"].to_numpy()
    values = np.full((len(indicators), len(runs), len(time)), np.nan)
    for r, (_, _, data) in enumerate(runs):
        for i, name in enumerate(indicators):
            series = data[name].isel(run=0)
            values[i, r] = np.interp(time, series["time"].to_numpy(), series.to_numpy(), left=np.nan, right=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = (values - values[:, :1]) / np.abs(values[:, :1])
    relative[~np.isfinite(relative)] = np.nan
    at = np.full((len(indicators), len(runs), len(years)), np.nan)
    for k, year in enumerate(years):
        if time[0] <= year <= time[-1]:
            at[:, :, k] = [[np.interp(year, time, row) for row in block] for block in values]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_at = (at - at[:, :1]) / np.abs(at[:, :1])
    relative_at[~np.isfinite(relative_at)] = np.nan
    marked = np.abs(np.nan_to_num(relative_at)) > threshold
    units = [str(runs[0][2][name].attrs.get("units", "")) for name in indicators]
    return xr.Dataset(
        {
            "value": (("indicator", "run", "time"), values),
            "relative_difference": (("indicator", "run", "time"), relative,
                                    {"doc": f"(run - {labels[0]}) / |{labels[0]}|"}),
            "value_at": (("indicator", "run", "year"), at),
            "relative_at": (("indicator", "run", "year"), relative_at),
            "marked": (("indicator", "run", "year"), marked,
                       {"doc": f"relative difference from {labels[0]} above {threshold:g}"}),
        },
        coords={"indicator": indicators, "run": labels, "time": time, "year": years,
                "units": ("indicator", units), "source": ("run", [source for _, source, _ in runs])},
        attrs={"reference": labels[0], "threshold": threshold},
    )


def table(dataset: xr.Dataset) -> pd.DataFrame:
    """Long table: indicator, year, run, value, difference and relative difference from the reference."""
    rows = []
    for indicator in dataset["indicator"].to_numpy():
        for year in dataset["year"].to_numpy():
            ref = float(dataset["value_at"].sel(indicator=indicator, year=year).isel(run=0))
            for r, run in enumerate(dataset["run"].to_numpy()):
                cell = dataset.sel(indicator=indicator, year=year).isel(run=r)
                value = float(cell["value_at"])
                rows.append({"indicator": str(indicator), "year": float(year), "run": str(run), "value": value,
                             "difference": value - ref if r else 0.0,
                             "relative_difference": float(cell["relative_at"]) if r else 0.0,
                             "marked": bool(cell["marked"])})
    return pd.DataFrame(rows)


def markdown_table(dataset: xr.Dataset) -> str:
    """A human-readable wide table; differences from the reference in brackets, marked ones in bold."""
    labels = [str(r) for r in dataset["run"].to_numpy()]
    reference = labels[0]
    lines = [f"Differences are relative to **{reference}**; those above "
             f"{100 * dataset.attrs['threshold']:g}% are in bold.", "",
             "| indicator | year | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
    rows = table(dataset)
    for (name, year), group in rows.groupby(["indicator", "year"], sort=False):
        cells = []
        for label in labels:
            row = group[group["run"] == label].iloc[0]
            text = f"{row['value']:.4g}"
            if label != reference and np.isfinite(row["relative_difference"]):
                pct = f"{100 * row['relative_difference']:+.1f}%"
                text += f" (**{pct}**)" if row["marked"] else f" ({pct})"
            cells.append(text)
        lines.append(f"| {name} | {year:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
