"""DRC in-process with KLayout regions in hierarchical (deep) mode.

Every rule of the technology table (:mod:`eda.tech.sky130`) is checked on derived layers; the
result is data (:class:`DrcResult`: rule, count, locations) and optionally a KLayout ``.lyrdb``
marker database that the KLayout GUI opens next to the layout.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import klayout.db as db
import klayout.rdb as rdb

from eda.errors import InputError
from eda.tech.sky130 import Technology, get_technology


@dataclass
class DrcViolation:
    """All violations of one rule: count and up to ``max_locations`` marker boxes (µm)."""

    rule: str
    text: str
    count: int
    locations: list[tuple[float, float, float, float]] = field(default_factory=list)


@dataclass
class DrcResult:
    """Result of :func:`run_drc`."""

    gds: str
    top: str
    clean: bool
    violations: list[DrcViolation]
    rules_checked: list[str]
    seconds: float

    @property
    def count(self) -> int:
        return sum(v.count for v in self.violations)

    def as_dict(self) -> dict:
        return {"gds": self.gds, "top": self.top, "clean": self.clean, "count": self.count,
                "seconds": round(self.seconds, 3), "rules_checked": self.rules_checked,
                "violations": [v.__dict__ for v in self.violations]}

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.as_dict(), indent=2))
        return path


def _load(gds: str | Path | db.Layout, top: str | None) -> tuple[db.Layout, db.Cell, str]:
    if isinstance(gds, db.Layout):
        ly = gds
        name = "<layout>"
    else:
        p = Path(gds)
        if not p.is_file():
            raise InputError("GDS file not found", file=p)
        ly = db.Layout()
        try:
            ly.read(str(p))
        except RuntimeError as e:
            raise InputError(f"cannot read layout: {e}", file=p) from None
        name = str(p)
    if top is not None:
        cell = ly.cell(top)
        if cell is None:
            raise InputError(f"no cell named {top!r}", file=name)
    else:
        tops = ly.top_cells()
        if len(tops) != 1:
            raise InputError(f"layout has {len(tops)} top cells ({', '.join(c.name for c in tops)}); "
                             "pass --top", file=name)
        cell = tops[0]
    return ly, cell, name


class LayerSet:
    """Deep-mode regions of a layout's technology layers plus derived layers (lazy, cached)."""

    def __init__(self, ly: db.Layout, top: db.Cell, tech: Technology, dss: db.DeepShapeStore):
        self.ly, self.top, self.tech, self.dss = ly, top, tech, dss
        self._cache: dict[str, db.Region] = {}

    def raw(self, name: str) -> db.Region:
        if name not in self._cache:
            lay = self.tech.layer(name)
            idx = self.ly.find_layer(lay.layer, lay.datatype)
            if idx is None:
                self._cache[name] = db.Region(self.ly.begin_shapes(self.top, self.ly.layer()), self.dss)
            else:
                self._cache[name] = db.Region(self.ly.begin_shapes(self.top, idx), self.dss)
        return self._cache[name]

    def __getitem__(self, name: str) -> db.Region:
        if name in self._cache:
            return self._cache[name]
        r = self._derive(name)
        self._cache[name] = r
        return r

    def plate(self) -> db.Region:
        """MIM bottom plates as the precheck deck sees them: met3 ∩ capm grown by capm.3."""
        if "_plate" not in self._cache:
            grow = _um(self.tech.value("capm.3"))
            self._cache["_plate"] = (self["capm"] & self["met3"]).sized(grow)
        return self._cache["_plate"]

    def _derive(self, name: str) -> db.Region:
        g = self.__getitem__
        if name in self.tech.layers:
            return self.raw(name)
        derived = {
            "gate": lambda: g("poly") & g("diff"),
            "difftap": lambda: g("diff") + g("tap"),
            "sdm": lambda: g("nsdm") + g("psdm"),
            "ndiff": lambda: (g("diff") & g("nsdm")) - g("nwell"),
            "pdiff": lambda: g("diff") & g("psdm") & g("nwell"),
            "ntap": lambda: g("tap") & g("nsdm"),
            "ptap": lambda: g("tap") & g("psdm"),
            "licon_diff": lambda: g("licon") & g("diff"),
            "licon_tap": lambda: g("licon") & g("tap"),
            "licon_difftap": lambda: g("licon") & g("difftap"),
            "licon_poly": lambda: (g("licon") & g("poly")) - g("difftap"),
            "via3_capm": lambda: g("via3") & g("capm"),
            "via3_m3": lambda: g("via3") - g("capm"),
        }
        if name not in derived:
            raise KeyError(f"unknown derived layer {name!r}")
        return derived[name]()


def _um(v: float) -> int:
    return int(round(v * 1000))


def _corner_enclosure(metal: db.Region, cut: db.Region, d: int) -> db.Region:
    """Cuts whose enclosure by ``metal`` is below ``d`` on two adjacent edges (the precheck
    deck's "2 adjacent edges" rules: projection enclosure, then corners where two short edges
    meet)."""
    short = metal.enclosing_check(cut, d, False, db.Region.Projection).second_edges()
    corners = short.width_check(1, False, db.Region.Euclidian, 100.0)
    return cut.interacting(corners.polygons(1))


def _wide_space(metal: db.Region, d: int) -> db.EdgePairs:
    """Spacing of the parts of ``metal`` wider than 3 µm to any other metal edge (m*.3)."""
    wide = (metal.sized(-1500).sized(1500) & metal)
    if wide.is_empty():
        return db.EdgePairs()
    wide_edges = wide.edges().outside_part(metal.merged())
    rest = metal.edges() - wide
    return wide_edges.separation_check(rest, d) + wide_edges.space_check(d)


