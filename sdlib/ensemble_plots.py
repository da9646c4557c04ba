"""Ensemble pictures: fan charts of outcomes over time, bar charts of sensitivity indices."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from .plots import set_log_scale, wants_log  # noqa: E402


def fan_chart(dataset: xr.Dataset, outcome: str, units: str, scenario: str):
    """Median and 50% / 90% bands over the runs that did not diverge, at each time."""
    values = dataset[outcome].to_numpy()
    time = dataset["time"].to_numpy()
    with np.errstate(all="ignore"):
        bands = np.nanpercentile(values, [5, 25, 50, 75, 95], axis=0)
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    fig.subplots_adjust(left=0.13, right=0.97, top=0.9, bottom=0.12)
    ax.fill_between(time, bands[0], bands[4], alpha=0.2, color="tab:blue", label="5-95%")
    ax.fill_between(time, bands[1], bands[3], alpha=0.4, color="tab:blue", label="25-75%")
    ax.plot(time, bands[2], color="tab:blue", lw=2, label="median")
    finite = bands[np.isfinite(bands)]
    if finite.size and wants_log(finite) and finite.max() < 1e200:
        set_log_scale(ax)
    runs = values.shape[0]
    diverged = int((dataset["status"] != "ok").sum())
    ax.set_title(f"{outcome} — {scenario}, {runs} runs" + (f" ({diverged} diverged)" if diverged else ""), fontsize=11)
    ax.set_xlabel("Year")
    ax.set_ylabel(units)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def indices_figure(indices: dict, method: str, year: float):
    """One panel per outcome: S1 and ST (Sobol) or mu* (Morris) for each parameter."""
    outcomes = [o for o, v in indices.items() if "error" not in v]
    if not outcomes:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, "no indices: runs diverged", ha="center")
        ax.axis("off")
        return fig
    rows = max(len(next(iter(indices[o] for o in outcomes))), 1)
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(8, (0.28 * rows + 1.2) * len(outcomes)), squeeze=False)
    fig.subplots_adjust(left=0.36, right=0.97, top=0.93, bottom=0.06, hspace=0.5)
    for ax, outcome in zip(axes.flat, outcomes):
        names = list(indices[outcome])
        y = np.arange(len(names))
        if method == "sobol":
            s1 = [indices[outcome][n]["S1"] for n in names]
            st = [indices[outcome][n]["ST"] for n in names]
            ax.barh(y - 0.2, s1, height=0.4, label="S1 (first order)")
            ax.barh(y + 0.2, st, height=0.4, label="ST (total)")
            ax.set_xlabel("Sobol index")
        else:
            ax.barh(y, [indices[outcome][n]["mu_star"] for n in names], label="mu*")
            ax.set_xlabel("Morris mu*")
        ax.set_yticks(y)
        ax.set_yticklabels(names, fontsize=8)
        ax.set_title(outcome, fontsize=10)
        ax.grid(True, axis="x", alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"Sensitivity at {year:g}", fontsize=12)
    return fig
