"""The picture of a comparison: each run's path, and below it each run's difference from the
reference in percent, with the differences above the threshold at the table's years marked."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .run import set_log_scale, wants_log


def comparison_figure(dataset: xr.Dataset, indicator: str) -> Figure:
    data = dataset.sel(indicator=indicator)
    labels = [str(r) for r in dataset["run"].to_numpy()]
    reference = labels[0]
    time = dataset["time"].to_numpy()
    fig = Figure(figsize=(8, 6.2))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    fig.subplots_adjust(left=0.13, right=0.97, top=0.93, bottom=0.09, hspace=0.14)
    values = data["value"].to_numpy()
    for r, label in enumerate(labels):
        top.plot(time, values[r], lw=2, label=label + (" (reference)" if r == 0 else ""))
    finite = values[np.isfinite(values)]
    if finite.size and wants_log(finite) and finite.max() < 1e200:
        set_log_scale(top)
    top.set_ylabel(str(data["units"].item()))
    top.set_title(indicator, fontsize=12)
    top.grid(True, alpha=0.3)
    top.legend(fontsize=8, loc="best")
    relative = 100 * data["relative_difference"].to_numpy()
    bottom.axhline(0, color="black", lw=0.8)
    for r, label in enumerate(labels[1:], start=1):
        line, = bottom.plot(time, relative[r], lw=1.8, color=f"C{r}", label=label)
        for k, year in enumerate(dataset["year"].to_numpy()):
            if bool(data["marked"].isel(run=r, year=k)):
                pct = 100 * float(data["relative_at"].isel(run=r, year=k))
                bottom.plot([year], [pct], "o", ms=7, mfc="none", mec="red", mew=1.5)
                bottom.annotate(f"{pct:+.0f}% {label}", (year, pct), xytext=(4, 4), textcoords="offset points",
                                color="red", fontsize=7.5)
    for year in dataset["year"].to_numpy():
        bottom.axvline(year, color="grey", lw=0.6, ls=":")
        top.axvline(year, color="grey", lw=0.6, ls=":")
    threshold = 100 * float(dataset.attrs["threshold"])
    bottom.set_ylabel(f"% difference from\n{reference}")
    bottom.set_xlabel("Year")
    bottom.grid(True, alpha=0.3)
    bottom.set_title(f"circled in red: more than {threshold:g}% from {reference} at a compared year",
                     fontsize=8, loc="left", color="red")
    return fig
