"""Lay out the `.mdl` sketch: one Vensim view per sector, drawn from the model's own structure.

The equations are the model; the sketch is a drawing of them. Keeping ~150 hand-placed
objects in step with the equations is error-prone, so this developer tool rewrites the
sketch section from what PySD parsed: one view per sector (the `.mdl` groups), stocks in a
row with their flows (valves, pipes, clouds), auxiliaries above in layers ordered by their
neighbours, parameters on top, and the variables a sector borrows from other sectors as grey
shadow variables at the bottom. Information arrows follow the causal dependencies.

    python -m sdlib.tools.sketch_layout models/tokenworld.mdl

Only the part after the sketch marker is rewritten; the equations are left untouched.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
from pysd.translators.structures import abstract_expressions as ax

from ..core.spec import CONTROL_NAMES, ModelSpec, load_spec, name_key

SKETCH_MARK = "\\\\\\---/// Sketch information"
VIEW_HEADER = "$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0"
CHAR_W = 7.0  # px per character at 12 pt, with a margin


@dataclass
class Node:
    name: str
    kind: str
    x: float = 0.0
    y: float = 0.0
    id: int = 0
    shadow: bool = False

    @property
    def width(self) -> float:
        return max(30.0, len(self.name) * CHAR_W / 2 + 6)


def sectors(mdl: Path, spec: ModelSpec) -> dict[str, list[str]]:
    """Group name -> element keys, in file order, from the `.mdl`'s group headers."""
    text = mdl.read_text(encoding="utf-8").split(SKETCH_MARK)[0]
    marks = [(m.start(), m.group(1).strip()) for m in re.finditer(r"^\*{10,}\s*\n\s*\.([^\n]+)\n", text, re.M)]
    found: dict[str, list[str]] = {name: [] for _, name in marks}
    for key, el in spec.elements.items():
        if key in CONTROL_NAMES:
            continue
        m = re.search(r"^" + re.escape(el.name) + r"\s*=", text, re.M | re.I)
        if not m:
            continue
        group = [name for pos, name in marks if pos < m.start()]
        if group:
            found[group[-1]].append(key)
    return {k: v for k, v in found.items() if v}


def _flow_direction(stock_ast, flow_key: str) -> int:
    """+1 if the flow fills the stock, -1 if it drains it."""
    def walk(node, sign):
        if isinstance(node, ax.ReferenceStructure):
            return sign if name_key(node.reference) == flow_key else 0
        if isinstance(node, ax.ArithmeticStructure):
            if node.operators == ["negative"]:
                return walk(node.arguments[0], -sign)
            result = walk(node.arguments[0], sign)
            for op, arg in zip(node.operators, node.arguments[1:], strict=False):
                result = result or walk(arg, -sign if op == "-" else sign)
            return result
        return 0
    return walk(stock_ast.flow, 1)


