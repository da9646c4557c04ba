"""Tokenworld's public API: what the command line, the explorer, the docs builders and the
benches all call. Each function returns one labelled result, an xarray Dataset.

>>> import sdlib
>>> ds = sdlib.run("baseline", set={"capital share": 0.3})                 # doctest: +SKIP
>>> ds["Output per developer"].sel(time=2050).item()                     # doctest: +SKIP
>>> ds.attrs["status"], ds["Token price"].attrs["units"]                  # doctest: +SKIP
('ok', '$/Mtoken')

A scenario is a name from `runs/`, a scenario `.toml` file, or a Vensim `.mdl` file (run with its
own defaults). Values are checked before anything runs; bad input raises `BadInput` naming the
file, key or argument at fault, and a folder (`out=`) is written whole or not at all.
"""

from __future__ import annotations

import json
import re
import time as clock
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .core.controls import Controls
from .core.errors import BadInput
from .core.paths import display_path
from .core.policy import apply_policies, available_policies
from .core.rundir import Claim, atomic_dir, claimed, estimated_size, provenance, write_json, write_results
from .core.scenario import Scenario, ad_hoc_scenario, load_scenario, scenario_files
from .core.spec import name_key
from .model import Model


@dataclass
class Resolved:
    """A scenario with the caller's changes, checked against the model: ready to run."""

    model: Model
    scenario: Scenario
    controls: Controls
    overrides: dict  # Vensim name -> number, from the scenario and `set`
    policies: list[dict]  # every policy with all its arguments
    policy_overrides: dict = field(default_factory=dict)  # Vensim name -> pandas.Series over time

    @property
    def params(self) -> dict:
        """What an engine receives: policies' time series win over the numbers they build on."""
        return {**self.overrides, **self.policy_overrides}

    def parameters(self) -> dict:
        """Every constant of the model with the value this run uses (a time series as a note)."""
        values: dict[str, float | str | None] = {p.name: p.value for p in self.model.parameters.values()}
        values.update(self.overrides)
        for name in self.policy_overrides:
            values[name] = "time series (see policy_overrides)"
        return values


def as_scenario(scenario: str | Path | Scenario) -> Scenario:
    """A scenario name, scenario file or `.mdl` file as a Scenario."""
    if isinstance(scenario, Scenario):
        return scenario
    text = str(scenario)
    if text.lower().endswith(".mdl"):
        path = Path(text)
        if not path.is_file():
            raise BadInput(f"{text}: model file not found (expected a Vensim .mdl file)", "scenario")
        return ad_hoc_scenario(path)
    return load_scenario(text)


def resolve(scenario: str | Path | Scenario = "baseline", *, set: dict | None = None,
            policies: list[dict] | None = None, final_time=None, time_step=None) -> Resolved:
    """Check a scenario with the caller's changes against its model; nothing runs."""
    scenario = as_scenario(scenario)
    model = Model.load(scenario.model)
    sources = {k: v for k, v in scenario.origins.items()}
    if final_time is not None:
        sources.pop("final_time", None)
    if time_step is not None:
        sources.pop("time_step", None)
    controls = model.controls(final_time if final_time is not None else scenario.final_time,
                              time_step if time_step is not None else scenario.time_step, sources=sources)
    overrides = model.check(scenario.overrides, source=scenario.label)
    overrides.update(model.check(dict(set or {}), source="set"))
    requested = scenario.policies + [dict(p) for p in (policies or [])]
    resolved, series = apply_policies(model.spec, requested, controls, overrides) if requested else ([], {})
    return Resolved(model, scenario, controls, overrides, resolved, series)


