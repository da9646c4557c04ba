"""Ensembles: sample uncertain parameters with SALib, run them all on the batch engine, analyse.

The samples are drawn once, up front, from the seed; they are then split into chunks that run
locally or on a Dask cluster. Because each chunk is a pure function of its slice of the samples,
the results are the same whichever scheduler runs them. A run that diverges is marked in
`status` and its values after divergence are NaN; statistics skip it rather than carry inf.

Example
-------
>>> from sdlib.ensemble import Uncertainty, sample
>>> sample([Uncertainty("capital share", 0.3, 0.4)], "lhs", 8, seed=1).shape
(8, 1)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .errors import BadInput, OutOfRange
from .modelspec import ModelSpec
from .registry import find_parameter

METHODS = ("mc", "lhs", "sobol", "morris")


@dataclass(frozen=True)
class Uncertainty:
    """A parameter varied uniformly between two values (EMA Workbench's RealParameter)."""

    name: str
    low: float
    high: float


def parse_vary(items: list[str], spec: ModelSpec) -> list[Uncertainty]:
    """`--vary "NAME=LO:HI"` strings, checked against the model's names and declared ranges."""
    found = []
    for item in items or []:
        match = re.fullmatch(r"\s*(.+?)\s*=\s*([^:]+):([^:]+)\s*", item)
        if not match:
            raise BadInput(f"--vary {item!r}: expected NAME=LO:HI, e.g. --vary \"capital share=0.3:0.4\"")
        param = find_parameter(spec, match.group(1), source="--vary")
        try:
            low, high = float(match.group(2)), float(match.group(3))
        except ValueError:
            raise BadInput(f"--vary {item!r}: LO and HI must be numbers") from None
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            raise BadInput(f"--vary {item!r}: expected finite LO < HI")
        if (param.low is not None and low < param.low) or (param.high is not None and high > param.high):
            raise OutOfRange(f"--vary {item!r}: '{param.name}' must stay within its range "
                             f"[{param.low:g}, {param.high:g}] {param.units}")
        if any(u.name == param.name for u in found):
            raise BadInput(f"--vary: '{param.name}' is given twice")
        found.append(Uncertainty(param.name, low, high))
    if not found:
        raise BadInput("ensemble: give at least one --vary \"NAME=LO:HI\"")
    return found


def problem(uncertainties: list[Uncertainty]) -> dict:
    """The SALib problem definition."""
    return {"num_vars": len(uncertainties), "names": [u.name for u in uncertainties],
            "bounds": [[u.low, u.high] for u in uncertainties]}


def sample(uncertainties: list[Uncertainty], method: str, n: int, seed: int = 0) -> np.ndarray:
    """Sample matrix (runs x parameters). For sobol, n base samples give n(D+2) runs; for morris,
    n trajectories give n(D+1) runs; for mc and lhs, n runs."""
    if method not in METHODS:
        raise BadInput(f"--method {method!r}: expected one of {', '.join(METHODS)}")
    if n < 1:
        raise BadInput(f"--n {n}: expected a positive number of runs")
    prob = problem(uncertainties)
    if method == "mc":
        rng = np.random.default_rng(seed)
        bounds = np.array(prob["bounds"])
        return bounds[:, 0] + rng.random((n, len(uncertainties))) * (bounds[:, 1] - bounds[:, 0])
    if method == "lhs":
        from SALib.sample import latin

        return latin.sample(prob, n, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        if n & (n - 1):
            raise BadInput(f"--n {n}: Sobol sampling needs a power of two (e.g. {2 ** int(math.log2(n) + 1)})")
        return sobol.sample(prob, n, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    return morris.sample(prob, n, seed=seed)


def run_chunk(model_path: str, base_params: dict, names: list[str], samples: np.ndarray, outcomes: list[str],
              controls: dict) -> dict:
    """Run one slice of the samples on the batch engine. A pure function: Dask ships it anywhere."""
    from .engine import compile_spec
    from .modelspec import load_spec

    compiled = compile_spec(load_spec(model_path))
    params = dict(base_params)
    for j, name in enumerate(names):
        params[name] = samples[:, j]
    result = compiled.run(params=params, n=len(samples), final_time=controls["final_time"],
                          time_step=controls["time_step"], saveper=controls["saveper"], return_columns=outcomes)
    return {
        "time": np.asarray(result.time, dtype=float),
        "values": {name: np.asarray(result.values[name], dtype=float) for name in outcomes},
        "status": np.asarray(result.status),
        "diverged_at": np.asarray(result.diverged_at, dtype=float),
    }


def chunks(n_runs: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n_runs)) for i in range(0, n_runs, size)]


def assemble(parts: list[dict], samples: np.ndarray, names: list[str], outcomes: list[str], units: dict) -> xr.Dataset:
    """One dataset: dims run x time, one variable per outcome, the samples as run coordinates."""
    time = parts[0]["time"]
    data = {
        name: (("run", "time"), np.concatenate([p["values"][name] for p in parts]), {"units": units.get(name, "")})
        for name in outcomes
    }
    coords = {"run": np.arange(len(samples)), "time": time}
    for j, name in enumerate(names):  # netCDF coordinates cannot hold spaces: the Vensim name is an attribute
        coords[coordinate_name(name)] = ("run", samples[:, j], {"vensim_name": name})
    coords["status"] = ("run", np.concatenate([p["status"] for p in parts]).astype(str))
    coords["diverged_at"] = ("run", np.concatenate([p["diverged_at"] for p in parts]))
    return xr.Dataset(data, coords=coords)


def coordinate_name(name: str) -> str:
    """The sample coordinate of a varied parameter: its Vensim name with underscores."""
    return "_".join(name.split())


def at_year(dataset: xr.Dataset, outcome: str, year: float) -> np.ndarray:
    return dataset[outcome].interp(time=year).to_numpy()


def analyse(dataset: xr.Dataset, uncertainties: list[Uncertainty], method: str, samples: np.ndarray,
            outcomes: list[str], year: float) -> dict:
    """Sensitivity indices at a year: S1/ST (Sobol) or mu*/sigma (Morris); {} for mc and lhs."""
    prob = problem(uncertainties)
    found: dict = {}
    for outcome in outcomes:
        y = at_year(dataset, outcome, year)
        ok = np.isfinite(y)
        if method == "sobol":
            from SALib.analyze import sobol

            if not ok.all():
                found[outcome] = {"error": f"{int((~ok).sum())} runs diverged; Sobol indices need every run"}
                continue
            res = sobol.analyze(prob, y, calc_second_order=False, seed=0)
            found[outcome] = {name: {"S1": float(res["S1"][i]), "ST": float(res["ST"][i]),
                                     "S1_conf": float(res["S1_conf"][i]), "ST_conf": float(res["ST_conf"][i])}
                              for i, name in enumerate(prob["names"])}
        elif method == "morris":
            from SALib.analyze import morris

            if not ok.all():
                found[outcome] = {"error": f"{int((~ok).sum())} runs diverged; Morris needs every trajectory"}
                continue
            res = morris.analyze(prob, samples, y, seed=0)
            found[outcome] = {name: {"mu_star": float(res["mu_star"][i]), "sigma": float(res["sigma"][i]),
                                     "mu_star_conf": float(res["mu_star_conf"][i])}
                              for i, name in enumerate(prob["names"])}
    return found


def summary(dataset: xr.Dataset, outcomes: list[str], years: list[float]) -> dict:
    """Percentiles of each outcome at each year over the runs that did not diverge."""
    found = {}
    for outcome in outcomes:
        found[outcome] = {}
        for year in years:
            y = at_year(dataset, outcome, year)
            y = y[np.isfinite(y)]
            found[outcome][str(year)] = (
                {p: float(np.percentile(y, q)) for p, q in (("p5", 5), ("p25", 25), ("median", 50), ("p75", 75), ("p95", 95))}
                if y.size else {}
            )
    return found
