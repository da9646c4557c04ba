"""Pictures of feedback: a causal loop diagram, a stock-and-flow diagram from the sketch, and loop
dominance over time.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib
import networkx as nx
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

POLARITY_COLOURS = {"+": "#1f6fb2", "-": "#c0392b", "?": "#888888", "0": "#bbbbbb"}
LOOP_COLOURS = {"reinforcing": "#1f6fb2", "balancing": "#c0392b", "undetermined": "#888888", "inactive": "#bbbbbb"}


def _label(name: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(name, width)) or name


def causal_loop_diagram(graph: nx.DiGraph, loops, title: str, names: dict | None = None):
    """One or a few loops on a circle-like layout, links coloured and signed by polarity, each
    loop marked R or B at its centre."""
    nodes = []
    for loop in loops:
        nodes += [v for v in loop.variables if v not in nodes]
    sub = nx.DiGraph()
    for loop in loops:
        for a, b in loop.links:
            sub.add_edge(a, b, polarity=graph.edges[a, b]["polarity"])
    if len(loops) == 1:
        k = len(nodes)
        pos = {v: (math.cos(math.pi / 2 - 2 * math.pi * i / k), math.sin(math.pi / 2 - 2 * math.pi * i / k))
               for i, v in enumerate(loops[0].variables)}
    else:
        pos = nx.kamada_kawai_layout(sub)
    size = 3 + 0.45 * len(nodes)
    fig = Figure(figsize=(min(size + 2, 14), min(size, 11)))
    ax = fig.subplots()
    rad = 0.45 if len(nodes) == 2 else 0.18  # two links bend apart, leaving the middle to the loop's label
    for a, b, data in sub.edges(data=True):
        colour = POLARITY_COLOURS[data["polarity"]]
        arrow = FancyArrowPatch(pos[a], pos[b], connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                mutation_scale=16, lw=1.8, color=colour, shrinkA=28, shrinkB=28)
        ax.add_patch(arrow)
        # The sign sits just outside the arc's middle (the arc bends towards (-dy, dx) by rad / 2).
        mx, my = (pos[a][0] + pos[b][0]) / 2, (pos[a][1] + pos[b][1]) / 2
        dx, dy = pos[b][0] - pos[a][0], pos[b][1] - pos[a][1]
        out = rad / 2 + 0.04
        ax.text(mx - out * dy, my + out * dx, data["polarity"], color=colour, fontsize=13, ha="center",
                va="center", fontweight="bold")
    for v in nodes:
        kind = graph.nodes[v]["type"]
        box = "round,pad=0.3" if kind != "stock" else "square,pad=0.4"
        ax.text(*pos[v], _label(v), ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle=box, fc="#fdf6e3" if kind == "stock" else "white", ec="#333333"))
    for loop in loops:
        cx = np.mean([pos[v][0] for v in loop.variables])
        cy = np.mean([pos[v][1] for v in loop.variables])
        letter = {"reinforcing": "R", "balancing": "B"}.get(loop.polarity, "?")
        label = (names or {}).get(loop.id, loop.id)
        ax.text(cx, cy, f"{letter}\n{label}", ha="center", va="center", fontsize=11, fontweight="bold",
                color=LOOP_COLOURS[loop.polarity])
    ax.set_title(title, fontsize=12)
    ax.set_aspect("equal")
    ax.axis("off")
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.45, max(xs) + 0.45)
    ax.set_ylim(min(ys) - 0.35, max(ys) + 0.35)
    fig.tight_layout()
    return fig


def stock_and_flow_diagram(view, graph: nx.DiGraph | None = None):
    """A view of the `.mdl` sketch as drawn: stocks as boxes, valves on their pipes, clouds,
    information arrows (coloured by the polarity the equations give, when a graph is given)."""
    objects = view.objects
    xs = [o.x for o in objects.values()] or [0]
    ys = [o.y for o in objects.values()] or [0]
    width, height = max(xs) - min(xs) + 200, max(ys) - min(ys) + 120
    scale = min(22 / max(width, 1), 13 / max(height, 1)) * 1.0
    fig = Figure(figsize=(max(6, width * scale), max(4, height * scale)))
    ax = fig.subplots()
    for arrow in view.arrows:
        a, b = objects.get(arrow.source), objects.get(arrow.target)
        if a is None or b is None:
            continue
        if arrow.flow:
            ax.plot([a.x, b.x], [-a.y, -b.y], color="#555555", lw=4, solid_capstyle="butt", zorder=1)
            continue
        colour = "#8aa9c9"
        if graph is not None:
            source, target = view.name_of(arrow.source), view.name_of(arrow.target)
            if source and target and graph.has_edge(source, target):
                colour = POLARITY_COLOURS[graph.edges[source, target]["polarity"]]
        ax.add_patch(FancyArrowPatch((a.x, -a.y), (b.x, -b.y), arrowstyle="-|>", mutation_scale=9, lw=0.8,
                                     color=colour, alpha=0.8, connectionstyle="arc3,rad=0.1", shrinkA=8,
                                     shrinkB=10, zorder=2))
    for obj in objects.values():
        if obj.kind == "variable":
            if obj.shape == 3 and not obj.shadow:  # a stock: its box fits its name
                ax.text(obj.x, -obj.y, _label(obj.name, 14), ha="center", va="center", fontsize=7, zorder=4,
                        bbox=dict(boxstyle="square,pad=0.6", fc="#fdf6e3", ec="#333333", lw=1.5))
            else:
                ax.text(obj.x, -obj.y, _label(obj.name, 18), ha="center", va="center", fontsize=6.5,
                        color="#888888" if obj.shadow else "#111111", zorder=4,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
        elif obj.kind == "valve":
            ax.plot(obj.x, -obj.y, marker="v", ms=9, color="#333333", zorder=4)
        elif obj.kind == "cloud":
            ax.plot(obj.x, -obj.y, marker="o", ms=11, color="#d9d9d9", zorder=3)
    ax.set_xlim(min(xs) - 100, max(xs) + 100)
    ax.set_ylim(-max(ys) - 60, -min(ys) + 60)
    ax.set_title(f"Stock-and-flow view: {view.name}", fontsize=12)
    ax.axis("off")
    fig.tight_layout()
    return fig


def dominance_figure(data, names: dict | None = None, title: str = "Loop dominance", top: int = 8) -> Figure:
    """Relative loop scores over time (a loops Dataset from `sdlib.loops(..., dominance=True)`):
    balancing loops below zero, reinforcing above."""
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.08, right=0.62, top=0.9, bottom=0.12)
    cmap = matplotlib.colormaps["tab10"]
    time = data["time"].to_numpy()
    for i, loop_id in enumerate(data["loop"].to_numpy()[:top]):
        loop_id = str(loop_id)
        label = (names or {}).get(loop_id, loop_id)
        variables = str(data["variables"].sel(loop=loop_id).item()).split(" -> ")
        short = " -> ".join(variables[:3]) + (" -> ..." if len(variables) > 3 else "")
        polarity = str(data["polarity"].sel(loop=loop_id).item())
        ax.plot(time, data["score"].sel(loop=loop_id).to_numpy(), lw=2, color=cmap(i % 10),
                label=f"{label} ({polarity[0].upper()}): {short}")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("Year" if time[-1] > 1000 else "time")
    ax.set_ylabel("relative loop score (balancing < 0)")
    ax.set_title(title, fontsize=12)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def family_dominance_figure(data, title: str = "Loop dominance by family", top: int = 9) -> Figure:
    """Which families of loops drive the behaviour when: above, each family's share of all loop
    activity (summed |relative loop score|, stacked to 1); below, its net signed score
    (reinforcing > 0, balancing < 0). Families beyond the `top` largest are pooled as "the rest"."""
    time = data["time"].to_numpy()
    shares = {str(f): data["family_share"].sel(family_name=f).to_numpy() for f in data["family_name"].to_numpy()}
    net = {str(f): data["family_score"].sel(family_name=f).to_numpy() for f in data["family_name"].to_numpy()}
    ranked = sorted(shares, key=lambda name: -float(np.mean(shares[name])))
    shown = [n for n in ranked if n != "other loops"][:top]
    rest = sum((shares[n] for n in ranked if n not in shown), np.zeros_like(time))
    colours = {name: matplotlib.colormaps["tab10"](i % 10) for i, name in enumerate(shown)}
    fig = Figure(figsize=(11, 7.5))
    top_ax, net_ax = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    fig.subplots_adjust(left=0.08, right=0.7, top=0.93, bottom=0.08, hspace=0.08)
    top_ax.stackplot(time, *[shares[n] for n in shown], rest, colors=[colours[n] for n in shown] + ["#dddddd"],
                     labels=shown + ["the rest"])
    top_ax.set_ylim(0, 1)
    top_ax.set_ylabel("share of loop activity")
    top_ax.set_title(title, fontsize=12)
    top_ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    for name in shown:
        net_ax.plot(time, net[name], lw=1.6, color=colours[name])
    net_ax.axhline(0, color="black", lw=0.8)
    net_ax.set_ylim(-1.05, 1.05)
    net_ax.set_ylabel("net score (balancing < 0)")
    net_ax.set_xlabel("Year" if time[-1] > 1000 else "time")
    for ax in (top_ax, net_ax):
        ax.grid(True, alpha=0.3)
    return fig
