"""Where the project keeps its models, scenarios, run outputs and caches."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("TOKENWORLD_HOME", Path(__file__).resolve().parents[1]))
MODELS_DIR = PROJECT_ROOT / "models"
RUNS_DIR = PROJECT_ROOT / "runs"
OUTPUT_DIR = RUNS_DIR / "output"
DEFAULT_MODEL = MODELS_DIR / "tokenworld.mdl"


def cache_dir() -> Path:
    """Translated models are cached here, keyed by the .mdl's content hash."""
    if os.environ.get("TOKENWORLD_CACHE"):
        return Path(os.environ["TOKENWORLD_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tokenworld"


def display_path(path: Path) -> str:
    """A path as shown to users and written to manifests: relative to the project when inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return path.name
