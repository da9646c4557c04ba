"""The lane kernel: many runs at once with the run dimension innermost, so the compiler vectorises.

The run-major kernel (see `codegen`) gives each run its own thread of scalar code, and calls the C
library's exp, log and pow one value at a time: on the Tokenworld baseline those calls are 78% of a
run (pow alone 70%: 49 powers a step). The lane kernel takes the same statements and runs them for
LANES runs side by side. Every per-run value lives in one workspace W, a row of LANES numbers each
(states, the error slot, the divergence flag, saved values, then the constants), at rows fixed in the
source, so that LLVM proves that a lane loop's stores never overlap its loads; one step is one loop
over the lanes whose body is the whole step fused (the equations the states need, the derivatives,
the Euler update, the divergence test). To leave that loop without a branch, IF THEN ELSE computes
both arms and selects one (`vmath.sel`), AND/OR of conditions become bitwise operations, and exp, log
and pow come from `vmath` (plain arithmetic that inlines). A power PySD would make complex marks the
lane's error slot only on the path the equation takes. LLVM then emits AVX-512 code for 8 lanes.
Time, the step counter and policies' time series are the same for every lane; a saving step runs
every equation and the step in one fused loop, then copies the requested outputs.

A run that diverges or meets a complex power is marked as in the run-major kernel, and its lane's
outputs stay NaN from then on while the others go on.

The lane kernel covers models whose kernel is scalar statements (INTEG, INITIAL, TREND, FORECAST,
SAMPLE IF TRUE of unsubscripted variables; Euler; no random numbers, ACTIVE INITIAL, integer
states or exact numpy functions). Other models (subscripts, SMOOTH and DELAY stages, RK4, ...) run
on the run-major kernel; `lane_kernel` says why. The last step, when it is not a saving step,
evaluates every equation (the run-major kernel: those the states need), so a complex power in an
equation nothing needs, first met at that very step, refuses the run there.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .result import DIVERGENCE_BOUND

LANES = 16  # runs side by side: two AVX-512 registers of float64
ASSIGNMENT = re.compile(r"([A-Za-z_]\w*(?:\[\d+\])?) = (.+)")
IDENTIFIER = re.compile(r"(?<![\w.])([A-Za-z_]\w*)")
# What a lane statement may call, and what it becomes there.
RENAMED = {"np.exp": "vexp", "np.log": "vlog", "ppow": "pow_cases"}
ALLOWED = {"abs", "min", "max", "nmin", "nmax", "xidz", "zidz", "float", "step", "ramp", "pulse", "lookup", "lookup_vensim", "data",
           "integer", "quantum", "modulo", "nz", "nz1", "nanmin2", "nanmax2", "if", "else", "and", "or", "not",
           "True", "False", "t", "t0", "dt", "CV", "E"}  # numpy's names are checked with their "np."
NUMPY_ALLOWED = {"np.sqrt", "np.floor", "np.nan", "np.inf", "np.pi", "np.e", "np.sin", "np.cos", "np.tan",
                 "np.arcsin", "np.arccos", "np.arctan", "np.sinh", "np.cosh", "np.tanh", "np.log10",
                 "np.exp", "np.log"}


@dataclass
class Sections:
    """The kernel's statements, by where they run (each a list of unindented lines)."""
    init: list  # initialisation, in PySD's order (states and what they need)
    needed: list  # every step: what the states' derivatives depend on
    unneeded: list  # saving steps only: the rest
    values: list  # VALS[i] = ... for every saved column
    derivatives: list  # the states' derivatives
    before_update: list  # what the divergence test compares (arrays only; empty here)
    update: list  # the Euler update
    checks: list  # (state expression, is_array, previous-value name)
    states: list  # the locals a stateful function keeps from one step to the next
    n_saved: int
    obstacle: str = ""  # why the lane kernel cannot take this model ("" if it can)


class NotLanes(Exception):
    pass


