"""The kernel code of stateful functions (INTEG, SMOOTH, DELAY, TREND, ...), as PySD's statefuls run.

`scalar_code` writes one construct of one cell with scalar locals (s3, ds3, ...). `group_code`
writes the same construct for every cell of a subscripted equation as loops over arrays (S3[p],
dS3[p], ...), from the cells' expressions folded into one template (see `fold`). Both follow
PySD's `py_backend.statefuls` line by line: a smooth's stages are of the value itself, a delay's
stages hold value times delay time, DELAY N keeps each stage's delay time, PySD lowers a delay's
order until order times TIME STEP fits in the shortest delay time of the whole array, DELAY FIXED
keeps a pipe of round(delay / TIME STEP) values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pysd.translators.structures import abstract_expressions as ax

from ..core.errors import UnsupportedConstruct
from ..core.expressions import Code

# The arguments of each construct, as PySD's builders name them.
ARGUMENTS = {
    "integ": ("flow", "initial"),
    "initial": ("initial",),
    "smooth": ("input", "smooth_time", "initial", "order"),
    "delay": ("input", "delay_time", "initial", "order"),
    "delay_fixed": ("input", "delay_time", "initial"),
    "trend": ("input", "average_time", "initial_trend"),
    "forecast": ("input", "average_time", "horizon", "initial_trend"),
    "sample_if_true": ("condition", "input", "initial"),
}
# Which arguments set the initial state (the others are read every step), and which the output reads.
INIT_ARGS = {"integ": ("initial",), "initial": ("initial",), "smooth": ("initial", "order"),
             "delay": ("initial", "delay_time", "order"), "delay_fixed": ("initial", "delay_time"),
             "trend": ("input", "average_time", "initial_trend"), "forecast": ("input", "initial_trend"),
             "sample_if_true": ("initial",)}
STEP_ARGS = {"integ": ("flow",), "initial": (), "smooth": ("input", "smooth_time"),
             "delay": ("input", "delay_time"), "delay_fixed": ("input",), "trend": ("input", "average_time"),
             "forecast": ("input", "average_time"), "sample_if_true": ("condition", "input")}
OUT_ARGS = {"integ": (), "initial": (), "smooth": (), "delay": ("delay_time",), "delay_fixed": (),
            "trend": ("input", "average_time"), "forecast": ("input", "average_time", "horizon"),
            "sample_if_true": ("condition", "input")}
CONTINUOUS = {"integ", "smooth", "delay", "trend", "forecast"}


@dataclass
class StatefulCode:
    init_lines: list[str]
    out_lines: list[str]
    ddt_lines: list[str]
    update_lines: list[str]
    continuous: bool = True  # integrated (Euler or RK4); False: updated once per step (DELAY FIXED, ...)
    state: list = field(default_factory=list)  # (name, is_array) of its integrated states
    derivative: list = field(default_factory=list)  # the matching derivative locals
    alloc_lines: list[str] = field(default_factory=list)
    check: list = field(default_factory=list)  # (state expression, is_array, previous-value name)
    save_lines: list[str] = field(default_factory=list)  # before the update: the values the check compares


def arguments(stateful) -> dict:
    """The argument nodes of a stateful construct, by PySD's names."""
    node = stateful.node
    names = ARGUMENTS[stateful.kind]
    if stateful.kind == "smooth":
        return {"input": node.input, "smooth_time": node.smooth_time, "initial": node.initial, "order": node.order}
    return {name: getattr(node, name) for name in names}


def merged(codes: dict, names) -> Code:
    out = Code("")
    for name in names:
        c = codes[name]
        out.refs |= c.refs
        out.irefs |= c.irefs
        out.statefuls |= c.statefuls
    return out


def _number(node) -> bool:
    return isinstance(node, (int, float, np.integer, np.floating))


