"""Tokenworld's toolkit: run Vensim models through PySD (or the batch engine), with scenarios,
policy levers, ensembles, feedback loops and comparisons. Every result is an xarray Dataset
with units.

>>> import sdlib
>>> ds = sdlib.run("baseline", set={"capital share": 0.3})        # doctest: +SKIP
>>> ens = sdlib.ensemble("baseline", vary=["token return parameter=0.2:0.4"], n=100)  # doctest: +SKIP
>>> lp = sdlib.loops("baseline", dominance=True)                  # doctest: +SKIP

The names below are imported on first use, so that `import sdlib` (and `tokenworld --help`)
stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.2.0"

_EXPORTS = {
    "Model": "sdlib.model",
    "run": "sdlib.api",
    "resolve": "sdlib.api",
    "ensemble": "sdlib.api",
    "loops": "sdlib.api",
    "compare": "sdlib.api",
    "check": "sdlib.api",
    "calibrate": "sdlib.api",
    "screen": "sdlib.api",
    "open_run": "sdlib.api",
    "scenarios": "sdlib.api",
    "policies": "sdlib.api",
    "frame": "sdlib.api",
    "Resolved": "sdlib.api",
    "Controls": "sdlib.core.controls",
    "Scenario": "sdlib.core.scenario",
    "load_scenario": "sdlib.core.scenario",
    "Uncertainty": "sdlib.core.display",
    "Policy": "sdlib.core.policy",
    "Effect": "sdlib.core.policy",
    "Argument": "sdlib.core.policy",
    "new_run_dir": "sdlib.core.rundir",
    "TokenworldError": "sdlib.core.errors",
    "BadInput": "sdlib.core.errors",
    "UnknownName": "sdlib.core.errors",
    "OutOfRange": "sdlib.core.errors",
    "ModelError": "sdlib.core.errors",
    "UnsupportedConstruct": "sdlib.core.errors",
    "MissingExtra": "sdlib.core.errors",
}

__all__ = [
    "Argument", "BadInput", "Controls", "Effect", "MissingExtra", "Model", "ModelError", "OutOfRange", "Policy",
    "Resolved", "Scenario", "TokenworldError", "Uncertainty", "UnknownName", "UnsupportedConstruct", "__version__",
    "calibrate", "check", "compare", "ensemble", "frame", "load_scenario", "loops", "new_run_dir", "open_run", "policies", "resolve",
    "run",
    "scenarios", "screen",
]

if TYPE_CHECKING:
    from .api import Resolved, calibrate, check, compare, ensemble, frame, loops, open_run, policies, resolve, run, scenarios, screen
    from .core.controls import Controls
    from .core.display import Uncertainty
    from .core.errors import (
        BadInput,
        MissingExtra,
        ModelError,
        OutOfRange,
        TokenworldError,
        UnknownName,
        UnsupportedConstruct,
    )
    from .core.policy import Argument, Effect, Policy
    from .core.rundir import new_run_dir
    from .core.scenario import Scenario, load_scenario
    from .model import Model


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sdlib' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
