"""Turn PySD's abstract syntax trees into Python expressions: one evaluator for constants and equations.

Each expression is translated at one point of its element (a cell: every subscript range of the
equation bound to one element) into a scalar expression, in one of three dialects:

- `kernel`: numba-compiled code inside the batch kernel (one run at a time);
- `python`: the same expression for Python, to evaluate constants (and `registry.constant_value`);
- `vector`: numpy on arrays, to evaluate one equation over many values (the loop analysis).

Operators follow PySD's Python exactly: `-2^2` is -4 and `2^3^2` is 512 (PySD writes numbers as
literals into Python, so a negative number as the base of a power is negated after the power),
:AND: and :OR: nest from the right, EXP, LN, SIN ... call numpy's own loops (`ufuncs`).

References follow PySD's subscript rules: a subscript range of the equation binds the element of
the cell; a single element is fixed; a range mapped to one of the equation's ranges takes the
element at the same position; a range marked `!` is summed (SUM, PROD, VMIN, VMAX) over its
elements; a subscript range used as a value is the element's position (1-based) in its range.

Stateful constructs inside an equation (INTEG, SMOOTH, DELAY, TREND, FORECAST, INITIAL, ...)
become `Stateful` records with their own state variables; the expression refers to their output.
Any construct without a faithful translation raises `UnsupportedConstruct` naming the construct
and the variable, rather than being answered wrongly.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
from pysd.translators.structures import abstract_expressions as ax

from .errors import UnsupportedConstruct

# Vensim function -> (numpy ufunc name, number of inputs): computed by numpy on numbers in PySD.
UFUNCS = {
    "exp": ("exp", 1), "ln": ("log", 1), "sin": ("sin", 1), "cos": ("cos", 1), "tan": ("tan", 1),
    "arcsin": ("arcsin", 1), "arccos": ("arccos", 1), "arctan": ("arctan", 1), "sinh": ("sinh", 1),
    "cosh": ("cosh", 1), "tanh": ("tanh", 1), "log": ("log", 1),
    "power": ("power", 2),
}
UFUNC_ORDER = sorted({name for name, _ in UFUNCS.values()})  # the row of each ufunc in the engine's table

CONTROL_VARIABLES = {"time": "t", "time step": "dt", "initial time": "t0", "final time": "tf", "saveper": "saveper"}

OPERATORS = {"+": "+", "-": "-", "*": "*", "/": "/", "=": "==", "<>": "!=", "<": "<", ">": ">",
             "<=": "<=", ">=": ">="}

STATEFUL_NODES = {
    ax.IntegStructure: "integ",
    ax.SmoothStructure: "smooth",
    ax.SmoothNStructure: "smooth",
    ax.DelayStructure: "delay",
    ax.DelayNStructure: "delay",
    ax.DelayFixedStructure: "delay_fixed",
    ax.TrendStructure: "trend",
    ax.ForecastStructure: "forecast",
    ax.InitialStructure: "initial",
    ax.SampleIfTrueStructure: "sample_if_true",
}

# Vensim functions PySD computes with numpy on numbers, and the dialects' spelling of each.
SIMPLE = {
    "abs": ("abs({0})", "np.abs({0})"),
    "sqrt": ("np.sqrt({0})", "np.sqrt({0})"),
    "min": ("nmin({0}, {1})", "np.minimum({0}, {1})"),
    "max": ("nmax({0}, {1})", "np.maximum({0}, {1})"),
    "xidz": ("xidz({0}, {1}, {2})", "vxidz({0}, {1}, {2})"),
    "zidz": ("zidz({0}, {1})", "vzidz({0}, {1})"),
    "integer": ("integer({0})", "vinteger({0})"),
    "modulo": ("modulo({0}, {1})", "vmodulo({0}, {1})"),
    "quantum": ("quantum({0}, {1})", None),
    "step": ("step(t, dt, {0}, {1})", "vstep(t, dt, {0}, {1})"),
    "ramp": ("ramp(t, {0}, {1}, {2})", "vramp(t, {0}, {1}, {2})"),
    "Xramp": ("ramp(t, {0}, {1}, np.nan)", "vramp(t, {0}, {1}, np.nan)"),
    "pulse": ("pulse(t, dt, {0}, 0.0, {1}, np.nan, np.nan)", None),
    "Xpulse": ("pulse(t, dt, {0}, 0.0, np.nan, {1}, np.nan)", None),
    "pulse_train": ("pulse(t, dt, {0}, {1}, {2}, np.nan, {3})", None),
    "Xpulse_train": ("pulse(t, dt, {0}, {1}, np.nan, {2}, np.nan)", None),
}
TIME_FUNCTIONS = {"step", "ramp", "Xramp", "pulse", "Xpulse", "pulse_train", "Xpulse_train"}
AGGREGATES = {"sum", "prod", "vmin", "vmax"}
RANDOMS = {"random_0_1": 0, "random_uniform": 3, "random_normal": 5, "random_exponential": 5}
LOOKUP_FUNCTIONS = {"lookup_extrapolate": 1, "lookup_forward": 2, "lookup_backward": 3}
LOOKUP_MODES = {"interpolate": 0, "extrapolate": 1, "hold_backward": 2, "look_forward": 0}


class Refused(UnsupportedConstruct):
    """An expression the evaluator cannot translate (for `constant_value`: not a plain number)."""


@dataclass
class Stateful:
    """A stateful construct inside an equation, with its own state variable(s)."""

    id: int
    kind: str
    node: object
    ctx: Context  # where its arguments are evaluated
    group: tuple  # the same construct in the other cells of one component (PySD: one array object)

    @property
    def var(self) -> str:
        """Name of its state variable (the stages of a smooth or delay: an array)."""
        return f"s{self.id}"

    @property
    def out(self) -> str:
        """Name of the local holding its output at the current time."""
        return f"o{self.id}"


@dataclass
class Table:
    """A lookup table or a data series, held by the kernel as two arrays."""

    id: int
    xs: tuple
    ys: tuple
    mode: int


@dataclass
class Code:
    """An expression with what it refers to."""

    text: str
    refs: set = field(default_factory=set)  # cells read when running
    irefs: set = field(default_factory=set)  # cells read when initialising (ACTIVE INITIAL differs)
    statefuls: set = field(default_factory=set)  # ids of referenced statefuls
    dynamic: bool = False  # reads time, data or random numbers

    @property
    def constant(self) -> bool:
        return not (self.refs or self.irefs or self.statefuls or self.dynamic)


@dataclass
class Context:
    """Where an expression is evaluated: the cell, and each subscript range bound to an element."""

    cell: Any  # the engine's Cell (None when evaluating a bare constant)
    point: dict  # range name -> element (the equation's ranges and any ranges being summed)
    defined: tuple  # the equation's own ranges (PySD's def_subs)
    macro: Any = None  # MacroInstance whose parameters and elements are in scope

    def owner(self) -> str:
        return self.cell.describe() if self.cell is not None else "the expression"


@dataclass
class E:
    """A translated subexpression: its text and the dimensions PySD's array of it has (none: a number)."""

    text: str
    dims: tuple = ()

    @property
    def array(self) -> bool:
        return bool(self.dims)


