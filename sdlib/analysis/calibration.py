"""Calibration: parameters estimated from data, with their uncertainty, on the batch engine.

The data are points `variable, time, value, sigma` (sigma: one standard deviation in the variable's
units). The likelihood is Gaussian and independent across points, chi2 = sum(((model - value) /
sigma)^2); the priors are uniform on the ranges varied. Two methods share it:

- least squares (scipy's trust-region reflective `least_squares`, from the best of a Latin hypercube
  of starts; the Jacobian's finite differences run as one batch of parameter sets), with the Laplace
  approximation of the posterior (a normal truncated to the ranges) for its intervals;
- MCMC (emcee's affine-invariant ensemble sampler with `vectorize=True`: every walker of a step runs in
  one call of the batch engine), started around the least-squares fit, summarised as ArviZ does
  (R-hat, bulk and tail effective sample sizes).

Parameters are sampled on the unit cube (u = (theta - low) / (high - low)); results are in model units.

>>> objective = Objective(resolved, uncertainties, data)          # doctest: +SKIP
>>> fit = least_squares(objective, seed=0)                        # doctest: +SKIP
>>> fit["theta"], fit["chi2"]                                     # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.controls import Controls
from ..core.errors import BadInput
from ..core.spec import name_key
from .anchors import COLUMNS as ANCHOR_COLUMNS
from .anchors import anchors_as_data, data_lines, load_anchors, number, read_table

DATA_COLUMNS = ("variable", "time", "value", "sigma")
PENALTY = 1e3  # the residual given to each point of a run that diverged (least squares needs numbers)


# ---------------------------------------------------------------- data

def read_data(path: str | Path, model, controls: Controls) -> pd.DataFrame:
    """Calibration data from a CSV file, checked: `variable,time,value,sigma` (an `id` column is kept),
    or an anchor registry (`id,variable,year,low,central,high,...`, read with sigma = (high - low) / 4).

    Every variable must be a time-varying variable of the model, every time within the run, every value
    finite and every sigma positive; an error names the file and line.
    """
    path = Path(path)
    table = read_table(path)
    if set(ANCHOR_COLUMNS) <= set(table.columns):
        data = anchors_as_data(load_anchors(path, model.spec))
        lines = data_lines(path)
    else:
        missing = [c for c in DATA_COLUMNS if c not in table.columns]
        if missing:
            raise BadInput(f"{path}: missing column(s) {', '.join(missing)} (expected {', '.join(DATA_COLUMNS)}, "
                           f"or an anchor registry's {', '.join(ANCHOR_COLUMNS[:6])})")
        lines = data_lines(path)
        rows = []
        for line, row in zip(lines, table.to_dict("records"), strict=False):
            rows.append({"variable": row["variable"].strip(),
                         **{c: number(path, line, c, row[c]) for c in ("time", "value", "sigma")},
                         "id": row.get("id", "").strip() or f"line {line}"})
        data = pd.DataFrame(rows, columns=["variable", "time", "value", "sigma", "id"])
        data["low"], data["high"] = data["value"] - 2 * data["sigma"], data["value"] + 2 * data["sigma"]
    if data.empty:
        raise BadInput(f"{path}: no data rows (expected {', '.join(DATA_COLUMNS)})")
    variables = {name_key(name): name for name in model.variables()}
    t0, t1 = controls.initial_time, controls.final_time
    names = []
    for line, row in zip(lines, data.to_dict("records"), strict=False):
        where = f"{path.name} line {line}"
        name = variables.get(name_key(row["variable"]))
        if name is None:
            known = row["variable"] in model.spec
            raise BadInput(f"{where}: {row['variable']!r} is " + ("a constant of the model, not a variable it computes "
                           "(vary it instead)" if known else f"no variable of {model.path.name}"))
        names.append(name)
        if not t0 <= row["time"] <= t1:
            raise BadInput(f"{where}: time {row['time']:g} is outside the run {t0:g}-{t1:g}")
        if not row["sigma"] > 0:
            raise BadInput(f"{where}: sigma {row['sigma']:g} must be positive (one standard deviation, "
                           f"in the variable's units)")
    data["variable"] = names
    return data.reset_index(drop=True)


def grid_until(controls: Controls, year: float) -> Controls:
    """The run's time grid saving every step, from the initial time to `year` (rounded up to a step)."""
    steps = max(1, math.ceil((year - controls.initial_time) / controls.time_step - 1e-9))
    return Controls(controls.initial_time, controls.initial_time + steps * controls.time_step, controls.time_step,
                    controls.time_step)


# ---------------------------------------------------------------- the model as a function of the parameters