def run(scenario: str | Path | Scenario = "baseline", *, set: dict | None = None, policies: list[dict] | None = None,
        final_time=None, time_step=None, engine: str = "pysd", columns: list[str] | None = None,
        out: str | Path | None = None, plots: bool = True, progress: bool | None = None,
        command: str | None = None, method: str = "euler") -> xr.Dataset:
    """Run a scenario once; returns a Dataset (`run` x `time`, one run) with units and provenance.

    Parameters
    ----------
    scenario : str, Path or Scenario
        A name from `runs/` (`sdlib.scenarios()`), a scenario `.toml` file or a `.mdl` file.
    set : dict, optional
        Parameter values by Vensim name (case-insensitive), checked against their ranges.
    policies : list of dict, optional
        Levers, e.g. `[{"name": "token-price-subsidy", "start": 2026, "size": 0.3}]`.
    final_time, time_step : float, optional
        Change the time grid (default: the scenario's, else the model's).
    engine : {"pysd", "batch"}
        PySD, or the batch engine (the same numbers, compiled with numba).
    columns : list of str, optional
        The variables to keep (default: every time-varying variable).
    out : str or Path, optional
        Also write a run folder there (results.nc, timeseries.csv, units.csv, manifest.json,
        plots/ unless `plots=False`); `ds.attrs["folder"]` then says where.
    method : {"euler", "rk4"}
        Integration method: Euler (PySD's), or fourth-order Runge-Kutta (the batch engine only).
    """
    resolved = resolve(scenario, set=set, policies=policies, final_time=final_time, time_step=time_step)
    if engine not in ("pysd", "batch"):
        raise BadInput(f"engine: unknown engine '{engine}' (expected pysd or batch)", "engine")
    check_size(resolved, columns)
    with claimed(out) as target:  # before any work: taken, or refused now
        if target is not None:
            target.check_space(estimated_size(resolved.controls.n_saved, len(columns or resolved.model.variables())))
        if engine == "batch":
            resolved.model.compiled(progress=progress is not False, method=method)  # compiled before the clock
        started = clock.perf_counter()
        dataset = resolved.model.run(resolved.params, resolved.controls, columns=columns, engine=engine,
                                     progress=progress, method=method)
        seconds = clock.perf_counter() - started
        dataset.attrs.update(_run_attrs(resolved, seconds, command))
        dataset.attrs["warnings"] = json.dumps(_warnings(resolved, dataset))
        if target is not None:
            save_run(dataset, resolved, target, plots=plots)
    return dataset


MAX_VALUES = 2e8  # saved values of one call (steps x variables x runs): 1.6 GB of float64


def check_size(resolved: Resolved, columns: list[str] | None = None, runs: int = 1, every_step: bool = False,
               what: str = "the run") -> None:
    """Refuse, before any work, a run whose saved values would not fit in memory (see MAX_VALUES)."""
    c = resolved.controls
    rows = c.n_steps + 1 if every_step else c.n_saved
    width = len(columns) if columns is not None else len(resolved.model.variables(constants=every_step))
    values = float(rows) * width * runs
    if values > MAX_VALUES:
        runs_text = f" x {runs:,} runs" if runs > 1 else ""
        raise BadInput(f"too large: {what} would keep {rows:,} times x {width} variables{runs_text} = {values:.3g} "
                       f"values (limit {MAX_VALUES:.0e}, about {MAX_VALUES * 8 / 1e9:.1f} GB); shorten the run "
                       f"(final time) or lengthen the time step")


def _warnings(resolved: Resolved, dataset: xr.Dataset) -> list[str]:
    """What the model's checks file says is worth knowing about this run (`[[warning]]`)."""
    from .analysis import checks as ck

    path = ck.checks_path(resolved.model.spec)
    if not path.is_file() or dataset.sizes.get("run", 1) != 1:
        return []
    return ck.run_warnings(frame(dataset), ck.load_checks(path, resolved.model.spec))


def _run_attrs(resolved: Resolved, seconds: float, command: str | None) -> dict:
    scenario = resolved.scenario
    info = provenance()
    attrs = {
        "scenario": scenario.name,
        "description": scenario.description,
        "scenario_file": display_path(scenario.source) if scenario.source else "",
        "extends": json.dumps(scenario.chain),
        "overrides": json.dumps(resolved.overrides),
        "policies": json.dumps(resolved.policies),
        "seconds": round(seconds, 3),
        "created": info["created"],
        "versions": json.dumps(info["versions"]),
    }
    if command:
        attrs["command"] = command
    if info.get("git_commit"):
        attrs["git_commit"] = info["git_commit"]
    return attrs


