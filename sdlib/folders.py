"""Result folders written whole or not at all: ensembles and comparisons (runs: see `sdlib.api.save_run`).

Each folder holds the result's Dataset as netCDF, its tables (JSON, CSV, Markdown), a manifest with
provenance, and its figures.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import xarray as xr

from .analysis.compare import markdown_table, table
from .analysis.ensemble import indices_of, summary
from .core.rundir import Claim, atomic_dir, provenance, write_json


def save_ensemble(dataset: xr.Dataset, target: Path | Claim, plots: bool = True) -> Path | Claim:
    """results.nc, sensitivity.json, summary.json, manifest.json and plots/, written atomically."""
    attrs = dataset.attrs
    outcomes = [str(name) for name in dataset.data_vars if dataset[name].dims == ("run", "time")]
    c0, c1 = float(attrs["initial_time"]), float(attrs["final_time"])
    year = float(attrs["analysis_year"])
    indices = indices_of(dataset)
    diverged = int((dataset["status"] != "ok").sum())
    with atomic_dir(target) as tmp:
        dataset.to_netcdf(tmp / "results.nc", engine="scipy")
        write_json(indices or {"method": attrs["method"], "note": attrs["sensitivity"]}, tmp / "sensitivity.json")
        years = sorted({y for y in (2030.0, 2050.0, 2100.0, year) if c0 <= y <= c1})
        write_json(summary(dataset, outcomes, years), tmp / "summary.json")
        write_json({
            "scenario": attrs["scenario"], "method": attrs["method"], "n": attrs["n"],
            "runs": int(dataset.sizes["run"]), "seed": attrs["seed"], "vary": json.loads(attrs["varied"]),
            "outcomes": outcomes, "analysis_year": year, "diverged_runs": diverged,
            "scheduler": attrs["scheduler"], "seconds": attrs["seconds"],
            "runs_per_second": round(dataset.sizes["run"] / max(attrs["seconds"], 1e-9), 1),
            "overrides": json.loads(attrs["overrides"]), "policies": json.loads(attrs["policies"]),
            "sensitivity": attrs["sensitivity"], "model_file": attrs["model_file"],
            **{k: attrs[k] for k in ("initial_time", "final_time", "time_step", "saveper")}, **provenance(),
        }, tmp / "manifest.json")
        if plots:
            from .plots.ensemble import fan_chart, indices_figure

            (tmp / "plots").mkdir()
            for outcome in outcomes:
                fan_chart(dataset, outcome).savefig(tmp / "plots" / f"fan-{_slug(outcome)}.png", dpi=100)
            if indices:
                indices_figure(indices, attrs["method"], year).savefig(tmp / "plots" / "sensitivity.png", dpi=100)
    return target


def save_comparison(dataset: xr.Dataset, target: Path | Claim, plots: bool = True) -> Path | Claim:
    """comparison.csv, comparison.md, comparison.nc, plots/ and manifest.json, written atomically."""
    with atomic_dir(target) as tmp:
        table(dataset).to_csv(tmp / "comparison.csv", index=False, float_format="%.17g")
        (tmp / "comparison.md").write_text(markdown_table(dataset), encoding="utf-8")
        dataset.to_netcdf(tmp / "comparison.nc", engine="scipy")
        if plots:
            from .plots.compare import comparison_figure
            from .plots.run import file_name

            (tmp / "plots").mkdir()
            for indicator in dataset["indicator"].to_numpy():
                comparison_figure(dataset, str(indicator)).savefig(tmp / "plots" / file_name(str(indicator)), dpi=100)
        write_json({"runs": [{"label": str(r), "source": str(s)} for r, s in
                             zip(dataset["run"].to_numpy(), dataset["source"].to_numpy(), strict=False)],
                    "reference": dataset.attrs["reference"], "years": [float(y) for y in dataset["year"].to_numpy()],
                    "threshold": dataset.attrs["threshold"],
                    "indicators": [str(i) for i in dataset["indicator"].to_numpy()],
                    "marked": int(dataset["marked"].sum()), **provenance()}, tmp / "manifest.json")
    return target


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def save_calibration(dataset: xr.Dataset, resolved, target: Path | Claim, plots: bool = True) -> Path | Claim:
    """calibration.json, scenario.toml, posterior.nc, fit.csv, manifest.json and plots/, written atomically."""
    import pandas as pd

    report = json.loads(dataset.attrs["calibration"])
    with atomic_dir(target) as tmp:
        write_json(report, tmp / "calibration.json")
        (tmp / "scenario.toml").write_text(calibrated_scenario(report, resolved), encoding="utf-8")
        dataset.to_netcdf(tmp / "posterior.nc", engine="scipy")
        pd.DataFrame(report["points"]).to_csv(tmp / "fit.csv", index=False, float_format="%.17g")
        write_json({"scenario": report["scenario"], "method": report["method"], "data": report["data"],
                    "seed": report["seed"], "command": dataset.attrs.get("command"),
                    "overrides": resolved.overrides, "policies": resolved.policies,
                    "model_file": dataset.attrs["model_file"], "model_sha256": dataset.attrs["model_sha256"],
                    **resolved.controls.as_dict(), **provenance()}, tmp / "manifest.json")
        if plots:
            from .plots.calibration import corner_figure, fit_figure, trace_figure

            (tmp / "plots").mkdir()
            for variable in dataset["series"].to_numpy():
                fit_figure(dataset, str(variable)).savefig(tmp / "plots" / f"fit-{_slug(str(variable))}.png", dpi=100)
            corner_figure(dataset).savefig(tmp / "plots" / "corner.png", dpi=90)
            if report["method"] == "mcmc":
                trace_figure(dataset).savefig(tmp / "plots" / "trace.png", dpi=90)
    return target


def calibrated_scenario(report: dict, resolved) -> str:
    """A scenario file that extends the calibrated scenario with the fitted values (best fit)."""
    from .core.scenario import scenario_files

    scenario = resolved.scenario
    in_runs = scenario.source is not None and scenario_files().get(scenario.name) == scenario.source
    extends = scenario.name if in_runs else str(scenario.source or scenario.model)
    fit = report["fit"]
    lines = [f"description = {json.dumps(_scenario_description(report))}",
             f"extends = {json.dumps(extends)}"]
    extra = {k: v for k, v in resolved.overrides.items() if k not in scenario.overrides and k not in report["parameters"]}
    lines += ["", f"# Fitted by `tokenworld calibrate` ({report['method']}, chi2 {fit['chi2']:.4g} on {fit['n_data']} points): "
              "best fit, with the 90% interval in the comment.", "[set]"]
    for name, p in report["parameters"].items():
        lines.append(f"{json.dumps(name)} = {p['value']!r}  # 90%: {p['low']:.4g} - {p['high']:.4g} {p['units']}")
    for name, value in extra.items():
        lines.append(f"{json.dumps(name)} = {value!r}  # set for the calibration")
    return "\n".join(lines) + "\n"


def _scenario_description(report: dict) -> str:
    return (f"{report['scenario']} calibrated to {report['data']} ({report['method']}): "
            + ", ".join(f"{n} {p['value']:.4g}" for n, p in report["parameters"].items()))