def merge(*parts) -> tuple:
    """The dimensions of an operation on several arrays, in PySD's order (first appearance)."""
    dims: list = []
    for part in parts:
        for dim in (part.dims if isinstance(part, E) else part):
            if dim not in dims:
                dims.append(dim)
    return tuple(dims)


@dataclass
class MacroInstance:
    """One call of a macro: its elements become hidden vars named after the call."""

    prefix: str
    section: object
    params: dict  # parameter clean name -> Var (a hidden var holding the argument)


class Translator:
    """Translate a model's expressions; statefuls, tables and macro calls are collected as it goes."""

    def __init__(self, structure=None, dialect: str = "kernel", cell_name=None, tables=None, initial_name=None,
                 exact: bool = False):
        self.s = structure
        self.dialect = dialect
        self.cell_name = cell_name or (lambda cell: f"c{cell.id}")  # a cell's value in the text
        self.initial_name = initial_name  # vector dialect: a cell's value at the start, for INITIAL(x)
        self.controls_as_cells = False  # FINAL TIME and the like as the model's own cells (to evaluate them)
        self.statefuls: list[Stateful] = []
        self.tables = tables if tables is not None else TableSet()
        self.sites: list[str] = []  # where each power or random number is (for errors and streams)
        self.instances: list = []  # vars created for macro calls (translated by the caller)
        self._groups: dict = {}
        # exact: EXP, LN, ... by numpy's own loops (PySD's bits, about twice the time of the C library's);
        # the engine asks for it only where numpy hands its loops out
        self._uf = exact and dialect == "kernel"
        self.model = structure.path.name if structure is not None else "expression"

    # --- errors -----------------------------------------------------------------------------------
    def refuse(self, what: str, ctx: Context) -> NoReturn:
        raise Refused(f"{self.model}: {what} in '{ctx.owner()}' is not supported by the batch engine "
                      f"(use --engine pysd)")

    # --- entry points -----------------------------------------------------------------------------
    def translate(self, node, ctx: Context) -> Code:
        code = Code("")
        code.text = self.expr(node, ctx, code).text
        return code

    def expr(self, node, ctx: Context, code: Code) -> E:
        if isinstance(node, (bool, np.bool_)):
            return E("1.0" if node else "0.0")
        if isinstance(node, (int, float, np.integer, np.floating)):
            value = float(node)
            if value != value:
                return E("np.nan")
            if abs(value) == np.inf:
                return E("np.inf" if value > 0 else "(-np.inf)")
            return E(repr(value))
        if isinstance(node, ax.ReferenceStructure):
            return self._reference(node, ctx, code)
        if isinstance(node, ax.ArithmeticStructure):
            return self._arithmetic(node, ctx, code)
        if isinstance(node, ax.LogicStructure):
            return self._logic(node, ctx, code)
        if isinstance(node, ax.CallStructure):
            return self._call(node, ctx, code)
        if isinstance(node, ax.InlineLookupsStructure):
            table = self.tables.lookup(node.lookups, self, ctx)
            arg = self.expr(node.argument, ctx, code)
            return E(self._lookup_text(arg.text, table), arg.dims)
        if isinstance(node, ax.GameStructure):
            return self.expr(node.expression, ctx, code)
        if isinstance(node, (ax.AllocateAvailableStructure, ax.AllocateByPriorityStructure)):
            return self._allocate(node, ctx, code)
        if isinstance(node, ax.InitialStructure) and self.dialect == "vector" and self.initial_name:
            # INITIAL(x) over a run's series: x's expression on the run's first values
            outer, self.cell_name = self.cell_name, self.initial_name
            try:
                inner = self.expr(node.initial, ctx, Code(""))
            finally:
                self.cell_name = outer
            return E(f"({inner.text})", inner.dims)
        for kind_cls, kind in STATEFUL_NODES.items():
            if isinstance(node, kind_cls):
                if self.dialect != "kernel":
                    self.refuse(f"the stateful function {kind.upper()}", ctx)
                stateful = self._stateful(node, kind, ctx)
                code.statefuls.add(stateful.id)
                return E(stateful.out, tuple(ctx.defined))
        name = type(node).__name__.replace("Structure", "")
        self.refuse(f"the construct {name}", ctx)

    # --- references -------------------------------------------------------------------------------
    def _reference(self, node, ctx: Context, code: Code) -> E:
        reference = node.reference
        if ctx.macro is not None and reference in ctx.macro.params:
            return self._value_of(ctx.macro.params[reference], (), ctx, code, node)
        key = " ".join(reference.replace("_", " ").split())
        if key in CONTROL_VARIABLES and (self.s is None or self._control(key)) and not (
                self.controls_as_cells and key != "time" and key in self.s.vars):
            if self.dialect == "python" and key == "time":
                self.refuse("Time", ctx)
            code.dynamic = code.dynamic or key == "time"
            if node.subscripts:
                self.refuse(f"subscripts on '{reference}'", ctx)
            return E(CONTROL_VARIABLES[key])
        if self.s is None:
            self.refuse(f"the name '{reference}'", ctx)
        var = self._find(reference, ctx)
        if var is None:
            if self.s.is_subscript_name(reference):
                return self._subscript_value(reference, ctx)
            self.refuse(f"the unknown name '{reference}'", ctx)
        if var.kind == "lookup":
            self.refuse(f"the lookup '{var.name}' used as a value", ctx)
        subs = list(node.subscripts.subscripts) if node.subscripts else []
        labels, dims = self._resolve(var, subs, ctx)
        return self._value_of(var, labels, ctx, code, node, dims)

    def _control(self, key: str) -> bool:
        var = self.s.vars.get(key)
        return var is None or var.kind == "control"

    def _find(self, reference: str, ctx: Context):
        if ctx.macro is not None:
            var = self.s.find(ctx.macro.prefix + reference) or self.s.vars.get(
                ctx.macro.prefix + " ".join(reference.replace("_", " ").split()))
            if var is not None:
                return var
            return None
        return self.s.find(reference)

    def _value_of(self, var, labels: tuple, ctx: Context, code: Code, node, dims: tuple = ()) -> E:
        cell = var.cells.get(labels)
        if cell is None:
            self.refuse(f"the element [{','.join(labels)}] of '{var.name}', which is outside its ranges", ctx)
        code.refs.add(cell)
        code.irefs.add(cell)
        return E(self.cell_name(cell), dims)

    def _resolve(self, var, subs: list, ctx: Context) -> tuple[tuple, tuple]:
        """The element of each of var's dimensions that a reference with these subscripts reads here,
        and the dimensions PySD gives the reference (a mapped range takes the name it maps to)."""
        if len(subs) != len(var.dims):
            if not subs:
                self.refuse(f"the subscripted variable '{var.name}' used without subscripts", ctx)
            self.refuse(f"'{var.name}' referred to with {len(subs)} subscripts (it has {len(var.dims)})", ctx)
        if not subs:
            return (), ()
        manager = self.s.subscripts
        try:
            coords = manager.make_coord_dict(subs)
        except KeyError as exc:
            self.refuse(f"the unknown subscript {exc} of '{var.name}'", ctx)
        if len(coords) != len(subs):
            self.refuse(f"a reference to '{var.name}' that repeats a subscript range", ctx)
        labels, dims = [], []
        for (dim, elements), own in zip(coords.items(), var.dims, strict=True):
            if len(elements) == 1:
                label = elements[0]
            else:
                label, name = self._bound(dim, elements, ctx, var)
                dims.append(name)
            if label not in var.coords[own]:
                self.refuse(f"'{var.name}[{label}]', which is not one of its elements", ctx)
            labels.append(label)
        return tuple(labels), tuple(dims)

    def _bound(self, dim: str, elements: list, ctx: Context, var) -> tuple[str, str]:
        """The element a subscript range of a reference takes at this point, and the range's name there."""
        if dim in ctx.point:
            label = ctx.point[dim]
            if label not in elements:
                self.refuse(f"the range {dim} of '{var.name}', which does not hold '{label}'", ctx)
            return label, dim
        if not dim.endswith("!"):
            for mapped in self.s.subscripts.mapping.get(dim, []):
                if mapped in ctx.defined and mapped in ctx.point:
                    position = self.s.elements_of(mapped).index(ctx.point[mapped])
                    if position >= len(elements):
                        self.refuse(f"the mapping of {dim} to {mapped} (of different lengths)", ctx)
                    return elements[position], mapped
        self.refuse(f"the subscript range {dim} of '{var.name}', which the equation neither defines, "
                    f"maps nor sums over", ctx)

    def _subscript_value(self, reference: str, ctx: Context) -> E:
        """A subscript range or element used as a number: its position (1-based) in its range."""
        text, subs = self.s.subscripts.subscript2num[reference]
        if not subs:
            return E(repr(float(text)))
        dim, elements = next(iter(subs.items()))
        if dim not in ctx.point:
            self.refuse(f"the subscript range {dim} used as a value outside an equation over it", ctx)
        values = eval(text, {"np": np, "_subscript_dict": self.s.subscripts.subscripts})  # PySD's text
        return E(repr(float(np.asarray(values)[list(elements).index(ctx.point[dim])])), (dim,))

    # --- operators --------------------------------------------------------------------------------
    def _arithmetic(self, node, ctx: Context, code: Code) -> E:
        ops = list(node.operators)
        if ops == ["negative"]:
            arg = self.expr(node.arguments[0], ctx, code)
            return E(f"(-{arg.text})", arg.dims)
        if ops and ops[-1] == "^" and set(ops) == {"^"}:
            return self._power_chain(node, ctx, code)
        if any(op not in OPERATORS for op in ops):
            self.refuse(f"the operator {ops}", ctx)
        args = [self.expr(a, ctx, code) for a in node.arguments]
        text = args[0].text
        for op, arg in zip(ops, args[1:], strict=True):
            text = f"({text} {OPERATORS[op]} {arg.text})"
        return E(text, merge(*args))

    def _power_chain(self, node, ctx: Context, code: Code) -> E:
        """a ^ b ^ c as PySD's Python reads `a**b**c`: from the right, a negative literal base negated after."""
        args = [self.expr(a, ctx, code) for a in node.arguments]
        right = args[-1]
        dims = merge(*args)
        for raw, left in zip(reversed(node.arguments[:-1]), reversed(args[:-1]), strict=True):
            negate = isinstance(raw, (int, float, np.integer, np.floating)) and float(raw) < 0
            base = E(repr(-float(raw)), left.dims) if negate else left
            text = self._pow(base, right, bool(dims), ctx)
            right = E(f"(-{text})" if negate else text, dims)
        return right

    def _pow(self, base: E, exponent: E, array: bool, ctx: Context) -> str:
        if self.dialect == "vector":
            return f"np.power({base.text}, {exponent.text})"
        if array:  # PySD: numpy arrays, numpy's power (NaN for a negative base and fractional exponent)
            return self._ufunc("power", [base.text, exponent.text])
        self.sites.append(f"a negative number raised to a fractional power in '{ctx.owner()}' "
                          f"(PySD gives a complex number)")
        return f"ppow({base.text}, {exponent.text}, E, {len(self.sites)})"

    def _logic(self, node, ctx: Context, code: Code) -> E:
        args = [self.expr(a, ctx, code) for a in node.arguments]
        ops = [op.upper() for op in node.operators]
        array = merge(*args)
        if ops == [":NOT:"]:
            if self.dialect == "vector":
                return E(f"np.logical_not({args[0].text})", array)
            return E(f"(0.0 if ({args[0].text}) else 1.0)", array)
        # PySD builds the chain from the right: a op1 b op2 c is op1(a, op2(b, c)).
        right = args[-1].text
        for op, left in zip(reversed(ops), reversed(args[:-1]), strict=True):
            if op in (":AND:", ":OR:"):
                if self.dialect == "vector":
                    right = f"np.logical_{op.strip(':').lower()}({left.text}, {right})"
                else:
                    word = "and" if op == ":AND:" else "or"
                    right = f"(bool({left.text}) {word} bool({right}))"
            elif op in OPERATORS:
                right = f"({left.text} {OPERATORS[op]} {right})"
            else:
                self.refuse(f"the operator {op}", ctx)
        if self.dialect == "vector":
            return E(right, array)
        return E(f"(1.0 if {right} else 0.0)", array)  # a number, as PySD's True and False count

    # --- functions --------------------------------------------------------------------------------
    def _call(self, node, ctx: Context, code: Code) -> E:
        function = node.function
        name = function.reference
        if self.s is not None:
            var = self._find(name, ctx) if not (ctx.macro is not None and name in ctx.macro.params) else None
            if var is not None and var.kind == "lookup":
                subs = list(function.subscripts.subscripts) if function.subscripts else []
                labels, fdims = self._resolve(var, subs, ctx)
                table = self.tables.of_cell(var.cells[labels], self)
                arg = self.expr(node.arguments[0], ctx, code)
                return E(self._lookup_text(arg.text, table), merge(arg, fdims))
            if name in self.s.macros:
                return self._macro(name, node, ctx, code)
        if name in SIMPLE:
            templates = SIMPLE[name]
            template = templates[0 if self.dialect != "vector" else 1]
            if template is None:
                self.refuse(f"the function {name.upper()}", ctx)
            args = [self.expr(a, ctx, code) if a is not None else E("np.nan") for a in node.arguments]
            if name == "ramp" and len(args) == 2:
                template = template.replace("{2}", "np.nan")
            needed = len({part.split("}")[0] for part in template.split("{")[1:]})
            if len(args) < needed:
                self.refuse(f"the function {name.upper()} with {len(args)} arguments", ctx)
            if name in TIME_FUNCTIONS:
                if self.dialect == "python":
                    self.refuse(f"the function {name.upper()} (it depends on Time)", ctx)
                code.dynamic = True
            return E(template.format(*[a.text for a in args]), merge(*args))
        if name in UFUNCS:
            args = [self.expr(a, ctx, code) for a in node.arguments]
            array = merge(*args)
            if name == "log":
                if len(args) != 2:
                    self.refuse("the function LOG with one argument", ctx)
                return E(f"({self._ufunc('log', [args[0].text])} / {self._ufunc('log', [args[1].text])})", array)
            return E(self._ufunc(UFUNCS[name][0], [a.text for a in args]), array)
        if name == "pi":
            return E("np.pi")
        if name == "if_then_else":
            cond, yes, no = (self.expr(a, ctx, code) for a in node.arguments)
            if self.dialect == "vector":
                return E(f"np.where({cond.text}, {yes.text}, {no.text})", merge(cond, yes, no))
            return E(f"(({yes.text}) if ({cond.text}) else ({no.text}))", merge(cond, yes, no))
        if name == "active_initial":
            return self._active_initial(node, ctx, code)
        if name in AGGREGATES:
            return self._aggregate(name, node, ctx, code)
        if name == "elmcount":
            return self._elmcount(node, ctx)
        if name == "get_time_value":
            return self._get_time_value(node, ctx, code)
        if name in RANDOMS:
            return self._random(name, node, ctx, code)
        if name in LOOKUP_FUNCTIONS:
            return self._lookup_function(name, node, ctx, code)
        if name in ("vector_sort_order", "vector_rank", "vector_reorder", "invert_matrix"):
            return self._vector_function(name, node, ctx, code)
        if name == "vector_select":
            return self._vector_select(node, ctx, code)
        self.refuse(f"the function {name.upper()}", ctx)

    def _ufunc(self, numpy_name: str, args: list[str]) -> str:
        if self.dialect == "kernel" and self._uf:
            k = UFUNC_ORDER.index(numpy_name)
            if len(args) == 1:
                return f"call1(UFT, {k}, UW, {args[0]})"
            return f"call2(UFT, {k}, UW, {args[0]}, {args[1]})"
        if self.dialect == "python":  # PySD turns numpy's answer on numbers into a Python float
            return f"float(np.{numpy_name}({', '.join(args)}))"
        return f"np.{numpy_name}({', '.join(args)})"

    def _lookup_text(self, arg: str, table: Table) -> str:
        if self.dialect == "python":  # a constant: the table written out
            return f"lookup({arg}, np.array({list(table.xs)!r}), np.array({list(table.ys)!r}), {table.mode})"
        fn = "lookup" if self.dialect == "kernel" else "vlookup"
        return f"{fn}({arg}, LX{table.id}, LY{table.id}, {table.mode})"

    def _active_initial(self, node, ctx: Context, code: Code) -> E:
        """ACTIVE INITIAL(x, init): init while the model initialises, x afterwards (PySD's stage)."""
        if self.dialect != "kernel":
            self.refuse("ACTIVE INITIAL", ctx)
        run = Code("")
        run_text = self.expr(node.arguments[0], ctx, run)
        init = Code("")
        init_text = self.expr(node.arguments[1], ctx, init)
        code.refs |= run.refs
        code.irefs |= init.refs
        code.statefuls |= run.statefuls | init.statefuls
        code.dynamic = code.dynamic or run.dynamic or init.dynamic or True
        return E(f"(({init_text.text}) if INIT else ({run_text.text}))", merge(run_text, init_text))

    def _aggregate(self, name: str, node, ctx: Context, code: Code) -> E:
        """SUM, PROD, VMIN, VMAX over the ranges marked `!`, unrolled over their elements."""
        arg = node.arguments[0]
        summed = []
        for ref in _references(arg):
            for sub in (ref.subscripts.subscripts if ref.subscripts else []):
                if sub.endswith("!") and sub not in summed and sub not in ctx.point:
                    summed.append(sub)
        if not summed:
            self.refuse(f"{name.upper()} without a subscript range marked '!'", ctx)
        if self.dialect == "vector":
            self.refuse(f"{name.upper()} (for the loop analysis)", ctx)
        parts = self._gather(arg, ctx, code, summed)
        terms = [p.text for p in parts]
        dims = tuple(d for d in parts[0].dims if not d.endswith("!"))
        if name == "sum":
            return E(_pairwise([f"nz({t})" for t in terms]), dims)
        if name == "prod":
            text = f"nz1({terms[0]})"
            for term in terms[1:]:
                text = f"({text} * nz1({term}))"
            return E(text, dims)
        fn = "nanmin2" if name == "vmin" else "nanmax2"
        text = terms[0]
        for term in terms[1:]:
            text = f"{fn}({text}, {term})"
        return E(text, dims)

    def _gather(self, node, ctx: Context, code: Code, dims: list) -> list[E]:
        """The expression at every combination of elements of these ranges (in C order), the others as here."""
        parts = []
        for labels in itertools.product(*(self.s.elements_of(dim) for dim in dims)):
            inner = Context(ctx.cell, {**ctx.point, **dict(zip(dims, labels, strict=True))}, ctx.defined, ctx.macro)
            parts.append(self.expr(node, inner, code))
        return parts

    # --- functions of a whole vector -------------------------------------------------------------
    def _last_dims(self, node, ctx: Context, count: int, what: str) -> list:
        """The last `count` ranges of an argument, as PySD names them; each must be one of the equation's."""
        if self.dialect != "kernel":
            self.refuse(what, ctx)
        if any(True for _ in _statefuls(node)):
            self.refuse(f"a stateful function inside {what}", ctx)
        dims = self.expr(node, ctx, Code("")).dims
        if len(dims) < count or any(d not in ctx.point for d in dims[-count:]):
            self.refuse(f"{what} of an argument whose last subscript ranges are not the equation's", ctx)
        return list(dims[-count:])

    def _vector_function(self, name: str, node, ctx: Context, code: Code) -> E:
        """VECTOR SORT ORDER, VECTOR RANK, VECTOR REORDER (along the last range) and INVERT MATRIX
        (over the last two): the whole vector or matrix, and this cell's place in it."""
        what = name.upper().replace("_", " ")
        arg = node.arguments[0]
        dims = self._last_dims(arg, ctx, 2 if name == "invert_matrix" else 1, what)
        parts = self._gather(arg, ctx, code, dims)
        values = f"np.array([{', '.join(p.text for p in parts)}])"
        places = [self.s.elements_of(d).index(ctx.point[d]) for d in dims]
        other = self.expr(node.arguments[1], ctx, code) if len(node.arguments) > 1 else E("0.0")
        if name == "invert_matrix":
            n = len(self.s.elements_of(dims[0]))
            if n != len(self.s.elements_of(dims[1])):
                self.refuse("INVERT MATRIX of a matrix that is not square", ctx)
            return E(f"invert_matrix({values}, {n}, {places[0]}, {places[1]})", merge(*parts))
        if name == "vector_reorder":
            return E(f"vector_reorder({values}, {other.text})", merge(*parts, other))
        return E(f"{name}({values}, {other.text}, {places[0]})", merge(*parts, other))

    def _vector_select(self, node, ctx: Context, code: Code) -> E:
        """VECTOR SELECT(selection, values, missing, action, error) over the ranges marked '!'."""
        if self.dialect != "kernel":
            self.refuse("VECTOR SELECT", ctx)
        selection, values, missing, action, error = node.arguments
        summed = []
        for ref in list(_references(selection)) + list(_references(values)):
            for sub in (ref.subscripts.subscripts if ref.subscripts else []):
                if sub.endswith("!") and sub not in summed and sub not in ctx.point:
                    summed.append(sub)
        if not summed:
            self.refuse("VECTOR SELECT without a subscript range marked '!'", ctx)
        sel = self._gather(selection, ctx, code, summed)
        val = self._gather(values, ctx, code, summed)
        rest = [self.expr(a, ctx, code) for a in (missing, action, error)]
        self.sites.append(f"VECTOR SELECT in '{self._site_owner(ctx)}' with an error action PySD raises "
                          f"(or an unknown numerical action)")
        dims = tuple(d for d in merge(*sel, *val, *rest) if not d.endswith("!"))
        return E(f"vector_select(np.array([{', '.join(p.text for p in sel)}]), "
                 f"np.array([{', '.join(p.text for p in val)}]), {rest[0].text}, {rest[1].text}, "
                 f"{rest[2].text}, E, {len(self.sites)})", dims)

    def _allocate(self, node, ctx: Context, code: Code) -> E:
        """ALLOCATE AVAILABLE and ALLOCATE BY PRIORITY along the request's last range, by PySD's own code."""
        available = isinstance(node, ax.AllocateAvailableStructure)
        what = "ALLOCATE AVAILABLE" if available else "ALLOCATE BY PRIORITY"
        dims = self._last_dims(node.request, ctx, 1, what)
        request = self._gather(node.request, ctx, code, dims)
        place = self.s.elements_of(dims[0]).index(ctx.point[dims[0]])
        self.sites.append(f"{what} in '{self._site_owner(ctx)}' (PySD's allocation refused its input)")
        site = len(self.sites)
        requests = f"np.array([{', '.join(p.text for p in request)}])"
        if available:
            profile = node.pp
            var = self._find(profile.reference, ctx) if isinstance(profile, ax.ReferenceStructure) else None
            if var is None or not var.dims or not profile.subscripts:
                self.refuse(f"{what} with priorities that are not a subscripted variable", ctx)
            # PySD reads the whole last range of the priorities (the profile), whatever the reference says
            subs = list(profile.subscripts.subscripts[:-1]) + [var.dims[-1]]
            whole = ax.ReferenceStructure(profile.reference, ax.SubscriptsReferenceStructure(subs))
            profiles = self._gather(whole, ctx, code, dims + [var.dims[-1]])
            supply = self.expr(node.avail, ctx, code)
            n = len(request)
            table = f"np.array([{', '.join(p.text for p in profiles)}]).reshape(({n}, {len(profiles) // n}))"
            return E(f"allocate_available({requests}, {table}, {supply.text}, {place}, E, {site})",
                     tuple(ctx.defined))
        priority = self._gather(node.priority, ctx, code, dims)
        width, supply = self.expr(node.width, ctx, code), self.expr(node.supply, ctx, code)
        return E(f"allocate_by_priority({requests}, np.array([{', '.join(p.text for p in priority)}]), "
                 f"{width.text}, {supply.text}, {place}, E, {site})", tuple(ctx.defined))

    def _site_owner(self, ctx: Context) -> str:
        """Where an error slot points: the variable (the same slot for every element of an equation)."""
        return ctx.cell.var.name if ctx.cell is not None else "the expression"

    def _elmcount(self, node, ctx: Context) -> E:
        arg = node.arguments[0]
        if not isinstance(arg, ax.ReferenceStructure) or not self.s.is_subscript_name(arg.reference):
            self.refuse("ELMCOUNT of something other than a subscript range", ctx)
        text, subs = self.s.subscripts.subscript2num[arg.reference]
        if not subs:
            self.refuse("ELMCOUNT of a single subscript element", ctx)
        return E(repr(float(len(next(iter(subs.values()))))))

    def _get_time_value(self, node, ctx: Context, code: Code) -> E:
        relative, offset, measure = node.arguments
        if relative != 0 or measure != 0:
            self.refuse("GET TIME VALUE other than (0, offset, 0) (PySD: only the model's time "
                        "plus an offset)", ctx)
        if self.dialect == "python":
            self.refuse("GET TIME VALUE (it depends on Time)", ctx)
        code.dynamic = True
        off = self.expr(offset, ctx, code)
        return E(f"(t + {off.text})", off.dims)

    def _random(self, name: str, node, ctx: Context, code: Code) -> E:
        if self.dialect != "kernel":
            self.refuse(f"the function {name.upper()}", ctx)
        count = RANDOMS[name]
        if len(node.arguments) < count:
            self.refuse(f"the function {name.upper()} with {len(node.arguments)} arguments", ctx)
        args = [self.expr(a, ctx, code) for a in node.arguments]
        code.dynamic = True
        self.sites.append(f"{name.upper()} in '{ctx.owner()}'")
        site = len(self.sites)
        seed = args[count - 1].text if count else "0.0"
        u = f"uniform01({seed}, SEED, r, {site}, k)"
        dims = tuple(ctx.defined)  # PySD draws one number per element of the equation
        if name == "random_0_1":
            return E(u, dims)
        if name == "random_uniform":
            return E(f"random_uniform({args[0].text}, {args[1].text}, {u})", dims)
        if name == "random_normal":
            return E(f"random_normal({args[0].text}, {args[1].text}, {args[2].text}, {args[3].text}, {u})", dims)
        return E(f"random_exponential({args[0].text}, {args[1].text}, {args[2].text}, {args[3].text}, {u})", dims)

    def _lookup_function(self, name: str, node, ctx: Context, code: Code) -> E:
        """Vensim's LOOKUP EXTRAPOLATE / FORWARD / BACKWARD (PySD does not implement them)."""
        target, arg = node.arguments
        var = self._find(target.reference, ctx) if isinstance(target, ax.ReferenceStructure) else None
        if var is None or var.kind != "lookup":
            self.refuse(f"{name.upper()} of something other than a lookup", ctx)
        subs = list(target.subscripts.subscripts) if target.subscripts else []
        labels, fdims = self._resolve(var, subs, ctx)
        table = self.tables.of_cell(var.cells[labels], self)
        x = self.expr(arg, ctx, code)
        if self.dialect != "kernel":
            self.refuse(name.upper(), ctx)
        return E(f"lookup_vensim({x.text}, LX{table.id}, LY{table.id}, {LOOKUP_FUNCTIONS[name]})", merge(x, fdims))

    def _macro(self, name: str, node, ctx: Context, code: Code) -> E:
        """A macro call: the macro's elements are instantiated once per call (and per cell)."""
        if self.dialect != "kernel":
            self.refuse(f"the macro {name.upper()}", ctx)
        section = self.s.macros[name]
        if section.returns:
            self.refuse(f"the macro {name.upper()} with more than one output", ctx)
        instance = self.s.instantiate(section, node.arguments, ctx, self)
        output = self.s.find(instance.prefix + section.name)
        if output is None or output.dims:
            self.refuse(f"the macro {name.upper()}", ctx)
        return self._value_of(output, (), ctx, code, node)

    # --- statefuls --------------------------------------------------------------------------------
    def _stateful(self, node, kind: str, ctx: Context) -> Stateful:
        component = ctx.cell.component if ctx.cell is not None else None
        group_key = (id(component), id(node), ctx.macro.prefix if ctx.macro else "")
        group = self._groups.setdefault(group_key, [])
        stateful = Stateful(len(self.statefuls), kind, node, ctx, tuple())
        group.append(stateful)
        stateful.group = group  # every cell's copy of this construct (for PySD's shared delay order)
        self.statefuls.append(stateful)
        return stateful