class Objective:
    """The model at the data points as a function of the varied parameters, on the batch engine.

    `predict(u)` runs one parameter set per row of `u` (the unit cube) in one call and returns the
    model at every data point (NaN for a run that diverged); `evaluations` counts parameter sets run.
    Points of variables that no varied parameter reaches (through the model's equations) are computed
    once, so that runs stop at the last point the parameters can move.
    """

    def __init__(self, resolved, uncertainties, data: pd.DataFrame, engine: str = "batch"):
        self.model = resolved.model
        self.names = [u.name for u in uncertainties]
        self.low = np.array([u.low for u in uncertainties], dtype=float)
        self.high = np.array([u.high for u in uncertainties], dtype=float)
        self.base = {k: v for k, v in resolved.params.items() if k not in set(self.names)}
        self.data = data.reset_index(drop=True)
        self.value = self.data["value"].to_numpy(dtype=float)
        self.sigma = self.data["sigma"].to_numpy(dtype=float)
        self.engine = engine
        self.evaluations = 0
        reached = downstream(self.model.spec, self.names)
        self.moved = np.array([v in reached for v in self.data["variable"]])
        self.fixed = np.full(len(self.value), np.nan)
        if not self.moved.all():  # what the parameters cannot move: one run of the scenario as it is
            still = ~self.moved
            self.fixed[still] = self._at_points(self.low[None, :], still, resolved.controls)[0]
        moved = self.moved if self.moved.any() else np.ones(len(self.value), dtype=bool)
        self.columns = sorted(set(self.data["variable"][moved]))
        self.controls = grid_until(resolved.controls, float(self.data["time"][moved].max()))

    def _at_points(self, theta: np.ndarray, which: np.ndarray, controls: Controls) -> np.ndarray:
        """The model at the data points `which` (a mask), runs x points."""
        points = self.data[which]
        columns = sorted(set(points["variable"]))
        grid = grid_until(controls, float(points["time"].max()))
        data = self.run(theta, columns=columns, controls=grid)
        values = np.stack([data[name].to_numpy() for name in columns])  # column x run x time
        position = (points["time"].to_numpy(dtype=float) - grid.initial_time) / grid.time_step
        i0 = np.clip(np.floor(position + 1e-9).astype(int), 0, grid.n_steps - 1)
        w = np.clip(position - i0, 0.0, 1.0)
        column = np.array([columns.index(v) for v in points["variable"]])
        found = np.full((values.shape[1], len(points)), np.nan)
        ok = i0 + 1 < values.shape[2]  # a run that diverged saved fewer times
        a, b = values[column[ok], :, i0[ok]], values[column[ok], :, i0[ok] + 1]
        found[:, ok] = ((1 - w[ok])[:, None] * a + w[ok][:, None] * b).T
        return found

    @property
    def dim(self) -> int:
        return len(self.names)

    def theta(self, u: np.ndarray) -> np.ndarray:
        """Unit cube -> parameter values."""
        return self.low + np.asarray(u, dtype=float) * (self.high - self.low)

    def unit(self, theta: np.ndarray) -> np.ndarray:
        return (np.asarray(theta, dtype=float) - self.low) / (self.high - self.low)

    def run(self, theta: np.ndarray, columns: list[str] | None = None, controls: Controls | None = None):
        """The model for each row of `theta` (model units): a run x time Dataset."""
        theta = np.atleast_2d(theta)
        params = {**self.base, **{name: theta[:, j].copy() for j, name in enumerate(self.names)}}
        self.evaluations += len(theta)
        return self.model.run(params, controls or self.controls, n=len(theta), columns=columns or self.columns,
                              engine=self.engine, progress=False)

    def predict(self, u: np.ndarray) -> np.ndarray:
        """The model at every data point for each row of `u` (runs x points); NaN where a run diverged."""
        u = np.atleast_2d(u)
        found = np.tile(self.fixed, (len(u), 1))
        if self.moved.any():
            found[:, self.moved] = self._at_points(self.theta(u), self.moved, self.controls)
        return found

    def residuals(self, u: np.ndarray) -> np.ndarray:
        return (self.predict(u) - self.value) / self.sigma

    def log_prob(self, u: np.ndarray) -> np.ndarray:
        """Log posterior up to a constant: -chi2/2 inside the unit cube (uniform priors), -inf outside."""
        u = np.atleast_2d(u)
        inside = np.all((u >= 0) & (u <= 1), axis=1)
        found = np.full(len(u), -np.inf)
        if inside.any():
            chi2 = np.sum(self.residuals(u[inside]) ** 2, axis=1)
            found[inside] = np.where(np.isfinite(chi2), -0.5 * chi2, -np.inf)
        return found