def _statement(line: str, names: set, kind: str) -> list[str]:
    """One scalar assignment, written for lane l, with the error-slot lines of its powers (or NotLanes)."""
    m = ASSIGNMENT.fullmatch(line)
    if not m:
        raise NotLanes(f"a statement that is not one scalar assignment ({line[:60]!r})")
    target, expression = m.groups()
    if "[" in re.sub(r"\bCV\[\d+\]", "", expression) or (kind != "values" and "[" in target):
        raise NotLanes(f"an indexed value ({line[:60]!r})")
    for name in IDENTIFIER.findall(re.sub(r"\bnp\.\w+", "", expression)):
        if name not in names and name not in ALLOWED and name not in RENAMED and not re.fullmatch(r"L[XY]\d+", name):
            raise NotLanes(f"the name {name!r} in {line[:60]!r}")
    for name in re.findall(r"\bnp\.\w+", expression):
        if name not in NUMPY_ALLOWED:
            raise NotLanes(f"{name} in {line[:60]!r}")
    if len(re.findall(r"\bE\b", expression)) != len(re.findall(r"\bppow\(", expression)):
        raise NotLanes(f"an error slot outside a power ({line[:60]!r})")
    expression = re.sub(r"\bCV\[(\d+)\]", r"CV[\1, l]", expression)
    for old, new in RENAMED.items():
        expression = re.sub(r"(?<![\w.])" + re.escape(old) + r"\(", new + "(", expression)
    if kind == "values":
        return [f"{target} = {expression}"]
    branchless = _Branchless()
    expression = ast.unparse(branchless.visit(ast.parse(expression, mode="eval")))
    return [f"{target} = {expression}"] + [
        f"el = pow_error(el, {ast.unparse(a)}, {ast.unparse(b)}, {ast.unparse(active)}, {ast.unparse(site)})"
        for a, b, active, site in branchless.powers]


