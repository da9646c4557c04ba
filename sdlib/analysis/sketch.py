"""Read the sketch of a `.mdl`: views, where each variable is drawn, arrows with the polarity a
modeller drew on them, and loop markers (R/B). PySD ignores all of this; it is the drawing, not
the model, so reading it is not a second parse of the equations.

Vensim's sketch format, per view: `*Name`, then one object per line — `10,id,name,x,y,w,h,shape,
bits,...` (variables; shape 3 a stock box, bits 2 a shadow), `11,id,...,x,y,...` (valves),
`12,id,...,x,y,...` (clouds and comments; a comment's text is on the next line), and
`1,id,from,to,shape,hidden,polarity,...|(x,y)|` (arrows; polarity 43 '+', 45 '-').
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.spec import name_key

SKETCH_MARK = "\\\\\\---/// Sketch information"
POLARITY_CODES = {43: "+", 45: "-", 83: "+", 79: "-"}  # '+', '-', and Vensim's S/O conventions
LOOP_WORDS = {"R": "reinforcing", "B": "balancing", "+": "reinforcing", "-": "balancing"}


@dataclass
class SketchObject:
    id: int
    kind: str  # variable | valve | cloud | comment
    x: float
    y: float
    name: str = ""
    width: float = 0
    height: float = 0
    shape: int = 0
    shadow: bool = False
    text: str = ""


@dataclass
class Arrow:
    id: int
    source: int
    target: int
    polarity: str | None  # "+", "-" or None when not drawn
    flow: bool  # a pipe of a flow rather than an information arrow
    via: tuple[float, float] | None = None


@dataclass
class View:
    name: str
    objects: dict = field(default_factory=dict)  # id -> SketchObject
    arrows: list = field(default_factory=list)

    def position(self, variable: str) -> tuple[float, float] | None:
        """Where a variable is drawn in this view (not as a shadow when it is drawn in full)."""
        key = name_key(variable)
        found = [o for o in self.objects.values() if o.kind == "variable" and name_key(o.name) == key]
        found.sort(key=lambda o: o.shadow)
        return (found[0].x, found[0].y) if found else None

    def name_of(self, object_id: int) -> str | None:
        obj = self.objects.get(object_id)
        if obj is None:
            return None
        if obj.kind == "valve":  # a valve stands for the flow drawn next to it (the next object)
            flow = self.objects.get(object_id + 1)
            return flow.name if flow and flow.kind == "variable" else None
        return obj.name if obj.kind == "variable" else None


def read_sketch(path: str | Path) -> list[View]:
    """Every view of a `.mdl` sketch."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    if SKETCH_MARK not in text:
        return []
    sketch = text.split(SKETCH_MARK, 1)[1].split("///---\\\\\\")[0]
    views: list[View] = []
    lines = sketch.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("*") and not line.startswith("**"):
            views.append(View(line[1:].strip()))
        elif views and line[:3] in ("10,", "11,", "12,") or (views and line.startswith("1,")):
            fields = line.split(",")
            try:
                code = int(fields[0])
                if code == 1:
                    views[-1].arrows.append(_arrow(line, fields))
                elif code in (10, 11, 12):
                    obj = _object(code, fields)
                    if code == 12 and fields[2].strip() == "0" and i + 1 < len(lines):
                        obj.kind, obj.text = "comment", lines[i + 1].strip()
                        i += 1
                    views[-1].objects[obj.id] = obj
            except (ValueError, IndexError):
                pass  # a line this reader does not need
        i += 1
    return views


def _object(code: int, f: list[str]) -> SketchObject:
    kind = {10: "variable", 11: "valve", 12: "cloud"}[code]
    obj = SketchObject(id=int(f[1]), kind=kind, x=float(f[3]), y=float(f[4]), width=float(f[5]), height=float(f[6]))
    if code == 10:
        obj.name = f[2].strip()
        obj.shape = int(f[7])
        obj.shadow = len(f) > 8 and (int(f[8]) % 2 == 0)  # an even "arrows in allowed" flag: a shadow
    elif code == 12:
        obj.shape = int(f[7]) if len(f) > 7 else 0
    return obj


def _arrow(line: str, f: list[str]) -> Arrow:
    polarity = POLARITY_CODES.get(int(f[6])) if len(f) > 6 and f[6].strip().isdigit() else None
    via = None
    if "|(" in line:
        try:
            x, y = line.split("|(")[1].split(")|")[0].split(",")
            via = (float(x), float(y))
        except ValueError:
            via = None
    return Arrow(id=int(f[1]), source=int(f[2]), target=int(f[3]), polarity=polarity,
                 flow=f[4].strip() in ("4", "100"), via=via)


def drawn_link_polarities(views: list[View]) -> dict[tuple[str, str], str]:
    """(source name, target name) -> the polarity a modeller drew on that arrow."""
    found = {}
    for view in views:
        for arrow in view.arrows:
            if arrow.polarity is None or arrow.flow:
                continue
            source, target = view.name_of(arrow.source), view.name_of(arrow.target)
            if source and target:
                found[(source, target)] = arrow.polarity
    return found


def loop_markers(views: list[View]) -> list[tuple[str, str, float, float]]:
    """(view name, polarity word, x, y) of every loop marker (a comment reading R, B, + or -)."""
    found = []
    for view in views:
        for obj in view.objects.values():
            word = obj.text.strip().upper()[:1] if obj.kind == "comment" and obj.text else ""
            if word in LOOP_WORDS and len(obj.text.strip()) <= 3:
                found.append((view.name, LOOP_WORDS[word], obj.x, obj.y))
    return found


def point_in_polygon(x: float, y: float, polygon: list[tuple[float, float]]) -> bool:
    inside = False
    for i in range(len(polygon)):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % len(polygon)]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def polygon_area(polygon: list[tuple[float, float]]) -> float:
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=False))) / 2


def compare_with_sketch(graph, loops, views: list[View]) -> dict:
    """Where the drawing and the equations disagree: link polarities and loop markers."""
    links = []
    for (source, target), drawn in drawn_link_polarities(views).items():
        if graph.has_edge(source, target):
            computed = graph.edges[source, target]["polarity"]
            links.append({"source": source, "target": target, "drawn": drawn, "computed": computed,
                          "agree": computed == drawn if computed not in ("?", "0") else None})
    markers = []
    for view_name, drawn, x, y in loop_markers(views):
        view = next(v for v in views if v.name == view_name)
        best = None
        for loop in loops:
            points = [view.position(v) for v in loop.variables]
            if any(p is None for p in points) or len(points) < 2:
                continue
            polygon = points if len(points) > 2 else _lens(points)
            if point_in_polygon(x, y, polygon):
                area = polygon_area(polygon)
                if best is None or area < best[0]:
                    best = (area, loop)
        entry = {"view": view_name, "x": x, "y": y, "drawn": drawn}
        if best:
            loop = best[1]
            entry.update({"loop": loop.id, "computed": loop.polarity,
                          "agree": loop.polarity == drawn if loop.polarity in ("reinforcing", "balancing") else None})
        markers.append(entry)
    return {"links": links, "loop_markers": markers,
            "disagreements": [d for d in links + markers if d.get("agree") is False]}


def _lens(points):
    """A two-variable loop drawn as two arrows: a thin diamond between the two positions."""
    (x1, y1), (x2, y2) = points
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    dx, dy = (y2 - y1) * 0.5, (x1 - x2) * 0.5
    return [(x1, y1), (mx + dx, my + dy), (x2, y2), (mx - dx, my - dy)]
