"""What PySD parsed from a Vensim model, in a form the rest of the toolkit can use.

PySD translates a `.mdl` in stages (translator -> abstract model -> builder). This module reads
the *abstract model* once and exposes, for every element: its Vensim name, kind (stock, flow,
auxiliary, constant, lookup, ...), units, declared range, comment, expression tree, and its
dependencies split into causal ones and those that only set an initial value. The causal graph,
the loop analysis and the batch engine are all built from this, never from a second parser.

Example
-------
>>> spec = load_spec("models/tokenworld.mdl")          # doctest: +SKIP
>>> spec["software output"].deps                        # doctest: +SKIP

Parsing takes about half a second; the result is cached on disk beside the PySD translation,
under the model's content hash (see `cache_dir`), so later processes read it in milliseconds.
"""

from __future__ import annotations

import hashlib
import pickle
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pysd.translators.structures import abstract_expressions as ax
from pysd.translators.structures.abstract_model import (
    AbstractControlElement,
    AbstractData,
    AbstractLookup,
)

from .errors import ModelError, UnknownName
from .paths import cache_dir

CONTROL_NAMES = ("initial time", "final time", "time step", "saveper")

# AST nodes whose `initial` argument is used only once, to set a starting value.
_STATEFUL_NODES = (
    ax.IntegStructure,
    ax.DelayStructure,
    ax.DelayNStructure,
    ax.DelayFixedStructure,
    ax.SmoothStructure,
    ax.SmoothNStructure,
    ax.TrendStructure,
    ax.ForecastStructure,
    ax.SampleIfTrueStructure,
)


def name_key(name: str) -> str:
    """Vensim's name identity: case-insensitive, spaces and underscores alike, runs collapsed."""
    return " ".join(name.replace("_", " ").replace('"', "").lower().split())


@dataclass
class Element:
    """One model element as PySD parsed it."""

    name: str
    kind: str  # stock | delay | flow | auxiliary | initial | constant | lookup | data | control
    units: str
    limits: tuple[float | None, float | None]  # the [min,max] declared in the units field
    comment: str
    ast: Any  # a PySD abstract expression (ax.*Structure), a number, or None: the first definition's
    asts: tuple = ()  # every definition's, for an array defined piece by piece (x[a] = ..., x[b] = ...)
    deps: set[str] = field(default_factory=set)  # causal dependencies (name keys)
    initial_deps: set[str] = field(default_factory=set)  # used only for initial values
    subscripted: bool = False
    increment: float | None = None  # the step of a [min,max,step] range; 1 marks a switch

    @property
    def key(self) -> str:
        return name_key(self.name)


