"""Ensembles: sample uncertain parameters (and lever arguments) with SALib, run them all on the
batch engine, analyse.

The samples are drawn once, up front, from the seed; they are then split into chunks that run
locally or on a Dask cluster. Because each chunk is a pure function of its slice of the samples,
the results are the same whichever scheduler runs them. A run that diverges is marked in
`status` and its values after divergence are NaN; statistics skip it rather than carry inf.

Levers are varied like parameters (EMA Workbench's levers): "token-price-subsidy.size=0:0.5"
samples the lever's argument, and each run gets the time series the lever makes of it.

Example
-------
>>> from sdlib.analysis.ensemble import Uncertainty, sample
>>> sample([Uncertainty("capital share", 0.3, 0.4)], "lhs", 8, seed=1).shape
(8, 1)
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np
import xarray as xr

from ..core.display import Uncertainty
from ..core.errors import BadInput, OutOfRange
from ..core.policy import apply_policies, find_policy

METHODS = ("mc", "lhs", "sobol", "morris")
NO_INDICES = ("mc and lhs samples give percentiles over the runs (summary.json), not sensitivity "
              "indices; use method sobol or morris for those")


def parse_vary(items: list, model) -> list[Uncertainty]:
    """What to vary, checked against the model's names and declared ranges (or the lever's).

    Each item is an `Uncertainty`, "NAME=LO:HI", "NAME" (a declared uncertainty of the model,
    with its plausible range) or "POLICY.ARGUMENT=LO:HI" (a lever's argument).
    """
    from ..core.registry import find_parameter

    found: list[Uncertainty] = []
    for item in items or []:
        if isinstance(item, Uncertainty):
            name, low, high, text = item.name, item.low, item.high, repr(item)
        else:
            text = str(item)
            match = re.fullmatch(r"\s*(.+?)\s*=\s*([^:]+):([^:]+)\s*", text)
            if match:
                name = match.group(1)
                try:
                    low, high = float(match.group(2)), float(match.group(3))
                except ValueError:
                    raise BadInput(f"vary: {text!r}: LO and HI must be numbers", "vary") from None
            else:
                declared = model.display.uncertainty(text.strip()) if "=" not in text else None
                if declared is None:
                    raise BadInput(f"vary: {text!r}: expected NAME=LO:HI, e.g. \"capital share=0.3:0.4\" "
                                   f"(or NAME alone for an uncertainty {model.path.stem}-display.toml declares)",
                                   "vary")
                name, low, high = declared.name, declared.low, declared.high
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            raise BadInput(f"vary: {text!r}: expected finite LO < HI", "vary")
        policy_name, dot, argument = name.partition(".")
        if dot and "-" in policy_name:
            policy = find_policy(policy_name.strip())
            arg = next((a for a in policy.arguments if a.name == argument.strip()), None)
            if arg is None:
                raise BadInput(f"vary: {text!r}: policy '{policy.name}' has no argument '{argument}' "
                               f"(expected one of {', '.join(a.name for a in policy.arguments)})", "vary")
            name, bounds, units = f"{policy.name}.{arg.name}", (arg.low, arg.high), arg.units
        else:
            param = find_parameter(model.spec, name, source="vary")
            name, bounds, units = param.name, (param.low, param.high), param.units
        if (bounds[0] is not None and low < bounds[0]) or (bounds[1] is not None and high > bounds[1]):
            span = ", ".join("?" if b is None else f"{b:g}" for b in bounds)
            raise OutOfRange(f"vary: {text!r}: '{name}' must stay within its range [{span}] {units}".rstrip(), "vary")
        if any(u.name == name for u in found):
            raise BadInput(f"vary: '{name}' is given twice", "vary")
        found.append(Uncertainty(name, low, high))
    if not found:
        raise BadInput("vary: give at least one thing to vary, e.g. \"capital share=0.3:0.4\"", "vary")
    return found


def problem(uncertainties: list[Uncertainty]) -> dict:
    """The SALib problem definition."""
    return {"num_vars": len(uncertainties), "names": [u.name for u in uncertainties],
            "bounds": [[u.low, u.high] for u in uncertainties]}


def run_count(method: str, n: int, varied: int) -> int:
    """The runs a sample of n gives: n(D+2) for sobol, n(D+1) for morris, n for mc and lhs."""
    return n * {"sobol": varied + 2, "morris": varied + 1}.get(method, 1)


def sample(uncertainties: list[Uncertainty], method: str, n: int, seed: int = 0) -> np.ndarray:
    """Sample matrix (runs x parameters). For sobol, n base samples give n(D+2) runs; for morris,
    n trajectories give n(D+1) runs; for mc and lhs, n runs."""
    if method not in METHODS:
        raise BadInput(f"method: {method!r} is not a method (expected one of {', '.join(METHODS)})", "method")
    if n < 1:
        raise BadInput(f"n: {n} is not a positive number of runs", "n")
    from ..core.errors import require

    require("SALib", "ensemble", "ensembles")
    if run_count(method, n, len(uncertainties)) * len(uncertainties) > REMEMBERED_VALUES:
        return _draw(uncertainties, method, n, seed)
    return _remembered(tuple(uncertainties), method, n, seed).copy()


# The same samples are drawn again for every lever the explorer's fans move (the same seed: common
# random numbers); the latest few small ones are kept (an LHS of 1,000 runs costs 4 ms to draw).
REMEMBERED_VALUES = 1_000_000


@lru_cache(maxsize=8)
def _remembered(uncertainties: tuple, method: str, n: int, seed: int) -> np.ndarray:
    return _draw(list(uncertainties), method, n, seed)


def _draw(uncertainties: list[Uncertainty], method: str, n: int, seed: int) -> np.ndarray:
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
            raise BadInput(f"n: {n}: Sobol sampling needs a power of two (e.g. {2 ** int(math.log2(n) + 1)})", "n")
        return sobol.sample(prob, n, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    return morris.sample(prob, n, seed=seed)


def jobs(resolved, uncertainties: list[Uncertainty], samples: np.ndarray, chunk: int) -> list[tuple]:
    """(indices, params) to run: chunks of the samples; runs whose levers differ run apart,
    since each lever setting makes its own time series."""
    params_at = [j for j, u in enumerate(uncertainties) if not u.is_lever]
    levers_at = [j for j, u in enumerate(uncertainties) if u.is_lever]
    varied = {uncertainties[j].name for j in params_at}
    base = {k: v for k, v in resolved.overrides.items() if k not in varied}
    if not levers_at:
        base.update(resolved.policy_overrides)
        found = []
        for start in range(0, len(samples), max(1, chunk)):
            rows = np.arange(start, min(start + max(1, chunk), len(samples)))
            params = {**base, **{uncertainties[j].name: samples[rows, j] for j in params_at}}
            found.append((rows, params))
        return found
    groups: dict[tuple, list[int]] = {}
    for i in range(len(samples)):
        groups.setdefault(tuple(samples[i, levers_at]), []).append(i)
    found = []
    for values, members in groups.items():
        requested = [dict(p) for p in resolved.policies]
        for j, value in zip(levers_at, values, strict=False):
            policy_name, argument = uncertainties[j].name.split(".", 1)
            entry = next((p for p in requested if p["name"] == policy_name), None)
            if entry is None:
                entry = {"name": policy_name}
                requested.append(entry)
            entry[argument] = float(value)
        _, series = apply_policies(resolved.model.spec, requested, resolved.controls, resolved.overrides)
        rows = np.asarray(members)
        params = {**base, **series, **{uncertainties[j].name: samples[rows, j] for j in params_at}}
        found.append((rows, params))
    return found


def run_job(model_path: str, params: dict, n: int, controls: dict, outcomes: list[str]) -> dict:
    """Run one job on the batch engine. A pure function: Dask ships it anywhere."""
    from ..core.controls import Controls
    from ..model import Model

    grid = Controls(**controls)
    data = Model.load(model_path).run(params, grid, n=n, columns=outcomes, engine="batch", progress=False)
    data = data.reindex(time=grid.saved_times())
    return {"values": {name: data[name].to_numpy() for name in outcomes},
            "status": data["status"].to_numpy(), "diverged_at": data["diverged_at"].to_numpy()}


def check_scheduler(address: str, seconds: float = 15.0) -> None:
    """Refuse, in one line, an address where no Dask scheduler answers within `seconds`. Dask's
    client waits without end for the handshake of a service that says nothing, and reads the first
    bytes of one that speaks another protocol as a frame length (a MemoryError of exbibytes)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect

    async def handshake():
        comm = await asyncio.wait_for(connect(address, timeout=seconds), seconds)
        await comm.close()

    hint = "start it (dask scheduler) or leave --address out for a local cluster"
    try:
        with ThreadPoolExecutor(1) as pool:  # its own event loop, also when the caller runs one (Jupyter)
            pool.submit(asyncio.run, handshake()).result()
    except (OSError, TimeoutError) as exc:  # refused, unreachable, closed, or silent past the timeout
        raise BadInput(f"address: cannot reach the Dask scheduler at {address} ({type(exc).__name__}); {hint}",
                       "address") from None
    except Exception:  # the peer's bytes make Dask raise anything (MemoryError too)
        raise BadInput(f"address: {address} answers, but not as a Dask scheduler (another service on that "
                       f"port?); {hint}", "address") from None


def run_samples(resolved, uncertainties, samples, outcomes, chunk, scheduler, address, progress) -> xr.Dataset:
    """Every sample run, in order, with a progress bar; one Dataset."""
    from tqdm import tqdm

    todo = jobs(resolved, uncertainties, samples, chunk)
    args = (str(resolved.model.path),)
    controls = resolved.controls.as_dict()
    parts: list = [None] * len(todo)
    bar = tqdm(total=len(samples), unit="run", desc="ensemble", disable=True if progress is False else None)
    with bar:
        if scheduler == "local":
            for k, (rows, params) in enumerate(todo):
                parts[k] = run_job(*args, params, len(rows), controls, outcomes)
                bar.update(len(rows))
        elif scheduler == "dask":
            from ..core.errors import require

            require("distributed", "ensemble", "the dask scheduler")
            from dask.distributed import Client, LocalCluster, as_completed

            if address:
                check_scheduler(address)
            cluster = None if address else LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                        dashboard_address=None)
            try:
                client = Client(address or cluster, timeout="15s")
            except (OSError, TimeoutError) as exc:
                if cluster is not None:
                    cluster.close()
                raise BadInput(f"address: cannot reach the Dask scheduler at {address} ({type(exc).__name__}); "
                               f"start it (dask scheduler) or leave --address out for a local cluster",
                               "address") from None
            try:
                futures = [client.submit(run_job, *args, params, len(rows), controls, outcomes, pure=False)
                           for rows, params in todo]
                order = {f.key: k for k, f in enumerate(futures)}
                for future in as_completed(futures):
                    k = order[future.key]
                    parts[k] = future.result()
                    bar.update(len(todo[k][0]))
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
        else:
            raise BadInput(f"scheduler: unknown scheduler '{scheduler}' (expected local or dask)", "scheduler")
    return assemble(todo, parts, samples, uncertainties, outcomes, resolved)


