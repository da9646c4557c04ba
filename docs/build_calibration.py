"""Build docs/calibration.md and its figures from `tokenworld check` and `tokenworld calibrate`.

    python docs/build_calibration.py [--samples 64000]

1. Screening: Morris elementary effects (`sdlib.screen`) of the candidate parameters below on every
   anchor's z-score (models/tokenworld-anchors.csv), over their plausible ranges.
2. Calibration: the six that move the anchors most, fitted by MCMC (`sdlib.calibrate`, emcee on the
   batch engine) with uniform priors on those ranges; an out-of-sample run fits the data up to 2026 only.
3. The check: `sdlib.check(["baseline"])`, the anchors before (the parameters' values before the
   calibration, below) and after, with the documented reasons of each miss (models/tokenworld-checks.toml).

The fitted values are written into models/tokenworld.mdl by hand, each with a comment citing this page;
this builder re-fits from them (the same data and priors give the same posterior) and prints both.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import sdlib

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "figures"
REGISTRY = DOCS.parent / "models" / "tokenworld-anchors.csv"

# Candidate parameters for the screening, with plausible ranges: declared key uncertainties
# (models/tokenworld-display.toml) and parameters of the anchored sectors, ranges from their sources
# (each parameter's comment in the model): PUE 1.1-1.6 (Uptime), fleet power from an H100 server's
# 1275 W to an A100-era fleet's, global AI compute growth up to Epoch's 3.3x a year (ln 3.3 = 1.19).
CANDIDATES = [
    "maximum expected demand growth=0.5:1.2", "data centre copper intensity=20:66",
    "maximum AI share of generation=0.05:0.3", "hardware energy efficiency growth rate=0.2:0.5",
    "compute useful life=4:8", "training share of AI revenue=0.3:1", "power planning time=0.5:3",
    "algorithmic efficiency growth rate=0.3:0.8", "grid connection lead time=2:6", "markup scarcity sensitivity=0.5:5",
    "normal markup=1.3:2.5", "initial human intensity ratio=0.005:0.03", "power usage effectiveness=1.1:1.6",
    "initial conventional data centre electricity=330:400", "initial AI power pipeline=20:60",
    "copper income elasticity=0.5:1.2", "other AI compute load=0.5:1", "maximum fab expansion rate=0.2:0.5",
    "initial fleet power per H100e=1275:2600", "idle power fraction=0.2:0.5", "agent autonomy midpoint year=2026:2030",
]
FITTED = 6
# The six calibrated (the screening's top six on the uncalibrated baseline), and their values before.
CALIBRATED = CANDIDATES[:FITTED]
BEFORE = {"maximum expected demand growth": 0.83, "data centre copper intensity": 40, "maximum AI share of generation": 0.15,
          "hardware energy efficiency growth rate": 0.35, "compute useful life": 6, "training share of AI revenue": 0.5}
FIGURES_KEPT = ["Data centre electricity", "AI electricity use", "Token use", "Data centre copper demand",
                "Compute capacity", "Lab gross margin", "Copper demand"]


def slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def fmt(x) -> str:
    if x is None:
        return "-"
    return f"{x:,.4g}" if 1e-3 <= abs(x) < 1e6 else f"{x:.3g}"


def anchors_of(check) -> list[dict]:
    rows = check.to_dataframe().to_dict("records")
    return [r for r in rows if r["kind"] == "anchor"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=64000)
    args = parser.parse_args()

    # 1. Screening on the baseline before calibration.
    screening = sdlib.screen("baseline", data=REGISTRY, vary=CANDIDATES, trajectories=200, seed=0, set=BEFORE,
                             progress=False)
    ranked = screening["mean_mu_star"].to_series().sort_values(ascending=False)
    top = list(ranked.index[:FITTED])
    assert sorted(top) == sorted(c.split("=")[0] for c in CALIBRATED), f"the screening now picks {top}"

    with tempfile.TemporaryDirectory() as tmp:
        # 2. The calibration, and the out-of-sample check.
        folder = Path(tmp) / "mcmc"
        result = sdlib.calibrate("baseline", data=REGISTRY, vary=CALIBRATED, method="mcmc", samples=args.samples,
                                 seed=13, out=folder, progress=False)
        report = json.loads(result.attrs["calibration"])
        held = sdlib.calibrate("baseline", data=REGISTRY, vary=CALIBRATED, method="least-squares", holdout=2026,
                               seed=13, progress=False)
        holdout = json.loads(held.attrs["calibration"])["holdout"]
        for variable in FIGURES_KEPT:
            shutil.copy(folder / "plots" / f"fit-{slug(variable)}.png", FIGURES / f"calibration-{slug(variable)}.png")
        shutil.copy(folder / "plots" / "corner.png", FIGURES / "calibration-corner.png")
        shutil.copy(folder / "plots" / "trace.png", FIGURES / "calibration-trace.png")
        # 3. The anchors before (a scenario with the old values) and after (the baseline as it is).
        old = Path(tmp) / "before-calibration.toml"
        old.write_text('extends = "baseline"\n[set]\n' + "".join(f'"{k}" = {v}\n' for k, v in BEFORE.items()),
                       encoding="utf-8")
        before = anchors_of(sdlib.check([str(old)], anchors=True, engine="batch", progress=False))
    check = sdlib.check(["baseline"], engine="batch", progress=False)
    after = anchors_of(check)
    others = [r for r in check.to_dataframe().to_dict("records") if r["kind"] != "anchor"]

    current = sdlib.Model.load().parameters
    fit = report["fit"]
    lines = ["| parameter | prior (uniform) | before | fitted (best) | median | 90% interval | R-hat | ESS bulk / tail | in the model |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, p in report["parameters"].items():
        lines.append(f"| {name} | {fmt(p['prior'][0])}-{fmt(p['prior'][1])} {p['units']} | {fmt(BEFORE[name])} | "
                     f"{fmt(p['value'])} | {fmt(p['median'])} | {fmt(p['low'])}-{fmt(p['high'])} | {p['r_hat']:.3f} | "
                     f"{p['ess_bulk']:.0f} / {p['ess_tail']:.0f} | {fmt(current[name.lower()].value)} |")
    fitted_table = "\n".join(lines)
    screen_table = "\n".join(["| parameter | range | mean mu* (sigmas) |", "|---|---|---|"] + [
        f"| {name} | {float(screening['low'].sel(parameter=name)):g}-{float(screening['high'].sel(parameter=name)):g} "
        f"| {value:.2f} |" for name, value in ranked.items()])
    points = {p["id"]: p for p in report["points"]}
    was = {r["id"]: r for r in before}
    rows = ["| anchor | variable | year | data: low - high (central) | before | model | 90% band | pass | distance | source |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in after:
        p = points[r["id"]]
        rows.append(f"| {r['id']} | {r['variable']} | {r['year']:g} | {fmt(r['low'])} - {fmt(r['high'])} ({fmt(p['value'])}) | "
                    f"{fmt(was[r['id']]['value'])} | {fmt(r['value'])} | {fmt(p['low'])} - {fmt(p['high'])} | "
                    f"{'yes' if r['pass'] else '**no**'} | {r['distance']:+.2f} | {r['source']} |")
    misses = "\n".join(f"- **{r['id']}** ({r['variable']} {r['year']:g}: model {fmt(r['value'])}, data "
                       f"{fmt(r['low'])}-{fmt(r['high'])}): {r['detail'].removeprefix('documented miss: ')}"
                       for r in after if not r["pass"]) or "- none"
    held_rows = "\n".join(
        f"| {e['id']} | {e['time']:g} | {fmt(e['value'])} | {fmt(e['forecast'])} | {fmt(e['band'][0])} - {fmt(e['band'][1])} | "
        f"{'yes' if e['covered'] else 'no'} | {'yes' if e['in_range'] else 'no'} |" for e in holdout["errors"])
    values = {
        "FITTED_TABLE": fitted_table, "SCREEN_TABLE": screen_table, "ANCHOR_TABLE": "\n".join(rows), "MISSES": misses,
        "HOLDOUT_TABLE": "| anchor | year | data | forecast (median) | 90% band | covered | forecast in the anchor's range |\n"
                         "|---|---|---|---|---|---|---|\n" + held_rows,
        "N_ANCHORS": str(len(after)), "PASS_AFTER": str(sum(r["pass"] for r in after)),
        "PASS_BEFORE": str(sum(r["pass"] for r in before)), "SAMPLES": f"{fit['samples']:,}", "WALKERS": str(fit["walkers"]),
        "BURN": str(fit["burn"]), "CHI2": f"{fit['chi2']:.1f}", "N_DATA": str(fit["n_data"]), "DOF": str(fit["dof"]),
        "MAX_RHAT": f"{fit['max_r_hat']:.3f}", "MIN_ESS": f"{fit['min_ess_bulk']:.0f}", "ACCEPTANCE": f"{fit['acceptance']:.2f}",
        "CONVERGED": "converged" if fit["converged"] else "not converged",
        "EVALUATIONS": f"{fit['evaluations']:,}", "SECONDS": f"{fit['seconds']:.0f}",
        "SCREEN_RUNS": str(screening.attrs["runs"]), "OTHERS_PASS": str(sum(r["pass"] for r in others)),
        "OTHERS": str(len(others)), "HOLD_COVERED": str(holdout["covered"]), "HOLD_POINTS": str(holdout["points"]),
        "HOLD_RMS": f"{holdout['rms_z']:.2f}", "HOLD_IN_RANGE": str(holdout["in_range"]),
    }
    text = (DOCS / "calibration.template.md").read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    (DOCS / "calibration.md").write_text(text, encoding="utf-8")
    print(f"anchors: {values['PASS_BEFORE']} -> {values['PASS_AFTER']} of {len(after)}; chi2 {values['CHI2']}; "
          f"R-hat <= {values['MAX_RHAT']}, ESS >= {values['MIN_ESS']}")


if __name__ == "__main__":
    main()