def save_run(dataset: xr.Dataset, resolved: Resolved, target: Path | Claim, plots: bool = True) -> Path:
    """Write a run folder atomically (see `sdlib.core.rundir`); returns it."""
    with atomic_dir(target) as tmp:
        write_results(dataset, tmp)
        write_json(manifest(dataset, resolved), tmp / "manifest.json")
        if plots:
            from .plots.run import plot_run

            plot_run(dataset, resolved.model.display, tmp / "plots")
    folder = target.target if isinstance(target, Claim) else Path(target)
    dataset.attrs["folder"] = str(folder)
    return folder


def manifest(dataset: xr.Dataset, resolved: Resolved) -> dict:
    attrs = dataset.attrs
    data = {
        "scenario": attrs["scenario"],
        "description": attrs["description"],
        "scenario_file": attrs["scenario_file"] or None,
        "extends": json.loads(attrs["extends"]),
        "status": attrs["status"],
        "engine": attrs["engine"],
        "integration_method": attrs.get("integration_method", "euler"),
        **resolved.controls.as_dict(),
        "saved_rows": int(dataset.sizes["time"]),
        "overrides": resolved.overrides,
        "policies": resolved.policies,
        "policy_overrides": {k: {"time": [float(t) for t in v.index], "value": [float(x) for x in v.to_numpy()]}
                             for k, v in resolved.policy_overrides.items()},
        "parameters": resolved.parameters(),
        "model_file": attrs["model_file"],
        "model_sha256": attrs["model_sha256"],
        "seconds": attrs["seconds"],
        "created": attrs["created"],
        "command": attrs.get("command"),
        "versions": json.loads(attrs["versions"]),
        "warnings": json.loads(attrs.get("warnings", "[]")),
    }
    if attrs.get("git_commit"):
        data["git_commit"] = attrs["git_commit"]
    if attrs["status"] == "diverged":
        data["diverged_at"] = attrs["diverged_at"]
        if attrs.get("diverged_variable"):
            data["diverged_variable"] = attrs["diverged_variable"]
        if attrs.get("diverged_reason"):
            data["diverged_reason"] = attrs["diverged_reason"]
    return data


