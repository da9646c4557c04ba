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


def file_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".png"


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
            ax.set_yscale("log")
        ax.set_ylabel(units or "")
    ax.set_xlabel("Year")
    ax.grid(True, alpha=0.3)


def indicator_figure(frame: pd.DataFrame, name: str, units: str, scenario: str, diverged_at=None):
    fig, ax = plt.subplots(figsize=(7, 4.2))
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
    fig.tight_layout()
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
    return written


def overview_figure(frame, names, units, scenario, path: Path) -> Path:
    cols = 3
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.0 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        plot_series(ax, frame, name, units.get(name, ""))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("")
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(f"Tokenworld — {scenario}", fontsize=14)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