@dataclass
class ModelSpec:
    """The elements of a model, keyed by `name_key`, plus where the model came from."""

    path: Path
    sha256: str
    elements: dict[str, Element]
    views: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> Element:
        key = name_key(name)
        if key not in self.elements:
            raise UnknownName(f"{self.path.name}: no variable named '{name}' in the model")
        return self.elements[key]

    def __contains__(self, name: str) -> bool:
        return name_key(name) in self.elements

    def of_kind(self, *kinds: str) -> list[Element]:
        return [e for e in self.elements.values() if e.kind in kinds]

    def flows_of(self, stock: str) -> list[str]:
        """Names (keys) of the flows that fill or drain a stock, from its INTEG rate."""
        ast = self[stock].ast
        return sorted(_top_level_terms(ast.flow)) if isinstance(ast, ax.IntegStructure) else []


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_spec(path: str | Path) -> ModelSpec:
    """Parse a `.mdl` with PySD's Vensim translator; cached on the file's content."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ModelError(f"{path.name}: model file not found (expected a Vensim .mdl file)")
    return _load_spec_cached(path, file_sha256(path))


SPEC_FORMAT = 2  # bump when ModelSpec or Element change shape
_MAGIC = b"tokenworld-spec\n"


def spec_cache_file(sha: str) -> Path:
    """Where the parsed spec of a model with this content hash is kept (beside its translation),
    named by the versions of PySD and Tokenworld that wrote it."""
    from importlib.metadata import version

    from .. import __version__

    return cache_dir() / sha / f"spec-v{SPEC_FORMAT}-pysd{version('pysd')}-tokenworld{__version__}.pickle"


@lru_cache(maxsize=16)
def _load_spec_cached(path: Path, sha: str) -> ModelSpec:
    cached = spec_cache_file(sha)
    spec = _read_verified(cached)
    if not isinstance(spec, ModelSpec) or spec.sha256 != sha:
        spec = _parse_spec(path, sha)
        payload = pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            _write_atomic(cached, _MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
        except OSError:
            pass  # a cache that cannot be written only costs time
    spec.path = path
    return spec


def _read_verified(cached: Path):
    """The cached spec, if the file holds exactly what was written (its checksum matches); else None."""
    try:
        data = cached.read_bytes()
    except OSError:
        return None
    if not data.startswith(_MAGIC):
        return None
    digest, _, payload = data[len(_MAGIC):].partition(b"\n")
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        return None  # damaged: parsed again and replaced
    try:
        return pickle.loads(payload)
    except Exception:  # written by an incompatible version: parsed again and replaced
        return None


def _write_atomic(target: Path, data: bytes) -> None:
    from .rundir import sweep, write_cache_file

    target.parent.mkdir(parents=True, exist_ok=True)
    sweep(target.parent)
    write_cache_file(target, data)


def _parse_spec(path: Path, sha: str) -> ModelSpec:
    from pysd.translators.vensim.vensim_file import VensimFile

    try:
        with warnings.catch_warnings():
            # PySD's notes on the parse (the file's encoding, ignored :CONSTRAINT: sections) would
            # print once, with PySD's paths, and never again once the spec is cached.
            warnings.simplefilter("ignore")
            vf = VensimFile(path)
            vf.parse()
            abstract = vf.get_abstract_model()
    except RecursionError:
        raise ModelError(f"{path.name}: an equation is nested too deeply for PySD to parse") from None
    except Exception as exc:  # PySD raises many kinds on malformed text
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelError(f"{path.name}: PySD could not parse the model ({first})") from None
    section = abstract.sections[0]
    elements: dict[str, Element] = {}
    for el in section.elements:
        element = _element_from_abstract(el)
        elements[element.key] = element
    _mark_flows(elements)
    return ModelSpec(path=path, sha256=sha, elements=elements, views=section.views_dict or {})


def _element_from_abstract(el) -> Element:
    comp = el.components[0]
    ast = comp.ast
    asts = tuple(c.ast for c in el.components)
    deps: set[str] = set()
    initial: set[str] = set()
    if isinstance(comp, AbstractLookup) or isinstance(ast, ax.LookupsStructure):
        kind = "lookup"
    elif isinstance(comp, AbstractData):
        kind = "data"
    else:
        for component_ast in asts:  # an array defined piece by piece depends on every piece's inputs
            _collect(component_ast, deps, initial, in_initial=False)
        if isinstance(el, AbstractControlElement) or name_key(el.name) in CONTROL_NAMES:
            kind = "control"
        elif any(isinstance(a, ax.IntegStructure) for a in asts):
            kind = "stock"
        elif any(isinstance(a, _STATEFUL_NODES) for a in asts):
            kind = "delay"
        elif not deps and not initial:
            kind = "constant"
        elif not deps:
            kind = "initial"
        else:
            kind = "auxiliary"
    lo, hi, step = (tuple(el.limits or ()) + (None, None, None))[:3]
    return Element(
        name=el.name,
        kind=kind,
        units=str(el.units or ""),
        limits=(_finite_or_none(lo), _finite_or_none(hi)),
        comment=(el.documentation or "").strip(),
        ast=ast,
        asts=asts,
        deps=deps,
        initial_deps=initial - deps,
        subscripted=any(c.subscripts[0] for c in el.components),
        increment=_finite_or_none(step),
    )


def _finite_or_none(value):
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if value == value and abs(value) != float("inf") else None


def _collect(node, deps: set[str], initial: set[str], in_initial: bool) -> None:
    """Walk an expression tree, sorting references into causal and initial-only ones."""
    target = initial if in_initial else deps
    if node is None or isinstance(node, (int, float, str, bool)):
        return
    if isinstance(node, ax.ReferenceStructure):
        target.add(name_key(node.reference))
        return
    if isinstance(node, ax.CallStructure):
        # A call of a model element is a lookup use; a call of a builtin names no element.
        target.add("__call__:" + name_key(node.function.reference))
        for arg in node.arguments:
            _collect(arg, deps, initial, in_initial)
        return
    if isinstance(node, ax.InitialStructure):
        _collect(node.initial, deps, initial, True)
        return
    if isinstance(node, _STATEFUL_NODES):
        for name, value in vars(node).items():
            _collect(value, deps, initial, in_initial or name.startswith("initial"))
        return
    if isinstance(node, (list, tuple)):
        for item in node:
            _collect(item, deps, initial, in_initial)
        return
    if hasattr(node, "__dict__"):
        for value in vars(node).values():
            _collect(value, deps, initial, in_initial)


def _resolve_calls(elements: dict[str, Element]) -> None:
    for element in elements.values():
        for attr in ("deps", "initial_deps"):
            names = getattr(element, attr)
            resolved = set()
            for name in names:
                if name.startswith("__call__:"):
                    name = name[len("__call__:"):]
                    if name not in elements:
                        continue  # a builtin function
                resolved.add(name)
            setattr(element, attr, resolved)


def _top_level_terms(node) -> set[str]:
    """References that enter a rate as whole additive terms (+x, -x): the stock's flows."""
    if isinstance(node, ax.ReferenceStructure):
        return {name_key(node.reference)}
    if isinstance(node, ax.ArithmeticStructure) and set(node.operators) <= {"+", "-", "negative"}:
        terms: set[str] = set()
        for arg in node.arguments:
            terms |= _top_level_terms(arg)
        return terms
    return set()


def _mark_flows(elements: dict[str, Element]) -> None:
    _resolve_calls(elements)
    for element in elements.values():
        element.initial_deps -= element.deps
        for definition in element.asts if element.kind == "stock" else ():
            for term in _top_level_terms(definition.flow) if isinstance(definition, ax.IntegStructure) else ():
                if term in elements and elements[term].kind == "auxiliary":
                    elements[term].kind = "flow"
