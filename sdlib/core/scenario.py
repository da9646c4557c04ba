"""Scenarios: named combinations of overrides and policies on the model's defaults.

A scenario is a TOML file in `runs/` (readable, diffable), for example::

    description = "Seed 000 as printed: exogenous frontier, Cobb-Douglas, E held constant."
    extends = "baseline"            # optional: start from another scenario
    model = "models/tokenworld.mdl" # optional, relative to the folder holding runs/
    final_time = 2100               # optional
    time_step = 0.0625              # optional

    [set]
    "efficiency investment share" = 0

    [[policy]]
    name = "token-price-subsidy"
    start = 2030
    size = 0.5

A child's `[set]` entries replace its parent's; its policies come after its parent's.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BadInput, UnknownName
from .paths import DEFAULT_MODEL, RUNS_DIR, display_path

ALLOWED_KEYS = {"description", "extends", "model", "final_time", "time_step", "set", "policy"}


@dataclass
class Scenario:
    name: str
    description: str = ""
    model: Path = DEFAULT_MODEL
    final_time: float | None = None
    time_step: float | None = None
    overrides: dict = field(default_factory=dict)
    policies: list[dict] = field(default_factory=list)
    source: Path | None = None
    chain: list[str] = field(default_factory=list)  # the scenarios it extends, outermost first
    origins: dict = field(default_factory=dict)  # final_time / time_step -> the file that set it

    @property
    def label(self) -> str:
        """How errors name this scenario's file."""
        return display_path(self.source) if self.source else self.name


def scenario_files() -> dict[str, Path]:
    """Scenario name -> file, for every scenario in `runs/`."""
    return {p.stem: p for p in sorted(RUNS_DIR.glob("*.toml"))}


def find_scenario_file(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".toml":
        if not path.is_file():
            raise BadInput(f"{name_or_path}: scenario file not found", "scenario")
        return path.resolve()
    files = scenario_files()
    if name_or_path in files:
        return files[name_or_path]
    known = ", ".join(files) or "none"
    raise UnknownName(f"scenario: unknown scenario '{name_or_path}' (known scenarios: {known}; "
                      f"or give a path to a .toml file)", "scenario")


def load_scenario(name_or_path: str, _seen: tuple = ()) -> Scenario:
    """Read a scenario and everything it extends, checking every key."""
    path = find_scenario_file(name_or_path)
    if path in _seen:
        raise BadInput(f"{path.name}: 'extends' makes a cycle ({' -> '.join(p.stem for p in _seen + (path,))})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path.name}: not valid TOML ({exc})") from None
    unknown = set(data) - ALLOWED_KEYS
    if unknown:
        raise BadInput(
            f"{path.name}: unknown key(s) {', '.join(sorted(unknown))} (expected some of {', '.join(sorted(ALLOWED_KEYS))})"
        )
    if "extends" in data:
        scenario = load_scenario(str(data["extends"]), _seen + (path,))
        scenario.chain = scenario.chain + [scenario.name]
    else:
        scenario = Scenario(name=path.stem)
    scenario.name = path.stem
    scenario.source = path
    scenario.description = str(data.get("description", scenario.description))
    if "model" in data:
        model = Path(data["model"])
        scenario.model = model if model.is_absolute() else (RUNS_DIR.parent / model)
    for key in ("final_time", "time_step"):
        if key in data:
            value = data[key]
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise BadInput(f"{path.name}: '{key}' must be a number, got {value!r}")
            setattr(scenario, key, float(value))
            scenario.origins[key] = path.name
    overrides = data.get("set", {})
    if not isinstance(overrides, dict):
        raise BadInput(f"{path.name}: [set] must be a table of NAME = VALUE")
    scenario.overrides = {**scenario.overrides, **overrides}
    policies = data.get("policy", [])
    if not isinstance(policies, list) or not all(isinstance(p, dict) and "name" in p for p in policies):
        raise BadInput(f"{path.name}: each [[policy]] needs a 'name' and its arguments")
    scenario.policies = scenario.policies + [dict(p) for p in policies]
    return scenario


def ad_hoc_scenario(model: Path) -> Scenario:
    """The scenario of `tokenworld simulate MODEL.mdl`: the model's own defaults."""
    return Scenario(name=Path(model).stem, description=f"defaults of {Path(model).name}", model=Path(model).resolve())