class _Branchless(ast.NodeTransformer):
    """IF THEN ELSE as a select of both arms, AND/OR of conditions as bitwise operations, so that a lane
    loop has no branch; a power's error slot is marked only on the path the equation takes."""

    def __init__(self):
        self.active: ast.expr = ast.Constant(True)
        self.powers: list = []  # (base, exponent, on the path taken, error site) of each power

    def visit_IfExp(self, node):
        test = self._truth(node.test)
        outer = self.active
        self.active = ast.BinOp(outer, ast.BitAnd(), test)
        body = self.visit(node.body)
        self.active = ast.BinOp(outer, ast.BitAnd(), _not(test))
        orelse = self.visit(node.orelse)
        self.active = outer
        return ast.Call(ast.Name("sel", ast.Load()), [test, body, orelse], [])

    def visit_BoolOp(self, node):
        raise NotLanes("AND/OR outside a condition")

    def _truth(self, node):
        """A condition as a boolean (a number is true unless it is zero, as in Python)."""
        if isinstance(node, ast.BoolOp):
            op = ast.BitAnd() if isinstance(node.op, ast.And) else ast.BitOr()
            values = [self._truth(v) for v in node.values]
            out = values[0]
            for v in values[1:]:
                out = ast.BinOp(out, op, v)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return _not(self._truth(node.operand))
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            return self.visit(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node
        return ast.Compare(self.visit(node), [ast.NotEq()], [ast.Constant(0.0)])

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "pow_cases":
            a, b, _, site = node.args
            self.powers.append((a, b, self.active, site))
            node.args = [a, b, _call("vexp", ast.BinOp(b, ast.Mult(), _call("vlog", _call("abs", a))))]
        return node


def _call(name, *args):
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def _not(test):
    return ast.Compare(test, [ast.Eq()], [ast.Constant(False)])


def lane_kernel(sections: Sections, method: str) -> tuple[str, str]:
    """The source of `kernelL` (and "") or ("", why the model needs the run-major kernel)."""
    try:
        return _lane_kernel(sections, method), ""
    except NotLanes as why:
        return "", str(why)


def _lane_kernel(s: Sections, method: str) -> str:
    if s.obstacle:
        raise NotLanes(s.obstacle)
    if method != "euler":
        raise NotLanes(f"{method} integration")
    if any(is_array for _, is_array, _ in s.checks) or s.before_update:
        raise NotLanes("a subscripted state")
    statements = s.init + s.needed + s.unneeded + s.derivatives + s.update
    names = set()
    for line in statements:
        m = ASSIGNMENT.fullmatch(line)
        if not m or "[" in m.group(1):
            raise NotLanes(f"a statement that is not one scalar assignment ({line[:60]!r})")
        names.add(m.group(1))
    init = [y for x in s.init for y in _statement(x, names, "init")]
    needed = [y for x in s.needed for y in _statement(x, names, "step")]
    unneeded = [y for x in s.unneeded for y in _statement(x, names, "step")]
    values = [y for x in s.values for y in _statement(x, names | {"VALS"}, "values")]
    derivatives = [y for x in s.derivatives for y in _statement(x, names, "step")]
    update = [y for x in s.update for y in _statement(x, names, "step")]
    states = list(dict.fromkeys(s.states))
    updated = [ASSIGNMENT.fullmatch(x).group(1) for x in s.update]
    for name in updated:
        if name not in states:
            raise NotLanes(f"an updated local {name!r} that no stateful function keeps")
    slot = {name: i for i, name in enumerate(states)}
    checked = [c for c, _, _ in s.checks]
    for c in checked:
        if c not in slot:
            raise NotLanes(f"a checked value {c!r} that is not a kept state")

    out = []
    w = out.append
    load = ["el = E[l]"] + [f"{name} = ST[{i}, l]" for i, name in enumerate(states)]
    w("def kernelL(P, SIDX, SX, SY, SL, t0, dt, tf, saveper, n_steps, SAVE, OUTIDX, OUT, STATUS, DIVAT, UFT, SEED,"
      " ERR, IINT):")
    w(f"    for b in prange(P.shape[0] // {LANES}):")
    i1 = " " * 8
    w(i1 + f"r0 = b * {LANES}")
    w(i1 + f"W = np.zeros(({len(states) + 2 + s.n_saved} + P.shape[1]) * {LANES})")
    w(i1 + f"for l in range({LANES}):")
    w(i1 + "    for j in range(P.shape[1]):")
    w(i1 + "        CV[j, l] = P[r0 + l, j]")
    w(i1 + f"NAN = np.zeros(({max(len(checked), 1)}, {LANES}), dtype=np.bool_)")
    w(i1 + f"DONE = np.zeros({LANES}, dtype=np.bool_)")
    w(i1 + "t = t0")
    w(i1 + "k = 0")
    w(i1 + "isave = 0")
    _interpolate(w, i1)
    w(i1 + f"for l in range({LANES}):")
    w(i1 + "    el = 0.0")
    for line in init:
        w(i1 + "    " + line)
    w(i1 + "    E[l] = el")
    for i, name in enumerate(states):
        w(i1 + f"    ST[{i}, l] = {name}")
    for i, c in enumerate(checked):
        w(i1 + f"    NAN[{i}, l] = {c} != {c}")
    w(i1 + "while True:")
    i2 = i1 + "    "
    _interpolate(w, i2)
    fast = " & ".join(f"(abs({c}) <= {DIVERGENCE_BOUND})" for c in checked) or "True"
    stepped = ["E[l] = el"] + [f"ST[{slot[name]}, l] = {name}" for name in updated] + [f"OK[l] = {fast}"]
    # A saving step (and the last): every equation and the step in one fused loop, then the requested
    # outputs. The last step takes no step: its error slot is the one before the derivatives.
    stepping = derivatives + update
    if any(line.startswith("el = pow_error(") for line in stepping):
        stepping = ["el_last = el", *stepping, "el = sel(last, el_last, el)"]
    w(i2 + "save = SAVE[k]")
    w(i2 + "last = k == n_steps")
    w(i2 + "if save or last:")
    w(i2 + f"    for l in range({LANES}):")
    i4 = i2 + "        "
    for line in load + _shared(needed + unneeded + values + stepping) + stepped:
        w(i4 + line)
    w(i2 + "    if save:")
    w(i2 + f"        for l in range({LANES}):")
    w(i2 + "            if not DONE[l]:")
    w(i2 + "                for j in range(OUTIDX.shape[0]):")
    w(i2 + "                    OUT[r0 + l, j, isave] = VALS[OUTIDX[j], l]")
    w(i2 + "        isave += 1")
    w(i2 + "    if last:")
    _errors(w, i2 + "        ")
    w(i2 + "        break")
    # Any other step, for every lane, fused: the compiler vectorises this loop
    w(i2 + "else:")
    w(i2 + f"    for l in range({LANES}):")
    for line in load + _shared(needed + derivatives + update) + stepped:
        w(i4 + line)
    _errors(w, i2)
    w(i2 + "t = t + dt")
    w(i2 + "k += 1")
    # Diverged: a state passed the bound, became infinite, or became NaN from a number
    w(i2 + "alive = 0")
    w(i2 + f"for l in range({LANES}):")
    w(i2 + "    if DONE[l]:")
    w(i2 + "        continue")
    w(i2 + "    if not OK[l]:")
    w(i2 + "        bad = False")
    for i, c in enumerate(checked):
        w(i2 + f"        x = ST[{slot[c]}, l]")
        w(i2 + f"        if (x != x and not NAN[{i}, l]) or abs(x) > {DIVERGENCE_BOUND}:")
        w(i2 + "            bad = True")
        w(i2 + f"        NAN[{i}, l] = x != x")
    w(i2 + "        if bad:")
    w(i2 + "            STATUS[r0 + l] = 1")
    w(i2 + "            DIVAT[r0 + l] = t")
    w(i2 + "            DONE[l] = True")
    w(i2 + "            continue")
    w(i2 + "    alive += 1")
    w(i2 + "if alive == 0:")
    w(i2 + "    break")
    return _one_workspace("\n".join(out), len(states), s.n_saved)


SHARED = {"vexp", "vlog", "pow_cases"}  # calls worth computing once per fused loop


def _shared(lines: list[str]) -> list[str]:
    """Each exp, log and power of a fused loop computed once: a call written again (the same text,
    none of its names assigned since) reads the first one's value. (LLVM finds most of these itself,
    not all: measured 2.5% of the Tokenworld lane kernel.)"""
    share = _Share()
    out = []
    for line in lines:
        target, expression = line.split(" = ", 1)
        share.first = []
        expression = ast.unparse(share.visit(ast.parse(expression, mode="eval")))
        out += share.first + [f"{target} = {expression}"]
        assigned = re.compile(r"(?<![\w.])" + re.escape(target) + r"(?!\w)")
        for key in [k for k in share.known if assigned.search(k)]:
            del share.known[key]  # its value has changed
    return out


class _Share(ast.NodeTransformer):
    """A call computed before becomes the name of its value; a new one is computed first (`first`)."""

    def __init__(self):
        self.known: dict[str, str] = {}
        self.first: list[str] = []
        self.count = 0

    def visit_Call(self, node):
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id in SHARED):
            return node
        key = ast.unparse(node)
        if key not in self.known:
            self.known[key] = f"cse{self.count}"
            self.count += 1
            self.first.append(f"{self.known[key]} = {key}")
        return ast.Name(self.known[key], ast.Load())