def downstream(spec, names: list[str]) -> set[str]:
    """Every element (by its model name) whose value depends on any of `names`, through equations or
    initial values."""
    users: dict[str, set[str]] = {}
    for key, element in spec.elements.items():
        for dep in element.deps | element.initial_deps:
            users.setdefault(dep, set()).add(key)
    todo = [name_key(spec[name].name) for name in names]
    seen = set(todo)
    while todo:
        for user in users.get(todo.pop(), ()):
            if user not in seen:
                seen.add(user)
                todo.append(user)
    return {spec.elements[key].name for key in seen}


# ---------------------------------------------------------------- least squares

def least_squares(objective: Objective, seed: int = 0, starts: int = 3, design: int | None = None,
                  start: np.ndarray | None = None, progress=None) -> dict:
    """The best fit within the ranges (scipy `least_squares`, trust-region reflective), from the best
    `starts` points of a Latin hypercube of `design` points (and `start`, the scenario's own values).

    Returns `u` and `theta` (the fit), `chi2`, `converged`, `message`, `cov_u` (the Laplace
    approximation's covariance on the unit cube: (J'J)^-1 at the fit), `jacobian` and `nfev`.
    """
    from scipy.optimize import least_squares as scipy_least_squares
    from scipy.stats import qmc

    d = objective.dim
    design = design or max(16, 8 * d)
    points = qmc.LatinHypercube(d=d, seed=seed).random(design)
    if start is not None:
        points = np.vstack([np.clip(start, 0, 1), points])
    chi2 = np.sum(np.nan_to_num(objective.residuals(points), nan=PENALTY) ** 2, axis=1)
    cache: dict = {}
    step = 1e-6 ** 0.5

    def fun(u):
        key = u.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = np.nan_to_num(objective.residuals(u[None, :])[0], nan=PENALTY)
        return cache[key]

    def jac(u):
        f0 = fun(u)
        h = np.where(u + step <= 1, step, -step)
        shifted = u + np.diag(h)
        f = np.nan_to_num(objective.residuals(shifted), nan=PENALTY)
        return ((f - f0) / h[:, None]).T

    best = None
    for k in np.argsort(chi2)[:starts]:
        result = scipy_least_squares(fun, points[k], jac=jac, bounds=(0, 1), method="trf", x_scale="jac",
                                     max_nfev=100 * d, xtol=1e-10, ftol=1e-10, gtol=1e-10)
        if progress is not None:
            progress.update(1)
        if best is None or result.cost < best.cost:
            best = result
    assert best is not None
    J = jac(best.x)
    cov = np.linalg.pinv(J.T @ J)
    return {"u": best.x, "theta": objective.theta(best.x), "chi2": float(2 * best.cost),
            "converged": bool(best.success), "message": str(best.message), "cov_u": cov, "jacobian": J,
            "nfev": int(best.nfev)}


def laplace_draws(fit: dict, n: int, seed: int = 0) -> np.ndarray:
    """Draws (unit cube) from the Laplace approximation at a least-squares fit, truncated to the ranges."""
    rng = np.random.default_rng(seed)
    cov = fit["cov_u"]
    kept: list = []
    for _ in range(50):
        x = rng.multivariate_normal(fit["u"], cov, size=4 * n, method="eigh")
        kept.extend(x[np.all((x >= 0) & (x <= 1), axis=1)])
        if len(kept) >= n:
            break
    if len(kept) < n:  # a fit far outside the cube's interior: clip what is missing
        extra = np.clip(rng.multivariate_normal(fit["u"], cov, size=n - len(kept), method="eigh"), 0, 1)
        kept.extend(extra)
    return np.array(kept[:n])


# ---------------------------------------------------------------- MCMC

START_SPREAD = 0.01  # least spread (unit cube) of the walkers' start in each parameter


