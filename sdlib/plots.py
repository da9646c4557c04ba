"""Pictures of a run: one PNG per headline indicator, each readable on its own, plus an overview.

Every figure carries the indicator's name, its units (from the `.mdl`), the scenario, and a
log scale when the series spans more than two orders of magnitude.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import LogLocator, NullLocator  # noqa: E402
import pandas as pd  # noqa: E402

# Headline indicators of Tokenworld, by sector (names contract, DESIGN.md section 5).
HEADLINE = [
    "Output per developer",
    "Software output",
    "Computing capital",
    "Developers",
    "Token augmentation factor",
    "Token use",
    "Token demand",
    "Token supply capacity",
    "Token price",
    "Efficiency knowledge",
    "Elasticity of substitution",
    "Labor share",
    "Wage",
    "Compute capacity",
    "Energy per token",
    "AI electricity use",
    "Tokens per person per day",
    "Questions per person per day",
    "Data centre copper demand",
    "Copper reserves",
    "Copper price",
    "Public token share",
]


# One figure per sector: panels of related variables, so the analyst sees a sector at a glance.
SECTOR_FIGURES = {
    "production": [
        ("Output per developer", ["Output per developer", "Wage"]),
        ("Token augmentation", ["Token augmentation factor", "Efficiency knowledge"]),
        ("Shares", ["Labor share", "Elasticity of substitution"]),
    ],
    "demand": [
        ("Token demand by source", ["Developer token demand", "Human token demand", "Agent token demand"]),
        ("Demand and use", ["Token demand", "Token use", "Token supply capacity"]),
        ("Adoption", ["Agent autonomy", "Price acceptance", "Token fill rate"]),
    ],
    "price": [
        ("Token price and its cost floor", ["Token price", "Token cost floor", "Energy cost per Mtoken"]),
        ("Markup and scarcity", ["Markup", "Demand capacity ratio"]),
        ("Revenue and subsidy", ["Token revenue", "Token subsidy fiscal cost"]),
    ],
    "compute": [
        ("Installed and ordered compute", ["Compute capacity", "Compute under construction"]),
        ("Orders and their limits", ["Desired compute orders", "Capex limited compute orders",
                                     "Power limited compute orders", "compute orders"]),
        ("Use of compute", ["Token serving share"]),
    ],
    "hardware": [
        ("Energy per token", ["Energy per token", "Landauer floor energy per token"]),
        ("Efficiency indices (log)", ["Log hardware energy efficiency", "Log algorithmic efficiency",
                                      "Log compute price performance"]),
        ("Cost of an H100e", ["New compute cost per H100e", "Chip cost per H100e", "Facility cost per H100e"]),
    ],
    "energy": [
        ("AI electricity by use", ["AI electricity use", "Inference electricity", "Idle serving electricity",
                                   "Other AI compute electricity"]),
        ("Data centres", ["Data centre electricity", "Conventional data centre electricity"]),
        ("Power for AI", ["AI data centre power capacity", "AI power under construction", "Installed compute power"]),
        ("Electricity price", ["Electricity price"]),
    ],
    "copper": [
        ("Reserves and resources", ["Copper reserves", "Copper resources"]),
        ("Supply and demand", ["Copper demand", "Refined copper supply", "primary copper production",
                               "Recycled copper supply"]),
        ("Data centres", ["Data centre copper demand"]),
        ("Price and cost", ["Copper price", "Copper production cost"]),
    ],
    "questions": [
        ("Tokens per person per day", ["Tokens per person per day"]),
        ("Questions per person per day", ["Questions per person per day", "Public questions per person per day"]),
        ("Public allocation", ["Public token share"]),
    ],
}


def sector_figure(frame: pd.DataFrame, sector: str, panels, units: dict[str, str], scenario: str):
    """A figure of a sector's panels; None when the run has none of its variables."""
    panels = [(title, [n for n in names if n in frame.columns]) for title, names in panels]
    panels = [(title, names) for title, names in panels if names]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0), squeeze=False)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.85, bottom=0.13, wspace=0.28)
    for ax, (title, names) in zip(axes.flat, panels):
        values = np.concatenate([frame[n].to_numpy(dtype=float) for n in names])
        log = wants_log(values[values > 0]) and (values >= 0).all() and (values > 0).any()
        for name in names:
            series = frame[name].where(frame[name] > 0) if log else frame[name]
            ax.plot(frame.index, series, lw=2, label=name)
        if log and np.nanmax(values) < 1e200:
            set_log_scale(ax)
        panel_units = {units.get(n, "") for n in names}
        ax.set_ylabel(panel_units.pop() if len(panel_units) == 1 else "")
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("Year")
        ax.grid(True, alpha=0.3)
        if len(names) > 1:
            ax.legend(fontsize=8)
    fig.suptitle(f"{sector.capitalize()} — {scenario}", fontsize=13)
    return fig


def file_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".png"


def set_log_scale(ax) -> None:
    """Log y-axis with a few major ticks: minor ticks over tens of decades make drawing very slow."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, numticks=7))
    ax.yaxis.set_minor_locator(NullLocator())


def wants_log(values: np.ndarray) -> bool:
    values = values[np.isfinite(values)]
    return values.size > 1 and values.min() > 0 and values.max() / values.min() > 100


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


def indicator_figure(frame: pd.DataFrame, name: str, units: str, scenario: str, diverged_at=None):
    fig, ax = plt.subplots(figsize=(7, 4.2))
    fig.subplots_adjust(left=0.14, right=0.96, top=0.9, bottom=0.13)
    plot_series(ax, frame, name, units)
    ax.set_title(f"{name} — {scenario}", fontsize=12)
    last = frame[name].iloc[-1]
    ax.annotate(
        f"{frame.index[-1]:g}: {last:.3g}",
        xy=(frame.index[-1], last),
        xytext=(-8, 8),
        textcoords="offset points",
        ha="right",
        fontsize=9,
    )
    if diverged_at is not None:
        ax.axvline(diverged_at, color="red", ls="--", lw=1)
        ax.text(diverged_at, 0.02, f" diverged at {diverged_at:g}", color="red", transform=ax.get_xaxis_transform(), fontsize=9)
    return fig


def plot_run(frame: pd.DataFrame, units: dict[str, str], out_dir: Path, scenario: str,
             names: list[str] | None = None, diverged_at=None) -> list[Path]:
    """Write one PNG per indicator and an overview grid; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [n for n in (names or HEADLINE) if n in frame.columns]
    written = []
    if frame.empty:
        return written
    for name in names:
        fig = indicator_figure(frame, name, units.get(name, ""), scenario, diverged_at)
        path = out_dir / file_name(name)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    if names:
        written.append(overview_figure(frame, names, units, scenario, out_dir / "overview.png"))
    for sector, panels in SECTOR_FIGURES.items():
        fig = sector_figure(frame, sector, panels, units, scenario)
        if fig is not None:
            path = out_dir / f"sector-{sector}.png"
            fig.savefig(path, dpi=90)
            plt.close(fig)
            written.append(path)
    return written


def overview_figure(frame, names, units, scenario, path: Path) -> Path:
    cols = 3
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.0 * rows), squeeze=False)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.94, bottom=0.04, hspace=0.35, wspace=0.25)
    for ax, name in zip(axes.flat, names):
        plot_series(ax, frame, name, units.get(name, ""))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(f"Tokenworld — {scenario}", fontsize=14)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
