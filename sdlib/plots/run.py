"""Pictures of a run: one PNG per headline indicator, an overview, and one figure per sector.

Every figure carries the indicator's name, its units (from the `.mdl`), the scenario, and a log
scale when the series spans more than two orders of magnitude. What is drawn comes from the
model's display file (`<model>-display.toml`). A series that stays constant in the run is said in
words, not drawn as a flat line.

Figures are `matplotlib.figure.Figure` objects, made without pyplot: drawing never touches the
caller's matplotlib backend.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullLocator

from ..core.display import Display, Panel
from ..core.rundir import timeseries_frame


def file_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".png"


def set_log_scale(ax) -> None:
    """Log y-axis with a few major ticks: minor ticks over tens of decades make drawing very slow."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, numticks=7))
    ax.yaxis.set_minor_locator(NullLocator())


def wants_log(values: np.ndarray) -> bool:
    values = values[np.isfinite(values)]
    return bool(values.size > 1 and values.min() > 0 and values.max() / values.min() > 100)


def is_constant(values: np.ndarray) -> bool:
    values = values[np.isfinite(values)]
    return bool(values.size == 0 or np.all(values == values[0]))


def say_constant(ax, name: str, value: float, units: str) -> None:
    ax.text(0.5, 0.5, f"{name}\nconstant at {value:.4g} {units}".rstrip(), ha="center", va="center",
            transform=ax.transAxes, fontsize=10, color="#444444")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_series(ax, frame: pd.DataFrame, name: str, units: str, label: str | None = None) -> None:
    series = frame[name]
    values = series.to_numpy(dtype=float)
    if wants_log(values) and np.nanmax(values) > 1e200:
        # matplotlib's log axis overflows near 1e300 (a diverging run): plot the exponent instead.
        ax.plot(series.index, np.log10(values), lw=2, label=label)
        ax.set_ylabel(f"log10 of {units or 'value'}")
    else:
        ax.plot(series.index, values, lw=2, label=label)
        if wants_log(values):
            set_log_scale(ax)
        ax.set_ylabel(units or "")
    ax.set_xlabel("Year")
    ax.grid(True, alpha=0.3)


def indicator_figure(frame: pd.DataFrame, name: str, units: str, scenario: str, diverged_at=None) -> Figure:
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.14, right=0.96, top=0.9, bottom=0.13)
    last = frame[name].iloc[-1]
    plot_series(ax, frame, name, units, label=f"{frame.index[-1]:g}: {last:.3g}")
    ax.legend(loc="best", fontsize=9, handlelength=1.2)  # the final value, where it hides nothing
    ax.set_title(f"{name} — {scenario}", fontsize=12)
    if diverged_at is not None:
        ax.axvline(diverged_at, color="red", ls="--", lw=1)
        ax.text(diverged_at, 0.02, f" diverged at {diverged_at:g}", color="red", transform=ax.get_xaxis_transform(),
                fontsize=9)
    return fig


def plot_run(dataset: xr.Dataset, display: Display, out_dir: Path) -> list[Path]:
    """Write one PNG per headline indicator that moves, an overview and the sector figures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = timeseries_frame(dataset)
    if frame.empty:
        return []
    scenario = str(dataset.attrs.get("scenario", ""))
    diverged_at = dataset.attrs.get("diverged_at")
    units = {name: str(dataset[name].attrs.get("units", "")) for name in dataset.data_vars}
    names = [n for n in display.headline if n in frame.columns]
    written = []
    for name in names:
        if is_constant(frame[name].to_numpy(dtype=float)):
            continue
        path = out_dir / file_name(name)
        indicator_figure(frame, name, units[name], scenario, diverged_at).savefig(path, dpi=110)
        written.append(path)
    if names:
        path = out_dir / "overview.png"
        overview_figure(frame, names, units, scenario).savefig(path, dpi=90)
        written.append(path)
    for sector, panels in display.sectors.items():
        fig = sector_figure(frame, sector, panels, units, scenario)
        if fig is not None:
            path = out_dir / f"sector-{sector}.png"
            fig.savefig(path, dpi=90)
            written.append(path)
    return written


def overview_figure(frame: pd.DataFrame, names: list[str], units: dict, scenario: str) -> Figure:
    cols = 3
    rows = int(np.ceil(len(names) / cols))
    fig = Figure(figsize=(5.2 * cols, 3.0 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    fig.subplots_adjust(left=0.06, right=0.98, top=1 - 1.2 / (3.0 * rows), bottom=0.04, hspace=0.4, wspace=0.25)
    for ax, name in zip(axes.flat, names, strict=False):
        values = frame[name].to_numpy(dtype=float)
        if is_constant(values):
            say_constant(ax, name, values[0], units.get(name, ""))
            continue
        plot_series(ax, frame, name, units.get(name, ""))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(f"Headline indicators — {scenario}", fontsize=14)
    return fig


def sector_figure(frame: pd.DataFrame, sector: str, panels: list[Panel], units: dict, scenario: str):
    """A figure of a sector's panels; None when none of its variables moves in this run."""
    shown = []
    for panel in panels:
        names = [n for n in panel.variables if n in frame.columns]
        if any(not is_constant(frame[n].to_numpy(dtype=float)) for n in names):
            shown.append((panel, names))
    if not shown:
        return None
    fig = Figure(figsize=(5.2 * len(shown), 4.2))
    axes = fig.subplots(1, len(shown), squeeze=False)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.82, bottom=0.13, wspace=0.3)
    for ax, (panel, names) in zip(axes.flat, shown, strict=False):
        values = np.concatenate([frame[n].to_numpy(dtype=float) for n in names])
        log = wants_log(values[values > 0]) and (values >= 0).all() and (values > 0).any()
        for name in names:
            series = frame[name].where(frame[name] > 0) if log else frame[name]
            ax.plot(frame.index, series, lw=2, label=name)
        if log and np.nanmax(values) < 1e200:
            set_log_scale(ax)
        panel_units = {units.get(n, "") for n in names}
        ax.set_ylabel(panel_units.pop() if len(panel_units) == 1 else "")
        ax.set_title(panel.title, fontsize=11)
        ax.set_xlabel("Year")
        ax.grid(True, alpha=0.3)
        if panel.floor and panel.floor in frame.columns:
            floor = frame[panel.floor].to_numpy(dtype=float)
            low, high = np.nanmin(floor), np.nanmax(floor)
            value = f"{low:.2g}" if low == high else f"{low:.2g} to {high:.2g}"
            ax.text(0.02, 0.03, f"{panel.floor}: {value} {units.get(panel.floor, '')} (far below: not drawn)",
                    transform=ax.transAxes, fontsize=7.5, color="#555555")
        if len(names) > 1:
            ax.legend(fontsize=8, loc="best")
    fig.suptitle(f"{sector.capitalize()} — {scenario}", fontsize=13)
    return fig
