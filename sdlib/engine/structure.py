"""The model as the batch engine sees it: every element flattened into scalar cells.

PySD's abstract model gives each element one or more components, each defined over some
subscripts (ranges, subranges or single elements, minus :EXCEPT: lists). Here every element
becomes a `Var` with its final dimensions (PySD's merge of its components' subscripts) and one
`Cell` per coordinate: the component that defines it (the last one in the file, as PySD assigns
them in order) and the point where that component's equation is evaluated (each of the
component's subscript ranges bound to one of its elements). A cell the model leaves undefined is
NaN, as in PySD.

Subscript ranges, subranges, copies, mappings and ranges read from spreadsheets are resolved by
PySD's own `SubscriptManager`, so that names, orders and mappings are PySD's.

Each cell becomes one scalar local in the kernel, which keeps the kernel's shape (a straight list
of scalar statements) whether a model is subscripted or not, and a scalar per run can later become
a vector over runs without changing this layout.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pysd.translators.structures import abstract_expressions as ax
from pysd.translators.structures.abstract_model import (
    AbstractControlElement,
    AbstractData,
    AbstractLookup,
)

from ..core.errors import ModelError, UnsupportedConstruct
from ..core.spec import CONTROL_NAMES, name_key

LOOKUP_NODES = (ax.LookupsStructure, ax.GetLookupsStructure)
DATA_NODES = (ax.GetDataStructure, ax.DataStructure)


def clean(name: str) -> str:
    """How PySD's equations refer to an element: lower case, spaces as underscores."""
    return name.lower().replace(" ", "_")


@dataclass(eq=False)
class Component:
    var: Var
    index: int
    ast: object
    subs: dict  # the definition's subscripts: range name -> elements (PySD's make_coord_dict)
    excepts: list  # :EXCEPT: lists, each a dict like subs
    abstract: object  # the AbstractComponent (its type, and a data keyword)


@dataclass(eq=False)
class Cell:
    var: Var
    labels: tuple  # one subscript element per dimension of the var ( () for a scalar)
    component: Component | None  # None: left undefined by the model (NaN)
    point: dict  # range name -> element, where the component's equation is evaluated
    id: int = -1  # its number in the model (the kernel's local v{id})
    context: object = None  # where to translate it, when not at its own point (a macro's argument)

    @property
    def column(self) -> str:
        return self.var.column(self.labels)

    def describe(self) -> str:
        return self.var.name + (f"[{','.join(self.labels)}]" if self.labels else "")


@dataclass(eq=False)
class Var:
    key: str  # name_key of the Vensim name
    name: str
    kind: str  # value | lookup | data | control
    dims: list  # final subscript ranges
    coords: dict  # range -> elements, in the order PySD writes the columns
    components: list = field(default_factory=list)
    cells: dict = field(default_factory=dict)  # labels -> Cell, in column order
    hidden: bool = False  # a macro's internals: computed, never saved
    units: str = ""
    macro: object = None  # the macro call whose element this is

    def column(self, labels: tuple) -> str:
        """PySD's column name: a single-cell variable is written without its subscripts."""
        if not labels or len(self.cells) == 1:
            return self.name
        return f"{self.name}[{','.join(labels)}]"


