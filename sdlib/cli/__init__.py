"""The `tokenworld` command: one subcommand per library function (DESIGN.md section 8).

Each subcommand is a small module (`sdlib/cli/NAME.py`) with `add_arguments(parser)` and
`main(args) -> exit code`: it parses, calls the public API (`sdlib.api`) and prints. The table
below is static, and a subcommand's module is imported only when it is used, so `tokenworld
--help` answers at once.

Exit codes: 0 ok; 2 bad input (one line on stderr naming the culprit, nothing written);
3 diverged (the run folder holds what was computed, status "diverged").
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import shlex
import sys
import threading
import warnings

# name -> (module, one-line help).
COMMANDS = {
    "run": ("sdlib.cli.run", "run a scenario from runs/ (or a scenario .toml file)"),
    "simulate": ("sdlib.cli.simulate", "run any Vensim .mdl model with its own defaults"),
    "list": ("sdlib.cli.listing", "scenarios, policies and parameters (value, units, range)"),
    "compare": ("sdlib.cli.compare", "compare runs or scenarios side by side"),
    "ensemble": ("sdlib.cli.ensemble", "Monte Carlo, Latin hypercube, Sobol or Morris ensembles (batch engine)"),
    "loops": ("sdlib.cli.loops", "feedback loops: polarity, families, dominance (Loops That Matter), diagrams"),
    "check": ("sdlib.cli.check", "identities, reality checks and published anchors of the model, pass or miss"),
    "calibrate": ("sdlib.cli.calibrate", "fit parameters to data: least squares or MCMC (batch engine)"),
    "serve": ("sdlib.cli.serve", "the policy explorer in a browser (a local web server)"),
}

# Library argument -> the flag that sets it, so that errors speak the command line's words.
FLAGS = {
    "set": "--set", "policies": "--policy", "final_time": "--final-time", "time_step": "--time-step",
    "engine": "--engine", "out": "--out", "vary": "--vary", "n": "--n", "method": "--method",
    "outcomes": "--outcome", "at": "--at", "scheduler": "--scheduler", "max_loops": "--max-loops",
    "threshold": "--threshold", "indicators": "--indicator", "years": "--years", "runs": "compare",
    "seed": "--seed", "address": "--address", "chunk": "--chunk", "scenario": "scenario",
    "holdout": "--holdout", "samples": "--samples", "data": "--data", "walkers": "--walkers", "burn": "--burn",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def version() -> str:
    from sdlib import __version__

    return __version__


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `command`'s module is imported to add its arguments."""
    parser = OneLineParser(prog="tokenworld", description="Tokenworld: the AI token economy as a system-dynamics "
                           "model (Vensim .mdl run by PySD), with scenarios, policy levers, loops and ensembles.",
                           epilog="`tokenworld COMMAND --help` describes a command. Docs: README.md")
    parser.add_argument("--version", action="version", version=f"tokenworld {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name, (module, text) in COMMANDS.items():
        p = sub.add_parser(name, help=text, description=text)
        if name == command:
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(func=mod.main)
    return parser


def flag_words(exc: Exception) -> str:
    """The message of a library error, its argument named by the flag that sets it; one line, at most
    MAX_MESSAGE characters (a value quoted from the input is cut, never echoed whole)."""
    text = " ".join(str(exc).splitlines())  # every line break Python knows (\v, \f, \u2028, ...)
    argument = getattr(exc, "argument", None)
    if argument and argument in FLAGS and text.startswith(argument):
        text = FLAGS[argument] + text[len(argument):]
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 3] + "..."


MAX_MESSAGE = 600


def completed(command: str, argv: list[str], args) -> list[str]:
    """The command line that re-runs this one exactly: the engine written out when it was the default."""
    if command in ("run", "simulate") and not any(a == "--engine" or a.startswith("--engine=") for a in argv):
        return [*argv, "--engine", args.engine]
    return argv


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")  # the command line draws to files, never to a screen
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from sdlib.core.errors import TokenworldError
    from sdlib.core.rundir import Interrupted, cleanup_on_signals, remove_active

    args.command_line = shlex.join(["tokenworld", *completed(args.command, argv, args)])  # what re-runs this
    main_thread = threading.current_thread() is threading.main_thread()
    try:
        # SIGTERM and SIGINT remove what was half-written and exit 143 and 130
        with cleanup_on_signals() if main_thread else contextlib.nullcontext(), warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            return args.func(args)
    except TokenworldError as exc:
        sys.stderr.write(f"tokenworld: error: {flag_words(exc)}\n")
        return exc.exit_code
    except BrokenPipeError:  # output piped into e.g. `head`
        return 0
    except (KeyboardInterrupt, Interrupted) as exc:
        remove_active()
        code = getattr(exc, "exit_code", 130)
        sys.stderr.write(f"tokenworld: interrupted ({'SIGTERM' if code == 143 else 'SIGINT'}); nothing half-written "
                         f"was kept\n")
        return code
    except (MemoryError, RecursionError) as exc:
        remove_active()
        sys.stderr.write(f"tokenworld: error: {'out of memory' if isinstance(exc, MemoryError) else 'nested too deeply'} "
                         f"while working on this input; nothing was written\n")
        return 1
    except Exception as exc:
        # A bug, not the input's fault: one line naming it, nothing half-written (every claim and
        # temporary is released on the way out), and the traceback when asked for.
        remove_active()
        if os.environ.get("TOKENWORLD_DEBUG"):
            raise
        sys.stderr.write(f"tokenworld: internal error: {type(exc).__name__}: {flag_words(exc)[:300]} ({_where(exc)}); "
                         f"nothing was written. This is a bug: please report it with the command line "
                         f"(TOKENWORLD_DEBUG=1 shows the traceback)\n")
        return 1


def _where(exc: BaseException) -> str:
    """The innermost frame of Tokenworld's own code in a traceback, as FILE:LINE."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "sdlib" in f.filename.replace("\\", "/")]
    frame = (frames or traceback.extract_tb(exc.__traceback__) or [None])[-1]
    if frame is None:
        return "unknown place"
    name = frame.filename.replace("\\", "/")
    return f"{name[name.find('sdlib/'):] if 'sdlib/' in name else os.path.basename(name)}:{frame.lineno}"


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A library's warning as one line, without the path of the file that raised it."""
    text = " ".join(str(message).split())
    if len(text) > MAX_MESSAGE:  # (split() also breaks on every line break)
        text = text[:MAX_MESSAGE - 3] + "..."
    sys.stderr.write(f"tokenworld: warning: {text}\n")


if __name__ == "__main__":
    sys.exit(main())
