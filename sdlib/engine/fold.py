"""Fold the expressions of many cells into one loop body over the cells.

The translator writes one expression per cell. The cells of one component (an equation over
subscript ranges) give the same expression up to which cells they read, which table they look up
and a few numbers (a subscript's position, a random stream's site): `fold` finds those varying
places and writes one template for a loop `for p in range(K)`, with the varying places read from
per-component tables indexed by p. Expressions that differ in anything else are not folded (the
caller then writes one statement per cell).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOKEN = re.compile(
    r"(?P<num>(?<![\w.)\]])-?\d+\.\d*(?:[eE][-+]?\d+)?|(?<![\w.)\]])-?\d+[eE][-+]?\d+)"
    r"|(?P<int>(?<![\w.)\]])-?\d+)"
    r"|(?P<ident>[A-Za-z_]\w*)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)"
)
VARYING_IDENT = re.compile(r"^(c|o|LX|LY)(\d+)$")


def tokens(text: str) -> list:
    return [m for m in TOKEN.finditer(text) if m.lastgroup != "space"]


@dataclass
class Column:
    kind: str  # "c" cell, "o" stateful output, "LX"/"LY" table, "int", "num"
    values: list  # one per cell: ids (c, o, LX, LY), or the literal's value


@dataclass
class Folded:
    """A template (PLACE.format(j) marks varying place j) and what each place holds in each cell."""

    template: str
    columns: list = field(default_factory=list)

    def render(self, place) -> str:
        """The loop body, with place(j, column) written at each varying place."""
        return re.sub(r"\x00(\d+)\x00", lambda m: place(int(m.group(1)), self.columns[int(m.group(1))]),
                      self.template)


def fold(texts: list[str]) -> Folded | None:
    """One template for all texts, or None if they differ in anything but references and numbers."""
    sequences = [tokens(t) for t in texts]
    first = sequences[0]
    if any(len(s) != len(first) for s in sequences):
        return None
    pieces: list[str] = []
    columns: list[Column] = []
    end = 0
    text = texts[0]
    for i, match in enumerate(first):
        kind, value = match.lastgroup, match.group()
        values = [s[i].group() for s in sequences]
        if any(s[i].lastgroup != kind for s in sequences):
            return None
        if all(v == value for v in values):
            continue
        if kind == "ident":
            matches = [VARYING_IDENT.match(v) for v in values]
            if not all(matches) or len({m.group(1) for m in matches}) != 1:
                return None
            column = Column(matches[0].group(1), [int(m.group(2)) for m in matches])
        elif kind == "int":
            column = Column("int", [int(v) for v in values])
        elif kind == "num":
            column = Column("num", [float(v) for v in values])
        else:
            return None
        pieces.append(text[end:match.start()])
        pieces.append(f"\x00{len(columns)}\x00")
        end = match.end()
        columns.append(column)
    pieces.append(text[end:])
    return Folded("".join(pieces), columns)
