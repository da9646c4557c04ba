"""`tokenworld ensemble SCENARIO --n N --vary ...`: sample, run on the batch engine, analyse, write.

    tokenworld ensemble baseline --n 1024 --method sobol --vary "token return parameter=0.2:0.4" \\
        --vary "grid connection lead time" --vary "token-price-subsidy.size=0:0.5" --out runs/output/sobol

The folder holds `results.nc` (run x time, one variable per outcome, the samples and each run's
status as coordinates, the indices for sobol and morris), `sensitivity.json`, `summary.json`
(percentiles), `manifest.json` and `plots/` (a fan chart per outcome, the indices).
"""

from __future__ import annotations

import sys

from .run import parse_set

EPILOG = """\
--vary takes "NAME=LO:HI" (a model parameter, uniformly between LO and HI), "NAME" alone (an
uncertainty the model declares, with its plausible range: see models/<model>-display.toml) or
"POLICY.ARGUMENT=LO:HI" (a lever's argument, e.g. "token-price-subsidy.size=0:0.5").
Runs: --n for mc and lhs; n(D+2) for sobol (--n a power of two); n(D+1) for morris (--n
trajectories), with D the number of things varied."""


def add_arguments(p) -> None:
    p.epilog = EPILOG
    p.formatter_class = __import__("argparse").RawDescriptionHelpFormatter
    p.add_argument("scenario", help="scenario name or .toml file; its overrides and policies apply to every run")
    p.add_argument("--n", type=int, required=True, help="runs (mc, lhs), base samples (sobol: a power of two) "
                                                        "or trajectories (morris)")
    p.add_argument("--method", default="lhs", choices=["mc", "lhs", "sobol", "morris"],
                   help="sampling: mc (random), lhs (Latin hypercube, default), sobol (Saltelli; S1 and ST "
                        "indices), morris (elementary effects; mu* and sigma)")
    p.add_argument("--vary", action="append", default=[], metavar="NAME=LO:HI",
                   help="something to vary uniformly; repeatable (see below)")
    p.add_argument("--outcome", action="append", default=None, metavar="NAME",
                   help="a variable to keep; repeatable (default: the model's declared outcomes)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the sample (default 0)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a parameter for every run")
    p.add_argument("--policy", action="append", default=[], metavar="POLICY[:key=value,...]",
                   help="a lever for every run")
    p.add_argument("--final-time", metavar="YEAR", help="last year of the runs")
    p.add_argument("--time-step", metavar="DT", help="Euler time step of the runs")
    p.add_argument("--at", type=float, default=None, help="year of the sensitivity analysis (default: final time)")
    p.add_argument("--scheduler", default="local", choices=["local", "dask"],
                   help="run chunks in this process (local) or on Dask workers (dask)")
    p.add_argument("--address", default=None, help="Dask scheduler address (default: a local cluster of 2 workers)")
    p.add_argument("--chunk", type=int, default=2000, help="runs per chunk (default 2000)")
    p.add_argument("--out", metavar="DIR", help="folder to create (default: a new folder under runs/output/)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")


def main(args) -> int:
    import sdlib
    from sdlib.core.policy import parse_policy_args

    scenario = sdlib.resolve(args.scenario).scenario
    out = args.out if args.out is not None else sdlib.new_run_dir(f"{scenario.name}-{args.method}")
    data = sdlib.ensemble(scenario, vary=args.vary, n=args.n, method=args.method, outcomes=args.outcome,
                          seed=args.seed, set=parse_set(args.set), policies=parse_policy_args(args.policy),
                          final_time=args.final_time, time_step=args.time_step, at=args.at, scheduler=args.scheduler,
                          address=args.address, chunk=args.chunk, out=out, plots=not args.no_plots,
                          progress=None if sys.stderr.isatty() else False)
    runs, seconds = data.sizes["run"], data.attrs["seconds"]
    diverged = int((data["status"] != "ok").sum())
    print(f"{runs} runs in {seconds:.2f} s ({runs / max(seconds, 1e-9):.0f} runs/s), {diverged} diverged")
    print(f"sensitivity: {data.attrs['sensitivity']}")
    print(f"ensemble folder: {data.attrs['folder']}")
    return 0