def assemble(todo, parts, samples, uncertainties, outcomes, resolved) -> xr.Dataset:
    """One dataset: dims run x time, one variable per outcome, the samples as run coordinates."""
    spec = resolved.model.spec
    time = resolved.controls.saved_times()
    n = len(samples)
    values = {name: np.full((n, len(time)), np.nan) for name in outcomes}
    status = np.empty(n, dtype=object)
    diverged_at = np.full(n, np.nan)
    for (rows, _), part in zip(todo, parts, strict=False):
        for name in outcomes:
            values[name][rows] = part["values"][name]
        status[rows] = part["status"]
        diverged_at[rows] = part["diverged_at"]
    data = {name: (("run", "time"), values[name],
                   {"units": spec[name].units, "comment": spec[name].comment, "kind": spec[name].kind})
            for name in outcomes}
    coords = {"run": np.arange(n), "time": ("time", time, {"units": spec["time step"].units})}
    for j, u in enumerate(uncertainties):  # netCDF coordinates cannot hold spaces: the name is an attribute
        units = (spec[u.name].units if not u.is_lever else
                 next(a.units for a in find_policy(u.name.split(".")[0]).arguments if a.name == u.name.split(".")[1]))
        coords[coordinate_name(u.name)] = ("run", samples[:, j],
                                           {"vensim_name": u.name, "units": units, "low": u.low, "high": u.high})
    coords["status"] = ("run", status.astype(str))
    coords["diverged_at"] = ("run", diverged_at)
    return xr.Dataset(data, coords=coords)


