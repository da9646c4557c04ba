"""`tokenworld run SCENARIO`: run a scenario, write its folder, print the headline numbers."""

from __future__ import annotations

import sys


def add_run_options(p) -> None:
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a model parameter (Vensim name, case-insensitive); repeatable")
    p.add_argument("--final-time", metavar="YEAR", help="last year of the run (default: the scenario's, else the "
                   "model's FINAL TIME)")
    p.add_argument("--time-step", metavar="DT", help="Euler time step in years (default: the scenario's, else the "
                   "model's TIME STEP)")
    p.add_argument("--engine", default="pysd", choices=["pysd", "batch"],
                   help="simulation engine: pysd (default) or batch (the same numbers, compiled with numba)")
    p.add_argument("--method", default="euler", choices=["euler", "rk4"],
                   help="integration: euler (default, as PySD) or rk4 (fourth-order Runge-Kutta, as Vensim's RK4 "
                        "Fixed; batch engine only)")
    p.add_argument("--out", metavar="DIR", help="run folder to create (default: a new folder under runs/output/)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")


def add_arguments(p) -> None:
    p.add_argument("scenario", help="scenario name (see `tokenworld list`) or path to a scenario .toml file")
    p.add_argument("--policy", action="append", default=[], metavar="POLICY[:key=value,...]",
                   help="apply a policy lever, e.g. token-price-subsidy:start=2026,size=0.3; repeatable")
    add_run_options(p)


def parse_set(items: list[str]) -> dict:
    """`--set "NAME=VALUE"` strings into a dict; the value is checked later against the model."""
    from sdlib.core.errors import BadInput

    found = {}
    for item in items or []:
        if "=" not in item:
            raise BadInput(f"set {item!r}: expected NAME=VALUE, e.g. --set \"capital share=0.3\"", "set")
        name, value = item.split("=", 1)
        if not name.strip():
            raise BadInput(f"set {item!r}: the name before '=' is empty", "set")
        if name.strip() in found:
            raise BadInput(f"set {item!r}: '{name.strip()}' is given twice; give it once", "set")
        found[name.strip()] = value.strip()
    return found


def execute(args, scenario) -> int:
    import sdlib
    from sdlib.core.policy import parse_policy_args

    resolved = sdlib.resolve(scenario, set=parse_set(args.set), policies=parse_policy_args(getattr(args, "policy", [])),
                             final_time=args.final_time, time_step=args.time_step)
    out = args.out if args.out is not None else sdlib.new_run_dir(resolved.scenario.name)
    dataset = sdlib.run(resolved.scenario, set=parse_set(args.set),
                        policies=parse_policy_args(getattr(args, "policy", [])), final_time=args.final_time,
                        time_step=args.time_step, engine=args.engine, out=out, plots=not args.no_plots,
                        progress=None if sys.stderr.isatty() else False, command=args.command_line,
                        method=args.method)
    return report(dataset, resolved.model.display.summary)


def report(dataset, summary: list[str]) -> int:
    """Print the headline numbers and the folder; exit 3 when the run diverged."""
    names = [n for n in summary if n in dataset.data_vars]
    time = dataset["time"].to_numpy()
    if names and len(time):
        width = max(len(n) for n in names)
        print(f"{'indicator':<{width}}  {time[0]:>12g}  {time[-1]:>12g}")
        for name in names:
            values = dataset[name].isel(run=0).to_numpy()
            print(f"{name:<{width}}  {values[0]:>12.4g}  {values[-1]:>12.4g}  {dataset[name].attrs['units']}")
    print(f"run folder: {dataset.attrs['folder']}")
    import json

    for warning in json.loads(dataset.attrs.get("warnings", "[]")):
        sys.stderr.write(f"tokenworld: note: {warning}\n")
    if dataset.attrs["status"] == "diverged":
        last = time[-1] if len(time) else dataset.attrs["initial_time"]
        where = f" in '{dataset.attrs['diverged_variable']}'" if dataset.attrs.get("diverged_variable") else ""
        why = dataset.attrs.get("diverged_reason") or "a value became infinite or exceeded 1e300"
        sys.stderr.write(f"tokenworld: diverged at {dataset.attrs['diverged_at']:g}{where} ({why}); results up to "
                         f"{last:g} written, status \"diverged\"\n")
        return 3
    return 0


def main(args) -> int:
    return execute(args, args.scenario)
