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
    bands: dict[str, dict[str, np.ndarray]] = {}
    for name in outcomes:
        values = dataset[name].to_numpy()[keep]
        if values.shape[0] == 0:
            empty = np.full(dataset.sizes["time"], np.nan)
            bands[name] = {key: empty for key in PERCENTILES}
            continue
        found = np.percentile(values, list(PERCENTILES.values()), axis=0)
        bands[name] = {key: row for key, row in zip(PERCENTILES, found, strict=True)}
    return keep, bands


def rank_correlations(dataset: xr.Dataset, varied: list[str], outcome: str, keep: np.ndarray,
                      time: float | None = None) -> dict[str, float]:
    """Spearman's rank correlation of each varied value with the outcome at `time` (default the last)
    over the kept runs; {} when the outcome does not vary there (or fewer than three runs are kept).

    `varied` are Vensim names; their samples are the run coordinates `sdlib.ensemble` names with
    underscores.
    """
    from .ensemble import coordinate_name

    column = -1 if time is None else int(np.argmin(np.abs(dataset["time"].to_numpy() - time)))
    y = dataset[outcome].to_numpy()[keep, column]
    if y.size < 3 or np.ptp(y) == 0:
        return {}
    ranked_y = rankdata(y)
    ranked_y = (ranked_y - ranked_y.mean()) / ranked_y.std()
    found = {}
    for name in varied:
        x = dataset[coordinate_name(name)].to_numpy()[keep]
        if np.ptp(x) == 0:
            continue
        ranked_x = rankdata(x)
        ranked_x = (ranked_x - ranked_x.mean()) / ranked_x.std()
        found[name] = float(np.mean(ranked_x * ranked_y))
    return found