def _one_workspace(source: str, n_states: int, n_saved: int) -> str:
    """Every per-lane value in one array W (states, error slot, test flag, then constants), each at a row
    the compiler knows: it can then prove that the loop's stores never overlap its loads and vectorise
    without run-time alias checks (with separate arrays it needs more than it allows)."""
    error, ok, saved = n_states, n_states + 1, n_states + 2
    base = saved + n_saved
    L = LANES

    def row(r) -> str:
        return f"W[{r * L} + l]"
    source = re.sub(r"\bST\[(\d+), l\]", lambda m: row(int(m.group(1))), source)
    source = re.sub(r"\bVALS\[(\d+)\]", lambda m: row(saved + int(m.group(1))), source)
    source = source.replace("VALS[OUTIDX[j], l]", f"W[({saved} + OUTIDX[j]) * {L} + l]")
    source = re.sub(r"\bCV\[(\d+), l\]", lambda m: row(base + int(m.group(1))), source)
    source = source.replace("CV[j, l]", f"W[({base} + j) * {L} + l]")
    source = source.replace("CV[SIDX[q], l]", f"W[({base} + SIDX[q]) * {L} + l]")
    source = source.replace("ERR[r0 + l] = E[l]", f"ERR[r0 + l] = int({row(error)})")
    source = re.sub(r"\bE\[l\]", row(error), source)
    source = source.replace("not OK[l]", f"{row(ok)} == 0.0")
    return re.sub(r"\bOK\[l\]", row(ok), source)


def _interpolate(w, ind):
    """Policies' time series: the same value for every lane."""
    w(ind + "for q in range(SIDX.shape[0]):")
    w(ind + "    x = np.interp(t, SX[q, :SL[q]], SY[q, :SL[q]])")
    w(ind + f"    for l in range({LANES}):")
    w(ind + "        CV[SIDX[q], l] = x")


def _errors(w, ind):
    """A lane whose equations met a power PySD makes complex stops there (the run is refused)."""
    w(ind + f"for l in range({LANES}):")
    w(ind + "    if E[l] != 0 and not DONE[l]:")
    w(ind + "        STATUS[r0 + l] = 2")
    w(ind + "        ERR[r0 + l] = E[l]")
    w(ind + "        DIVAT[r0 + l] = t")
    w(ind + "        DONE[l] = True")


__all__ = ["LANES", "Sections", "lane_kernel"]