class TableSet:
    """The lookup tables and data series of a model, shared by every translator that compiles it."""

    def __init__(self, loader=None):
        self.tables: list[Table] = []
        self._ids: dict = {}
        self.loader = loader  # external data (GET ... LOOKUPS / DATA), see data.py

    def add(self, xs, ys, mode: int) -> Table:
        key = (tuple(map(float, xs)), tuple(map(float, ys)), mode)
        if key not in self._ids:
            self._ids[key] = Table(len(self.tables), key[0], key[1], mode)
            self.tables.append(self._ids[key])
        return self._ids[key]

    def lookup(self, node, translator: Translator, ctx: Context) -> Table:
        if not isinstance(node, ax.LookupsStructure):
            translator.refuse(f"the lookup {type(node).__name__}", ctx)
        if node.type not in LOOKUP_MODES:
            translator.refuse(f"a lookup with '{node.type}' interpolation", ctx)
        xs, ys = np.asarray(node.x, dtype=float), np.asarray(node.y, dtype=float)
        order = np.argsort(xs, kind="stable")
        if len(xs) < 2 or len(set(xs.tolist())) != len(xs):
            translator.refuse("a lookup with fewer than two distinct points", ctx)
        return self.add(xs[order], ys[order], LOOKUP_MODES[node.type])

    def of_cell(self, cell, translator: Translator) -> Table:
        ctx = Context(cell, cell.point, tuple(cell.component.subs) if cell.component else (), None)
        if cell.component is None:
            translator.refuse(f"the undefined lookup '{cell.describe()}'", ctx)
        node = cell.component.ast
        if isinstance(node, ax.GetLookupsStructure):
            if self.loader is None:
                translator.refuse("GET LOOKUPS", ctx)
            xs, ys = self.loader.lookup(cell)
            return self.add(xs, ys, 0)
        return self.lookup(node, translator, ctx)