def _grid(ls: LayerSet, grid: int) -> db.EdgePairs:
    """Vertices off the manufacturing grid on every drawn layer of the technology."""
    out = db.EdgePairs()
    for name, lay in ls.tech.layers.items():
        if lay.purpose == "drawing" and ls.ly.find_layer(lay.layer, lay.datatype) is not None:
            out += ls.raw(name).grid_check(grid, grid)
    return out


def _check(ls: LayerSet, rule, dbu: float) -> tuple[db.EdgePairs | None, db.Region | None]:
    """Run one rule; returns (edge-pair markers, polygon markers)."""
    k, d = rule.kind, _um(rule.value)
    if rule.layer == "gate_w":
        gate, poly = ls["gate"], ls["poly"]
        # the gate edges lying on poly edges have length W
        w_edges = gate.edges() & poly.edges()
        bad = w_edges.with_length(0, d, False)
        return db.EdgePairs(), bad.extended(0, 0, 20, 20, True)
    if k == "grid":
        return _grid(ls, d), None
    a = ls[rule.layer]
    if k == "width":
        return a.width_check(d), None
    if k == "space":
        return a.space_check(d), None
    if k == "separation":
        return a.separation_check(ls[rule.other], d), None
    if k == "enclosure":
        b = ls[rule.other]
        outside = b - a
        if d == 0:
            return db.EdgePairs(), outside
        return a.enclosing_check(b, d), outside
    if k == "extension":
        b = ls[rule.other]
        # measured from the gate: its edges that coincide with ``a`` (distance 0) are the
        # other direction's and are not extension violations
        del b
        return a.enclosing_check(ls["gate"], d, zero_distance_mode=db.Region.NeverIncludeZeroDistance), None
    if k == "area":
        amin = int(round(rule.value * 1e6))
        return None, a.merged().with_area(0, amin, False)
    if k == "exact":
        bad = a.with_bbox_width(d, True) + a.with_bbox_height(d, True) + a.non_rectangles()
        return None, bad
    if k == "not_overlap":
        return None, a & ls[rule.other]
    if k == "corner_enclosure":
        return None, _corner_enclosure(a, ls[rule.other], d)
    if k == "plate_space":
        return ls.plate().isolated_check(d), None
    if k == "plate_separation":
        plate = ls.plate()
        return a.not_interacting(plate).separation_check(plate, d), None
    if k == "separation_free":
        b = ls[rule.other]
        return a.not_interacting(b).separation_check(b, d), None
    if k == "wide_space":
        return _wide_space(a, d), None
    if k == "inside":
        return None, a - ls[rule.other]
    raise ValueError(f"unknown rule kind {k}")


def run_drc(gds: str | Path | db.Layout, tech: Technology | str = "sky130", top: str | None = None,
            report: str | Path | None = None, max_locations: int = 50) -> DrcResult:
    """Check every rule of ``tech`` on ``gds`` in deep (hierarchical) mode.

    Args:
        gds: a GDS/OASIS file or a ``klayout.db.Layout``.
        tech: technology object or name.
        top: top cell name (default: the single top cell).
        report: optional ``.lyrdb`` path for a KLayout marker database.
        max_locations: marker boxes kept per rule in the result data.

    Returns:
        DrcResult with one entry per violated rule.
    """
    if isinstance(tech, str):
        tech = get_technology(tech)
    t0 = time.perf_counter()
    ly, cell, name = _load(gds, top)
    dss = db.DeepShapeStore()
    dss.threads = 2
    ls = LayerSet(ly, cell, tech, dss)
    dbu = ly.dbu
    violations: list[DrcViolation] = []
    rdbase = None
    if report is not None:
        rdbase = rdb.ReportDatabase("DRC")
        rdbase.top_cell_name = cell.name
        rcell = rdbase.create_cell(cell.name)
    checked = []
    for rule in tech.rules:
        ep, poly = _check(ls, rule, dbu)
        checked.append(rule.name)
        n = (ep.count() if ep is not None else 0) + (poly.count() if poly is not None else 0)
        if n == 0:
            continue
        locs: list[tuple[float, float, float, float]] = []
        flat_ep = ep.flatten() if ep is not None else None
        flat_poly = poly.flatten() if poly is not None else None
        for flat in (flat_ep, flat_poly):  # edge pairs first, then polygons, up to max_locations boxes
            for shape in (flat.each() if flat is not None else ()):
                if len(locs) >= max_locations:
                    break
                b = shape.bbox()
                locs.append((b.left * dbu, b.bottom * dbu, b.right * dbu, b.top * dbu))
        count = (flat_ep.count() if flat_ep is not None else 0) + (flat_poly.count() if flat_poly is not None else 0)
        violations.append(DrcViolation(rule.name, rule.text, count, locs))
        if rdbase is not None:
            cat = rdbase.create_category(rule.name)
            cat.description = rule.text
            trans = db.CplxTrans(dbu)
            if flat_ep is not None:
                rdbase.create_items(rcell.rdb_id(), cat.rdb_id(), trans, flat_ep)
            if flat_poly is not None:
                rdbase.create_items(rcell.rdb_id(), cat.rdb_id(), trans, flat_poly)
    if rdbase is not None:
        rdbase.save(str(report))
    return DrcResult(name, cell.name, not violations, violations, checked, time.perf_counter() - t0)
