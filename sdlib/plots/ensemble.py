"""Ensemble pictures: fan charts of outcomes over time, bar charts of sensitivity indices."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .run import set_log_scale, wants_log


def fan_chart(dataset: xr.Dataset, outcome: str) -> Figure:
    """Median and 50% / 90% bands over the runs that did not diverge, at each time; the subtitle
    says what was varied and how."""
    values = dataset[outcome].to_numpy()
    time = dataset["time"].to_numpy()
    with np.errstate(all="ignore"):
        bands = np.nanpercentile(values, [5, 25, 50, 75, 95], axis=0)
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.13, right=0.97, top=0.78, bottom=0.12)
    ax.fill_between(time, bands[0], bands[4], alpha=0.2, color="tab:blue", label="5-95%")
    ax.fill_between(time, bands[1], bands[3], alpha=0.4, color="tab:blue", label="25-75%")
    ax.plot(time, bands[2], color="tab:blue", lw=2, label="median")
    finite = bands[np.isfinite(bands)]
    if finite.size and wants_log(finite) and finite.max() < 1e200:
        set_log_scale(ax)
    runs = values.shape[0]
    diverged = int((dataset["status"] != "ok").sum())
    attrs = dataset.attrs
    fig.suptitle(f"{outcome} — {attrs.get('scenario', '')}, {runs} runs ({attrs.get('method', '')})"
                 + (f", {diverged} diverged" if diverged else ""), fontsize=11, y=0.97)
    varied = json.loads(attrs.get("varied", "[]"))
    if varied:
        text = "varied uniformly: " + "; ".join(f"{v['name']} {v['low']:g}-{v['high']:g}" for v in varied)
        ax.set_title("\n".join(textwrap.wrap(text, 100)[:3]), fontsize=7.5, loc="left", color="#444444")
    ax.set_xlabel("Year")
    ax.set_ylabel(str(dataset[outcome].attrs.get("units", "")))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def indices_figure(indices: dict, method: str, year: float) -> Figure:
    """One panel per outcome: S1 and ST with their 95% confidence intervals (Sobol) or mu* with
    its interval (Morris) for each parameter."""
    outcomes = [o for o, v in indices.items() if "error" not in v]
    if not outcomes:
        fig = Figure(figsize=(6, 2))
        ax = fig.subplots()
        ax.text(0.5, 0.5, "no indices: runs diverged", ha="center")
        ax.axis("off")
        return fig
    rows = max(len(indices[outcomes[0]]), 1)
    fig = Figure(figsize=(8.5, (0.3 * rows + 1.4) * len(outcomes) + 0.6), layout="constrained")
    axes = fig.subplots(len(outcomes), 1, squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        names = list(indices[outcome])
        y = np.arange(len(names))
        entry = indices[outcome]
        if method == "sobol":
            ax.barh(y - 0.2, [entry[n]["S1"] for n in names], height=0.4, xerr=[entry[n]["S1_conf"] for n in names],
                    capsize=2, label="S1 (first order)", error_kw={"lw": 0.8})
            ax.barh(y + 0.2, [entry[n]["ST"] for n in names], height=0.4, xerr=[entry[n]["ST_conf"] for n in names],
                    capsize=2, label="ST (total)", error_kw={"lw": 0.8})
            ax.set_xlabel("Sobol index (bars: 95% confidence interval)")
        else:
            ax.barh(y, [entry[n]["mu_star"] for n in names], xerr=[entry[n]["mu_star_conf"] for n in names],
                    capsize=2, label="mu*", error_kw={"lw": 0.8})
            ax.set_xlabel("Morris mu* (bars: 95% confidence interval)")
        ax.set_yticks(y)
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(outcome, fontsize=10)
        ax.grid(True, axis="x", alpha=0.3)
    axes.flat[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Sensitivity at {year:g}", fontsize=12)
    return fig