def layout_view(spec: ModelSpec, members: list[str]) -> tuple[list[str], int]:
    """Sketch lines of one view. Returns the lines and the number of objects."""
    els = spec.elements
    member_set = set(members)
    stocks = [k for k in members if els[k].kind == "stock"]
    nodes: dict[str, Node] = {}
    lines: list[str] = []
    next_id = 1

    def add(key, kind, x, y, shadow=False):
        nonlocal next_id
        node = Node(els[key].name if key in els else key, kind, x, y, next_id, shadow)
        nodes[key] = node
        next_id += 1
        return node

    # Stocks in a row, their flows as valves beside them.
    band_y = 420
    flow_keys: dict[str, tuple[str | None, str | None]] = {}  # flow -> (from stock, to stock)
    for stock in stocks:
        for flow in spec.flows_of(els[stock].name):
            src, dst = flow_keys.get(flow, (None, None))
            if _flow_direction(els[stock].ast, flow) > 0:
                dst = stock
            else:
                src = stock
            flow_keys[flow] = (src, dst)
    # Stocks linked by a flow sit side by side, upstream first (e.g. under construction, then installed).
    chain = nx.DiGraph()
    chain.add_nodes_from(stocks)
    chain.add_edges_from((src, dst) for src, dst in flow_keys.values() if src in stocks and dst in stocks)
    ordered = list(nx.lexicographical_topological_sort(chain, key=stocks.index)) if nx.is_directed_acyclic_graph(chain) else stocks
    x = 260
    for stock in ordered:
        add(stock, "stock", x, band_y)
        x += 480
    valves = {}
    clouds = []
    offsets: dict[str, int] = {}
    for flow, (src, dst) in flow_keys.items():
        if src and dst and src in nodes and dst in nodes:
            vx, vy = (nodes[src].x + nodes[dst].x) / 2, band_y
        elif dst in nodes:  # from a cloud: left of the stock, further ones below
            n = offsets.get(dst + "in", 0)
            offsets[dst + "in"] = n + 1
            vx, vy = nodes[dst].x - 150 + 40 * n, band_y + 110 * n
        elif src in nodes:  # to a cloud: right of the stock, or below when a stock sits there
            n = offsets.get(src + "out", 0) + (1 if any(a == src and b for a, b in flow_keys.values()) else 0)
            offsets[src + "out"] = n + 1
            vx, vy = nodes[src].x + 150 - 40 * n, band_y + 110 * n
        else:
            continue
        valves[flow] = (vx, vy, src, dst)
    # Everything else finds its place by a force layout around the fixed stocks and valves,
    # then snaps to rows and is pushed apart so that no two names overlap.
    others = [k for k in members if k not in nodes and k not in valves]
    borrowed = sorted({d for k in members for d in els[k].deps if d in els and d not in member_set
                       and d not in CONTROL_NAMES})
    placed: dict[str, tuple[float, float]] = {k: (n.x, n.y) for k, n in nodes.items()}
    placed.update({f: (v[0], v[1]) for f, v in valves.items()})
    _force_layout(others + borrowed, spec, placed, band_y)
    constants = [k for k in others if els[k].kind in ("constant", "lookup", "data", "initial")]
    auxes = [k for k in others if k not in constants]

    # Emit objects.
    for stock in stocks:
        n = nodes[stock]
        lines.append(f"10,{n.id},{n.name},{int(n.x)},{int(n.y)},40,20,3,3,0,0,0,0,0,0")
    for flow, (vx, vy, src, dst) in valves.items():
        ends = []
        for end, code in ((dst, 4), (src, 100)):
            if end is None:
                cx = vx + (90 if code == 4 else -90)
                cloud = next_id
                next_id += 1
                lines.append(f"12,{cloud},48,{int(cx)},{int(vy)},10,8,0,3,0,0,-1,0,0,0")
                clouds.append(cloud)
                ends.append((cloud, code, cx))
            else:
                ends.append((nodes[end].id, code, nodes[end].x))
        valve_id = next_id
        next_id += 1
        for target, code, tx in ends:
            lines.append(f"1,{next_id},{valve_id},{target},{code},0,0,22,0,0,0,-1--1--1,,1|({int((vx + tx) / 2)},{int(vy)})|")
            next_id += 1
        lines.append(f"11,{valve_id},48,{int(vx)},{int(vy)},6,8,34,3,0,0,1,0,0,0")
        node = add(flow, "flow", vx, vy + 18)
        lines.append(f"10,{node.id},{node.name},{int(vx)},{int(vy + 18)},{int(node.width)},8,40,3,0,0,-1,0,0,0")
        nodes[flow].valve = valve_id  # type: ignore[attr-defined]
    for key in constants + auxes:
        px, py = placed[key]
        node = add(key, els[key].kind, px, py)
        lines.append(f"10,{node.id},{node.name},{int(px)},{int(py)},{int(node.width)},8,8,3,0,0,0,0,0,0")
    for key in borrowed:
        px, py = placed[key]
        node = add(key, "shadow", px, py, shadow=True)
        lines.append(
            f"10,{node.id},{node.name},{int(px)},{int(py)},{int(node.width)},8,8,2,0,3,-1,0,0,0,"
            "128-128-128,0-0-0,|12||128-128-128"
        )
    # Information arrows along causal dependencies (a flow's arrows point at its valve).
    # A stock's arrows come from what sets its initial value, as Vensim draws them.
    for key in members:
        if key not in nodes:
            continue
        target = nodes[key]
        target_id = getattr(target, "valve", target.id)
        sources = els[key].initial_deps if els[key].kind == "stock" else els[key].deps
        for dep in sorted(sources):
            if dep not in nodes:
                continue
            src = nodes[dep]
            mx, my = (src.x + target.x) / 2, (src.y + target.y) / 2
            lines.append(f"1,{next_id},{src.id},{target_id},0,0,0,0,0,64,0,-1--1--1,,1|({int(mx)},{int(my)})|")
            next_id += 1
    return lines, next_id


