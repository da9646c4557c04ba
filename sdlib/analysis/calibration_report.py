"""One calibration from a resolved scenario to its labelled result: data read and checked, the fit
(least squares, then MCMC if asked), the posterior summarised, the model's band over the data, the
held-out points scored. `sdlib.calibrate` calls it; `sdlib.folders.save_calibration` writes it.
"""

from __future__ import annotations

import json
import time as clock

import numpy as np
import xarray as xr

from ..core.errors import BadInput, require
from ..core.paths import display_path
from . import calibration as cal
from .ensemble import coordinate_name, parse_vary

BAND_DRAWS = 200  # posterior draws run over time for the bands
LAPLACE_DRAWS = 4000  # draws of the least-squares posterior approximation
R_HAT_LIMIT = 1.01  # Vehtari et al. (2021): R-hat below 1.01 and bulk ESS above 400
ESS_LIMIT = 400


def calibrate_resolved(resolved, *, data, vary, method, seed, holdout, samples, walkers, burn, progress) -> xr.Dataset:
    from tqdm import tqdm

    model = resolved.model
    uncertainties = parse_vary(vary, model)
    levers = [u.name for u in uncertainties if u.is_lever]
    if levers:
        raise BadInput(f"vary: '{levers[0]}' is a lever's argument; calibrate fits model parameters", "vary")
    clash = sorted({u.name for u in uncertainties} & {*resolved.policy_overrides})
    if clash:
        raise BadInput(f"vary: {', '.join(clash)} is also moved by a policy; fit it or let the policy set it", "vary")
    if samples < 1:
        raise BadInput(f"samples: {samples} is not a positive number of draws", "samples")
    if walkers is not None and walkers < 2 * len(uncertainties):
        raise BadInput(f"walkers: {walkers} is too few (expected at least twice the {len(uncertainties)} parameters)",
                       "walkers")
    if burn is not None and burn < 0:
        raise BadInput(f"burn: {burn} is not a number of steps (expected 0 or more)", "burn")
    table = cal.read_data(data, model, resolved.controls)
    fitted = (table["time"] <= holdout).to_numpy() if holdout is not None else np.ones(len(table), dtype=bool)
    if holdout is not None:
        holdout = float(holdout)
        if not fitted.any():
            raise BadInput(f"holdout: no data at or before {holdout:g} to fit", "holdout")
        if fitted.all():
            raise BadInput(f"holdout: no data after {holdout:g} to hold out", "holdout")
    require("numba", "batch", "calibration (it runs on the batch engine)")
    if method == "mcmc":
        require("emcee", "calibrate", "MCMC calibration")
    if len(uncertainties) > int(fitted.sum()):
        raise BadInput(f"vary: {len(uncertainties)} parameters cannot be fitted to {int(fitted.sum())} data points",
                       "vary")
    model.compiled(progress=progress is not False)
    started = clock.perf_counter()
    objective = cal.Objective(resolved, uncertainties, table[fitted])
    current = np.array([resolved.parameters()[u.name] for u in uncertainties], dtype=float)
    start = objective.unit(current) if np.all((current >= objective.low) & (current <= objective.high)) else None
    with tqdm(total=3, desc="least squares", unit="start", disable=True if progress is False else None) as bar:
        fit = cal.least_squares(objective, seed=seed, start=start, progress=bar)
    names = objective.names
    d = len(names)
    report_fit: dict = {"method": method, "converged": fit["converged"], "message": fit["message"]}
    if method == "mcmc":
        chain = cal.mcmc(objective, fit, samples=samples, walkers=walkers, burn=burn, seed=seed,
                         progress=progress is not False)
        chain_u, log_prob = chain["chain"], chain["log_prob"]
        i = np.unravel_index(np.argmax(log_prob), log_prob.shape)
        best_u = chain_u[i] if log_prob[i] > -0.5 * fit["chi2"] else fit["u"]
        diag = cal.diagnostics(objective.theta(chain_u), names)
        worst_rhat = max(v["r_hat"] for v in diag.values())
        least_ess = min(v["ess_bulk"] for v in diag.values())
        report_fit.update({
            "converged": bool(worst_rhat <= R_HAT_LIMIT and least_ess >= ESS_LIMIT),
            "convergence_rule": f"every R-hat <= {R_HAT_LIMIT} and bulk ESS >= {ESS_LIMIT} (Vehtari et al. 2021)",
            "least_squares_converged": fit["converged"], "walkers": chain["walkers"], "steps": chain["steps"],
            "burn": chain["burn"], "samples": int(chain_u.shape[0] * chain_u.shape[1]),
            "acceptance": chain["acceptance"], "max_r_hat": worst_rhat, "min_ess_bulk": least_ess,
            "autocorr_steps": {n: float(t) for n, t in zip(names, chain["autocorr"], strict=True)},
        })
        for n, t in zip(names, chain["autocorr"], strict=True):
            diag[n]["autocorr_steps"] = float(t)
    else:
        chain_u = cal.laplace_draws(fit, LAPLACE_DRAWS, seed)[None, :, :]
        log_prob = np.full(chain_u.shape[:2], np.nan)
        best_u = fit["u"]
        diag = {n: {} for n in names}
        report_fit.update({"nfev": fit["nfev"], "posterior": "Laplace approximation at the fit ((J'J)^-1 on the "
                           "unit cube), truncated to the ranges"})
    draws_u = chain_u.reshape(-1, d)
    best_theta = objective.theta(best_u)
    parameters = cal.summary(objective.theta(draws_u), best_theta, names)
    for j, u in enumerate(uncertainties):
        parameters[u.name].update({"prior": [u.low, u.high], "units": model.spec[u.name].units,
                                   "start": float(current[j]), **diag[u.name]})

    # The model over time for a sample of the posterior, and at every data point (fitted or held out).
    rng = np.random.default_rng(seed + 1)
    band_u = draws_u[rng.choice(len(draws_u), size=min(BAND_DRAWS, len(draws_u)), replace=False)]
    every = cal.Objective(resolved, uncertainties, table)
    series = sorted(set(table["variable"]))
    runs = every.run(every.theta(np.vstack([best_u, band_u])), columns=series,
                     controls=cal.grid_until(resolved.controls, float(table["time"].max())))
    at_points = every.predict(np.vstack([best_u, band_u]))
    seconds = clock.perf_counter() - started
    best_at, band_at = at_points[0], at_points[1:]
    p5, p50, p95 = (np.nanpercentile(band_at, q, axis=0) for q in (5, 50, 95))
    residual = (best_at - table["value"].to_numpy()) / table["sigma"].to_numpy()
    covered = (table["value"].to_numpy() >= p5) & (table["value"].to_numpy() <= p95)
    chi2 = float(np.sum(residual[fitted] ** 2))
    n_data = int(fitted.sum())
    report_fit.update({"chi2": chi2, "n_data": n_data, "dof": n_data - d,
                       "reduced_chi2": chi2 / (n_data - d) if n_data > d else None,
                       "evaluations": objective.evaluations + every.evaluations, "seconds": round(seconds, 3),
                       "runs_until": objective.controls.final_time})
    points = [{"id": str(r["id"]), "variable": r["variable"], "time": float(r["time"]), "value": float(r["value"]),
               "sigma": float(r["sigma"]), "range": [float(r["low"]), float(r["high"])], "model": float(best_at[k]),
               "median": float(p50[k]), "low": float(p5[k]),
               "high": float(p95[k]), "z": float(residual[k]), "covered": bool(covered[k]),
               "held_out": bool(not fitted[k])} for k, r in enumerate(table.to_dict("records"))]
    report = {"scenario": resolved.scenario.name, "method": method, "data": display_path(data), "seed": seed,
              "parameters": parameters, "fit": report_fit, "points": points, "holdout": None}
    if holdout is not None:
        held = [p for p in points if p["held_out"]]
        report["holdout"] = {
            "year": holdout, "points": len(held), "covered": sum(p["covered"] for p in held),
            "in_range": sum(p["range"][0] <= p["median"] <= p["range"][1] for p in held),
            "coverage": sum(p["covered"] for p in held) / len(held),
            "rms_z": float(np.sqrt(np.mean([p["z"] ** 2 for p in held]))),
            "errors": [{"id": p["id"], "variable": p["variable"], "time": p["time"], "value": p["value"],
                        "forecast": p["median"], "error": p["median"] - p["value"],
                        "relative_error": (p["median"] - p["value"]) / p["value"] if p["value"] else None,
                        "band": [p["low"], p["high"]], "covered": p["covered"],
                        "in_range": bool(p["range"][0] <= p["median"] <= p["range"][1])} for p in held],
        }
    return _dataset(report, uncertainties, objective, chain_u, log_prob, runs, series, table, fitted, best_at, p5,
                    p50, p95, resolved, model)