# --- checks ----------------------------------------------------------------------------------------
def check(scenarios: list[str] | None = None, *, final_time=None, engine: str = "pysd",
          progress: bool | None = None, anchors: bool | None = None) -> xr.Dataset:
    """Run the model's reality checks (`<model>-checks.toml`) and published anchors (`<model>-anchors.csv`).

    Each scenario (default: every scenario in `runs/`) is run to the checks file's `final_time`
    (or `final_time`) and every identity is evaluated on it; each extreme condition of the file whose
    base scenario is among them is run too, with its expectations and the identities. A run that did
    not finish fails its checks, unless the file documents that the scenario diverges.

    The anchors (published figures with a range) are checked on the scenarios the checks file lists as
    `anchored` (the world as it is, without new policy: `baseline`); `anchors=True` checks them on every
    scenario asked for, `anchors=False` on none. A miss the checks file documents (`[[anchor_miss]]`,
    with its reason) still fails its check but is counted apart (`documented`).

    Returns
    -------
    Dataset over `check`: `id`, `kind` ("identity" | "reality" | "anchor"), `scenario`, `variable`,
    `year`, `value`, `low`, `high`, `pass`, `source` (what is checked and why), `detail`, `distance`
    (anchors: how far outside the range, in range widths) and `documented`; `attrs` count the checks,
    failures and documented misses.
    """
    from tqdm import tqdm

    from .analysis import anchors as an
    from .analysis import checks as ck
    from .analysis.calibration import grid_until

    names = list(scenarios) if scenarios else list(scenario_files())
    runs: dict = {}

    def run_once(name, changes=None, until=None):
        key = (name, json.dumps(changes or {}, sort_keys=True), until)
        if key not in runs:
            resolved = resolve(name, set=changes, final_time=until)
            data = resolved.model.run(resolved.params, resolved.controls, engine=engine, progress=False)
            runs[key] = (resolved, frame(data), data.attrs["status"], data.attrs.get("diverged_at"))
        return runs[key]

    def anchor_run(name, registry):
        resolved = resolve(name)
        controls = grid_until(resolved.controls, max(a.year for a in registry))
        data = resolved.model.run(resolved.params, controls, columns=sorted({a.variable for a in registry}),
                                  engine=engine, progress=False)
        return frame(data), data.attrs["status"]

    plan: list = []  # (scenario, checks) for the identities, (reality, checks) for the extreme conditions,
    loaded: dict = {}  # and (("anchors", scenario, registry), checks) for the anchors
    for name in names:
        scenario = resolve(name)
        model = scenario.model
        path = ck.checks_path(model.spec)
        if path not in loaded:
            loaded[path] = ck.load_checks(path, model.spec) if path.is_file() else None
        if loaded[path] is not None:
            plan.append((name, loaded[path]))
        registry = _anchor_registry(model, loaded[path])
        wanted = anchors if anchors is not None else (loaded[path] is not None
                                                      and scenario.scenario.name in loaded[path].anchored)
        if registry and wanted:
            plan.append((("anchors", name, registry), loaded[path]))
    for checks in {id(c): c for c in loaded.values() if c is not None}.values():
        plan += [(r, checks) for r in checks.realities if scenarios is None or r.scenario in names]
    results = []
    for item, checks in tqdm(plan, unit="run", desc="checks", disable=True if progress is False else None):
        if isinstance(item, tuple):
            _, name, registry = item
            table, status = anchor_run(name, registry)
            misses = checks.anchor_misses.get(name, {}) if checks is not None else {}
            results += an.anchor_results(name, table, status, registry, misses)
        elif isinstance(item, str):
            resolved, table, status, diverged_at = run_once(item, until=final_time or checks.final_time)
            results.append(ck.status_result(item, status, diverged_at, checks))
            documented = status == "diverged" and item in checks.divergences
            results += ck.identity_results(item, table, "ok" if documented else status, resolved.parameters(), checks)
        else:
            resolved, table, status, _ = run_once(item.scenario, item.set, item.final_time)
            _, base, _, _ = run_once(item.scenario, None, item.final_time)
            results += ck.reality_results(item, table, status, base)
            for result in ck.identity_results(item.scenario, table, status, resolved.parameters(), checks):
                result.id = f"{item.id}: {result.id}"
                results.append(result)
    table = pd.DataFrame([r.as_dict() for r in results])
    data = xr.Dataset.from_dataframe(table.rename_axis("check"))
    failed = int((~table["pass"]).sum()) if len(table) else 0
    documented = int((~table["pass"] & table["documented"]).sum()) if len(table) else 0
    data.attrs.update({"checks": len(table), "failed": failed, "documented": documented,
                       "scenarios": json.dumps(names)})
    return data


def _anchor_registry(model: Model, checks) -> list:
    """The model's anchors (`<model>-anchors.csv`), checked against the model and its checks file."""
    from .analysis import anchors as an

    path = an.anchors_path(model.spec)
    if not path.is_file():
        return []
    registry = an.load_anchors(path, model.spec)
    known = {a.id for a in registry}
    for scenario, misses in (checks.anchor_misses.items() if checks is not None else []):
        unknown = sorted(set(misses) - known)
        if unknown:
            raise BadInput(f"{checks.path.name}: [[anchor_miss]] of {scenario} names no anchor of {path.name}: "
                           f"{', '.join(unknown)}")
    return registry