class Structure:
    """The flattened model: vars by name key, PySD's subscripts, and the macros it may call."""

    def __init__(self, abstract, path: Path):
        from pysd.builders.python.subscripts import SubscriptManager

        self.path = Path(path)
        self.root = self.path.parent
        main = abstract.sections[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self.subscripts = SubscriptManager(main.subscripts, self.root)
            except Exception as exc:  # PySD raises several kinds on bad subscripts
                raise ModelError(f"{self.path.name}: PySD could not read the subscript ranges ({exc})") from None
        self.macros = {clean(s.name): s for s in abstract.sections[1:] if s.type == "macro"}
        self.vars: dict[str, Var] = {}
        self.by_clean: dict[str, str] = {}  # clean reference -> name key
        self.cells: list[Cell] = []  # every cell, by id
        self.calls = 0  # macro calls instantiated so far
        for element in main.elements:
            self.add(element)

    # --- building -------------------------------------------------------------------------------
    def add(self, element, prefix: str = "", hidden: bool = False, macro=None) -> Var:
        name = prefix + element.name
        key = name_key(name)
        first = element.components[0]
        if isinstance(element, AbstractControlElement) or (not prefix and key in CONTROL_NAMES):
            kind = "control"
        elif isinstance(first, AbstractLookup) or isinstance(first.ast, LOOKUP_NODES):
            kind = "lookup"
        elif isinstance(first, AbstractData) or isinstance(first.ast, DATA_NODES):
            kind = "data"
        else:
            kind = "value"
        subs_lists = [c.subscripts[0] for c in element.components]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                dims = self.subscripts.make_merge_list(subs_lists, element.name) if subs_lists[0] else []
                coords = self.subscripts.make_coord_dict(dims) if dims else {}
            except Exception as exc:
                raise UnsupportedConstruct(f"{self.path.name}: the subscripts of '{element.name}' could not be "
                                           f"merged as PySD does ({exc})") from None
        var = Var(key=key, name=name, kind=kind, dims=list(dims), coords=coords, hidden=hidden,
                  units=str(element.units or ""), macro=macro)
        for index, abstract_component in enumerate(element.components):
            subs = self._coord_dict(abstract_component.subscripts[0], element.name)
            excepts = [self._coord_dict(e, element.name) for e in abstract_component.subscripts[1]]
            var.components.append(Component(var, index, abstract_component.ast, subs, excepts, abstract_component))
        for labels in itertools.product(*coords.values()):
            var.cells[labels] = Cell(var, labels, None, {})
        if not coords:
            var.cells[()] = Cell(var, (), None, {})
        for component in var.components:  # later components override earlier ones, as in PySD
            for point in self.points(component):
                labels = tuple(point.values())
                if labels not in var.cells:
                    raise UnsupportedConstruct(f"{self.path.name}: '{element.name}' defines "
                                               f"[{','.join(labels)}] outside its subscript ranges")
                var.cells[labels] = Cell(var, labels, component, point)
        self._register(var)
        return var

    def _register(self, var: Var) -> None:
        key = var.key
        if key in self.vars:
            raise ModelError(f"{self.path.name}: '{var.name}' is defined twice")
        for cell in var.cells.values():
            cell.id = len(self.cells)
            self.cells.append(cell)
        self.vars[key] = var
        self.by_clean[clean(var.name)] = key
        self.by_clean.setdefault(key.replace(" ", "_"), key)

    def instantiate(self, section, arguments, ctx, translator):
        """One call of a macro: hidden vars for its arguments (evaluated where the call is) and its elements."""
        from ..core.expressions import Context, MacroInstance

        if len(arguments) != len(section.params):
            translator.refuse(f"the macro {section.name.upper()} called with {len(arguments)} arguments "
                              f"(it takes {len(section.params)})", ctx)
        self.calls += 1
        prefix = f"{section.name}#{self.calls}."
        instance = MacroInstance(prefix, section, {})
        for param, argument in zip(section.params, arguments, strict=True):
            var = Var(key=name_key(prefix + param), name=prefix + param, kind="value", dims=[], coords={},
                      hidden=True, macro=instance)
            component = Component(var, 0, argument, {}, [], None)
            var.components.append(component)
            var.cells[()] = Cell(var, (), component, {}, context=ctx)
            self._register(var)
            instance.params[param] = var
        for element in section.elements:
            var = self.add(element, prefix=prefix, hidden=True, macro=instance)
            for cell in var.cells.values():
                cell.context = Context(cell, cell.point, tuple(cell.component.subs) if cell.component else (),
                                       instance)
        return instance

    def _coord_dict(self, subs: list, element: str) -> dict:
        coords = self.subscripts.make_coord_dict(list(subs))
        if len(coords) != len(subs):
            raise UnsupportedConstruct(f"{self.path.name}: '{element}' uses the subscript range "
                                       f"{sorted(set(subs))} twice in one place")
        return coords

    def points(self, component: Component):
        """Every point a component defines: its ranges bound to elements, minus its :EXCEPT: lists."""
        names = list(component.subs)
        for labels in itertools.product(*component.subs.values()):
            if any(all(label in coords for label, coords in zip(labels, e.values(), strict=True)) for e in component.excepts):
                continue
            yield dict(zip(names, labels, strict=True))

    # --- looking up -----------------------------------------------------------------------------
    def find(self, reference: str) -> Var | None:
        key = self.by_clean.get(reference) or self.by_clean.get(reference.lower())
        if key is None:
            key = name_key(reference)
        return self.vars.get(key)

    def is_subscript_name(self, reference: str) -> bool:
        return reference in self.subscripts.subscript2num

    def elements_of(self, range_name: str) -> list:
        return list(self.subscripts.subscripts[range_name.rstrip("!")])

    def main_range_of(self, label: str) -> list | None:
        for main in self.subscripts.subranges:
            if label in self.subscripts.subscripts[main]:
                return self.subscripts.subscripts[main]
        return None

    def array_value(self, component: Component, point: dict) -> float:
        """One element of a component given as a literal array (a subscripted constant)."""
        values = np.asarray(component.ast, dtype=float)
        shape = [len(v) for v in component.subs.values()]
        try:
            values = values.reshape(shape)
        except ValueError:
            raise UnsupportedConstruct(f"{self.path.name}: the array of '{component.var.name}' has "
                                       f"{values.size} numbers for {int(np.prod(shape))} elements") from None
        index = tuple(coords.index(point[dim]) for dim, coords in component.subs.items())
        return float(values[index])