def scalar_code(s, texts: dict, method: str, out_name: str, refuse, shortest=None, order_from=None,
                integer=None) -> StatefulCode:
    """One construct of one cell. `texts` maps argument names to expression text; `out_name` is where
    its output goes (o3, or O7[2] for one cell of an unfolded array). For one cell of an array of
    delays, `shortest` is the array's shortest delay time (which sets the order of all of them, as in
    PySD) for the first cell, and `order_from` the first cell's order local for the others. `integer`
    (flag, error slot): PySD starts this SMOOTH's state (a DELAY N's delay times) as integers, see
    `integers`."""
    v, kind, node = s.var, s.kind, s.node
    a = texts
    if kind == "integ":
        update = f"{v} = {v} + d{v} * dt"
        if getattr(node, "non_negative", False):
            if method == "rk4":
                refuse("a non-negative stock with RK4 integration")
            update = f"{v} = max({v} + d{v} * dt, 0.0)"
        return StatefulCode([f"{v} = {a['initial']}"], [f"{out_name} = {v}"], [f"d{v} = {a['flow']}"], [update],
                            state=[(v, False)], derivative=[f"d{v}"], check=[(v, False, f"w{v}")])
    if kind == "initial":
        return StatefulCode([f"{v} = {a['initial']}"], [f"{out_name} = {v}"], [], [], continuous=False)
    if kind in ("smooth", "delay"):
        order = a["order"]
        init = [f"m{v} = int({order})"]
        if kind == "delay":
            if order_from is not None:
                init = [f"m{v} = {order_from}"]
            else:
                init += [f"while m{v} > 1 and m{v} * dt > ({shortest or a['delay_time']}):", f"    m{v} -= 1"]
        init += [f"{v} = np.empty(m{v})", f"d{v} = np.empty(m{v})"]
        inp, init_value = a["input"], a["initial"]
        if kind == "smooth":
            time = a["smooth_time"]
            init += [f"for q in range(m{v}):", f"    {v}[q] = {init_value}"]
            out = [f"{out_name} = {v}[m{v} - 1]"]
            ddt = [f"for q in range(m{v}):", f"    target = ({inp}) if q == 0 else {v}[q - 1]",
                   *_first_truncated("    ", "q", integer),
                   f"    d{v}[q] = ((target - {v}[q]) * m{v}) / ({time})"]
        elif isinstance(node, ax.DelayNStructure):
            time = a["delay_time"]
            if method == "rk4":
                refuse("DELAY N with RK4 integration (PySD shifts its delay times once per step)")
            init += [f"for q in range(m{v}):", f"    {v}[q] = ({init_value}) * ({time})",
                     f"T{v} = np.empty(m{v})", f"for q in range(m{v}):", f"    T{v}[q] = {time}"]
            out = [f"{out_name} = {v}[m{v} - 1] / T{v}[0]"]
            ddt = [f"for q in range(m{v} - 1, 0, -1):", f"    T{v}[q] = T{v}[q - 1]",
                   f"T{v}[0] = {_times(time, integer)}",
                   "prev = 0.0", f"for q in range(m{v}):", f"    outflow = {v}[q] / T{v}[q]",
                   f"    inflow = ({inp}) if q == 0 else prev", f"    d{v}[q] = (inflow - outflow) * m{v}",
                   "    prev = outflow"]
        else:
            time = a["delay_time"]
            init += [f"for q in range(m{v}):", f"    {v}[q] = ({init_value}) * ({time})"]
            out = [f"{out_name} = {v}[m{v} - 1] / ({time})"]
            ddt = ["prev = 0.0", f"for q in range(m{v}):", f"    outflow = {v}[q] / ({time})",
                   f"    inflow = ({inp}) if q == 0 else prev", f"    d{v}[q] = (inflow - outflow) * m{v}",
                   "    prev = outflow"]
        update = [f"for q in range(m{v}):", f"    {v}[q] = {v}[q] + d{v}[q] * dt"]
        return StatefulCode(init, out, ddt, update, state=[(v, True)], derivative=[f"d{v}"],
                            check=[(f"{v}[m{v} - 1]", False, f"w{v}")])
    if kind == "delay_fixed":
        init = [f"n{v} = int(round(max(({a['delay_time']}) / dt, 1.0) + 1e-6))", f"P{v} = np.empty(n{v})",
                f"for q in range(n{v}):", f"    P{v}[q] = {a['initial']}", f"p{v} = 0", f"{v} = P{v}[0]"]
        update = [f"P{v}[p{v}] = in{v}", f"p{v} = (p{v} + 1) % n{v}", f"{v} = P{v}[p{v}]"]
        return StatefulCode(init, [f"{out_name} = {v}"], [f"in{v} = {a['input']}"], update, continuous=False,
                            check=[(v, False, f"w{v}")])
    if kind == "trend":
        inp, avg, init = a["input"], a["average_time"], a["initial_trend"]
        return StatefulCode([f"{v} = ({inp}) / (1 + ({init}) * ({avg}))"],
                            [f"{out_name} = zidz(({inp}) - {v}, ({avg}) * abs({v}))"],
                            [f"d{v} = (({inp}) - {v}) / ({avg})"], [f"{v} = {v} + d{v} * dt"],
                            state=[(v, False)], derivative=[f"d{v}"], check=[(v, False, f"w{v}")])
    if kind == "forecast":
        inp, avg, hor, init = a["input"], a["average_time"], a["horizon"], a["initial_trend"]
        return StatefulCode([f"{v} = ({inp}) / (1 + ({init}))"],
                            [f"{out_name} = ({inp}) * (1 + zidz(({inp}) - {v}, ({avg}) * {v}) * ({hor}))"],
                            [f"d{v} = (({inp}) - {v}) / ({avg})"], [f"{v} = {v} + d{v} * dt"],
                            state=[(v, False)], derivative=[f"d{v}"], check=[(v, False, f"w{v}")])
    if kind == "sample_if_true":
        cond, inp = a["condition"], a["input"]
        return StatefulCode([f"{v} = {a['initial']}"], [f"{out_name} = ({inp}) if ({cond}) else {v}"],
                            [f"n{v} = ({inp}) if ({cond}) else {v}"], [f"{v} = n{v}"], continuous=False)
    raise UnsupportedConstruct(f"{kind.upper()} is not supported by the batch engine")