# --- calibration -----------------------------------------------------------------------------------
def calibrate(scenario: str | Path | Scenario = "baseline", *, data: str | Path, vary: list,
              method: str = "least-squares", seed: int = 0, holdout: float | None = None, samples: int = 10000,
              walkers: int | None = None, burn: int | None = None, set: dict | None = None,
              policies: list[dict] | None = None, final_time=None, out: str | Path | None = None, plots: bool = True,
              progress: bool | None = None, command: str | None = None) -> xr.Dataset:
    """Fit parameters to data: least squares, or the posterior by MCMC, on the batch engine.

    Parameters
    ----------
    data : str or Path
        A CSV file of `variable,time,value,sigma` (sigma one standard deviation, in the variable's
        units), or an anchor registry (`models/tokenworld-anchors.csv`: sigma = (high - low) / 4).
    vary : list of str or Uncertainty
        The parameters to fit, "NAME=LO:HI" (uniform prior on [LO, HI], within the declared range) or
        "NAME" for an uncertainty the model declares.
    method : {"least-squares", "mcmc"}
        The best fit with the Laplace approximation of its uncertainty, or emcee's ensemble sampler
        (`samples` draws kept after as many burn-in steps, `walkers` walkers: each step one batch run).
    holdout : float, optional
        Fit the data up to this year; report for the later points the forecast error and whether the
        model's 90% band covered them.
    out : str or Path, optional
        Write a folder: calibration.json, scenario.toml (extends the scenario with the fitted values),
        posterior.nc, fit.csv, manifest.json and plots/ (each data series with the model's median and
        90% band, a corner plot and trace plot of the posterior).

    Returns
    -------
    Dataset: the posterior draws (`chain` x `draw`, one variable per parameter, its Vensim name in
    `vensim_name`), `log_prob`, the model's median and 90% band over time for each data variable
    (`series` x `time`), the data points with the model at each (`point`), and the report as JSON in
    `attrs["calibration"]` (what calibration.json holds).
    """
    from .analysis.calibration_report import calibrate_resolved

    if method not in ("least-squares", "mcmc"):
        raise BadInput(f"method: {method!r} is not a method (expected least-squares or mcmc)", "method")
    resolved = resolve(scenario, set=set, policies=policies, final_time=final_time)
    with claimed(out) as target:  # before any work: taken, or refused now
        dataset = calibrate_resolved(resolved, data=data, vary=vary, method=method, seed=seed, holdout=holdout,
                                     samples=samples, walkers=walkers, burn=burn, progress=progress)
        if command:
            dataset.attrs["command"] = command
        if target is not None:
            from .folders import save_calibration

            save_calibration(dataset, resolved, target, plots=plots)
            dataset.attrs["folder"] = str(target.target)
    return dataset


def screen(scenario: str | Path | Scenario = "baseline", *, data: str | Path, vary: list, trajectories: int = 20,
           seed: int = 0, set: dict | None = None, progress: bool | None = None) -> xr.Dataset:
    """Which parameters move the data most: Morris elementary effects on each data point's z-score.

    Runs r (D + 1) parameter sets (`trajectories` r) over the `vary` ranges on the batch engine, and
    returns a Dataset over `parameter` (and `point` x `parameter`) with `mean_mu_star` (how many sigmas a
    parameter moves the data on average: the screening that picks what to calibrate), `mu_star` and
    `sigma`.
    """
    from .analysis import calibration as cal
    from .analysis.ensemble import parse_vary

    resolved = resolve(scenario, set=set)
    uncertainties = parse_vary(vary, resolved.model)
    table = cal.read_data(data, resolved.model, resolved.controls)
    resolved.model.compiled(progress=progress is not False)
    objective = cal.Objective(resolved, uncertainties, table)
    found = cal.screen(objective, trajectories=trajectories, seed=seed)
    names = [u.name for u in uncertainties]
    return xr.Dataset(
        {"mean_mu_star": (("parameter",), found["mean_mu_star"]),
         "mu_star": (("point", "parameter"), found["mu_star"]), "sigma": (("point", "parameter"), found["sigma"]),
         "low": (("parameter",), [u.low for u in uncertainties]), "high": (("parameter",), [u.high for u in uncertainties])},
        coords={"parameter": names, "point": table["id"].astype(str).to_numpy()},
        attrs={"scenario": resolved.scenario.name, "runs": found["runs"], "trajectories": trajectories, "seed": seed})


