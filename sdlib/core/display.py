"""What front-ends show of a model, read from `<model>-display.toml` beside the `.mdl`.

A model's own choices (its headline indicators, the lines printed after a run, the panels of
its sector figures, the explorer's charts, its key uncertainties) are data beside the model, not
Python lists: generic code reads them here. A model without the file gets a plain default (its
stocks as headline indicators, nothing else).

Example
-------
>>> from sdlib.core.paths import DEFAULT_MODEL
>>> from sdlib.core.spec import load_spec
>>> display_of(load_spec(DEFAULT_MODEL)).summary[:1]   # doctest: +SKIP
['Output per developer']
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import BadInput
from .spec import ModelSpec, name_key


@dataclass(frozen=True)
class Panel:
    title: str
    variables: list[str]
    floor: str | None = None  # a bound shown as a note, not a line (it may be decades away)


@dataclass(frozen=True)
class Uncertainty:
    """A parameter varied uniformly between two values (EMA Workbench's RealParameter).

    `name` is a Vensim parameter name, or a lever argument written `POLICY.ARGUMENT`
    (e.g. `token-price-subsidy.size`), so that levers and uncertainties can be varied alike.
    """

    name: str
    low: float
    high: float
    doc: str = ""

    @property
    def is_lever(self) -> bool:
        return "." in self.name and "-" in self.name.split(".", 1)[0]


@dataclass(frozen=True)
class Slider:
    name: str
    low: float | None
    high: float | None
    doc: str


@dataclass(frozen=True)
class Display:
    summary: list[str] = field(default_factory=list)
    headline: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    sectors: dict[str, list[Panel]] = field(default_factory=dict)
    charts: list[tuple[str, bool]] = field(default_factory=list)  # (name, log axis)
    uncertainties: list[Uncertainty] = field(default_factory=list)  # with a plausible range
    sliders: list[Slider] = field(default_factory=list)  # the explorer's

    def uncertainty(self, name: str) -> Uncertainty | None:
        return next((u for u in self.uncertainties if name_key(u.name) == name_key(name)), None)


def display_file(spec: ModelSpec) -> Path:
    return spec.path.with_name(spec.path.stem + "-display.toml")


def display_of(spec: ModelSpec) -> Display:
    """The model's display choices, every name checked against the model."""
    path = display_file(spec)
    stamp = path.stat().st_mtime_ns if path.is_file() else 0
    return _display(path, stamp, spec.path, spec.sha256)


@lru_cache(maxsize=8)
def _display(path: Path, stamp: int, model: Path, sha: str) -> Display:
    from .spec import load_spec

    spec = load_spec(model)
    if not path.is_file():
        return Display(headline=[el.name for el in spec.of_kind("stock")][:24])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path.name}: not valid TOML ({exc})") from None
    known = {"summary", "headline", "outcomes", "sector", "chart", "uncertainty"}
    unknown = set(data) - known
    if unknown:
        raise BadInput(f"{path.name}: unknown key(s) {', '.join(sorted(unknown))} "
                       f"(expected some of {', '.join(sorted(known))})")

    def names(values, where: str) -> list[str]:
        found = []
        for value in values:
            if value not in spec:
                raise BadInput(f"{path.name}: {where}: '{value}' is not a variable of {spec.path.name}")
            found.append(spec[value].name)
        return found

    sectors = {}
    for sector in data.get("sector", []):
        panels = []
        for panel in sector.get("panels", []):
            floor = panel.get("floor")
            panels.append(Panel(panel["title"], names(panel["variables"], f"sector {sector['name']}"),
                                names([floor], f"sector {sector['name']}")[0] if floor else None))
        sectors[sector["name"]] = panels
    uncertainties, sliders = [], []
    for entry in data.get("uncertainty", []):
        (name,) = names([entry["name"]], "uncertainty")
        if "range" in entry:
            low, high = (float(v) for v in entry["range"])
            uncertainties.append(Uncertainty(name, low, high, entry.get("doc", "")))
        if "explore" in entry:
            low, high = (float(v) for v in entry["explore"])
            sliders.append(Slider(name, low, high, entry.get("doc", "")))
    return Display(
        summary=names(data.get("summary", []), "summary"),
        headline=names(data.get("headline", []), "headline"),
        outcomes=names(data.get("outcomes", []), "outcomes"),
        sectors=sectors,
        charts=[(names([c["name"]], "chart")[0], bool(c.get("log", False))) for c in data.get("chart", [])],
        uncertainties=uncertainties,
        sliders=sliders,
    )
