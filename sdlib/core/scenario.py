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
from .spec import name_key

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


MAX_EXTENDS = 32  # scenarios a chain of `extends` may hold


def load_scenario(name_or_path: str, _seen: tuple = ()) -> Scenario:
    """Read a scenario and everything it extends, checking every key."""
    path = find_scenario_file(name_or_path)
    if path in _seen:
        raise BadInput(f"{path.name}: 'extends' makes a cycle ({' -> '.join(p.stem for p in _seen + (path,))})")
    if len(_seen) >= MAX_EXTENDS:
        raise BadInput(f"{_seen[0].name}: 'extends' goes more than {MAX_EXTENDS} scenarios deep "
                       f"({' -> '.join(p.stem for p in _seen[:3])} -> ...); flatten the chain")
    data = read_toml(path)
    label = path.name
    unknown = set(data) - ALLOWED_KEYS
    if unknown:
        shown = ", ".join(sorted(k[:40] for k in unknown)[:5])
        raise BadInput(f"{label}: unknown key(s) {shown} (expected some of {', '.join(sorted(ALLOWED_KEYS))})")
    for key in ("description", "extends", "model"):
        if key in data and not isinstance(data[key], str):
            raise BadInput(f"{label}: '{key}' must be a string, got {_shown(data[key])}")
    if "extends" in data:
        scenario = load_scenario(data["extends"], _seen + (path,))
        scenario.chain = scenario.chain + [scenario.name]
    else:
        scenario = Scenario(name=path.stem)
    scenario.name = path.stem
    scenario.source = path
    scenario.description = str(data.get("description", scenario.description))
    if "model" in data:
        model = Path(data["model"])
        model = model if model.is_absolute() else (RUNS_DIR.parent / model)
        if model.suffix.lower() != ".mdl":
            raise BadInput(f"{label}: 'model' = {data['model'][:80]!r} is not a Vensim model (expected a path to a "
                           f".mdl file, relative to the folder holding runs/)")
        if not model.is_file():
            raise BadInput(f"{label}: 'model' = {data['model'][:80]!r}: no such file ({display_path(model)})")
        scenario.model = model
    for key in ("final_time", "time_step"):
        if key in data:
            value = data[key]
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise BadInput(f"{label}: '{key}' must be a number, got {_shown(value)}")
            setattr(scenario, key, float(value))
            scenario.origins[key] = label
    overrides = data.get("set", {})
    if not isinstance(overrides, dict):
        raise BadInput(f"{label}: [set] must be a table of NAME = VALUE")
    mine: dict[str, str] = {}
    for name, value in overrides.items():
        key = name_key(name)
        if key in mine:
            raise BadInput(f"{label}: [set] gives '{mine[key]}' twice (as {mine[key]!r} and {name!r}); give it once")
        mine[key] = name
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise BadInput(f"{label}: [set] {name[:80]!r} must be a number, got {_shown(value)}")
    inherited = {k: v for k, v in scenario.overrides.items() if name_key(k) not in mine}
    scenario.overrides = {**inherited, **overrides}
    policies = data.get("policy", [])
    if not isinstance(policies, list) or not all(isinstance(p, dict) and isinstance(p.get("name"), str)
                                                 for p in policies):
        raise BadInput(f"{label}: each [[policy]] needs a 'name' (a string) and its arguments")
    scenario.policies = scenario.policies + [dict(p) for p in policies]
    return scenario


def read_toml(path: Path) -> dict:
    """A TOML file's table, or one line saying why it cannot be read."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path.name}: not UTF-8 text (byte {exc.start}); expected a TOML scenario file") from None
    except OSError as exc:
        raise BadInput(f"{path.name}: cannot be read ({exc.strerror})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path.name}: not valid TOML ({exc})") from None
    except RecursionError:
        raise BadInput(f"{path.name}: not valid TOML (nested too deeply)") from None


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def ad_hoc_scenario(model: Path) -> Scenario:
    """The scenario of `tokenworld simulate MODEL.mdl`: the model's own defaults."""
    return Scenario(name=Path(model).stem, description=f"defaults of {Path(model).name}", model=Path(model).resolve())