# --- catalogue -------------------------------------------------------------------------------------
def scenarios() -> dict[str, Scenario]:
    """Every scenario in `runs/`, by name."""
    return {name: load_scenario(name) for name in scenario_files()}


def policies() -> dict:
    """Every policy lever, by name (see `sdlib.core.policy.Policy`)."""
    return available_policies()


# --- ensembles -------------------------------------------------------------------------------------
def ensemble(scenario: str | Path | Scenario = "baseline", *, vary: list, n: int, method: str = "lhs",
             outcomes: list[str] | None = None, seed: int = 0, set: dict | None = None,
             policies: list[dict] | None = None, final_time=None, time_step=None, at: float | None = None,
             scheduler: str = "local", address: str | None = None, chunk: int = 2000,
             out: str | Path | None = None, plots: bool = True, progress: bool | None = None) -> xr.Dataset:
    """Sample uncertain parameters (and lever arguments), run them all on the batch engine, analyse.

    Parameters
    ----------
    vary : list of Uncertainty or str
        What to vary: `Uncertainty(name, low, high)`, or strings "NAME=LO:HI", or "NAME" alone for
        an uncertainty the model declares (`<model>-display.toml`). A lever argument is written
        "POLICY.ARGUMENT", e.g. "token-price-subsidy.size=0:0.5".
    n : int
        Runs (mc, lhs), base samples (sobol: a power of two, n(D+2) runs) or trajectories
        (morris: n(D+1) runs).
    method : {"mc", "lhs", "sobol", "morris"}
    outcomes : list of str, optional
        Variables to keep (default: the model's declared outcomes).
    at : float, optional
        Year of the sensitivity analysis (default: the final time).

    Returns
    -------
    Dataset with one variable per outcome (`run` x `time`), each varied value as a run
    coordinate (its name with underscores; the Vensim name in its `vensim_name` attribute),
    `status` and `diverged_at` per run, and for sobol and morris the indices at `at`
    (`S1`, `ST`, ... or `mu_star`, `sigma`, ..., dims `outcome` x `parameter`).
    """
    from .analysis import ensemble as ens

    _check_count(n, "n", "a positive whole number of runs", low=1)
    _check_count(seed, "seed", "a whole number from 0 to 2**32 - 1", low=0, high=2**32 - 1)
    _check_count(chunk, "chunk", "a positive whole number of runs per chunk", low=1)
    if scheduler not in ("local", "dask"):
        raise BadInput(f"scheduler: unknown scheduler '{scheduler}' (expected local or dask)", "scheduler")
    if address is not None and (scheduler != "dask" or not re.fullmatch(r"(tcp|tls|inproc|ucx)://[^\s/]+|[^\s/:]+:\d+",
                                                                        str(address))):
        raise BadInput(f"address: {str(address)[:80]!r} is not a Dask scheduler address (expected e.g. "
                       f"tcp://127.0.0.1:8786, with --scheduler dask)", "address")
    resolved = resolve(scenario, set=set, policies=policies, final_time=final_time, time_step=time_step)
    model = resolved.model
    uncertainties = ens.parse_vary(vary, model)
    for u in uncertainties:
        if not u.is_lever and model.parameters[name_key(u.name)].is_switch:
            raise BadInput(f"vary: '{u.name}' is a switch (whole values only, its range has step 1); sampling it "
                           f"between {u.low:g} and {u.high:g} would mix its settings: run each setting apart "
                           f"(--set \"{u.name}=...\")", "vary")
    outcomes = [model.spec[name].name for name in (outcomes or model.display.outcomes or model.variables()[:5])]
    if len({name_key(name): name for name in outcomes}) != len(outcomes):
        raise BadInput(f"outcomes: a variable is given twice ({', '.join(outcomes)})", "outcomes")
    varying = model.variables()
    still = [name for name in outcomes if name not in varying]
    if still:
        raise BadInput(f"outcomes: {', '.join(repr(s) for s in still)} is not a variable that changes over a run "
                       f"(a constant, lookup or control); expected one of the model's variables", "outcomes")
    moved = {u.name for u in uncertainties if not u.is_lever}
    clash = sorted(moved & {*resolved.policy_overrides})  # (`set` here is the argument)
    if clash:
        raise BadInput(f"vary: {', '.join(clash)} is also moved by a policy; vary it or let the policy set it", "vary")
    controls = resolved.controls
    year = controls.final_time if at is None else float(at)
    if not controls.initial_time <= year <= controls.final_time:
        raise BadInput(f"at: {year:g} is outside the run {controls.initial_time:g}-{controls.final_time:g}", "at")
    runs = ens.run_count(method, n, len(uncertainties))
    if runs > MAX_RUNS:
        raise BadInput(f"n: {n:,} makes {runs:,} runs (limit {MAX_RUNS:,}); use fewer", "n")
    check_size(resolved, outcomes, runs=runs, what="the ensemble")
    samples = ens.sample(uncertainties, method, n, seed)
    with claimed(out) as target:  # before any work: taken, or refused now
        if target is not None:
            target.check_space(estimated_size(resolved.controls.n_saved, len(outcomes), runs))
        model.compiled(progress=progress is not False)
        started = clock.perf_counter()
        dataset = ens.run_samples(resolved, uncertainties, samples, outcomes, chunk, scheduler, address, progress)
        seconds = clock.perf_counter() - started
        dataset = _finish_ensemble(dataset, resolved, uncertainties, method, samples, outcomes, year, n, seed,
                                   scheduler, seconds)
        if target is not None:
            from .folders import save_ensemble

            save_ensemble(dataset, target, plots=plots)
            dataset.attrs["folder"] = str(target.target)
    return dataset