def _first_truncated(indent: str, q: str, integer) -> list[str]:
    """PySD's first Euler step of a smooth whose state is still an integer array: its input truncated."""
    if integer is None:
        return []
    flag, site = integer
    return [f"{indent}if {q} == 0 and k == 0 and {flag} != 0:", f"{indent}    target = int_cast(target, E, {site})"]


def _times(time: str, integer) -> str:
    """A DELAY N's new delay time, as PySD writes it into its array of delay times."""
    if integer is None:
        return time
    flag, site = integer
    return f"(int_cast({time}, E, {site}) if {flag} != 0 else ({time}))"


def group_code(g: str, kind: str, node, K: int, a: dict, method: str, refuse, varying: dict,
               integer=None) -> StatefulCode:
    """One construct over the K cells of an array, as loops. `a` maps argument names to loop-body
    templates in p; the output goes to O{g}[p]; `varying` says which arguments differ between cells."""
    S, D, O, W = f"S{g}", f"dS{g}", f"O{g}", f"W{g}"  # noqa: E741 - the kernel's names
    loop = "for p in range(" + str(K) + "):"
    alloc = [f"{O} = np.empty({K})"]
    check = [(S, True, W)]
    if kind in ("integ", "trend", "forecast", "initial", "sample_if_true", "delay_fixed"):
        alloc += [f"{S} = np.empty({K})"]
    if kind in ("integ", "trend", "forecast"):
        alloc += [f"{D} = np.empty({K})", f"{W} = np.empty({K})"]
        save = [f"{W}[:] = {S}"]
    if kind == "integ":
        update = f"    {S}[p] = {S}[p] + {D}[p] * dt"
        if getattr(node, "non_negative", False):
            if method == "rk4":
                refuse("a non-negative stock with RK4 integration")
            update = f"    {S}[p] = max({S}[p] + {D}[p] * dt, 0.0)"
        return StatefulCode([loop, f"    {S}[p] = {a['initial']}"], [loop, f"    {O}[p] = {S}[p]"],
                            [loop, f"    {D}[p] = {a['flow']}"], [loop, update], state=[(S, True)],
                            derivative=[D], alloc_lines=alloc, check=check, save_lines=save)
    if kind == "initial":
        return StatefulCode([loop, f"    {S}[p] = {a['initial']}"], [loop, f"    {O}[p] = {S}[p]"], [], [],
                            continuous=False, alloc_lines=alloc)
    if kind == "trend":
        inp, avg, init = a["input"], a["average_time"], a["initial_trend"]
        return StatefulCode([loop, f"    {S}[p] = ({inp}) / (1 + ({init}) * ({avg}))"],
                            [loop, f"    {O}[p] = zidz(({inp}) - {S}[p], ({avg}) * abs({S}[p]))"],
                            [loop, f"    {D}[p] = (({inp}) - {S}[p]) / ({avg})"],
                            [loop, f"    {S}[p] = {S}[p] + {D}[p] * dt"], state=[(S, True)], derivative=[D],
                            alloc_lines=alloc, check=check, save_lines=save)
    if kind == "forecast":
        inp, avg, hor, init = a["input"], a["average_time"], a["horizon"], a["initial_trend"]
        return StatefulCode([loop, f"    {S}[p] = ({inp}) / (1 + ({init}))"],
                            [loop, f"    {O}[p] = ({inp}) * (1 + zidz(({inp}) - {S}[p], ({avg}) * {S}[p])"
                                   f" * ({hor}))"],
                            [loop, f"    {D}[p] = (({inp}) - {S}[p]) / ({avg})"],
                            [loop, f"    {S}[p] = {S}[p] + {D}[p] * dt"], state=[(S, True)], derivative=[D],
                            alloc_lines=alloc, check=check, save_lines=save)
    if kind == "sample_if_true":
        cond, inp = a["condition"], a["input"]
        N = f"N{g}"
        return StatefulCode([loop, f"    {S}[p] = {a['initial']}"],
                            [loop, f"    {O}[p] = ({inp}) if ({cond}) else {S}[p]"],
                            [loop, f"    {N}[p] = ({inp}) if ({cond}) else {S}[p]"], [f"{S}[:] = {N}"],
                            continuous=False, alloc_lines=alloc + [f"{N} = np.empty({K})"])
    if kind == "delay_fixed":
        if varying.get("delay_time"):
            refuse("DELAY FIXED with a different delay time for each subscript element (PySD cannot run it)")
        P, ptr, n, IN = f"P{g}", f"p{g}", f"n{g}", f"IN{g}"
        init = [f"{n} = int(round(max(({a['delay_time']}) / dt, 1.0) + 1e-6))", f"{P} = np.empty(({K}, {n}))", loop,
                f"    for q in range({n}):", f"        {P}[p, q] = {a['initial']}", f"    {S}[p] = {P}[p, 0]",
                f"{ptr} = 0"]
        update = [loop, f"    {P}[p, {ptr}] = {IN}[p]", f"{ptr} = ({ptr} + 1) % {n}",
                  loop, f"    {S}[p] = {P}[p, {ptr}]"]
        return StatefulCode(init, [loop, f"    {O}[p] = {S}[p]"], [loop, f"    {IN}[p] = {a['input']}"], update,
                            continuous=False, alloc_lines=alloc + [f"{IN} = np.empty({K})"])
    if kind in ("smooth", "delay"):
        if varying.get("order"):
            refuse(f"{kind.upper()} with a different order for each subscript element (PySD cannot run it)")
        m = f"m{g}"
        init = [f"{m} = int({a['order']})"]
        inp, init_value = a["input"], a["initial"]
        if kind == "delay":
            time = a["delay_time"]
            init += ["shortest = np.inf", loop, f"    x = {time}",
                     "    shortest = x if (x < shortest or x != x) else shortest",
                     f"while {m} > 1 and {m} * dt > shortest:", f"    {m} -= 1"]
        init += [f"{S} = np.empty(({K}, {m}))", f"{D} = np.empty(({K}, {m}))", f"{W} = np.empty({K})"]
        save = [loop, f"    {W}[p] = {S}[p, {m} - 1]"]
        check = [(f"{S}[:, {m} - 1]", True, W)]
        if kind == "smooth":
            time = a["smooth_time"]
            init += [loop, f"    for q in range({m}):", f"        {S}[p, q] = {init_value}"]
            out = [loop, f"    {O}[p] = {S}[p, {m} - 1]"]
            ddt = [loop, f"    for q in range({m}):", f"        target = ({inp}) if q == 0 else {S}[p, q - 1]",
                   *_first_truncated("        ", "q", integer),
                   f"        {D}[p, q] = ((target - {S}[p, q]) * {m}) / ({time})"]
        elif isinstance(node, ax.DelayNStructure):
            if method == "rk4":
                refuse("DELAY N with RK4 integration (PySD shifts its delay times once per step)")
            T = f"T{g}"
            init += [f"{T} = np.empty(({K}, {m}))", loop, f"    for q in range({m}):",
                     f"        {S}[p, q] = ({init_value}) * ({time})", f"        {T}[p, q] = {time}"]
            out = [loop, f"    {O}[p] = {S}[p, {m} - 1] / {T}[p, 0]"]
            ddt = [loop, f"    for q in range({m} - 1, 0, -1):", f"        {T}[p, q] = {T}[p, q - 1]",
                   f"    {T}[p, 0] = {_times(time, integer)}", "    prev = 0.0", f"    for q in range({m}):",
                   f"        outflow = {S}[p, q] / {T}[p, q]", f"        inflow = ({inp}) if q == 0 else prev",
                   f"        {D}[p, q] = (inflow - outflow) * {m}", "        prev = outflow"]
        else:
            init += [loop, f"    for q in range({m}):", f"        {S}[p, q] = ({init_value}) * ({time})"]
            out = [loop, f"    {O}[p] = {S}[p, {m} - 1] / ({time})"]
            ddt = [loop, "    prev = 0.0", f"    for q in range({m}):", f"        outflow = {S}[p, q] / ({time})",
                   f"        inflow = ({inp}) if q == 0 else prev", f"        {D}[p, q] = (inflow - outflow) * {m}",
                   "        prev = outflow"]
        update = [loop, f"    for q in range({m}):", f"        {S}[p, q] = {S}[p, q] + {D}[p, q] * dt"]
        return StatefulCode(init, out, ddt, update, state=[(S, True)], derivative=[D],
                            alloc_lines=[f"{O} = np.empty({K})"], check=check, save_lines=save)
    raise UnsupportedConstruct(f"{kind.upper()} is not supported by the batch engine")
