"""Integer-nanometre drawing helpers shared by the cell generators and the macro assembler.

All generators draw in integer database units (1 nm, sky130 grid 5 nm) so that abutment is
exact; :func:`to_gdstk` converts a drawing into a ``gdstk.Cell`` with µm coordinates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import gdstk
import klayout.db as db

from eda.tech.sky130 import Technology

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in nm


@dataclass
class Drawing:
    """Rectangles per layer name plus labels, in nm."""

    rects: dict[str, list[Rect]] = field(default_factory=lambda: defaultdict(list))
    labels: list[tuple[str, str, int, int]] = field(default_factory=list)  # layer, text, x, y

    grid: int = 5

    def rect(self, layer: str, x0: int, y0: int, x1: int, y1: int) -> None:
        """Add a rectangle; every coordinate must be an integer on the manufacturing grid (a
        ``ValueError`` names the shape otherwise: off-grid geometry is a generator bug)."""
        for v in (x0, y0, x1, y1):
            if not isinstance(v, int) or v % self.grid:
                raise ValueError(f"{layer} rectangle ({x0}, {y0}, {x1}, {y1}) nm is off the {self.grid} nm grid")
        if x1 < x0:
            x0, x1 = x1, x0
        if y1 < y0:
            y0, y1 = y1, y0
        if x1 == x0 or y1 == y0:
            return
        self.rects[layer].append((x0, y0, x1, y1))

    def box(self, layer: str, cx: int, cy: int, w: int, h: int) -> None:
        """A ``w``×``h`` box centred at (cx, cy); w and h must be even multiples of the grid."""
        self.rect(layer, cx - w // 2, cy - h // 2, cx + w // 2, cy + h // 2)

    def label(self, layer: str, text: str, x: int, y: int) -> None:
        self.labels.append((layer, text, x, y))

    def bbox(self, layers: list[str] | None = None) -> Rect:
        xs0, ys0, xs1, ys1 = [], [], [], []
        for name, rs in self.rects.items():
            if layers is not None and name not in layers:
                continue
            for r in rs:
                xs0.append(r[0])
                ys0.append(r[1])
                xs1.append(r[2])
                ys1.append(r[3])
        if not xs0:
            return (0, 0, 0, 0)
        return (min(xs0), min(ys0), max(xs1), max(ys1))


def _merged(rs: list[Rect]) -> list[list[tuple[int, int]]]:
    """Same-layer rectangles merged into polygons (KLayout's scanline merge: n log n, where a
    polygon boolean on a whole macro's routing grows much faster), as integer-nm point lists."""
    reg = db.Region()
    for r in rs:
        reg.insert(db.Box(*r))
    reg.merge()
    out = []
    for poly in reg.each():
        simple = poly.to_simple_polygon() if poly.holes() else poly
        pts = simple.each_point() if poly.holes() else poly.each_point_hull()
        out.append([(p.x, p.y) for p in pts])
    return out


def to_gdstk(drawing: Drawing, name: str, tech: Technology) -> gdstk.Cell:
    """Convert a :class:`Drawing` to a ``gdstk.Cell`` (same-layer rectangles merged)."""
    cell = gdstk.Cell(name)
    for lname, rs in drawing.rects.items():
        lay = tech.layer(lname)
        if lname in ("licon", "mcon", "via", "via2", "via3", "prbndry"):
            # cuts stay individual squares (exact-size rules)
            cell.add(*(gdstk.rectangle((r[0] / 1000, r[1] / 1000), (r[2] / 1000, r[3] / 1000),
                                       layer=lay.layer, datatype=lay.datatype) for r in sorted(set(rs))))
            continue
        cell.add(*(gdstk.Polygon([(x / 1000, y / 1000) for x, y in pts], layer=lay.layer, datatype=lay.datatype)
                   for pts in _merged(rs)))
    for lname, text, x, y in drawing.labels:
        lay = tech.layer(lname)
        cell.add(gdstk.Label(text, (x / 1000, y / 1000), layer=lay.layer, texttype=lay.datatype))
    return cell
