"""Turn PySD's abstract syntax trees into Python expressions, in two dialects.

`scalar`: plain Python on floats, compiled by numba into the batch kernel (one run at a time).
`vector`: numpy on arrays, used to evaluate one equation over many values (the loop analysis).

Stateful constructs inside an equation (INTEG, SMOOTH, DELAY, TREND, INITIAL, ...) become
`Stateful` records with their own state variables; the expression refers to their output. Any
construct without a faithful translation raises `UnsupportedConstruct` naming the function and
the variable, rather than being answered wrongly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pysd.translators.structures import abstract_expressions as ax

from ..core.errors import UnsupportedConstruct
from ..core.spec import ModelSpec, name_key

CONTROL_VARIABLES = {"time": "t", "time step": "dt", "initial time": "t0", "final time": "tf", "saveper": "saveper"}

# Vensim function -> (scalar template, vector template); {0}, {1}... are the arguments.
FUNCTIONS = {
    "abs": ("abs({0})", "np.abs({0})"),
    "min": ("nmin({0}, {1})", "np.minimum({0}, {1})"),
    "max": ("nmax({0}, {1})", "np.maximum({0}, {1})"),
    "exp": ("np.exp({0})", "np.exp({0})"),
    "ln": ("np.log({0})", "np.log({0})"),
    "log": ("(np.log({0})/np.log({1}))", "(np.log({0})/np.log({1}))"),
    "sqrt": ("np.sqrt({0})", "np.sqrt({0})"),
    "sin": ("np.sin({0})", "np.sin({0})"),
    "cos": ("np.cos({0})", "np.cos({0})"),
    "tan": ("np.tan({0})", "np.tan({0})"),
    "arcsin": ("np.arcsin({0})", "np.arcsin({0})"),
    "arccos": ("np.arccos({0})", "np.arccos({0})"),
    "arctan": ("np.arctan({0})", "np.arctan({0})"),
    "sinh": ("np.sinh({0})", "np.sinh({0})"),
    "cosh": ("np.cosh({0})", "np.cosh({0})"),
    "tanh": ("np.tanh({0})", "np.tanh({0})"),
    "power": ("({0})**({1})", "np.power({0}, {1})"),
    "pi": ("np.pi", "np.pi"),
    "if_then_else": ("(({1}) if ({0}) else ({2}))", "np.where({0}, {1}, {2})"),
    "xidz": ("xidz({0}, {1}, {2})", "vxidz({0}, {1}, {2})"),
    "zidz": ("zidz({0}, {1})", "vzidz({0}, {1})"),
    "integer": ("integer({0})", "vinteger({0})"),
    "modulo": ("modulo({0}, {1})", "vmodulo({0}, {1})"),
    "quantum": ("quantum({0}, {1})", None),
    "step": ("step(t, dt, {0}, {1})", "vstep(t, dt, {0}, {1})"),
    "ramp": ("ramp(t, {0}, {1}, {2})", "vramp(t, {0}, {1}, {2})"),
    "Xramp": ("ramp(t, {0}, {1}, np.nan)", "vramp(t, {0}, {1}, np.nan)"),
    "pulse": ("pulse(t, dt, {0}, 0.0, {1}, np.nan, np.nan)", None),
    "pulse_train": ("pulse(t, dt, {0}, {1}, {2}, np.nan, {3})", None),
}

OPERATORS = {"+": "+", "-": "-", "*": "*", "/": "/", "^": "**", "=": "==", "<>": "!=", "<": "<", ">": ">",
             "<=": "<=", ">=": ">="}

STATEFUL_NODES = {
    ax.IntegStructure: "integ",
    ax.SmoothStructure: "smooth",
    ax.SmoothNStructure: "smooth",
    ax.DelayStructure: "delay",
    ax.DelayNStructure: "delay",
    ax.DelayFixedStructure: "delay_fixed",
    ax.TrendStructure: "trend",
    ax.InitialStructure: "initial",
    ax.SampleIfTrueStructure: "sample_if_true",
}


@dataclass
class Stateful:
    """A stateful construct inside an equation, with its own state variable(s)."""

    id: int
    kind: str
    owner: str  # the element (name key) whose equation holds it
    node: object

    @property
    def var(self) -> str:
        """Name of its state variable (stage k of a smooth or delay: f"{var}_{k}")."""
        return f"s{self.id}"

    @property
    def out(self) -> str:
        """Name of the local holding its output at the current time."""
        return f"o{self.id}"


@dataclass
class Lookup:
    id: int
    xs: tuple
    ys: tuple
    mode: int  # 0 hold the end values, 1 extrapolate


@dataclass
class Code:
    """An expression in one dialect, with what it refers to."""

    text: str
    elements: set = field(default_factory=set)  # name keys of referenced elements
    statefuls: set = field(default_factory=set)  # ids of referenced statefuls


class Translator:
    """Translate the expressions of one model; statefuls and lookups are collected as it goes."""

    def __init__(self, spec: ModelSpec, local_name, constant_name):
        self.spec = spec
        self.local_name = local_name  # name key -> expression for an element's current value
        self.constant_name = constant_name  # name key -> expression for a constant's value
        self.statefuls: list[Stateful] = []
        self.lookups: list[Lookup] = []
        self._lookup_ids: dict = {}

    def refuse(self, what: str, element: str):
        raise UnsupportedConstruct(
            f"{self.spec.path.name}: {what} in '{self.spec.elements[element].name}' is not supported by the "
            f"batch engine (use --engine pysd)"
        )

    def element(self, key: str, dialect: str = "scalar") -> Code:
        """The expression of an element's equation (for a stock: its state)."""
        code = Code("")
        code.text = self.expr(self.spec.elements[key].ast, key, code, dialect, top=True)
        return code

    def expr(self, node, owner: str, code: Code, dialect: str, top: bool = False) -> str:
        if isinstance(node, bool):
            return "1.0" if node else "0.0"
        if isinstance(node, (int, float)):
            return repr(float(node))
        if isinstance(node, ax.ReferenceStructure):
            if node.subscripts:
                self.refuse("a subscripted reference", owner)
            key = name_key(node.reference)
            if key in CONTROL_VARIABLES:
                return CONTROL_VARIABLES[key]
            if key not in self.spec.elements:
                self.refuse(f"the unknown name '{node.reference}'", owner)
            element = self.spec.elements[key]
            if element.kind == "lookup":
                self.refuse(f"the lookup '{element.name}' used as a value", owner)
            code.elements.add(key)
            return self.constant_name(key) if element.kind == "constant" else self.local_name(key)
        if isinstance(node, ax.ArithmeticStructure):
            return self._arithmetic(node, owner, code, dialect)
        if isinstance(node, ax.LogicStructure):
            return self._logic(node, owner, code, dialect)
        if isinstance(node, ax.CallStructure):
            return self._call(node, owner, code, dialect)
        if isinstance(node, ax.InlineLookupsStructure):
            table = self._lookup(node.lookups, owner)
            arg = self.expr(node.argument, owner, code, dialect)
            fn = "lookup" if dialect == "scalar" else "vlookup"
            return f"{fn}({arg}, LX{table.id}, LY{table.id}, {table.mode})"
        if isinstance(node, ax.GameStructure):
            return self.expr(node.expression, owner, code, dialect)
        for kind_cls, kind in STATEFUL_NODES.items():
            if isinstance(node, kind_cls):
                stateful = self._stateful(node, kind, owner)
                code.statefuls.add(stateful.id)
                return stateful.out
        self.refuse(f"the construct {type(node).__name__}", owner)

    def _arithmetic(self, node, owner, code, dialect) -> str:
        args = [self.expr(a, owner, code, dialect) for a in node.arguments]
        if node.operators == ["negative"]:
            return f"(-{args[0]})"
        if any(op not in OPERATORS for op in node.operators):
            self.refuse(f"the operator {node.operators}", owner)
        if node.operators[-1] == "^":  # PySD writes a**b**c: right-associative, as Python
            text = args[-1]
            for op, arg in zip(reversed(node.operators), reversed(args[:-1]), strict=False):
                text = f"({arg}**{text})"
            return text
        text = args[0]
        for op, arg in zip(node.operators, args[1:], strict=False):
            text = f"({text} {OPERATORS[op]} {arg})"
        return text

    def _logic(self, node, owner, code, dialect) -> str:
        args = [self.expr(a, owner, code, dialect) for a in node.arguments]
        ops = [op.lower() for op in node.operators]
        if ops == [":not:"]:
            return f"(not {args[0]})" if dialect == "scalar" else f"np.logical_not({args[0]})"
        text = args[0]
        for op, arg in zip(ops, args[1:], strict=False):
            if op in (":and:", ":or:"):
                if dialect == "scalar":
                    word = "and" if op == ":and:" else "or"
                    text = f"(bool({text}) {word} bool({arg}))"
                else:
                    text = f"np.logical_{op.strip(':')}({text}, {arg})"
            elif op in OPERATORS:
                text = f"({text} {OPERATORS[op]} {arg})"
            else:
                self.refuse(f"the operator {op}", owner)
        return text

    def _call(self, node, owner, code, dialect) -> str:
        name = node.function.reference
        key = name_key(name)
        if key in self.spec.elements and self.spec.elements[key].kind == "lookup":
            table = self._lookup(self.spec.elements[key].ast, owner)
            arg = self.expr(node.arguments[0], owner, code, dialect)
            fn = "lookup" if dialect == "scalar" else "vlookup"
            return f"{fn}({arg}, LX{table.id}, LY{table.id}, {table.mode})"
        templates = FUNCTIONS.get(name.lower()) or FUNCTIONS.get(name)
        if templates is None or templates[0 if dialect == "scalar" else 1] is None:
            self.refuse(f"the function {name.upper()}", owner)
        args = [self.expr(a, owner, code, dialect) if a is not None else "np.nan" for a in node.arguments]
        template = templates[0 if dialect == "scalar" else 1]
        if name.lower() == "ramp" and len(args) == 2:
            args.append("np.nan")
        if name.lower() == "pulse" and len(args) == 1:
            args.append("np.nan")
        needed = len({part.split("}")[0] for part in template.split("{")[1:]})
        if len(args) < needed:
            self.refuse(f"the function {name.upper()} with {len(args)} arguments", owner)
        return template.format(*args)

    def _lookup(self, node, owner) -> Lookup:
        if not isinstance(node, ax.LookupsStructure):
            self.refuse(f"the lookup {type(node).__name__}", owner)
        if node.type not in ("interpolate", "extrapolate"):
            self.refuse(f"a lookup with '{node.type}' interpolation", owner)
        key = (tuple(node.x), tuple(node.y), node.type)
        if key not in self._lookup_ids:
            self._lookup_ids[key] = Lookup(len(self._lookup_ids), tuple(node.x), tuple(node.y),
                                           1 if node.type == "extrapolate" else 0)
            self.lookups.append(self._lookup_ids[key])
        return self._lookup_ids[key]

    def _stateful(self, node, kind, owner) -> Stateful:
        stateful = Stateful(len(self.statefuls), kind, owner, node)
        self.statefuls.append(stateful)
        return stateful
