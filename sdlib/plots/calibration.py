"""Calibration pictures: each data series with the model's best fit, median and 90% band; the
posterior's corner plot (every pair of parameters) and trace plot (every walker over the steps)."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .run import set_log_scale, wants_log


def fit_figure(dataset: xr.Dataset, variable: str) -> Figure:
    """One data series: the model's 90% band and median over the posterior, the best fit, and the data
    with error bars over their range (an anchor's low to high; value +- 2 sigma otherwise; held-out
    points hollow)."""
    report = json.loads(dataset.attrs["calibration"])
    units = json.loads(dataset.attrs["series_units"]).get(variable, "")
    row = dataset.sel(series=variable)
    points = [p for p in report["points"] if p["variable"] == variable]
    t_max = max(p["time"] for p in points)
    time = dataset["time"].to_numpy()
    keep = time <= max(t_max + 2, time[0] + 4)
    fig = Figure(figsize=(7.0, 4.4))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.13, right=0.97, top=0.86, bottom=0.12)
    ax.fill_between(time[keep], row["model_p5"].to_numpy()[keep], row["model_p95"].to_numpy()[keep], alpha=0.25,
                    color="tab:blue", label="model 90% band")
    ax.plot(time[keep], row["model_median"].to_numpy()[keep], color="tab:blue", lw=1.5, label="model median")
    ax.plot(time[keep], row["model_best"].to_numpy()[keep], color="tab:blue", lw=1, ls="--", label="best fit")
    for held, style in ((False, dict(fmt="o", color="black", label="data (range)")),
                        (True, dict(fmt="o", color="tab:red", mfc="white", label="held out (range)"))):
        sel = [p for p in points if p["held_out"] == held]
        if sel:
            below = [p["value"] - p["range"][0] for p in sel]
            above = [p["range"][1] - p["value"] for p in sel]
            ax.errorbar([p["time"] for p in sel], [p["value"] for p in sel], yerr=[below, above], capsize=3, ms=5,
                        **style)
    lows = [p["range"][0] for p in points]
    values = np.concatenate([row["model_p95"].to_numpy()[keep], [p["value"] for p in points]])
    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size and min(lows) > 0 and wants_log(finite):
        set_log_scale(ax)
    ax.set_xlabel("Year")
    ax.set_ylabel(units)
    ax.legend(fontsize=8, loc="best")
    chi2 = sum(p["z"] ** 2 for p in points if not p["held_out"])
    fig.suptitle(f"{variable}: model against data ({report['method']}, {report['scenario']})", fontsize=11, y=0.97)
    ax.set_title(f"{len(points)} points, chi2 {chi2:.3g} at the best fit (fitted points); band and median over "
                 "posterior draws", fontsize=8, loc="left", color="#444444")
    return fig


def _samples(dataset: xr.Dataset) -> tuple[np.ndarray, list[str], np.ndarray]:
    names = [v for v in dataset.data_vars if "vensim_name" in dataset[v].attrs]
    draws = np.stack([dataset[v].to_numpy().reshape(-1) for v in names], axis=1)
    report = json.loads(dataset.attrs["calibration"])
    labels = [dataset[v].attrs["vensim_name"] for v in names]
    best = np.array([report["parameters"][label]["value"] for label in labels])
    return draws, labels, best


def corner_figure(dataset: xr.Dataset) -> Figure:
    """The posterior's one- and two-parameter marginals (corner), the best fit marked."""
    import corner

    draws, labels, best = _samples(dataset)
    d = len(labels)
    fig = Figure(figsize=(2.3 * d + 1, 2.3 * d + 1))
    short = [label if len(label) <= 28 else label[:26] + "…" for label in labels]
    constant = np.ptp(draws, axis=0) == 0
    draws = draws + constant * 1e-12 * np.random.default_rng(0).standard_normal(draws.shape)
    corner.corner(draws, labels=short, truths=best, truth_color="tab:red", quantiles=[0.05, 0.5, 0.95],
                  show_titles=True, title_fmt=".3g", title_kwargs={"fontsize": 8}, label_kwargs={"fontsize": 8},
                  fig=fig)
    report = json.loads(dataset.attrs["calibration"])
    fig.subplots_adjust(top=0.9)
    fig.suptitle(f"Posterior ({report['method']}, {draws.shape[0]} draws); red: best fit; dashed: 5%, 50%, 95%",
                 fontsize=10, y=0.995)
    return fig


def trace_figure(dataset: xr.Dataset) -> Figure:
    """Each parameter over the steps, one thin line per walker (MCMC): mixing at a glance."""
    names = [v for v in dataset.data_vars if "vensim_name" in dataset[v].attrs]
    fig = Figure(figsize=(8, 1.6 * len(names) + 0.8))
    axes = np.atleast_1d(fig.subplots(len(names), 1, sharex=True))
    for ax, name in zip(axes, names, strict=True):
        values = dataset[name].to_numpy()
        for chain in values:
            ax.plot(chain, lw=0.4, alpha=0.5)
        ax.set_ylabel(dataset[name].attrs["vensim_name"], fontsize=7, rotation=0, ha="right")
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("step after burn-in")
    fig.suptitle("MCMC trace: every walker", fontsize=10)
    fig.subplots_adjust(left=0.36, right=0.98, top=0.93)
    return fig