def starting_points(fit: dict, walkers: int, seed: int = 0) -> np.ndarray:
    """Walkers' start: draws of the Laplace approximation at the fit; a parameter the draws leave (nearly) without
    spread, as a fit pressed against a bound can, starts uniformly within START_SPREAD of the fit instead (emcee
    needs linearly independent walkers, and differential-evolution moves never widen a dimension they start
    without)."""
    p0 = laplace_draws(fit, walkers, seed)
    distinct = np.array([len(np.unique(p0[:, j])) for j in range(p0.shape[1])])
    narrow = (p0.std(axis=0) < START_SPREAD / 2) | (distinct < walkers // 2)
    if narrow.any():
        rng = np.random.default_rng(seed + 2)
        x = fit["u"][narrow] + rng.uniform(-START_SPREAD, START_SPREAD, size=(walkers, int(narrow.sum())))
        p0[:, narrow] = np.where(x < 0, -x, np.where(x > 1, 2 - x, x))  # reflected into the cube
    return np.clip(p0, 1e-9, 1 - 1e-9)


def mcmc(objective: Objective, fit: dict, samples: int = 10000, walkers: int | None = None,
         burn: int | None = None, seed: int = 0, progress: bool = False) -> dict:
    """Sample the posterior with emcee (vectorised: each step's walkers run in one batch call).

    `samples` draws are kept (walkers x steps after `burn` burn-in steps, by default as many as kept);
    walkers start from the Laplace approximation at the least-squares `fit` (its truncated normal), so
    that burn-in only has to correct its shape. Returns `chain` (walker x
    step x parameter, unit cube), `log_prob` (walker x step), `acceptance`, `autocorr` (emcee's
    integrated autocorrelation time per parameter, in steps) and the counts.
    """
    import emcee

    d = objective.dim
    walkers = walkers or max(32, 2 * (d + 1))
    walkers += walkers % 2
    steps = max(1, math.ceil(samples / walkers))
    burn = steps if burn is None else int(burn)
    p0 = starting_points(fit, walkers, seed)
    # Differential-evolution moves (ter Braak 2006; emcee's DEMove and DESnookerMove) mix better than the
    # stretch move alone on posteriors pressed against a prior bound or curved by the model's limits.
    moves = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
    sampler = emcee.EnsembleSampler(walkers, d, objective.log_prob, vectorize=True, moves=moves)
    sampler.random_state = np.random.RandomState(seed).get_state()
    sampler.run_mcmc(p0, burn + steps, progress=progress, progress_kwargs={"desc": "mcmc", "unit": "step"})
    chain = np.swapaxes(sampler.get_chain(discard=burn), 0, 1)
    log_prob = np.swapaxes(sampler.get_log_prob(discard=burn), 0, 1)
    emcee_log = logging.getLogger("emcee")
    level = emcee_log.level
    emcee_log.setLevel(logging.ERROR)  # its "chain too short" warning: the report's R-hat and ESS say so
    try:
        tau = sampler.get_autocorr_time(discard=burn, quiet=True) if steps > 1 else np.full(d, np.nan)
    finally:
        emcee_log.setLevel(level)
    return {"chain": chain, "log_prob": log_prob, "acceptance": float(np.mean(sampler.acceptance_fraction)),
            "autocorr": np.asarray(tau, dtype=float), "walkers": walkers, "steps": steps, "burn": burn}


def diagnostics(chain_theta: np.ndarray, names: list[str]) -> dict:
    """ArviZ's R-hat (rank-normalised split) and bulk / tail effective sample sizes per parameter,
    the walkers taken as chains (chain x draw x parameter)."""
    import warnings

    import xarray as xr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az

    data = xr.Dataset({f"p{j}": (("chain", "draw"), chain_theta[:, :, j]) for j in range(len(names))})
    rhat, bulk, tail = az.rhat(data), az.ess(data, method="bulk"), az.ess(data, method="tail")
    return {name: {"r_hat": float(rhat[f"p{j}"]), "ess_bulk": float(bulk[f"p{j}"]), "ess_tail": float(tail[f"p{j}"])}
            for j, name in enumerate(names)}


def summary(draws_theta: np.ndarray, best_theta: np.ndarray, names: list[str]) -> dict:
    """Each parameter's best value, median, mean, sd and 5th / 95th percentiles over the draws."""
    found = {}
    for j, name in enumerate(names):
        x = draws_theta[:, j]
        found[name] = {"value": float(best_theta[j]), "low": float(np.percentile(x, 5)),
                       "high": float(np.percentile(x, 95)), "median": float(np.median(x)), "mean": float(np.mean(x)),
                       "sd": float(np.std(x, ddof=1)) if len(x) > 1 else 0.0}
    return found


# ---------------------------------------------------------------- screening

def screen(objective: Objective, trajectories: int = 20, seed: int = 0) -> dict:
    """Morris elementary effects of each varied parameter on every data point's standardised residual
    z = (model - value) / sigma, over the ranges varied (SALib; r trajectories, r (D + 1) runs in one call).

    Returns `mu_star` and `sigma` (point x parameter, in units of the points' sigmas) and their means over
    the points (`mean_mu_star`: how many sigmas a parameter moves the data on average).
    """
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    problem = {"num_vars": objective.dim, "names": objective.names, "bounds": [[0.0, 1.0]] * objective.dim}
    u = sample.sample(problem, trajectories, seed=seed)
    z = objective.residuals(u)
    mu_star = np.full((z.shape[1], objective.dim), np.nan)
    sigma = np.full_like(mu_star, np.nan)
    for k in range(z.shape[1]):
        if np.all(np.isfinite(z[:, k])):
            res = analyze.analyze(problem, u, z[:, k], seed=seed)
            mu_star[k], sigma[k] = res["mu_star"], res["sigma"]
    return {"mu_star": mu_star, "sigma": sigma, "mean_mu_star": np.nanmean(mu_star, axis=0), "runs": len(u)}
