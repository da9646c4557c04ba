"""`tokenworld simulate MODEL.mdl`: run any Vensim model with its own defaults."""

from __future__ import annotations

from pathlib import Path

from .run import add_run_options, execute


def add_arguments(p) -> None:
    p.add_argument("model", help="path to a Vensim .mdl file")
    add_run_options(p)


def main(args) -> int:
    from sdlib.core.errors import BadInput

    model = Path(args.model)
    if model.suffix.lower() != ".mdl":
        raise BadInput(f"{args.model}: expected a Vensim .mdl file")
    if not model.is_file():
        raise BadInput(f"{args.model}: model file not found")
    return execute(args, str(model))
