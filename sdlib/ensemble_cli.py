"""`tokenworld ensemble`: sample, run (locally or on Dask), analyse, and write the folder.

    tokenworld ensemble baseline --n 1024 --method sobol --vary "token return parameter=0.2:0.4" \\
        --vary "grid connection lead time=2:6" --outcome "AI electricity use" --out runs/output/sobol

The folder holds `results.nc` (xarray: run x time, one variable per outcome, the samples and
each run's status as coordinates), `sensitivity.json` ({outcome: {parameter: {"S1", "ST"}}} for
Sobol, mu* and sigma for Morris, at `--at`), `summary.json` (percentiles), `manifest.json` and
`plots/` (a fan chart per outcome, a bar chart of the indices).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .errors import BadInput
from .ensemble import analyse, assemble, chunks, parse_vary, run_chunk, sample, summary
from .rundir import atomic_dir, check_target, new_run_dir, provenance, write_json

DEFAULT_OUTCOMES = ["Output per developer", "AI electricity use", "Data centre copper demand", "Token price",
                    "Tokens per person per day"]


def add_ensemble_parser(sub) -> None:
    p = sub.add_parser("ensemble", help="Monte Carlo, Latin hypercube, Sobol or Morris ensembles on the batch engine")
    p.add_argument("scenario", help="scenario name or .toml file; its overrides and policies apply to every run")
    p.add_argument("--n", type=int, required=True, help="runs (mc, lhs), base samples (sobol: a power of two) "
                                                        "or trajectories (morris)")
    p.add_argument("--method", default="lhs", choices=["mc", "lhs", "sobol", "morris"])
    p.add_argument("--vary", action="append", default=[], metavar="NAME=LO:HI", help="a parameter to vary uniformly")
    p.add_argument("--outcome", action="append", default=None, metavar="NAME", help="an outcome to keep; repeatable")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--policy", action="append", default=[], metavar="POLICY[:key=value,...]")
    p.add_argument("--final-time", metavar="YEAR")
    p.add_argument("--time-step", metavar="DT")
    p.add_argument("--at", type=float, default=None, help="year of the sensitivity analysis (default: final time)")
    p.add_argument("--scheduler", default="local", choices=["local", "dask"])
    p.add_argument("--address", default=None, help="Dask scheduler address (default: a LocalCluster)")
    p.add_argument("--chunk", type=int, default=2000, help="runs per chunk")
    p.add_argument("--out", metavar="DIR")
    p.add_argument("--no-plots", action="store_true")
    p.set_defaults(func=cmd_ensemble)


def cmd_ensemble(args) -> int:
    from .modelspec import load_spec
    from .policy_parse import parse_policy_args
    from .runner import RunRequest, parse_set, resolve
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    spec = load_spec(scenario.model)
    uncertainties = parse_vary(args.vary, spec)
    outcomes = args.outcome or [o for o in DEFAULT_OUTCOMES if o in spec]
    for name in outcomes:
        spec[name]  # raises UnknownName for a wrong outcome
    outcomes = [spec[name].name for name in outcomes]
    resolved = resolve(RunRequest(scenario=scenario, set=parse_set(args.set), policies=parse_policy_args(args.policy),
                                  final_time=args.final_time, time_step=args.time_step))
    clash = [u.name for u in uncertainties if u.name in resolved.policy_overrides]
    if clash:
        raise BadInput(f"--vary: {', '.join(clash)} is also moved by a policy; vary it or let the policy set it")
    base = {k: v for k, v in resolved.params.items() if k not in {u.name for u in uncertainties}}
    controls = resolved.controls
    year = args.at if args.at is not None else controls.final_time
    if not controls.initial_time <= year <= controls.final_time:
        raise BadInput(f"--at {year:g}: outside the run {controls.initial_time:g}-{controls.final_time:g}")
    samples = sample(uncertainties, args.method, args.n, args.seed)
    target = check_target(Path(args.out)) if args.out else new_run_dir(f"{scenario.name}-{args.method}")

    started = time.perf_counter()
    parts = run_all(str(scenario.model), base, [u.name for u in uncertainties], samples, outcomes,
                    controls.as_dict(), args.chunk, args.scheduler, args.address)
    seconds = time.perf_counter() - started
    units = {el.name: el.units for el in spec.elements.values()}
    dataset = assemble(parts, samples, [u.name for u in uncertainties], outcomes, units)
    indices = analyse(dataset, uncertainties, args.method, samples, outcomes, year)
    diverged = int((dataset["status"] != "ok").sum())
    with atomic_dir(target) as tmp:
        dataset.attrs.update({"scenario": scenario.name, "method": args.method, "seed": args.seed})
        dataset.to_netcdf(tmp / "results.nc", engine="scipy")
        write_json(indices, tmp / "sensitivity.json")
        years = sorted({y for y in (2030.0, 2050.0, 2100.0, float(year)) if controls.initial_time <= y <= controls.final_time})
        write_json(summary(dataset, outcomes, years), tmp / "summary.json")
        write_json({
            "scenario": scenario.name, "method": args.method, "n": args.n, "runs": int(len(samples)),
            "seed": args.seed, "vary": [u.__dict__ for u in uncertainties], "outcomes": outcomes,
            "analysis_year": year, "diverged_runs": diverged, "scheduler": args.scheduler,
            "seconds": round(seconds, 3), "runs_per_second": round(len(samples) / max(seconds, 1e-9), 1),
            "overrides": {k: v for k, v in resolved.overrides.items()}, "policies": resolved.policies,
            **controls.as_dict(), **provenance(),
        }, tmp / "manifest.json")
        if not args.no_plots:
            from .ensemble_plots import indices_figure, fan_chart

            (tmp / "plots").mkdir()
            for outcome in outcomes:
                fan_chart(dataset, outcome, units.get(outcome, ""), scenario.name).savefig(
                    tmp / "plots" / f"fan-{_slug(outcome)}.png", dpi=100)
            if indices:
                indices_figure(indices, args.method, year).savefig(tmp / "plots" / "sensitivity.png", dpi=100)
    print(f"{len(samples)} runs in {seconds:.2f} s ({len(samples) / max(seconds, 1e-9):.0f} runs/s), "
          f"{diverged} diverged")
    print(f"ensemble folder: {target}")
    return 0


def _slug(name: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def run_all(model: str, base: dict, names: list[str], samples: np.ndarray, outcomes: list[str], controls: dict,
            chunk: int, scheduler: str, address: str | None) -> list[dict]:
    """Run every chunk, in order of the samples, with a progress bar."""
    from tqdm import tqdm

    slices = chunks(len(samples), max(1, chunk))
    if scheduler == "local":
        parts = []
        with tqdm(total=len(samples), unit="run", desc="ensemble", disable=None) as bar:
            for s in slices:
                parts.append(run_chunk(model, base, names, samples[s], outcomes, controls))
                bar.update(s.stop - s.start)
        return parts
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None if address else LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                                dashboard_address=None)
    client = Client(address or cluster)
    try:
        futures = [client.submit(run_chunk, model, base, names, samples[s], outcomes, controls, pure=False)
                   for s in slices]
        order = {f.key: i for i, f in enumerate(futures)}
        parts: list = [None] * len(futures)
        with tqdm(total=len(samples), unit="run", desc="ensemble (dask)", disable=None) as bar:
            for future in as_completed(futures):
                i = order[future.key]
                parts[i] = future.result()
                bar.update(slices[i].stop - slices[i].start)
        return parts
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