def _dataset(report, uncertainties, objective, chain_u, log_prob, runs, series, table, fitted, best_at, p5, p50, p95,
             resolved, model) -> xr.Dataset:
    theta = objective.theta(chain_u.reshape(-1, chain_u.shape[2])).reshape(chain_u.shape)
    data = {}
    for j, u in enumerate(uncertainties):
        data[coordinate_name(u.name)] = (("chain", "draw"), theta[:, :, j],
                                         {"vensim_name": u.name, "units": model.spec[u.name].units,
                                          "prior_low": u.low, "prior_high": u.high})
    data["log_prob"] = (("chain", "draw"), log_prob, {"description": "log posterior up to a constant: -chi2/2"})
    values = np.stack([runs[name].to_numpy() for name in series])  # series x run x time
    band = values[:, 1:, :]
    with np.errstate(all="ignore"):
        data["model_best"] = (("series", "time"), values[:, 0, :])
        for label, q in (("model_p5", 5), ("model_median", 50), ("model_p95", 95)):
            data[label] = (("series", "time"), np.nanpercentile(band, q, axis=1))
    point = {"data_value": table["value"].to_numpy(dtype=float), "data_sigma": table["sigma"].to_numpy(dtype=float),
             "model_at_point": best_at, "model_p5_at_point": p5, "model_median_at_point": p50,
             "model_p95_at_point": p95}
    for name, values_ in point.items():
        data[name] = (("point",), np.asarray(values_, dtype=float))
    coords = {
        "chain": np.arange(chain_u.shape[0]), "draw": np.arange(chain_u.shape[1]),
        "series": ("series", np.array(series, dtype=str)),
        "time": ("time", runs["time"].to_numpy(), {"units": model.spec["time step"].units}),
        "point": np.arange(len(table)),
        "point_id": ("point", table["id"].astype(str).to_numpy()),
        "point_variable": ("point", table["variable"].astype(str).to_numpy()),
        "point_time": ("point", table["time"].to_numpy(dtype=float)),
        "held_out": ("point", (~np.asarray(fitted)).astype(np.int8)),
    }
    units = {name: model.spec[name].units for name in series}
    attrs = {"scenario": resolved.scenario.name, "method": report["method"], "calibration": json.dumps(report),
             "series_units": json.dumps(units), "model_file": display_path(model.path),
             "model_sha256": model.spec.sha256, **resolved.controls.as_dict()}
    return xr.Dataset(data, coords=coords, attrs=attrs)