def _users(key: str, spec: ModelSpec) -> set[str]:
    return {k for k, el in spec.elements.items() if key in el.deps}


def _force_layout(keys: list[str], spec: ModelSpec, placed: dict[str, tuple[float, float]], band_y: float) -> None:
    """Spring layout around the fixed stock band, then rows 45 px apart with names pushed apart.

    Parameters start above the band, auxiliaries just above it, borrowed variables below; the
    springs pull each name toward what it is connected to. Rows that grow too wide wrap.
    """
    if not keys:
        return
    graph = nx.Graph()
    graph.add_nodes_from(list(placed) + keys)
    for key in graph.nodes:
        if key in spec.elements:
            for dep in spec.elements[key].deps | spec.elements[key].initial_deps:
                if dep in graph:
                    graph.add_edge(key, dep)
    xs = [x for x, _ in placed.values()] or [400.0]
    left, width = min(xs) - 100, max(xs) - min(xs) + 400
    kinds = {k: spec.elements[k].kind for k in keys}
    start = dict(placed)
    groups = {
        "top": [k for k in keys if kinds[k] in ("constant", "lookup", "initial")],
        "middle": [k for k in keys if kinds[k] not in ("constant", "lookup", "initial")],
    }
    for name, members in groups.items():
        for i, key in enumerate(members):
            row, col = divmod(i, 8)
            y = band_y - (380 if name == "top" else 180) - 45 * row
            start[key] = (left + width * (col + 0.5) / 8, y)
    pos = nx.spring_layout(graph, pos=start, fixed=list(placed) or None, k=180.0, iterations=400, seed=7)
    lo_x, hi_x = left - 200, left + width + 600
    rows: dict[int, list[str]] = {}
    for key in keys:
        x, y = pos[key]
        x = min(max(x, lo_x), hi_x)
        y = min(max(y, band_y - 600), band_y + 400)
        row = int(round(y / 45.0))
        if abs(row * 45.0 - band_y) < 60:  # keep clear of the stock band and its flow names
            row = int(round((band_y - 70) / 45.0)) if y < band_y else int(round((band_y + 70) / 45.0))
        pos[key] = (x, y)
        rows.setdefault(row, []).append(key)
    taken: dict[int, float] = {}
    for row in sorted(rows, key=lambda r: abs(r * 45.0 - band_y)):
        for key in sorted(rows[row], key=lambda k: pos[k][0]):
            half = len(spec.elements[key].name) * CHAR_W / 2 + 14
            r = row
            # Wrap to the next free row outward when this one is already too wide.
            while taken.get(r, -1e9) + half > hi_x + 400:
                r += -1 if r * 45.0 < band_y else 1
            x = max(pos[key][0], taken.get(r, -1e9) + half)
            placed[key] = (x, r * 45.0)
            taken[r] = x + half


def write_sketch(mdl: Path) -> None:
    """Rewrite the sketch section of `mdl`: one view per sector."""
    mdl = Path(mdl)
    spec = load_spec(mdl)
    text = mdl.read_text(encoding="utf-8")
    head = text.split(SKETCH_MARK)[0].rstrip() + "\n\n"
    out = [SKETCH_MARK + " - do not modify anything except names", "V300  Do not put anything below this section - it will be ignored"]
    for number, (sector, members) in enumerate(sectors(mdl, spec).items(), start=1):
        lines, _ = layout_view(spec, members)
        out += [f"*{sector}", VIEW_HEADER, *lines]
        if number < len(sectors(mdl, spec)):
            out.append(SKETCH_MARK + " - do not modify anything except names")
            out.append("V300  Do not put anything below this section - it will be ignored")
    out.append("///---\\\\\\")
    mdl.write_text(head + "\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["models/tokenworld.mdl"]:
        write_sketch(Path(arg))
        print(f"rewrote the sketch of {arg}")
