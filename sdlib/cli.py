"""The `tokenworld` command: one subcommand per library function (DESIGN.md section 8).

Exit codes: 0 ok; 2 bad input (one line on stderr naming the culprit, nothing written);
3 diverged (the run folder holds what was computed, status "diverged").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import BadInput, TokenworldError


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message):  # noqa: D401 - argparse's name
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a model parameter (Vensim name, case-insensitive); repeatable")
    p.add_argument("--final-time", metavar="YEAR", help="last year of the run (default: the model's FINAL TIME)")
    p.add_argument("--time-step", metavar="DT", help="Euler time step in years (default: the model's TIME STEP)")
    p.add_argument("--engine", default="pysd", choices=["pysd", "batch"], help="simulation engine (default pysd)")
    p.add_argument("--out", metavar="DIR", help="run folder to create (default: a new folder under runs/output/)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG figures")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="tokenworld", description="Tokenworld: the AI token economy as a system-dynamics model.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    run = sub.add_parser("run", help="run a scenario from runs/ (or a scenario .toml file)")
    run.add_argument("scenario", help="scenario name (see `tokenworld list`) or path to a .toml file")
    run.add_argument("--policy", action="append", default=[], metavar="POLICY[:key=value,...]",
                     help="apply a policy lever; repeatable")
    _add_run_options(run)
    run.set_defaults(func=cmd_run)

    simulate = sub.add_parser("simulate", help="run any Vensim .mdl model with its own defaults")
    simulate.add_argument("model", help="path to a Vensim .mdl file")
    _add_run_options(simulate)
    simulate.set_defaults(func=cmd_simulate)

    lister = sub.add_parser("list", help="scenarios, policies and parameters")
    lister.add_argument("--json", action="store_true", help="machine-readable output")
    lister.set_defaults(func=cmd_list)

    for hook in _optional_subcommands():
        hook(sub)
    return parser


def _optional_subcommands():
    """Subcommands whose modules live elsewhere in the package (compare, loops, ensemble, serve)."""
    hooks = []
    for module, attr in (
        ("sdlib.compare", "add_compare_parser"),
        ("sdlib.loops_cli", "add_loops_parser"),
        ("sdlib.ensemble_cli", "add_ensemble_parser"),
        ("sdlib.explorer", "add_serve_parser"),
    ):
        try:
            mod = __import__(module, fromlist=[attr])
        except ImportError:
            continue
        if hasattr(mod, attr):
            hooks.append(getattr(mod, attr))
    return hooks


def _request(args, scenario):
    from .policy_parse import parse_policy_args
    from .runner import RunRequest, parse_set

    return RunRequest(
        scenario=scenario,
        set=parse_set(args.set),
        policies=parse_policy_args(getattr(args, "policy", [])),
        final_time=args.final_time,
        time_step=args.time_step,
        engine=args.engine,
        out=Path(args.out) if args.out else None,
        plots=not args.no_plots,
    )


def _report(outcome) -> int:
    from .summary import summary_lines

    result = outcome.result
    for line in summary_lines(result.frame):
        print(line)
    print(f"run folder: {outcome.folder}")
    if result.status == "diverged":
        sys.stderr.write(
            f"tokenworld: diverged at {result.diverged_at:g}: a value became non-finite or exceeded 1e300; "
            f"results up to {result.frame.index[-1] if len(result.frame) else result.controls.initial_time:g} "
            f"written, status \"diverged\"\n"
        )
        return 3
    return 0


def cmd_run(args) -> int:
    from .runner import execute
    from .scenario import load_scenario

    return _report(execute(_request(args, load_scenario(args.scenario))))


def cmd_simulate(args) -> int:
    from .runner import execute
    from .scenario import ad_hoc_scenario

    model = Path(args.model)
    if model.suffix.lower() != ".mdl":
        raise BadInput(f"{args.model}: expected a Vensim .mdl file")
    if not model.is_file():
        raise BadInput(f"{args.model}: model file not found")
    return _report(execute(_request(args, ad_hoc_scenario(model))))


def cmd_list(args) -> int:
    from .listing import listing, print_listing

    data = listing()
    if args.json:
        import json

        print(json.dumps(data, indent=2))
    else:
        print_listing(data)
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except TokenworldError as exc:
        sys.stderr.write(f"tokenworld: error: {exc}\n")
        return exc.exit_code
    except BrokenPipeError:  # output piped into e.g. `head`
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("tokenworld: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