def _references(node):
    """Every reference inside an expression (not inside the arguments of a nested SUM and the like)."""
    if isinstance(node, ax.ReferenceStructure):
        yield node
    elif isinstance(node, ax.CallStructure):
        if node.function.reference in AGGREGATES:
            return
        if node.function.subscripts:
            yield node.function
        for arg in node.arguments:
            yield from _references(arg)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _references(item)
    elif hasattr(node, "__dict__") and not isinstance(node, (int, float)):
        for value in vars(node).values():
            yield from _references(value)


def _statefuls(node):
    """Every stateful construct inside an expression."""
    if isinstance(node, tuple(STATEFUL_NODES)):
        yield node
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _statefuls(item)
    elif hasattr(node, "__dict__") and not isinstance(node, (int, float)):
        for value in vars(node).values():
            yield from _statefuls(value)


def _pairwise(terms: list[str]) -> str:
    """numpy's pairwise summation (what xarray's sum computes on one dimension), written out."""
    n = len(terms)
    if n < 8:
        text = "0.0"
        for term in terms:
            text = f"({text} + {term})"
        return text
    if n <= 128:
        r = terms[:8]
        i = 8
        while i < n - (n % 8):
            r = [f"({r[j]} + {terms[i + j]})" for j in range(8)]
            i += 8
        text = f"((({r[0]} + {r[1]}) + ({r[2]} + {r[3]})) + (({r[4]} + {r[5]}) + ({r[6]} + {r[7]})))"
        for term in terms[i:]:
            text = f"({text} + {term})"
        return text
    half = n // 2
    half -= half % 8
    return f"({_pairwise(terms[:half])} + {_pairwise(terms[half:])})"