def coordinate_name(name: str) -> str:
    """The sample coordinate of a varied parameter: its name with underscores."""
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


INDICES = {"sobol": ("S1", "ST", "S1_conf", "ST_conf"), "morris": ("mu_star", "sigma", "mu_star_conf")}


def with_indices(dataset, uncertainties, method, samples, outcomes, year) -> xr.Dataset:
    """The dataset with its sensitivity indices at `year` (outcome x parameter), or a note why none."""
    if method not in INDICES:
        dataset.attrs["sensitivity"] = NO_INDICES
        return dataset
    found = analyse(dataset, uncertainties, method, samples, outcomes, year)
    names = [u.name for u in uncertainties]
    errors = {o: v["error"] for o, v in found.items() if "error" in v}
    for index in INDICES[method]:
        table = np.array([[found[o][p][index] if o not in errors else np.nan for p in names] for o in outcomes])
        dataset[index] = (("outcome", "parameter"), table, {"method": method, "year": year})
    dataset = dataset.assign_coords(outcome=("outcome", outcomes), parameter=("parameter", names))
    dataset.attrs["sensitivity"] = f"{method} indices at {year:g}" + (
        "; " + "; ".join(f"{o}: {e}" for o, e in errors.items()) if errors else "")
    return dataset


def indices_of(dataset: xr.Dataset) -> dict:
    """{outcome: {parameter: {index: value}}} as in sensitivity.json, or {} without indices."""
    method = next((m for m, names in INDICES.items() if names[0] in dataset), None)
    if method is None:
        return {}
    found: dict = {}
    for outcome in dataset["outcome"].to_numpy():
        row = {}
        for parameter in dataset["parameter"].to_numpy():
            values = {index: float(dataset[index].sel(outcome=outcome, parameter=parameter)) for index in INDICES[method]}
            row[str(parameter)] = values
        if all(np.isnan(v[INDICES[method][0]]) for v in row.values()):
            found[str(outcome)] = {"error": "runs diverged; no indices"}
        else:
            found[str(outcome)] = row
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
