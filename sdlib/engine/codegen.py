"""Generate the source of the batch kernel: one numba function that runs N parameter sets.

The kernel holds every element of the model as a local float, in dependency order, exactly as
PySD evaluates it each time step: auxiliaries, then saving (every SAVEPER), then the derivatives
of every state, then Euler updates. Constants live in a per-run array so that time-varying
overrides (a policy's pandas Series) can be interpolated into it at each step, as PySD does with
`np.interp`. A run whose state leaves the finite range stops and is marked diverged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
from pysd.translators.structures import abstract_expressions as ax

from ..core.errors import ModelError, UnsupportedConstruct
from ..core.registry import constant_value
from ..core.spec import CONTROL_NAMES, ModelSpec
from .expressions import Code, Stateful, Translator

DIVERGENCE_BOUND = 1e300


@dataclass
class StatefulCode:
    stateful: Stateful
    init_lines: list[str]
    init_refs: Code
    out_line: str
    out_refs: Code
    ddt_lines: list[str]
    ddt_refs: Code
    update_lines: list[str]
    alloc_lines: list[str] = field(default_factory=list)
    check: list[str] = field(default_factory=list)  # state expressions to test for divergence


@dataclass
class Generated:
    source: str
    saved: list[str]  # Vensim names of the saved variables, in VALS order
    constants: list[str]  # Vensim names of the constants, in CV order
    defaults: list[float]  # their values in the model
    translator: Translator = None
    element_code: dict = field(default_factory=dict)  # name key -> Code (scalar dialect)


def _merge(*codes: Code) -> Code:
    merged = Code("")
    for c in codes:
        merged.elements |= c.elements
        merged.statefuls |= c.statefuls
    return merged


def generate(spec: ModelSpec) -> Generated:
    elements = spec.elements
    for key, el in elements.items():
        if el.subscripted:
            raise UnsupportedConstruct(f"{spec.path.name}: subscripts in '{el.name}' are not supported by the batch "
                                       f"engine (use --engine pysd)")
    for key in CONTROL_NAMES:
        if key in elements and key != "saveper":
            if constant_value(elements[key].ast) is None:
                raise UnsupportedConstruct(f"{spec.path.name}: a time-varying '{elements[key].name}' is not "
                                           f"supported by the batch engine (use --engine pysd)")
    constants = [k for k, el in elements.items() if el.kind == "constant" and k not in CONTROL_NAMES]
    cidx = {k: i for i, k in enumerate(constants)}
    values = [k for k, el in elements.items() if el.kind not in ("lookup", "data") and k not in CONTROL_NAMES]
    vidx = {k: i for i, k in enumerate(values)}
    translator = Translator(spec, local_name=lambda k: f"v{vidx[k]}", constant_name=lambda k: f"CV[{cidx[k]}]")

    codes = {k: translator.element(k) for k in values if k not in cidx}
    stateful_codes: list[StatefulCode] = []
    i = 0
    while i < len(translator.statefuls):  # translating arguments may find nested statefuls
        stateful_codes.append(_stateful_code(translator, translator.statefuls[i]))
        i += 1

    run_order = _order(codes, stateful_codes, cidx, init=False, spec=spec)
    init_order = _order(codes, stateful_codes, cidx, init=True, spec=spec)
    by_id = {sc.stateful.id: sc for sc in stateful_codes}

    lines = [
        "import numpy as np",
        "from numba import njit, prange",
        "from sdlib.engine.functions import nmin, nmax, xidz, zidz, step, ramp, pulse, integer, quantum, modulo, lookup",
        "",
    ]
    for table in translator.lookups:
        lines.append(f"LX{table.id} = np.array({list(map(float, table.xs))!r})")
        lines.append(f"LY{table.id} = np.array({list(map(float, table.ys))!r})")
    body = []
    w = body.append

    def evaluate(kind, ref) -> str:
        """The line that computes one node: a stateful's output or an element's value."""
        return by_id[ref].out_line if kind == "out" else f"v{vidx[ref]} = {codes[ref].text}"

    w("@njit(parallel=True, cache=True, error_model='numpy')")
    w("def kernel(P, SIDX, SX, SY, SL, t0, dt, tf, saveper, n_steps, save_every, OUTIDX, OUT, STATUS, DIVAT):")
    w("    N = P.shape[0]")
    w("    for r in prange(N):")
    ind = " " * 8
    w(ind + "CV = P[r].copy()")
    w(ind + f"VALS = np.empty({max(len(values), 1)})")
    w(ind + "t = t0")
    w(ind + "for q in range(SIDX.shape[0]):")
    w(ind + "    CV[SIDX[q]] = np.interp(t, SX[q, :SL[q]], SY[q, :SL[q]])")
    for sc in stateful_codes:
        for line in sc.alloc_lines:
            w(ind + line)
    # Initialisation, in the order PySD initialises: states from their initial values, with the
    # auxiliaries those need computed first.
    for node in init_order:
        kind, ref = node
        if kind == "init":
            for line in by_id[ref].init_lines:
                w(ind + line)
        else:
            w(ind + evaluate(kind, ref))
    w(ind + "k = 0")
    w(ind + "isave = 0")
    w(ind + "while True:")
    ind2 = ind + "    "
    w(ind2 + "for q in range(SIDX.shape[0]):")
    w(ind2 + "    CV[SIDX[q]] = np.interp(t, SX[q, :SL[q]], SY[q, :SL[q]])")
    # Only what the states depend on is computed every step; the rest only when it is saved.
    needed = _needed_for_states(codes, stateful_codes)
    for kind, ref in run_order:
        if (kind, ref) in needed:
            w(ind2 + evaluate(kind, ref))
    w(ind2 + "if k % save_every == 0:")
    for kind, ref in run_order:
        if (kind, ref) not in needed:
            w(ind2 + "    " + evaluate(kind, ref))
    for key in values:
        source = f"CV[{cidx[key]}]" if key in cidx else f"v{vidx[key]}"
        w(ind2 + f"    VALS[{vidx[key]}] = {source}")
    w(ind2 + "    for j in range(OUTIDX.shape[0]):")
    w(ind2 + "        OUT[r, j, isave] = VALS[OUTIDX[j]]")
    w(ind2 + "    isave += 1")
    w(ind2 + "if k == n_steps:")
    w(ind2 + "    break")
    for sc in stateful_codes:
        for line in sc.ddt_lines:
            w(ind2 + line)
    for sc in stateful_codes:
        for line in sc.update_lines:
            w(ind2 + line)
    w(ind2 + "t = t + dt")
    w(ind2 + "k += 1")
    checks = [c for sc in stateful_codes for c in sc.check]
    if checks:
        w(ind2 + "if not (" + " and ".join(f"abs({c}) <= {DIVERGENCE_BOUND}" for c in checks) + "):")
        w(ind2 + "    STATUS[r] = 1")
        w(ind2 + "    DIVAT[r] = t")
        w(ind2 + "    break")
    source = "\n".join(lines + body) + "\n"
    return Generated(
        source=source,
        saved=[elements[k].name for k in values],
        constants=[elements[k].name for k in constants],
        defaults=[_default(elements[k]) for k in constants],
        translator=translator,
        element_code=codes,
    )


def _needed_for_states(codes, stateful_codes) -> set:
    """Elements and stateful outputs that the derivatives and updates of the states depend on."""
    needed: set = set()
    todo = []
    for sc in stateful_codes:
        todo += [("el", k) for k in sc.ddt_refs.elements if k in codes]
        todo += [("out", i) for i in sc.ddt_refs.statefuls]
    outs = {sc.stateful.id: sc for sc in stateful_codes}
    while todo:
        node = todo.pop()
        if node in needed:
            continue
        needed.add(node)
        refs = codes[node[1]] if node[0] == "el" else outs[node[1]].out_refs
        todo += [("el", k) for k in refs.elements if k in codes]
        todo += [("out", i) for i in refs.statefuls]
    return needed


def _default(element) -> float:
    value = constant_value(element.ast)
    return float("nan") if value is None else value


def _order(codes, stateful_codes, cidx, init: bool, spec) -> list[tuple[str, object]]:
    """Evaluation order: elements and stateful outputs (and, at initialisation, state setup)."""
    graph = nx.DiGraph()
    for key, code in codes.items():
        node = ("el", key)
        graph.add_node(node)
        for dep in code.elements:
            if dep in codes:
                graph.add_edge(("el", dep), node)
        for sid in code.statefuls:
            graph.add_edge(("out", sid), node)
    for sc in stateful_codes:
        sid = sc.stateful.id
        out = ("out", sid)
        graph.add_node(out)
        for dep in sc.out_refs.elements:
            if dep in codes:
                graph.add_edge(("el", dep), out)
        for dep in sc.out_refs.statefuls:
            graph.add_edge(("out", dep), out)
        if init:
            graph.add_edge(("init", sid), out)
            for dep in sc.init_refs.elements:
                if dep in codes:
                    graph.add_edge(("el", dep), ("init", sid))
            for dep in sc.init_refs.statefuls:
                graph.add_edge(("out", dep), ("init", sid))
    try:
        order = list(nx.lexicographical_topological_sort(graph, key=str))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(graph)
        names = [spec.elements[n[1]].name if n[0] == "el" else f"state {n[1]}" for n, _ in cycle]
        raise ModelError(f"{spec.path.name}: equations depend on each other without a stock between them: "
                         f"{' -> '.join(names)}") from None
    return [n for n in order if init or n[0] != "init"]


def _stateful_code(tr: Translator, s: Stateful) -> StatefulCode:
    """Initial value, output, derivative and update code of one stateful construct (as PySD's statefuls)."""
    node, owner, v, o = s.node, s.owner, s.var, s.out

    def code(sub) -> tuple[str, Code]:
        c = Code("")
        c.text = tr.expr(sub, owner, c, "scalar")
        return c.text, c

    if s.kind == "integ":
        flow, fc = code(node.flow)
        init, ic = code(node.initial)
        update = f"{v} = {v} + d{v} * dt"
        if getattr(node, "non_negative", False):
            update = f"{v} = max({v} + d{v} * dt, 0.0)"
        return StatefulCode(s, [f"{v} = {init}"], ic, f"{o} = {v}", Code(""), [f"d{v} = {flow}"], fc, [update],
                            check=[v])
    if s.kind == "initial":
        init, ic = code(node.initial)
        return StatefulCode(s, [f"{v} = {init}"], ic, f"{o} = {v}", Code(""), [], Code(""), [])
    if s.kind in ("smooth", "delay"):
        inp, inc = code(node.input)
        time, tc = code(node.smooth_time if s.kind == "smooth" else node.delay_time)
        init, ic = code(node.initial)
        order, oc = code(node.order) if not isinstance(node.order, (int, float)) else (repr(float(node.order)), Code(""))
        init_lines = [f"m{v} = int({order})"]
        if s.kind == "delay":  # PySD lowers the order until order x time step fits in the delay
            init_lines += [f"while m{v} > 1 and m{v} * dt > ({time}):", f"    m{v} -= 1"]
        init_lines += [f"{v} = np.empty(m{v})", f"d{v} = np.empty(m{v})"]
        if s.kind == "smooth":  # PySD's Smooth: stages of the value itself
            init_lines += [f"for q in range(m{v}):", f"    {v}[q] = {init}"]
            out, out_refs = f"{o} = {v}[m{v} - 1]", Code("")
            ddt = [
                f"for q in range(m{v}):",
                f"    target = ({inp}) if q == 0 else {v}[q - 1]",
                f"    d{v}[q] = ((target - {v}[q]) * m{v}) / ({time})",
            ]
        elif isinstance(node, ax.DelayNStructure):  # PySD's DelayN keeps each stage's delay time
            init_lines += [f"for q in range(m{v}):", f"    {v}[q] = ({init}) * ({time})",
                           f"T{v} = np.empty(m{v})", f"for q in range(m{v}):", f"    T{v}[q] = {time}"]
            out, out_refs = f"{o} = {v}[m{v} - 1] / T{v}[0]", Code("")
            ddt = [
                f"for q in range(m{v} - 1, 0, -1):",
                f"    T{v}[q] = T{v}[q - 1]",
                f"T{v}[0] = {time}",
                "prev = 0.0",
                f"for q in range(m{v}):",
                f"    outflow = {v}[q] / T{v}[q]",
                f"    inflow = ({inp}) if q == 0 else prev",
                f"    d{v}[q] = (inflow - outflow) * m{v}",
                "    prev = outflow",
            ]
        else:  # PySD's Delay: stages hold value x delay time; the output is the last over the time
            init_lines += [f"for q in range(m{v}):", f"    {v}[q] = ({init}) * ({time})"]
            out, out_refs = f"{o} = {v}[m{v} - 1] / ({time})", tc
            ddt = [
                "prev = 0.0",
                f"for q in range(m{v}):",
                f"    outflow = {v}[q] / ({time})",
                f"    inflow = ({inp}) if q == 0 else prev",
                f"    d{v}[q] = (inflow - outflow) * m{v}",
                "    prev = outflow",
            ]
        update = [f"for q in range(m{v}):", f"    {v}[q] = {v}[q] + d{v}[q] * dt"]
        return StatefulCode(s, init_lines, _merge(ic, tc, oc), out, out_refs, ddt, _merge(inc, tc), update,
                            check=[f"{v}[m{v} - 1]"])
    if s.kind == "delay_fixed":
        inp, inc = code(node.input)
        time, tc = code(node.delay_time)
        init, ic = code(node.initial)
        init_lines = [
            f"n{v} = int(round(max(({time}) / dt, 1.0) + 1e-6))",
            f"P{v} = np.empty(n{v})",
            f"for q in range(n{v}):",
            f"    P{v}[q] = {init}",
            f"p{v} = 0",
            f"{v} = P{v}[0]",
        ]
        ddt = [f"in{v} = {inp}"]
        update = [f"P{v}[p{v}] = in{v}", f"p{v} = (p{v} + 1) % n{v}", f"{v} = P{v}[p{v}]"]
        return StatefulCode(s, init_lines, _merge(ic, tc), f"{o} = {v}", Code(""), ddt, inc, update, check=[v])
    if s.kind == "trend":
        inp, inc = code(node.input)
        avg, ac = code(node.average_time)
        init, ic = code(node.initial_trend)
        init_lines = [f"{v} = ({inp}) / (1 + ({init}) * ({avg}))"]
        out = f"{o} = zidz(({inp}) - {v}, ({avg}) * abs({v}))"
        ddt = [f"d{v} = (({inp}) - {v}) / ({avg})"]
        return StatefulCode(s, init_lines, _merge(inc, ac, ic), out, _merge(inc, ac), ddt, _merge(inc, ac),
                            [f"{v} = {v} + d{v} * dt"], check=[v])
    if s.kind == "sample_if_true":
        cond, cc = code(node.condition)
        inp, inc = code(node.input)
        init, ic = code(node.initial)
        out = f"{o} = ({inp}) if ({cond}) else {v}"
        ddt = [f"n{v} = ({inp}) if ({cond}) else {v}"]
        return StatefulCode(s, [f"{v} = {init}"], ic, out, _merge(cc, inc), ddt, _merge(cc, inc), [f"{v} = n{v}"])
    raise UnsupportedConstruct(f"{tr.spec.path.name}: {s.kind.upper()} in '{tr.spec.elements[owner].name}' is not "
                               f"supported by the batch engine (use --engine pysd)")