MAX_RUNS = 10_000_000


def _check_count(value, argument: str, expected: str, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (
            high is not None and value > high):
        raise BadInput(f"{argument}: {str(value)[:40]} is not {expected}", argument)


def _finish_ensemble(dataset, resolved, uncertainties, method, samples, outcomes, year, n, seed, scheduler, seconds):
    from .analysis import ensemble as ens

    model, controls = resolved.model, resolved.controls
    dataset = ens.with_indices(dataset, uncertainties, method, samples, outcomes, year)
    dataset.attrs.update({
        "scenario": resolved.scenario.name, "method": method, "n": n, "seed": seed, "analysis_year": year,
        "scheduler": scheduler, "seconds": round(seconds, 3), "overrides": json.dumps(resolved.overrides),
        "policies": json.dumps(resolved.policies), "model_file": display_path(model.path),
        "model_sha256": model.spec.sha256, **controls.as_dict(),
        "varied": json.dumps([{"name": u.name, "low": u.low, "high": u.high} for u in uncertainties]),
    })
    return dataset


# --- loops -----------------------------------------------------------------------------------------
def loops(target: str | Path | Scenario = "baseline", *, max_loops: int = 20, dominance: bool = False,
          final_time=None, set: dict | None = None, policies: list[dict] | None = None,
          progress: bool = False) -> xr.Dataset:
    """The feedback loops of a model or scenario: every loop counted, the listed ones described.

    Returns a Dataset with dimension `loop` (the `max_loops` shortest loops, or with `dominance`
    the most important ones by Loops That Matter) with each loop's `polarity`, `length`,
    `variables` (joined by " -> "), `name` and `family` (from `<model>-loops.toml`); with
    `dominance`, `score` (loop x time) and the families' `family_share` and `family_score`
    (family x time). `attrs` hold the exact `count` (or, when `found_by` is "discovery", how many
    loops the strongest-path search found along the run of a model with more than
    `enumeration_limit` loops, too many to enumerate), `by_polarity` (reinforcing, balancing,
    undetermined: a link's sign changes during the run, inactive: a link never acts in it), the
    graph's size, the links whose sign the run settled (`links_signed_by_run`) and where the
    sketch disagrees with the equations (`sketch`, JSON). A subscripted model's loops run over
    array elements (`Population[north] -> births[north]`): `over_arrays` is 1, `count` counts
    them and `variable_loops` the loops of its variables.
    """
    from .analysis.loops_report import loop_report

    if isinstance(max_loops, bool) or not isinstance(max_loops, (int, np.integer)) or max_loops < 1:
        raise BadInput(f"max_loops: {max_loops} is not positive (expected a number of loops to list)", "max_loops")
    resolved = resolve(target, set=set, policies=policies, final_time=final_time)
    check_size(resolved, what="the run that signs the links")
    if dominance:
        check_size(resolved, every_step=True, what="the loop dominance analysis (every time step of every variable)")
    return loop_report(resolved, max_loops=max_loops, dominance=dominance, progress=progress)


# --- comparisons -----------------------------------------------------------------------------------
def compare(runs: list, *, indicators: list[str] | None = None, years=(2030, 2050, 2100), threshold: float = 0.05,
            out: str | Path | None = None, plots: bool = True) -> xr.Dataset:
    """Runs side by side: the first is the reference, the others' differences from it marked.

    Each item is a run folder, a scenario (run now) or a Dataset from `run`. Returns a Dataset
    with dimensions `run` (labelled) x `time` for each indicator, its `relative_difference`
    from the reference, and the table at `years` (`value_at`, `relative_at`, `marked`).
    """
    from .analysis.compare import compare_runs
    from .folders import save_comparison

    if isinstance(runs, (str, Path)) or len(runs) < 2:
        raise BadInput("runs: expected at least two runs or scenarios to compare (the first is the reference)", "runs")
    try:
        years = [float(y) for y in years]
    except (TypeError, ValueError):
        raise BadInput(f"years: {years!r} are not all numbers (expected years, e.g. 2030,2050,2100)", "years") from None
    if not years or not all(np.isfinite(years)):
        raise BadInput("years: expected at least one finite year, e.g. 2030,2050,2100", "years")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold < np.inf:
        raise BadInput(f"threshold: {threshold!r} is not a relative difference >= 0 (e.g. 0.05 for 5%)", "threshold")
    with claimed(out) as target:  # before any work: taken, or refused now
        items = [_compared(item) for item in runs]
        models = {str(data.attrs.get("model_file", "")) for _, _, data in items} - {""}
        if len(models) > 1:
            raise BadInput(f"runs: these runs are of different models ({', '.join(sorted(models))}); compare runs of "
                           f"one model", "runs")
        common = set.intersection(*({str(v) for v in data.data_vars} for _, _, data in items))
        names: list[str] = list(indicators or [])
        if not names:
            names = [n for n in Model.load().display.headline if n in common] or sorted(common)[:24]
        if not names:
            raise BadInput("runs: these runs share no variable to compare", "runs")
        missing = [n for n in names if n not in common]
        if missing:
            raise BadInput(f"indicators: {', '.join(repr(m) for m in missing[:5])} is not in every run "
                           f"(expected one of the variables all runs hold)", "indicators")
        dataset = compare_runs(items, names, years, threshold)
        if target is not None:
            save_comparison(dataset, target, plots=plots)
            dataset.attrs["folder"] = str(target.target)
    return dataset


def _compared(item) -> tuple[str, str, xr.Dataset]:
    """(label, source, Dataset) of a run folder, a Dataset or a scenario run now."""
    if isinstance(item, xr.Dataset):
        return str(item.attrs.get("scenario", "run")), "dataset", item
    path = Path(str(item))
    if path.is_dir():
        return path.name, str(path), open_run(path)
    return path.stem if path.suffix else str(item), f"scenario {item}", run(item)


def open_run(folder: str | Path) -> xr.Dataset:
    """A run folder's results as a Dataset (results.nc; timeseries.csv for folders written before it)."""
    from .core.rundir import read_run

    return read_run(Path(folder))


def frame(dataset: xr.Dataset, run: int = 0) -> pd.DataFrame:
    """One run of a Dataset as a pandas table (index time, one column per variable)."""
    from .core.rundir import timeseries_frame

    return timeseries_frame(dataset, run)


__all__ = ["Resolved", "as_scenario", "calibrate", "check", "compare", "ensemble", "frame", "loops", "open_run", "policies",
           "resolve", "run", "save_run", "scenarios", "screen"]
