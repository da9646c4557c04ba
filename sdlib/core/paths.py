"""Where Tokenworld finds its models and scenarios, writes run folders and keeps its caches.

The models (`models/`) and scenarios (`runs/*.toml`) ship inside the package (`sdlib/data/`, which
in a checkout links to the project's own folders), so an installed `tokenworld` works anywhere.
Run folders go under `runs/output/`: the checkout's when running from one, else the current
directory's. `TOKENWORLD_HOME` points at another folder holding `models/` and `runs/`.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
CHECKOUT = _PACKAGE.parent if (_PACKAGE.parent / "pyproject.toml").is_file() else None
HOME = Path(os.environ["TOKENWORLD_HOME"]) if os.environ.get("TOKENWORLD_HOME") else _PACKAGE / "data"
MODELS_DIR = HOME / "models"
RUNS_DIR = HOME / "runs"
DEFAULT_MODEL = MODELS_DIR / "tokenworld.mdl"


def output_dir() -> Path:
    """Where run folders go when no `--out` is given."""
    if os.environ.get("TOKENWORLD_HOME"):
        return RUNS_DIR / "output"
    return (CHECKOUT or Path.cwd()) / "runs" / "output"


def cache_dir() -> Path:
    """Translated models, parsed specs and compiled kernels are cached here, keyed by content hash."""
    if os.environ.get("TOKENWORLD_CACHE"):
        return Path(os.environ["TOKENWORLD_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tokenworld"


def display_path(path: str | Path) -> str:
    """A path as shown to users and written to manifests: relative to the model home or checkout."""
    path = Path(path).absolute()
    for root in (HOME, CHECKOUT, HOME.resolve()):
        if root is None:
            continue
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    try:
        return path.resolve().relative_to(HOME.resolve()).as_posix()
    except ValueError:
        return path.name
