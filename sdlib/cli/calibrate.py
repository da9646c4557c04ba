"""`tokenworld calibrate SCENARIO --data FILE.csv --vary "NAME=LO:HI"...`: fit parameters to data.

    tokenworld calibrate baseline --data models/tokenworld-anchors.csv --method mcmc \\
        --vary "initial fleet power per H100e=1200:2600" --vary "normal markup=1.2:2.5" --out runs/output/cal

The folder holds calibration.json (each parameter's best value with its 90% interval, the fit's chi2,
convergence and, for MCMC, R-hat and effective sample sizes), scenario.toml (SCENARIO with the fitted
values: `tokenworld run FOLDER/scenario.toml`), posterior.nc, fit.csv (model against every data point),
manifest.json and plots/ (each data series with the model's median and 90% band, corner and trace plots).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .run import parse_set

EPILOG = """\
--data: a CSV file with the columns variable,time,value,sigma (sigma: one standard deviation, in the
variable's units), or an anchor registry such as models/tokenworld-anchors.csv (read with sigma =
(high - low) / 4). --vary "NAME=LO:HI": a model parameter, with a uniform prior on [LO, HI] inside
its declared range; "NAME" alone takes the range the model declares for a key uncertainty.
Exit codes: 0 done; 2 bad input (nothing written)."""


def add_arguments(p) -> None:
    p.epilog = EPILOG
    p.formatter_class = __import__("argparse").RawDescriptionHelpFormatter
    p.add_argument("scenario", help="scenario name or .toml file to calibrate (its overrides and policies apply)")
    p.add_argument("--data", required=True, metavar="FILE.csv", help="the data to fit (see below)")
    p.add_argument("--vary", action="append", default=[], metavar="NAME=LO:HI", required=True,
                   help="a parameter to fit, with its prior range; repeatable")
    p.add_argument("--method", default="least-squares", choices=["least-squares", "mcmc"],
                   help="least-squares (best fit, Laplace intervals; default) or mcmc (emcee posterior)")
    p.add_argument("--samples", type=int, default=10000, help="MCMC draws kept after burn-in (default 10000)")
    p.add_argument("--walkers", type=int, default=None, help="MCMC walkers (default max(32, 2(D+1)))")
    p.add_argument("--burn", type=int, default=None, help="MCMC burn-in steps (default: as many as kept)")
    p.add_argument("--holdout", type=float, default=None, metavar="YEAR",
                   help="fit the data up to YEAR; score the later points out of sample")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a parameter for every run")
    p.add_argument("--out", metavar="DIR", help="folder to create (default: a new folder under runs/output/)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")


def main(args) -> int:
    import json

    import sdlib

    scenario = sdlib.resolve(args.scenario).scenario
    out = Path(args.out) if args.out else sdlib.new_run_dir(f"{scenario.name}-calibration")
    data = sdlib.calibrate(scenario, data=args.data, vary=args.vary, method=args.method, seed=args.seed,
                           holdout=args.holdout, samples=args.samples, walkers=args.walkers, burn=args.burn,
                           set=parse_set(args.set), out=out, plots=not args.no_plots,
                           progress=None if sys.stderr.isatty() else False, command=args.command_line)
    report = json.loads(data.attrs["calibration"])
    fit = report["fit"]
    width = max(len(n) for n in report["parameters"])
    for name, p in report["parameters"].items():
        extra = (f"  R-hat {p['r_hat']:.3f}  ESS {p['ess_bulk']:.0f}" if "r_hat" in p else "")
        print(f"{name.ljust(width)}  {p['value']:.4g}  (90%: {p['low']:.4g} - {p['high']:.4g}) {p['units']}{extra}")
    print(f"chi2 {fit['chi2']:.4g} on {fit['n_data']} points, {'converged' if fit['converged'] else 'NOT converged'}"
          f"; {fit['evaluations']} model evaluations in {fit['seconds']:.1f} s")
    if report["holdout"]:
        h = report["holdout"]
        print(f"held out after {h['year']:g}: {h['covered']} of {h['points']} points inside the model's 90% band "
              f"(rms z {h['rms_z']:.2f})")
    print(f"calibration folder: {data.attrs['folder']}")
    return 0
