"""Generate the source of the batch kernel: one numba function that runs N parameter sets.

The kernel computes every cell of the model (an element, or one element of a subscripted one) in
dependency order, exactly as PySD evaluates them each time step: auxiliaries, then saving (at
PySD's saving times), then the derivatives of every state, then the update: Euler (as PySD) or
classic fourth-order Runge-Kutta (as Vensim's RK4, which PySD does not offer).

An unsubscripted cell is a scalar local; the cells of a subscripted element live in an array, and
the cells one equation defines are computed by one loop over them (their expressions folded into
one template, see `fold`), so that the kernel's size follows the number of equations, not of
cells. Constants live in a per-run array so that time-varying overrides (a policy's pandas Series)
can be interpolated into it at each step, as PySD does with `np.interp`. A run whose state leaves
the finite range stops and is marked diverged; a run that meets a value PySD would make complex
stops and is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from pysd.translators.structures import abstract_expressions as ax

from ..core.errors import BadInput, ModelError
from ..core.evaluate import evaluate_python
from ..core.expressions import Code, Context, Refused, TableSet, Translator
from . import ufuncs, vmath
from .fold import Folded, fold
from .integers import pysd_int
from .lanes import LANES, Sections, lane_kernel
from .result import DIVERGENCE_BOUND
from .statefuls import INIT_ARGS, OUT_ARGS, STEP_ARGS, StatefulCode, arguments, group_code, merged, scalar_code

KERNEL_FUNCTIONS = ("nmin", "nmax", "nanmin2", "nanmax2", "nz", "nz1", "xidz", "zidz", "step", "ramp", "pulse",
                    "integer", "quantum", "modulo", "lookup", "lookup_vensim", "data", "ppow", "uniform01",
                    "random_uniform", "random_normal", "random_exponential", "vector_sort_order", "vector_rank",
                    "vector_reorder", "vector_select", "invert_matrix", "allocate_available",
                    "allocate_by_priority", "int_cast")
METHODS = ("euler", "rk4")
REF = re.compile(r"\b(c|o)(\d+)\b")
GATHER = re.compile(r"np\.array\(\[(c\d+(?:, c\d+)*)\]\)")  # a vector gathered from cells


@dataclass
class Generated:
    source: str
    saved: list  # the saved cells, in VALS order
    constants: list  # the cells held in CV, in order
    defaults: list  # their values in the model
    sites: list  # what each error slot means (powers that PySD makes complex)
    method: str
    codes: dict = field(default_factory=dict)  # cell id -> Code (kernel dialect)
    int_constants: list = field(default_factory=list)  # per IINT flag: constants that, set by a run, clear it
    lanes: int = 0  # runs side by side in the kernel for many runs (0: the run-major kernel, see `lanes`)
    lanes_obstacle: str = ""  # why the model runs on the run-major kernel


# --- the expression of a cell, and values that need no run --------------------------------------

def context_of(cell) -> Context:
    if cell.context is not None:
        return cell.context
    defined = tuple(cell.component.subs) if cell.component is not None else ()
    return Context(cell, cell.point, defined, cell.var.macro)


def cell_code(translator: Translator, loader, cell) -> Code:
    """The expression of one cell (for a stock: its state's output)."""
    component = cell.component
    if component is None:
        return Code("np.nan")
    node = component.ast
    if isinstance(node, np.ndarray):
        return Code(repr(translator.s.array_value(component, cell.point)))
    if isinstance(node, ax.GetConstantsStructure):
        return Code(repr(loader.constant(cell)))
    if isinstance(node, (ax.GetDataStructure, ax.DataStructure)):
        xs, ys, mode = loader.series(cell)
        table = translator.tables.add(xs, ys, mode)
        return Code(f"data(t, LX{table.id}, LY{table.id}, {table.mode})", dynamic=True)
    return translator.translate(node, context_of(cell))


class Statics:
    """Values that need no run: constants, and expressions of constants (the simulation controls)."""

    def __init__(self, structure, loader):
        self.s = structure
        self.loader = loader
        self._values: dict = {}

    def _translator(self, dialect: str, tables) -> Translator:
        translator = Translator(self.s, dialect, tables=tables)
        translator.controls_as_cells = True
        return translator

    def value(self, cell, _stack=()):
        if cell.id in self._values:
            return self._values[cell.id]
        if cell.id in _stack or cell.var.kind in ("lookup", "data"):
            return None
        tables = TableSet(self.loader)
        kernel = cell_code(self._translator("kernel", tables), self.loader, cell)
        if kernel.statefuls or kernel.dynamic:
            self._values[cell.id] = None
            return None
        values = {}
        for ref in kernel.refs | kernel.irefs:
            value = self.value(ref, _stack + (cell.id,))
            if value is None:
                self._values[cell.id] = None
                return None
            values[f"c{ref.id}"] = value
        text = kernel.text if _literal(kernel.text) else cell_code(
            self._translator("python", tables), self.loader, cell).text
        self._values[cell.id] = evaluate_python(text, values, f"{self.s.path.name}: '{cell.describe()}'")
        return self._values[cell.id]


def _literal(text: str) -> bool:
    return text == "np.nan" or bool(re.fullmatch(r"-?[0-9.e+\-]+|-?inf", text))


def _constant_value(translator: Translator, loader, cell, code: Code) -> float:
    if _literal(code.text):
        return float(eval(code.text, {"np": np}))  # a literal number
    python = Translator(translator.s, "python", tables=translator.tables)
    text = cell_code(python, loader, cell).text
    return evaluate_python(text, owner=f"{translator.model}: '{cell.describe()}'")


# --- units: what one statement (or one loop) of the kernel computes ------------------------------

@dataclass(eq=False)
class CellUnit:
    cells: list  # the cells it computes (one, or the cells of one equation as a loop)
    folded: Folded | None = None

    @property
    def node(self):
        return ("u", self.cells[0].id)


@dataclass(eq=False)
class StatefulUnit:
    members: list  # Stateful records: one, or a group folded into loops
    group: int  # the group's number (its arrays S<g>, O<g>)
    position: int = 0  # a lone member of a group: its place in the group's arrays
    folded: dict | None = None  # argument -> Folded, when the group is one loop
    code: StatefulCode = None

    @property
    def sid(self) -> int:
        return self.members[0].id


class Kernel:
    """Everything `generate` decides, and the text it writes."""

    def __init__(self, structure, method, loader, exact):
        self.s = structure
        self.method = method
        self.loader = loader
        self.translator = Translator(structure, "kernel", tables=TableSet(loader),
                                     exact=exact and ufuncs.table() is not None)
        self.codes: dict[int, Code] = {}
        self.args: dict[int, dict] = {}  # stateful id -> argument -> Code
        self.globals: list[str] = []
        self.gathers: dict = {}  # (storage, positions) -> name of its table of positions
        self.int_sites: dict[int, int] = {}  # group number -> error slot of its integer cast

    # --- translation ----------------------------------------------------------------------------
    def translate(self):
        tr, s = self.translator, self.s
        i = j = 0
        while i < len(s.cells) or j < len(tr.statefuls):  # new cells and statefuls appear as we go
            if i < len(s.cells):
                cell = s.cells[i]
                i += 1
                if cell.var.kind not in ("lookup", "control"):
                    self.codes[cell.id] = cell_code(tr, self.loader, cell)
                continue
            stateful = tr.statefuls[j]
            j += 1
            self.args[stateful.id] = {name: tr.translate(node, stateful.ctx)
                                      for name, node in arguments(stateful).items()}

    # --- storage --------------------------------------------------------------------------------
    def layout(self):
        s = self.s
        cells = [s.cells[k] for k in sorted(self.codes)]
        vars_ = []
        for cell in cells:
            if not vars_ or vars_[-1] is not cell.var:
                vars_.append(cell.var)
        self.vars = list(dict.fromkeys(vars_))
        constant = {v.key for v in self.vars if v.kind == "value" and not v.hidden}
        for cell in cells:
            if cell.var.key in constant and not self.codes[cell.id].constant:
                constant.discard(cell.var.key)
        self.constants = [c for v in self.vars if v.key in constant for c in v.cells.values()]
        self.cidx = {c.id: n for n, c in enumerate(self.constants)}
        self.defaults = [_constant_value(self.translator, self.loader, c, self.codes[c.id]) for c in self.constants]
        self.saved = [c for v in self.vars if not v.hidden for c in v.cells.values()]
        self.arrays = {}  # var key -> array name (computed vars with more than one cell)
        self.position = {}  # cell id -> position in its var
        for n, var in enumerate(self.vars):
            for p, cell in enumerate(var.cells.values()):
                self.position[cell.id] = p
            if var.key not in constant and len(var.cells) > 1:
                self.arrays[var.key] = f"A{n}"
        self.group_of = {}  # stateful id -> (group number, position)
        self.groups = []
        for group in self.translator._groups.values():
            self.groups.append(group)
            for p, member in enumerate(group):
                self.group_of[member.id] = (len(self.groups) - 1, p)

    def name(self, cell) -> str:
        """A cell's value in the kernel's text."""
        if cell.id in self.cidx:
            return f"CV[{self.cidx[cell.id]}]"
        array = self.arrays.get(cell.var.key)
        return f"{array}[{self.position[cell.id]}]" if array else f"v{cell.id}"

    def out_name(self, sid: int) -> str:
        g, p = self.group_of[sid]
        return f"o{sid}" if len(self.groups[g]) == 1 else f"O{g}[{p}]"

    def render(self, text: str) -> str:
        cells = self.s.cells

        def one(m):
            number = int(m.group(2))
            return self.name(cells[number]) if m.group(1) == "c" else self.out_name(number)
        return REF.sub(one, GATHER.sub(self._gather, text))

    def _gather(self, m) -> str:
        """A vector of cells that live in one array, as one indexing of it by a table of positions
        (numba compiles a literal list of many elements slowly: minutes for a few hundred of them)."""
        cells = [self.s.cells[int(ref[1:])] for ref in m.group(1).split(", ")]
        if all(c.id in self.cidx for c in cells):
            storage, index = "CV", [self.cidx[c.id] for c in cells]
        elif len({c.var.key for c in cells}) == 1 and cells[0].var.key in self.arrays:
            storage, index = self.arrays[cells[0].var.key], [self.position[c.id] for c in cells]
        else:
            return m.group(0)
        key = (storage, tuple(index))
        if key not in self.gathers:
            self.gathers[key] = f"GI{len(self.gathers)}"
            self._table(self.gathers[key], index, "np.int64")
        return f"{storage}[{self.gathers[key]}]"

    # --- units ----------------------------------------------------------------------------------
    def make_units(self):
        self.cell_units: list[CellUnit] = []
        for var in self.vars:
            if var.key in self.arrays or (var.key not in {c.var.key for c in self.constants} and len(var.cells) == 1):
                by_component: dict = {}
                for cell in var.cells.values():
                    if cell.component is not None or not self.arrays.get(var.key):
                        by_component.setdefault(id(cell.component), []).append(cell)
                for group in by_component.values():
                    self.cell_units += self._cell_units(group)
        self.stateful_units: list[StatefulUnit] = []
        for g, group in enumerate(self.groups):
            self.stateful_units += self._stateful_units(g, group)

    def _cell_units(self, cells: list) -> list[CellUnit]:
        if len(cells) > 1:
            folded = fold([self.codes[c.id].text for c in cells])
            if folded is not None and self._foldable(folded):
                return [CellUnit(cells, folded)]
        return [CellUnit([c]) for c in cells]

    def _foldable(self, folded: Folded) -> bool:
        for column in folded.columns:
            if column.kind == "c":
                vars_ = {self.s.cells[i].var.key for i in column.values}
                if len(vars_) != 1:
                    return False
                key = vars_.pop()
                if key not in self.arrays and not any(self.s.cells[i].id in self.cidx for i in column.values):
                    return False
            elif column.kind == "o":
                groups = {self.group_of[i][0] for i in column.values}
                if len(groups) != 1 or len(self.groups[next(iter(groups))]) == 1:
                    return False
        return True

    def _stateful_units(self, g: int, group: list) -> list[StatefulUnit]:
        if len(group) > 1:
            folded = {}
            for name in self.args[group[0].id]:
                f = fold([self.args[m.id][name].text for m in group])
                if f is None or not self._foldable(f):
                    break
                folded[name] = f
            else:
                return [StatefulUnit(list(group), g, folded=folded)]
        return [StatefulUnit([m], g, position=p) for p, m in enumerate(group)]

    def unfold(self, units: set):
        """Write these loops as one statement per cell (they sit on a dependency cycle as loops)."""
        cells, statefuls = [], []
        for unit in self.cell_units:
            if unit in units:
                cells += [CellUnit([c]) for c in unit.cells]
            else:
                cells.append(unit)
        for unit in self.stateful_units:
            if unit in units:
                statefuls += [StatefulUnit([m], unit.group, position=p) for p, m in enumerate(unit.members)]
            else:
                statefuls.append(unit)
        self.cell_units, self.stateful_units = cells, statefuls

    # --- order ----------------------------------------------------------------------------------
    def graphs(self):
        """The run and initialisation dependency graphs over units (None if a loop must be unfolded)."""
        producer = {}
        for unit in self.cell_units:
            for cell in unit.cells:
                producer[cell.id] = unit
        out_of = {}
        for unit in self.stateful_units:
            for member in unit.members:
                out_of[member.id] = unit
        self.producer, self.out_of = producer, out_of
        run, init = nx.DiGraph(), nx.DiGraph()
        for unit in self.cell_units:
            node = ("u", unit)
            run.add_node(node)
            init.add_node(node)
            for cell in unit.cells:
                code = self.codes[cell.id]
                for graph, refs in ((run, code.refs), (init, code.irefs)):
                    for dep in refs:
                        if dep.id in producer:
                            graph.add_edge(("u", producer[dep.id]), node)
                    for sid in code.statefuls:
                        graph.add_edge(("out", out_of[sid]), node)
        for unit in self.stateful_units:
            out = ("out", unit)
            run.add_node(out)
            init.add_node(out)
            init.add_edge(("init", unit), out)
            for member in unit.members:
                codes = self.args[member.id]
                for graph, names in ((run, OUT_ARGS[member.kind]), (init, OUT_ARGS[member.kind])):
                    self._edges(graph, merged(codes, names), out, init_graph=graph is init)
                self._edges(init, merged(codes, INIT_ARGS[member.kind]), ("init", unit), init_graph=True)
                if member.kind == "delay" and unit.folded is None and len(member.group) > 1:
                    leader = member.group[0]
                    if leader is member:
                        for other in member.group:
                            self._edges(init, self.args[other.id]["delay_time"], ("init", unit), init_graph=True)
                    else:
                        init.add_edge(("init", out_of[leader.id]), ("init", unit))
        return run, init

    def _edges(self, graph, code: Code, node, init_graph: bool):
        for dep in (code.irefs | code.refs) if init_graph else code.refs:
            if dep.id in self.producer:
                graph.add_edge(("u", self.producer[dep.id]), node)
        for sid in code.statefuls:
            graph.add_edge(("out", self.out_of[sid]), node)

    def order(self):
        """Evaluation orders (run, init); loops on a cycle are unfolded until none is left."""
        while True:
            run, init = self.graphs()
            stuck = set()
            for graph in (run, init):
                for component in nx.strongly_connected_components(graph):
                    nodes = list(component)
                    if len(nodes) > 1 or graph.has_edge(nodes[0], nodes[0]):
                        stuck |= {n[1] for n in nodes if self._is_loop(n[1])}
            if not stuck:
                break
            self.unfold(stuck)
        key = {}
        for unit in self.cell_units:
            key[("u", unit)] = f"u{unit.cells[0].id:09d}"
        for unit in self.stateful_units:
            key[("out", unit)] = f"o{unit.sid:09d}"
            key[("init", unit)] = f"i{unit.sid:09d}"
        orders = []
        for graph, phase in ((run, ""), (init, " at initialisation")):
            try:
                orders.append(list(nx.lexicographical_topological_sort(graph, key=key.get)))
            except nx.NetworkXUnfeasible:
                cycle = nx.find_cycle(graph)
                names = [n[1].cells[0].describe() if n[0] == "u" else f"a stateful function in "
                         f"'{n[1].members[0].ctx.owner()}'" for n, _ in cycle]
                raise ModelError(f"{self.s.path.name}: equations depend on each other without a stock between "
                                 f"them{phase}: {' -> '.join(names)}") from None
        self.run_order = [n for n in orders[0] if n[0] != "init"]
        self.init_order = orders[1]
        # Only what the states' derivatives depend on is computed every step; the rest when saved.
        needed, todo = set(), []
        for unit in self.stateful_units:
            for member in unit.members:
                todo += self._deps(merged(self.args[member.id], STEP_ARGS[member.kind]))
        while todo:
            node = todo.pop()
            if node in needed:
                continue
            needed.add(node)
            todo += list(run.predecessors(node))
        self.needed = needed

    def _deps(self, code: Code) -> list:
        deps = [("u", self.producer[c.id]) for c in code.refs if c.id in self.producer]
        return deps + [("out", self.out_of[sid]) for sid in code.statefuls]

    @staticmethod
    def _is_loop(unit) -> bool:
        return len(unit.cells) > 1 if isinstance(unit, CellUnit) else len(unit.members) > 1

    # --- text -----------------------------------------------------------------------------------
    def loop_text(self, folded: Folded, tag: str) -> str:
        """A folded template's loop body, its varying places read from tables named after `tag`."""
        def place(j, column):
            name = f"{tag}_{j}"
            if column.kind == "c":
                cells = [self.s.cells[i] for i in column.values]
                if cells[0].id in self.cidx:
                    return f"CV[{self._index(name, [self.cidx[c.id] for c in cells])}]"
                index = self._index(name, [self.position[c.id] for c in cells])
                return f"{self.arrays[cells[0].var.key]}[{index}]"
            if column.kind == "o":
                g = self.group_of[column.values[0]][0]
                return f"O{g}[{self._index(name, [self.group_of[i][1] for i in column.values])}]"
            if column.kind in ("LX", "LY"):
                index = self._index(name, column.values)
                axis = "TX" if column.kind == "LX" else "TY"
                return f"{axis}[{index}, :TN[{index}]]"
            if column.kind == "int":
                return f"({self._index(name, column.values)})"
            self._table(name, column.values, "np.float64")
            return f"{name}[p]"
        return self.render(folded.render(place))

    def _index(self, name: str, values: list) -> str:
        """p's entry of an int table (or p plus a constant, when the table is a run of consecutive numbers)."""
        if values == list(range(values[0], values[0] + len(values))):
            return f"{values[0]} + p" if values[0] else "p"
        self._table(name, values, "np.int64")
        return f"{name}[p]"

    def _table(self, name: str, values: list, dtype: str):
        self.globals.append(f"{name} = np.array({[_float(v) for v in values]!r}, dtype={dtype})".replace("'", ""))

    def cell_lines(self, unit: CellUnit) -> list[str]:
        if unit.folded is None:
            cell = unit.cells[0]
            return [f"{self.name(cell)} = {self.render(self.codes[cell.id].text)}"]
        tag = f"U{unit.cells[0].id}"
        body = self.loop_text(unit.folded, tag)
        positions = [self.position[c.id] for c in unit.cells]
        array = self.arrays[unit.cells[0].var.key]
        if positions == list(range(positions[0], positions[0] + len(positions))):
            target = f"{array}[{positions[0]} + p]" if positions[0] else f"{array}[p]"
        else:
            self._table(f"{tag}_at", positions, "np.int64")
            target = f"{array}[{tag}_at[p]]"
        return [f"for p in range({len(unit.cells)}):", f"    {target} = {body}"]

    def integer_states(self):
        """The smooths (and DELAY N's delay times) PySD starts as integers (see `integers`): each gets a
        run-time flag IINT[j], 0 when the run sets a constant that made it an integer."""
        self.int_flags: dict[int, str] = {}  # group number -> its flag
        self.int_constants: list[frozenset] = []  # per flag: the constants it assumed to be ints
        if self.method != "euler":
            return  # PySD has no RK4: nothing to follow
        for g, group in enumerate(self.groups):
            kind = group[0].kind
            if kind == "smooth":
                argument = "initial"
            elif kind == "delay" and isinstance(group[0].node, ax.DelayNStructure):
                argument = "delay_time"
            else:
                continue
            answers = [pysd_int(self.translator, arguments(m)[argument], m.ctx) for m in group]
            if any(a.value is None for a in answers):
                self.translator.refuse(f"a {kind.upper()} whose initial {argument.replace('_', ' ')} PySD may "
                                       f"hold as an integer or not, depending on the run", group[0].ctx)
            if all(a.value for a in answers):
                self.int_flags[g] = f"IINT[{len(self.int_constants)}]"
                self.int_constants.append(frozenset().union(*(a.constants for a in answers)))
                self.translator.sites.append(f"a {kind.upper()} in '{group[0].ctx.owner()}' that PySD starts as an "
                                             f"integer, given a value that is not a number")
                self.int_sites[g] = len(self.translator.sites)

    def stateful_code(self, unit: StatefulUnit) -> StatefulCode:
        if unit.code is not None:
            return unit.code
        member = unit.members[0]
        tr = self.translator

        def refuse(what):
            tr.refuse(what, member.ctx)
        flag = self.int_flags.get(unit.group)
        integer = (flag, self.int_sites[unit.group]) if flag else None
        if unit.folded is not None:
            g = unit.group
            texts = {name: self.loop_text(f, f"G{g}_{name}") for name, f in unit.folded.items()}
            varying = {name: bool(f.columns) for name, f in unit.folded.items()}
            unit.code = group_code(str(g), member.kind, member.node, len(unit.members), texts, self.method, refuse,
                                   varying, integer)
            return unit.code
        texts = {name: self.render(code.text) for name, code in self.args[member.id].items()}
        shortest = order_from = None
        if member.kind == "delay" and len(member.group) > 1:
            leader = member.group[0]
            if leader is member:
                times = []
                for other in member.group:
                    text = self.render(self.args[other.id]["delay_time"].text)
                    if text not in times:
                        times.append(text)
                shortest = times[0] if len(times) == 1 else f"min({', '.join(times)})"
            else:
                order_from = f"m{leader.var}"
        unit.code = scalar_code(member, texts, self.method, self.out_name(member.id), refuse, shortest, order_from,
                                integer)
        return unit.code

    def lazy_names(self) -> list[str]:
        """Locals read by ACTIVE INITIAL's run branch during initialisation, before they have a value."""
        names = []
        for code in self.codes.values():
            if "INIT" in code.text:
                for cell in code.refs - code.irefs:
                    name = self.name(cell)
                    if name.startswith("v"):
                        names.append(name)
                names += [self.out_name(s) for s in code.statefuls if self.out_name(s).startswith("o")]
        return sorted(set(names))


def generate(structure, method: str = "euler", loader=None, exact: bool = False) -> Generated:
    if method not in METHODS:
        raise BadInput(f"batch engine: integration method '{method}' is not one of {', '.join(METHODS)}")
    k = Kernel(structure, method, loader, exact)
    k.translate()
    k.layout()
    k.integer_states()
    k.make_units()
    k.order()

    lines = [
        "import numpy as np",
        "from numba import njit, prange",
        "from sdlib.engine.functions import " + ", ".join(KERNEL_FUNCTIONS),
        "from sdlib.engine.ufuncs import call1, call2, setup",
        "",
    ]
    tables = k.translator.tables.tables
    for table in tables:
        lines.append(f"LX{table.id} = np.array({list(table.xs)!r})")
        lines.append(f"LY{table.id} = np.array({[_float(y) for y in table.ys]!r})".replace("'", ""))
    width = max([len(t.xs) for t in tables] + [1])
    lines.append(f"TX = np.zeros(({max(len(tables), 1)}, {width}))")
    lines.append(f"TY = np.zeros(({max(len(tables), 1)}, {width}))")
    lines.append(f"TN = np.array({[len(t.xs) for t in tables] or [0]!r}, dtype=np.int64)")
    for table in tables:
        lines.append(f"TX[{table.id}, :{len(table.xs)}] = LX{table.id}")
        lines.append(f"TY[{table.id}, :{len(table.xs)}] = LY{table.id}")

    body = []
    w = body.append
    units_code = {}

    def evaluate(node) -> list[str]:
        kind, unit = node
        if kind == "u":
            if unit not in units_code:
                units_code[unit] = k.cell_lines(unit)
            return units_code[unit]
        return k.stateful_code(unit).out_lines

    scs = [k.stateful_code(u) for u in k.stateful_units]
    sections = _sections(k, scs, evaluate)
    w("def kernel(P, SIDX, SX, SY, SL, t0, dt, tf, saveper, n_steps, SAVE, OUTIDX, OUT, STATUS, DIVAT, UFT, SEED,"
      " ERR, IINT):")
    w("    N = P.shape[0]")
    w("    for r in prange(N):")
    ind = " " * 8
    w(ind + "CV = P[r].copy()")
    w(ind + f"VALS = np.empty({max(len(k.saved), 1)})")
    w(ind + "UW = np.empty(12)")
    w(ind + "setup(UW)")
    w(ind + "E = np.zeros(1, dtype=np.int64)")
    w(ind + "t = t0")
    w(ind + "k = 0")
    w(ind + "INIT = True")
    w(ind + "for q in range(SIDX.shape[0]):")
    w(ind + "    CV[SIDX[q]] = np.interp(t, SX[q, :SL[q]], SY[q, :SL[q]])")
    for var_key, array in k.arrays.items():
        w(ind + f"{array} = np.full({len(structure.vars[var_key].cells)}, np.nan)")
    for g, group in enumerate(k.groups):
        if len(group) > 1 and not any(u.folded is not None and u.group == g for u in k.stateful_units):
            w(ind + f"O{g} = np.full({len(group)}, np.nan)")
    for name in k.lazy_names():
        w(ind + f"{name} = np.nan")
    for sc in scs:
        for line in sc.alloc_lines:
            w(ind + line)
    # Initialisation, in the order PySD initialises: states from their initial values, with the
    # cells those need computed first.
    for line in sections.init:
        w(ind + line)
    w(ind + "INIT = False")
    _initial_nans(w, ind, sections.checks)
    w(ind + "isave = 0")
    w(ind + "while True:")
    ind2 = ind + "    "
    w(ind2 + "for q in range(SIDX.shape[0]):")
    w(ind2 + "    CV[SIDX[q]] = np.interp(t, SX[q, :SL[q]], SY[q, :SL[q]])")
    for line in sections.needed:
        w(ind2 + line)
    w(ind2 + "if SAVE[k]:")
    for line in sections.unneeded + sections.values:
        w(ind2 + "    " + line)
    w(ind2 + "    for j in range(OUTIDX.shape[0]):")
    w(ind2 + "        OUT[r, j, isave] = VALS[OUTIDX[j]]")
    w(ind2 + "    isave += 1")
    # A power PySD makes complex refuses the run at the time of the step that met it: in the
    # equations, and in the derivatives (before the divergence test, which its NaN would trip).
    refuse = ["if E[0] != 0:", "    STATUS[r] = 2", "    ERR[r] = E[0]", "    DIVAT[r] = t", "    break"]
    for line in refuse:
        w(ind2 + line)
    w(ind2 + "if k == n_steps:")
    w(ind2 + "    break")
    for line in sections.derivatives:
        w(ind2 + line)
    if method == "rk4":
        _rk4_stages(w, ind2, scs, k, evaluate)
    for line in sections.before_update + sections.update:
        w(ind2 + line)
    for line in refuse:
        w(ind2 + line)
    w(ind2 + "t = t + dt")
    w(ind2 + "k += 1")
    _divergence_check(w, ind2, sections.checks)
    # Two compiled forms: over many runs in parallel (the lane kernel when the model allows it, see
    # `lanes`; else this one) and, quicker to compile, this one for one run.
    kernel = "\n".join(body)
    lane_source, obstacle = lane_kernel(sections, method)
    many = ["from sdlib.engine.vmath import " + ", ".join(vmath.__all__), "",
            "@njit(parallel=True, nogil=True, cache=True, error_model='numpy')", lane_source] if lane_source else [
        "@njit(parallel=True, nogil=True, cache=True, error_model='numpy')", kernel]
    source = "\n".join(lines + k.globals + many + [
        "", "@njit(nogil=True, cache=True, error_model='numpy')", kernel.replace("def kernel(", "def kernel1(", 1)]) + "\n"
    return Generated(source=source, saved=k.saved, constants=k.constants, defaults=k.defaults,
                     sites=list(k.translator.sites), method=method, codes=k.codes, int_constants=k.int_constants,
                     lanes=LANES if lane_source else 0, lanes_obstacle=obstacle)


def _sections(k: Kernel, scs: list, evaluate) -> Sections:
    """The kernel's statements by where they run: the run-major kernel writes them into its loop over
    time, the lane kernel into its loops over lanes."""
    obstacle = ""
    if k.arrays or any(len(g) > 1 for g in k.groups):
        obstacle = "subscripted variables"
    elif k.lazy_names():
        obstacle = "ACTIVE INITIAL"
    elif any(line for sc in scs for line in sc.alloc_lines):
        obstacle = "a stateful function with stages (SMOOTH, DELAY)"
    elif k.int_flags:
        obstacle = "a state PySD keeps as an integer"
    init = []
    for kind, unit in k.init_order:
        init += k.stateful_code(unit).init_lines if kind == "init" else evaluate((kind, unit))
    values: list[str] = []
    _save_lines(values.append, "", k)
    return Sections(
        init=init,
        needed=[line for node in k.run_order if node in k.needed for line in evaluate(node)],
        unneeded=[line for node in k.run_order if node not in k.needed for line in evaluate(node)],
        values=values,
        derivatives=[line for sc in scs for line in sc.ddt_lines],
        before_update=[line for sc in scs for line in sc.save_lines],
        update=[line for sc in scs for line in sc.update_lines],
        checks=[c for sc in scs for c in sc.check],
        states=[line.split(" = ", 1)[0] for sc in scs for line in sc.init_lines],
        n_saved=len(k.saved), obstacle=obstacle)


def _save_lines(w, ind, k: Kernel):
    i = 0
    for var in k.vars:
        if var.hidden:
            continue
        cells = list(var.cells.values())
        if len(cells) > 1 and (var.key in k.arrays or cells[0].id in k.cidx):
            source = k.arrays.get(var.key) or "CV"
            start = 0 if var.key in k.arrays else k.cidx[cells[0].id]
            w(ind + f"for p in range({len(cells)}):")
            w(ind + f"    VALS[{i} + p] = {source}[{start} + p]")
        else:
            for cell in cells:
                w(ind + f"VALS[{i + k.position[cell.id]}] = {k.name(cell)}")
        i += len(cells)


def _divergence_check(w, ind, checks):
    """Diverged: a state passed the bound, became infinite, or became NaN from a number.

    The usual case costs one comparison per state; NAN[i] remembers which scalar states were
    already NaN (set at initialisation, updated whenever some state is not a bounded number)."""
    if not checks:
        return
    scalars = [c for c, a, _ in checks if not a]
    arrays = [(c, p) for c, a, p in checks if a]
    if arrays:
        w(ind + "ok = True")
        for expr, previous in arrays:
            w(ind + f"for p in range({previous}.shape[0]):")
            x = f"{expr}[p]" if "[" not in expr else expr.replace("[:,", "[p,")
            w(ind + f"    x = {x}")
            w(ind + f"    if not (abs(x) <= {DIVERGENCE_BOUND} or (x != x and {previous}[p] != {previous}[p])):")
            w(ind + "        ok = False")
    fast = (["ok"] if arrays else []) + [f"abs({c}) <= {DIVERGENCE_BOUND}" for c in scalars]
    w(ind + "if not (" + " and ".join(fast) + "):")
    w(ind + "    bad = " + ("not ok" if arrays else "False"))
    for i, c in enumerate(scalars):
        w(ind + f"    x = {c}")
        w(ind + f"    if (x != x and not NAN[{i}]) or abs(x) > {DIVERGENCE_BOUND}:")
        w(ind + "        bad = True")
        w(ind + f"    NAN[{i}] = x != x")
    w(ind + "    if bad:")
    w(ind + "        STATUS[r] = 1")
    w(ind + "        DIVAT[r] = t")
    w(ind + "        break")


def _initial_nans(w, ind, checks):
    """Which scalar states are NaN from the start (a model's :NA:): not a divergence."""
    scalars = [c for c, a, _ in checks if not a]
    if scalars:
        w(ind + f"NAN = np.zeros({len(scalars)}, dtype=np.bool_)")
        for i, c in enumerate(scalars):
            w(ind + f"NAN[{i}] = {c} != {c}")


def _rk4_stages(w, ind, scs, k: Kernel, evaluate):
    """Classic Runge-Kutta: three more evaluations of the derivatives inside the step."""
    continuous = [sc for sc in scs if sc.continuous and sc.state]
    w(ind + "tk = t")
    for sc in continuous:
        for (state, is_array), deriv in zip(sc.state, sc.derivative, strict=True):
            w(ind + (f"y0_{state} = {state}.copy()" if is_array else f"y0_{state} = {state}"))
            w(ind + (f"a_{state} = {deriv}.copy()" if is_array else f"a_{state} = {deriv}"))
    w(ind + "for stage in range(1, 4):")
    ind2 = ind + "    "
    w(ind2 + "h = dt if stage == 3 else 0.5 * dt")
    w(ind2 + "weight = 1.0 if stage == 3 else 2.0")
    for sc in continuous:
        for (state, is_array), deriv in zip(sc.state, sc.derivative, strict=True):
            w(ind2 + (f"{state}[...] = y0_{state} + h * {deriv}" if is_array
                      else f"{state} = y0_{state} + h * {deriv}"))
    w(ind2 + "t = tk + h")
    w(ind2 + "for q in range(SIDX.shape[0]):")
    w(ind2 + "    CV[SIDX[q]] = np.interp(t, SX[q, :SL[q]], SY[q, :SL[q]])")
    for node in k.run_order:
        if node in k.needed:
            for line in evaluate(node):
                w(ind2 + line)
    for sc in continuous:
        for line in sc.ddt_lines:
            w(ind2 + line)
        for (state, is_array), deriv in zip(sc.state, sc.derivative, strict=True):
            w(ind2 + (f"a_{state} += weight * {deriv}" if is_array else f"a_{state} = a_{state} + weight * {deriv}"))
    for sc in continuous:
        for (state, is_array), deriv in zip(sc.state, sc.derivative, strict=True):
            if is_array:
                w(ind + f"{deriv}[...] = a_{state} / 6.0")
                w(ind + f"{state}[...] = y0_{state}")
            else:
                w(ind + f"{deriv} = a_{state} / 6.0")
                w(ind + f"{state} = y0_{state}")
    w(ind + "t = tk")


def _float(y):
    if isinstance(y, (int, np.integer)):
        return int(y)
    return "np.nan" if y != y else ("np.inf" if y == np.inf else ("-np.inf" if y == -np.inf else float(y)))


__all__ = ["Generated", "Statics", "evaluate_python", "generate", "METHODS", "Refused"]
