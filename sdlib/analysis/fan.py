"""Fan charts of an ensemble: percentile bands over time, and which uncertainty drives the spread.

Both read a Dataset from `sdlib.ensemble` (`run` x `time`, the samples as run coordinates, a
`status` per run). A run that diverged, or holds a non-finite value in any of the outcomes, is
left out of every band and counted, so that one exploding run never widens or poisons a band.

Example
-------
>>> import numpy as np, xarray as xr
>>> ds = xr.Dataset({"y": (("run", "time"), [[1.0, 2.0], [3.0, np.nan], [5.0, 6.0]])},
...                 coords={"status": ("run", ["ok", "diverged", "ok"]), "time": [0.0, 1.0]})
>>> kept, bands = percentile_bands(ds, ["y"])
>>> int(kept.sum()), bands["y"]["p50"].tolist()
(2, [3.0, 4.0])
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.stats import rankdata

PERCENTILES = {"p5": 5, "p25": 25, "p50": 50, "p75": 75, "p95": 95}


def finished(dataset: xr.Dataset, outcomes: list[str]) -> np.ndarray:
    """Runs that ended "ok" with every value of every outcome finite (a boolean per run)."""
    keep = dataset["status"].to_numpy() == "ok"
    for name in outcomes:
        keep &= np.isfinite(dataset[name].to_numpy()).all(axis=1)
    return keep


def percentile_bands(dataset: xr.Dataset, outcomes: list[str]) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """The runs kept, and per outcome its 5th, 25th, 50th, 75th and 95th percentile over them at every
    time (NaN where no run is kept)."""
    keep = finished(dataset, outcomes)
    steps = dataset.sizes["time"]
    if not keep.any():
        empty = np.full(steps, np.nan)
        return keep, {name: {key: empty for key in PERCENTILES} for name in outcomes}
    # One sort of every outcome's kept runs, then numpy's percentiles of the sorted columns (the same
    # numbers as np.percentile of the unsorted ones, in half the time).
    ordered = np.sort(np.hstack([dataset[name].to_numpy()[keep] for name in outcomes]), axis=0)
    found = np.percentile(ordered, list(PERCENTILES.values()), axis=0)
    bands = {name: {key: found[j, i * steps:(i + 1) * steps] for j, key in enumerate(PERCENTILES)}
             for i, name in enumerate(outcomes)}
    return keep, bands


def rank_correlations(dataset: xr.Dataset, varied: list[str], outcomes: list[str], keep: np.ndarray,
                      time: float | None = None) -> dict[str, dict[str, float]]:
    """Spearman's rank correlation of each varied value with each outcome at `time` (default the last)
    over the kept runs: {outcome: {varied name: rho}}, {} for an outcome that does not vary there
    (or when fewer than three runs are kept).

    `varied` are Vensim names; their samples are the run coordinates `sdlib.ensemble` names with
    underscores.
    """
    from .ensemble import coordinate_name

    def standard_ranks(values: np.ndarray) -> np.ndarray:
        ranks = rankdata(values, axis=0)
        spread = ranks.std(axis=0)
        return (ranks - ranks.mean(axis=0)) / np.where(spread > 0, spread, np.inf)

    if keep.sum() < 3:
        return {outcome: {} for outcome in outcomes}
    column = -1 if time is None else int(np.argmin(np.abs(dataset["time"].to_numpy() - time)))
    samples = np.column_stack([dataset[coordinate_name(name)].to_numpy()[keep] for name in varied])
    moves = np.ptp(samples, axis=0) > 0
    x = standard_ranks(samples)
    found: dict[str, dict[str, float]] = {}
    for outcome in outcomes:
        y = dataset[outcome].to_numpy()[keep, column]
        if np.ptp(y) == 0:
            found[outcome] = {}
            continue
        rho = standard_ranks(y) @ x / y.size
        found[outcome] = {name: float(r) for name, r, m in zip(varied, rho, moves, strict=True) if m}
    return found
