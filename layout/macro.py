"""ACIM macro assembly: template placement, grid routing, GDS + SPICE out.

Floorplan (y grows upward; one ADC per column)::

      VREFN strap (met3) over the top edge, joining every column's termination line
    ┌ BL_j BLB_j pins (met3, top edge) ──────────────────────────────────────────────┐
    │      tap │ wl_driver │ bitcell × W  (L rows)          │ in_driver │ tap        │ local array G-1 (top Δ:
    │ spines   │           │ compute × W  (MIM caps on CL)  │                        │ termination group)
    │ (met3)   │    ...    │   ...                           │                        │ ...
    │ VDD VSS  │ wl_driver │ bitcell × W                    │ in_driver │ tap        │ local array 0 (MSB
    │ PCHB EN  │           │ compute × W                    │                        │ group, bit 0)
    │ ENB RST  │           │ dac_switch × W  (bit 0)        │                        │ ADC: per bit k =
    │ VREFP/N  │           │ sar_seq × W     (stage 0)      │                        │ 0..B-1 dac_k over
    │ SCLK     │           │ sar_bit × W     (bit 0)        │                        │ seq_k over sar_k;
    │ SRST(B)  │           │ ...                            │                        │ seq_B (end of
    │          │           │ sar_seq × W     (stage B)      │                        │ conversion), then
    │          │           │ comparator × W                 │                        │ the comparator
    └──────────────────────────────────────────────────────────────────────────────────┘

Rows abut (shared well/implant template); cells in a row abut so their full-width met2 tracks (WL,
RWL, compute controls, CLK, SCLK, SRST, SRSTB, VREFP/N) connect. Vertical nets are met3 lines on the
column template (RBL per local array, BL/BLB per column, DAC_k per column and SAR bit, CMP, BIT_k
and the sequencer lines V_k in the ADC) with via2 onto each cell's pin track; the compute line CL is
met4 over the MIM top plates down to the comparator's INP (via2–met3–via3 stack). Global nets run on
met3 spines in the left margin with via2 onto each row's track (power: via1–met2–via2 onto the met1
rails). The bitcell array and every row are GDS array references of tile cells (the cell plus its
via2s and full-height line segments), never flattened copies. The SAR DAC reuses the compute
capacitors exactly binary-weighted (the rule of ``eda.layout.dac``, shared with the
architecture model): with N = rows/L local arrays and Δ = N / 2^B, SAR bit k (MSB first) switches
the 2^(B-1-k)·Δ local arrays of group k through DAC line k; the top Δ local arrays are the
termination group, whose bottom-plate switches VB sit on a met3 line (at DAC line 0's x, free above
the MSB group) that a met3 strap over the array's top edge ties to the VREFN spine, so it is held at
the reference and never switched by a bit.

SAR register (per column, all inside the macro): a thermometer sequencer of B+1 reset-able TSPC
flip-flops clocked by SCLK (stage 0's D tied to VDD, stage k's D = V_{k-1}) and per bit a TSPC
result flip-flop preset to 1 by SRST and clocked by V_{k+1} (capturing the comparator output
CMP); the DAC switch of bit k drives VREFP iff V_k AND BIT_k, so bit k is 0 before its trial,
1 during it and the comparator's decision afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import gdstk

from eda.circuit import Circuit
from eda.errors import InputError
from eda.layout.cells import M3W, M4W, MIM_SIDE
from eda.layout.dac import check_dac_fit, dac_group_sizes
from eda.layout.devices import RAIL_W, RAIL_Y, TRACK, nm
from eda.layout.geometry import Drawing, to_gdstk
from eda.layout.library import SHARED_ONLY_ROLES, CellInfo, CellLibrary, uses_pair_rows
from eda.tech.sky130 import sky130

_T = sky130()
V1 = nm(_T.value("via.1a"))     # via (met1-met2) side
V2 = nm(_T.value("via2.1a"))    # via2 side
V3 = nm(_T.value("via3.1"))     # via3 side
M3SPACE = nm(_T.value("m3.2"))
GRID = nm(_T.grid_um)


def _ceil(v: float, step: int) -> int:
    return -(-int(round(v)) // step) * step


#: met2 landing pad of a via1–via2 stack: ≥ via2 + 2 × via2.5 and ≥ √(m2.6 area), on a 0.1 µm step
M2PAD = _ceil(max(V2 + 2 * nm(_T.value("via2.5")), nm(_T.value("m2.6") ** 0.5)), 100)
#: met3 landing pad of a via2–via3 stack: ≥ √(m3.6 area), on a 0.1 µm step
M3PAD = _ceil(nm(_T.value("m3.6") ** 0.5), 100)
#: a met3 pad as narrow as a column line (so lines 630 nm apart keep m3.2), long enough for m3.6's area
M3PAD_V = _ceil(nm(_T.value("m3.6")) * 1000 / M3W, 20)
#: global spines (met3): width and pitch (a design choice: > m3.1 and m3.2 with room for the via stacks)
SPINE_W = 400
SPINE_PITCH = 800
#: left margin: first spine centre from the macro edge, and the gap between the last spine and the row ends
SPINE_EDGE, SPINE_GAP = 500, 100
#: a spine ends this far beyond its outermost via stack (half the met2 stack pad + 150 nm)
SPINE_END = M2PAD // 2 + 150
#: met1 rail overhang beyond a spine's via stack (left of the spine)
RAIL_OVERHANG = 100
#: label positions: this far inside a track's end / below the array top
LABEL_INSET = 100
GLOBAL_SPINES = ("VSS", "VDD", "PCHB", "EN", "ENB", "RST", "RSTB", "VREFP", "VREFN", "SCLK", "SRST", "SRSTB",
                 "CLR", "VCM")
ROLES = ("bitcell", "compute", "wl_driver", "in_driver", "comparator", "cmp_buf", "sar_bit", "sar_seq",
         "dac_switch", "tap")


@dataclass(frozen=True)
class MacroParams:
    """What to build.

    Attributes:
        rows: array rows H (inputs).
        cols: array columns W.
        local: local array size L (bitcells sharing one compute cell); divides ``rows``.
        adc_bits: SAR ADC resolution B (1 .. the library template's ``max_adc_bits``); 2^B must
            divide rows/local (the binary DAC is built from the column's compute caps).
        adc_share: S, columns sharing one comparator and SAR register through a column
            multiplexer (1 = one ADC per column; divides ``cols``; at most the template's
            ``max_adc_share``).
        name: top cell name.
        pair_rows: use the library's pair bitcell rows (two bits per row, ``bitcell8t_pair``) where
            possible (:func:`eda.layout.library.uses_pair_rows`) and the macro comes out smaller.
    """

    rows: int
    cols: int
    local: int
    adc_bits: int
    adc_share: int = 1
    name: str = "acim_macro"
    pair_rows: bool = True

    def validate(self, max_bits: int, max_share: int = 1) -> None:
        for f in ("rows", "cols", "local", "adc_bits", "adc_share"):
            v = getattr(self, f)
            if not isinstance(v, int) or v < 1:
                raise InputError(f"field '{f}': {v!r}; expected a positive integer", file="macro params")
        if self.adc_bits > max_bits:
            raise InputError(f"field 'adc_bits': {self.adc_bits} bits; the cell library's column template wires "
                             f"at most {max_bits} DAC lines", file="macro params")
        check_dac_fit(self.rows, self.local, self.adc_bits, local_field="local", where="macro params")
        if self.adc_share > max_share or self.cols % self.adc_share:
            raise InputError(f"field 'adc_share': {self.adc_share}; expected a divisor of cols={self.cols} that is at "
                             f"most the cell library template's max_adc_share={max_share}", file="macro params")
        if not self.name.isidentifier():
            raise InputError(f"field 'name': {self.name!r}; expected an identifier", file="macro params")


@dataclass
class Macro:
    """An assembled macro: GDS library (top cell ``name``), SPICE circuit and facts."""

    name: str
    library: gdstk.Library
    circuit: Circuit
    width_um: float
    height_um: float
    counts: dict[str, int]
    groups: list[int]  # local arrays per DAC group: bits MSB first, then the termination group
    ports: list[str]
    extra: dict = field(default_factory=dict)


def _cell_from_lib(lib: gdstk.Library, info: CellInfo, cache: dict) -> gdstk.Cell:
    """Load ``info``'s GDS cell (and its children) into ``lib`` once."""
    if info.name in cache:
        return cache[info.name]
    src = gdstk.read_gds(str(info.gds))
    cells = {c.name: c for c in src.cells}
    if info.name not in cells:
        raise InputError(f"GDS has no cell named {info.name!r}", file=info.gds)
    top = cells[info.name]
    for dep in [top] + list(top.dependencies(True)):
        if isinstance(dep, gdstk.Cell) and dep.name not in {c.name for c in lib.cells}:
            lib.add(dep)
    cache[info.name] = top
    return top


def _pin(info: CellInfo, name: str):
    try:
        return info.pin(name)
    except KeyError:
        raise InputError(f"cell {info.name} lacks pin {name!r} needed by the macro template",
                         file=info.gds.parent / "manifest.json") from None


def _check_template(lib: CellLibrary, C: dict[str, CellInfo], share: int = 1) -> None:
    """Column cells match the bitcell pitch (with ``share`` S > 1 columns per ADC, the per-ADC
    cells may be wider: up to S pitches less the n-well spacing, as they overhang into the next
    column's empty slot); row-end cells match the bitcell row height."""
    P, hb = nm(C["bitcell"].width_um), nm(C["bitcell"].height_um)
    wide = share * P - nm(_T.value("nwell.2a"))
    for r in ("compute", "comparator", "cmp_buf", "sar_bit", "sar_seq", "dac_switch"):
        w = nm(C[r].width_um)
        if share > 1 and r in SHARED_ONLY_ROLES and P <= w <= wide:
            continue
        if w != P:
            more = ""
            if r in SHARED_ONLY_ROLES and share > 1:
                more = f" (per-ADC cells shared by S = {share} columns: up to {wide / 1000} µm)"
            elif r in SHARED_ONLY_ROLES and w > P:
                more = "; a shared-ADC library's ADC cells need adc_share >= 2"
            raise InputError(f"{r} cell {C[r].name} is {C[r].width_um} µm wide; column cells must match the "
                             f"bitcell pitch {P / 1000} µm{more}", file=lib.path / "manifest.json")
    for r in ("wl_driver", "in_driver", "tap"):
        if nm(C[r].height_um) != hb:
            raise InputError(f"{r} cell {C[r].name} height {C[r].height_um} µm ≠ bitcell row height",
                             file=lib.path / "manifest.json")


def _template_xs(lib: CellLibrary, B: int) -> tuple[list[int], list[int]]:
    """x of the B DAC lines and of the two SAR sequencer lines, from the library template."""
    x3 = [nm(x) for x in lib.template.get("x_dac_um", [])]
    if not x3 or B > 2 * len(x3):
        raise InputError(f"library template's x_dac_um holds {len(x3)} DAC line x's; {B} bits need at least "
                         f"{(B + 1) // 2} (lines k >= len(x_dac_um) reuse them on met4)",
                         file=lib.path / "manifest.json")
    # DAC line k < n runs on met3 at x3[k]; line k >= n on met4 above line k - n (which is only
    # present below group k - n, where met4 carries line k up past it: see _Assembler.column)
    x_dacs = [x3[k % len(x3)] for k in range(B)]
    x_seq = [nm(x) for x in lib.template.get("x_seq_um", [])]
    if len(x_seq) != 2:
        raise InputError("library template lacks x_seq_um (the two SAR sequencer line x's)",
                         file=lib.path / "manifest.json")
    return x_dacs, x_seq


class _Assembler:
    """Placement and routing state of one macro (see the module docstring for the floorplan)."""

    def __init__(self, p: MacroParams, lib: CellLibrary):
        self.p, self.lib, self.tech = p, lib, sky130()
        self.C = C = {r: lib.cell(r) for r in ROLES}
        # pair rows: the bitcell-row roles are the pair cells, serving rpb = 2 rows (pins WL0/WL1, IN0/IN1 ...)
        self.rpb = 2 if uses_pair_rows(p, lib) else 1
        C.update({r: lib.cell(r + "2") for r in ("bitcell", "wl_driver", "in_driver", "tap")} if self.rpb == 2 else {})
        self.sub = [str(k) for k in range(self.rpb)] if self.rpb > 1 else [""]
        _check_template(lib, C, p.adc_share)
        self.P, self.hb = nm(C["bitcell"].width_um), nm(C["bitcell"].height_um)
        self.H = {r: nm(C[r].height_um) for r in C}
        self.Wd = {r: nm(C[r].width_um) for r in ("wl_driver", "in_driver", "tap")}
        self.G, self.L, self.W, self.B = p.rows // p.local, p.local, p.cols, p.adc_bits
        self.Lr = self.L // self.rpb  # template rows per local array
        self.S = p.adc_share
        self.groups = dac_group_sizes(self.G, self.B)  # B binary groups, then the termination group
        self.group_of = [k for k, n in enumerate(self.groups) for _ in range(n)]
        self.glib = gdstk.Library(name=p.name, unit=1e-6, precision=1e-9)
        cache: dict = {}
        self.gc = {r: _cell_from_lib(self.glib, C[r], cache) for r in C}
        self.x_dacs, self.x_seq = _template_xs(lib, self.B)
        # the termination group's VB line reuses DAC line 0's x: the termination local arrays sit
        # above every binary group, where line 0 (ending at the MSB group's top) leaves the x free
        self.x_vb = self.x_dacs + [self.x_dacs[0]]
        self.n_m3 = len(lib.template.get("x_dac_um", []))  # DAC lines k >= n_m3 run on met4
        self.mim_side = nm(float(lib.template.get("mim_side_um", MIM_SIDE / 1000)))
        self.tiles: dict[tuple, gdstk.Cell] = {}
        self.blocks: dict[int, gdstk.Cell] = {}
        self.top = gdstk.Cell(p.name)
        self.glib.add(self.top)
        self.d = Drawing()
        self.x_left_cells = -(self.Wd["wl_driver"] + self.Wd["tap"])
        self.X_L = self.x_left_cells - SPINE_EDGE - SPINE_GAP - len(GLOBAL_SPINES) * SPINE_PITCH
        self.spine_x = {n: self.X_L + SPINE_EDGE + i * SPINE_PITCH for i, n in enumerate(GLOBAL_SPINES)}
        self.X_R = self.W * self.P + self.Wd["in_driver"] + self.Wd["tap"]
        self.spine_pts: dict[str, list[int]] = {n: [] for n in GLOBAL_SPINES}
        self.y_sar: dict[int, int] = {}
        self.y_seq: dict[int, int] = {}
        self.y_dac: dict[int, int] = {}
        self.y_comp: list[int] = []

    def pin(self, role: str, name: str) -> tuple[int, int]:
        q = _pin(self.C[role], name)
        return nm(q.x_um), nm(q.y_um)

    def x(self, role: str, name: str) -> int:
        return self.pin(role, name)[0]

    # ---- hierarchy: tile = a cell plus its via2s and full-height line segments (arrays of tiles
    # abut, so the array's vertical lines need no flat shapes); local-array block = compute tile +
    # L bitcell tiles, one variant per SAR group q (where its via2 drops onto DAC line q). Blocks
    # are the schematic's local-array subcircuits, so LVS compares each variant once.
    def tile(self, role: str, q: int) -> gdstk.Cell:
        key = (role, q if role == "compute" else -1)
        if key in self.tiles:
            return self.tiles[key]
        h = self.H[role]
        d = Drawing()
        if role == "bitcell":
            for n in ("BL", "BLB", "RBL"):
                x, yy = self.pin(role, n)
                d.box("via2", x, yy, V2, V2)
                d.rect("met3", x - M3W // 2, 0, x + M3W // 2, h)
        else:
            x, yy = self.pin(role, "RBL")
            d.box("via2", x, yy, V2, V2)
            d.rect("met3", x - M3W // 2, yy - M3W // 2, x + M3W // 2, h)
            _bitlines_over_mim(d, (self.x("bitcell", "BL"), self.x("bitcell", "BLB")), h,
                               self.pin("compute", "CL")[1], self.mim_side)
            d.box("via2", self.x_vb[q], self.pin("compute", "VB")[1], V2, V2)
            if self.n_m3 <= q < self.B:  # a met4 DAC line: via2–met3–via3 up to it
                self.m4_stack(d, self.x_vb[q], self.pin("compute", "VB")[1])
        x_cl = self.x("compute", "CL")
        d.rect("met4", x_cl - M4W // 2, 0, x_cl + M4W // 2, h)
        t = to_gdstk(d, f"{self.p.name}_{role}_tile" + (f"_{q}" if role == "compute" else ""), self.tech)
        t.add(gdstk.Reference(self.gc[role]))
        self.glib.add(t)
        self.tiles[key] = t
        return t

    def block(self, q: int) -> gdstk.Cell:
        if q in self.blocks:
            return self.blocks[q]
        hc, hb, Lr = self.H["compute"], self.hb, self.Lr
        b = gdstk.Cell(f"{self.p.name}_local_{q}")
        b.add(gdstk.Reference(self.tile("compute", q)))
        b.add(gdstk.Reference(self.tile("bitcell", q), (0, hc / 1000), columns=1, rows=Lr, spacing=(0, hb / 1000)))
        # row labels: the rows are symmetric, so names pin each block port to its row for LVS
        lay2, lay1 = self.tech.layer("met2.label"), self.tech.layer("met1.label")
        xm = self.P / 2000
        for r in range(Lr):
            y0 = hc + r * hb
            for k, s in enumerate(self.sub):
                for n in ("WL", "RWL"):
                    b.add(gdstk.Label(f"{n}_{r * self.rpb + k}", (xm, (y0 + self.pin("bitcell", n + s)[1]) / 1000),
                                      layer=lay2.layer, texttype=lay2.datatype))
            b.add(gdstk.Label(f"VDD_{r}", (xm, (y0 + self.pin("bitcell", "VDD")[1]) / 1000),
                              layer=lay1.layer, texttype=lay1.datatype))
        b.add(gdstk.Label("VDDC", (xm, self.pin("compute", "VDD")[1] / 1000), layer=lay1.layer,
                          texttype=lay1.datatype))
        self.glib.add(b)
        self.blocks[q] = b
        return b

    # ---- drawing helpers
    def ref(self, cell: gdstk.Cell, x: int, y: int, cols: int = 1, rows: int = 1, dx: int = 0, dy: int = 0) -> None:
        self.top.add(gdstk.Reference(cell, (x / 1000, y / 1000), columns=cols, rows=rows,
                                     spacing=(dx / 1000, dy / 1000) if (cols > 1 or rows > 1) else None))

    @staticmethod
    def m4_stack(d: Drawing, x: int, y: int) -> None:
        """met3 pad (a line's width, m3.6's area) and via3 over a via2 at (x, y): onto a met4 line."""
        d.box("met3", x, y, M3W, M3PAD_V)
        d.box("via3", x, y, V3, V3)

    def stack12(self, x: int, y: int) -> None:
        """via1–met2–via2 stack (met1 below, met3 above)."""
        self.d.box("via", x, y, V1, V1)
        self.d.box("met2", x, y, M2PAD, M2PAD)
        self.d.box("via2", x, y, V2, V2)

    def rails(self, y0: int, h: int, x_from: int) -> None:
        """Extend a row's met1 rails left to the spines and drop via stacks onto them."""
        for net, yc in (("VSS", y0 + RAIL_Y), ("VDD", y0 + h - RAIL_Y)):
            xs = self.spine_x[net]
            self.d.rect("met1", xs - SPINE_W // 2 - RAIL_OVERHANG, yc - RAIL_W // 2, x_from, yc + RAIL_W // 2)
            self.stack12(xs, yc)
            self.spine_pts[net].append(yc)

    def hext(self, y: int, x_from: int, x_to: int, spine: str | None = None, label: str | None = None) -> None:
        """A met2 track from a row's edge to the spines (via2 onto ``spine``), optionally labelled."""
        self.d.rect("met2", x_to, y - TRACK // 2, x_from, y + TRACK // 2)
        if spine is not None:
            self.d.box("via2", self.spine_x[spine], y, V2, V2)
            self.spine_pts[spine].append(y)
        if label is not None:
            self.d.label("met2.label", label, x_to + LABEL_INSET, y)

    def vline(self, layer: str, x: int, y0: int, y1: int, w: int = M3W) -> None:
        self.d.rect(layer, x - w // 2, min(y0, y1), x + w // 2, max(y0, y1))

    def via_line(self, x: int, ys: list[int]) -> None:
        """A met3 column line through via2s at ``ys``."""
        for yy in ys:
            self.d.box("via2", x, yy, V2, V2)
        self.vline("met3", x, min(ys) - M3W // 2, max(ys) + M3W // 2)

    # ---- rows
    def row(self, role: str, y: int, spines: tuple[str, ...] = ()) -> int:
        """One ADC row of ``role`` cells at ``y`` with its rails and spine tracks; returns the next y."""
        self.ref(self.gc[role], 0, y, self.W, 1, self.P, 0)
        self.rails(y, self.H[role], 0)
        for net in spines:
            self.hext(y + self.pin(role, net)[1], 0, self.X_L, net)
        return y + self.H[role]

    def adc(self) -> int:
        """ADC rows, bottom-up: comparator and its output stage, sequencer stage B (end of
        conversion), then per bit k = B-1 .. 0 the rows sar_k (result flip-flop), seq_k (sequencer
        stage), dac_k."""
        y = self.adc_bottom()
        self.y_seq[self.B] = y
        y = self.adc_row("sar_seq", y, ("SCLK", "SRSTB"))
        for k in reversed(range(self.B)):
            self.y_sar[k] = y
            y = self.adc_row("sar_bit", y, ("SRST",))
            self.y_seq[k] = y
            y = self.bit_channel(k, self.adc_row("sar_seq", y, ("SCLK", "SRSTB")))
            self.y_dac[k] = y
            y = self.dac_row(k, y)
        return y

    def dac_row(self, k: int, y: int) -> int:
        """Bit k's DAC switch row at ``y``; returns the next y."""
        return self.row("dac_switch", y, ("VREFP", "VREFN"))

    def adc_bottom(self) -> int:
        """The comparator row and its output stage's row; returns the next y."""
        y = self.row("comparator", 0)
        for net in ("INN", "CLK"):
            self.hext(self.pin("comparator", net)[1], 0, self.X_L, None, net)
        self.y_buf = y
        return self.row("cmp_buf", y, ("CLR", "VCM"))

    def adc_row(self, role: str, y: int, spines: tuple[str, ...]) -> int:
        """A row of the per-ADC cells (sequencer, result flip-flops)."""
        return self.row(role, y, spines)

    def bit_channel(self, k: int, y: int) -> int:
        """Room between bit k's sequencer and DAC rows (none with one ADC per column)."""
        return y

    def local_arrays(self, y: int) -> int:
        """G local arrays (a block row each) with word-line/input drivers and taps at the row ends."""
        W, P, L, hb, Wd, Lr = self.W, self.P, self.L, self.hb, self.Wd, self.Lr
        for g in range(self.G):
            self.y_comp.append(y)
            self.ref(self.block(self.group_of[g]), 0, y, W, 1, P, 0)
            self.rails(y, self.H["compute"], 0)
            for net in ("PCHB", "EN", "ENB", "RST", "RSTB"):
                self.hext(y + self.pin("compute", net)[1], 0, self.X_L, net)
            y += self.H["compute"]
            self.ref(self.gc["wl_driver"], -Wd["wl_driver"], y, 1, Lr, 0, hb)
            self.ref(self.gc["tap"], self.x_left_cells, y, 1, Lr, 0, hb)
            self.ref(self.gc["in_driver"], W * P, y, 1, Lr, 0, hb)
            self.ref(self.gc["tap"], W * P + Wd["in_driver"], y, 1, Lr, 0, hb)
            for r in range(Lr):
                yr = y + r * hb
                self.rails(yr, hb, self.x_left_cells)
                for k, s in enumerate(self.sub):
                    row = g * L + r * self.rpb + k
                    self.hext(yr + self.pin("wl_driver", "WLIN" + s)[1], -Wd["wl_driver"], self.X_L, None,
                              f"WLIN_{row}")
                    yi = yr + self.pin("in_driver", "IN" + s)[1]
                    self.d.rect("met2", W * P + Wd["in_driver"], yi - TRACK // 2, self.X_R, yi + TRACK // 2)
                    self.d.label("met2.label", f"IN_{row}", self.X_R - LABEL_INSET, yi)
            y += Lr * hb
        return y

    # ---- vertical lines per column in the ADC region (the array's are in the tiles)
    def column(self, j: int, y_top: int, y_end: int) -> None:
        self.array_lines(j, y_top, y_end)
        self.adc_lines(j)

    def adc_lines(self, j: int, cl_top: int | None = None, extra: dict | None = None) -> None:
        """Column ``j``'s ADC lines: CL from the comparator up to ``cl_top`` (default: the array),
        the comparator outputs, CMP, BIT_k and the sequencer lines V_k (``extra``: more via2 y's
        per line, ``("BIT", k)`` / ``("V", k)``)."""
        x0, B, pin, d = j * self.P, self.B, self.pin, self.d
        extra = extra or {}
        self.cmp_lines(j, cl_top)
        # CMP: the output stage's CMP to every sar_bit CMP
        self.via_line(x0 + self.x("cmp_buf", "CMP"), [self.y_buf + pin("cmp_buf", "CMP")[1]]
                      + [self.y_sar[k] + pin("sar_bit", "CMP")[1] for k in range(B)])
        # BIT_k: sar_k to dac_k
        x_bit = x0 + self.x("sar_bit", "BIT")
        for k in range(B):
            a, b = self.y_sar[k] + pin("sar_bit", "BIT")[1], self.y_dac[k] + pin("dac_switch", "BIT")[1]
            self.via_line(x_bit, [a, b] + extra.get(("BIT", k), []))
            d.label("met3.label", f"BIT_{k}_{j // self.S}", x_bit, (a + b) // 2)
        self._sequencer_lines(x0, extra)

    def cmp_lines(self, j: int, cl_top: int | None = None) -> None:
        """Column ``j``'s comparator: CL (met4) from its INP up to ``cl_top`` (default: the array),
        the latch outputs up to the output stage, and the output stage's CL reset onto CL."""
        x0, pin, d = j * self.P, self.pin, self.d
        # CL: met4 from the comparator INP stack up to the array (tiles continue it)
        x_cl, y_inp = x0 + self.x("compute", "CL"), pin("comparator", "INP")[1]
        d.box("via2", x_cl, y_inp, V2, V2)
        d.box("met3", x_cl, y_inp, M3PAD, M3PAD)
        d.box("via3", x_cl, y_inp, V3, V3)
        top = self.y_dac[0] + self.H["dac_switch"] if cl_top is None else cl_top + M3PAD_V // 2
        self.vline("met4", x_cl, y_inp - M3PAD // 2, top, M4W)
        # the latch outputs OUTP/OUTN up to the output stage; CL's reset there (via2–met3–via3 onto CL)
        for net in ("OUTP", "OUTN"):
            self.via_line(x0 + self.x("comparator", net),
                          [pin("comparator", net)[1], self.y_buf + pin("cmp_buf", net)[1]])
        y_clr = self.y_buf + pin("cmp_buf", "CL")[1]
        d.box("via2", x_cl, y_clr, V2, V2)
        d.box("met3", x_cl, y_clr, M3PAD, M3PAD)
        d.box("via3", x_cl, y_clr, V3, V3)

    def array_lines(self, j: int, y_top: int, y_end: int) -> None:
        """Column ``j``'s bit-line labels, termination line and DAC lines (from its DAC switches)."""
        x0, B, pin, d = j * self.P, self.B, self.pin, self.d
        for net in ("BL", "BLB"):
            d.label("met3.label", f"{net}_{j}", x0 + self.x("bitcell", net), y_top - 2 * LABEL_INSET)
        # termination: from the lowest termination compute cell's VB (via2 in its block) up to the strap
        g_t = self.group_of.index(B)
        self.vline("met3", x0 + self.x_vb[B], self.y_comp[g_t] + pin("compute", "VB")[1] - M3W // 2, y_end)
        # DAC_k: dac_k output up to the last compute cell of group k (its via2 is in the block)
        for k in range(B):
            xk, ya = x0 + self.x_dacs[k], self.y_dac[k] + pin("dac_switch", "DAC")[1]
            g_last = max(g for g in range(self.G) if self.group_of[g] == k)
            yb = self.y_comp[g_last] + pin("compute", "VB")[1]
            d.box("via2", xk, ya, V2, V2)
            if k < self.n_m3:
                self.vline("met3", xk, ya - M3W // 2, yb + M3W // 2)
            else:
                self.m4_stack(d, xk, ya)
                self.vline("met4", xk, ya - M3PAD // 2, yb + M3PAD // 2, M4W)

    def _sequencer_lines(self, x0: int, extra: dict) -> None:
        """V_k: sequencer stage k's output to stage k+1's input, bit k's DAC switch enable and bit
        k-1's result clock; consecutive lines overlap in y, so they alternate between two x's.
        Stage 0 takes D = 1: its VIN line rises to the stage's own VDD rail (via2–met2–via1)."""
        B, pin = self.B, self.pin
        for k in range(B + 1):
            ys = [self.y_seq[k] + pin("sar_seq", "V")[1]]
            if k < B:
                ys += [self.y_seq[k + 1] + pin("sar_seq", "VIN")[1], self.y_dac[k] + pin("dac_switch", "V")[1]]
            if k >= 1:
                ys.append(self.y_sar[k - 1] + pin("sar_bit", "CK")[1])
            self.via_line(x0 + self.x_seq[k % 2], ys + extra.get(("V", k), []))
        xt, ya = x0 + self.x_seq[1], self.y_seq[0] + pin("sar_seq", "VIN")[1]
        yv = self.y_seq[0] + self.H["sar_seq"] - RAIL_Y
        self.d.box("via2", xt, ya, V2, V2)
        self.vline("met3", xt, ya - M3W // 2, yv + M3W // 2)
        self.stack12(xt, yv)

    def spines(self, y_top: int, y_end: int) -> None:
        """Global met3 spines (only VREFN reaches above the array, to the termination strap)."""
        for net, pts in self.spine_pts.items():
            if not pts:
                continue
            xs = self.spine_x[net]
            self.d.rect("met3", xs - SPINE_W // 2, max(min(pts) - SPINE_END, 0), xs + SPINE_W // 2,
                        min(max(pts) + SPINE_END, y_end if net == "VREFN" else y_top))
            self.d.label("met3.label", net, xs, min(pts))

    def assemble(self) -> tuple[int, int]:
        """Place and route everything; returns (y of the array top, macro top)."""
        y_top = self.local_arrays(self.adc())
        # the termination strap: met3 above the array's top edge (m3.2 from the BL/BLB line ends),
        # from the VREFN spine to the last column's termination line
        y_strap = y_top + M3SPACE + M3W // 2
        y_end = y_strap + M3W // 2
        self.spine_pts["VREFN"].append(y_strap)
        for j in range(self.W):
            self.column(j, y_top, y_end)
        self.d.rect("met3", self.spine_x["VREFN"] - SPINE_W // 2, y_end - M3W,
                    (self.W - 1) * self.P + self.x_vb[self.B] + M3W // 2, y_end)
        self.spines(y_top, y_end)
        self.d.rect("prbndry", self.X_L, 0, self.X_R, y_end)
        routing = to_gdstk(self.d, f"{self.p.name}_routing", self.tech)
        for shape in routing.polygons:
            self.top.add(shape)
        for lb in routing.labels:
            self.top.add(lb)
        return y_top, y_end


def _assembled(p: MacroParams, lib: CellLibrary) -> tuple[_Assembler, int]:
    if p.adc_share > 1:
        from eda.layout.macro_packed import PackedAssembler, packable
        from eda.layout.macro_shared import SharedAssembler

        a: _Assembler = (PackedAssembler if packable(p.adc_share, p.adc_bits) else SharedAssembler)(p, lib)
    else:
        a = _Assembler(p, lib)
    return a, a.assemble()[1]


def build_macro(p: MacroParams, lib: CellLibrary) -> Macro:
    """Place and route the macro ``p`` from the cells of ``lib``; the schematic is
    :func:`eda.layout.macro_netlist.macro_circuit`."""
    from eda.layout.macro_netlist import macro_circuit

    p.validate(int(lib.template.get("max_adc_bits", 4)), int(lib.template.get("max_adc_share", 1)))
    a, y_end = _assembled(p, lib)
    if a.rpb == 2:  # pair rows only where the macro comes out smaller (their row ends are wider)
        b, y_b = _assembled(replace(p, pair_rows=False), lib)
        if (b.X_R - b.X_L) * y_b < (a.X_R - a.X_L) * y_end:
            a, y_end = b, y_b
    circuit, ports = macro_circuit(p, a.C, a.group_of, a.blocks)
    B, W, S = p.adc_bits, p.cols, p.adc_share
    n, pr = p.rows // a.rpb, "2" if a.rpb > 1 else ""  # template rows, pair cells' suffix: counts are cells placed
    counts = {"bitcell" + pr: n * W, "compute": a.G * W, "wl_driver" + pr: n, "in_driver" + pr: n,
              "comparator": W // S, "cmp_buf": W // S, "sar_bit": B * W // S, "sar_seq": (B + 1) * W // S,
              "dac_switch": B * W, "tap" + pr: 2 * n, "col_mux": W if S > 1 else 0}
    return Macro(p.name, a.glib, circuit, (a.X_R - a.X_L) / 1000, y_end / 1000, counts, a.groups, ports,
                 {"column_pitch_um": a.P / 1000, "row_height_um": a.hb / 1000, "bits_per_row": a.rpb,
                  "origin_um": (a.X_L / 1000, 0.0)})


def _bitlines_over_mim(d: Drawing, xs: tuple[int, ...], h: int, y_mim: int, side: int) -> None:
    """BL/BLB across a compute cell: met3 below and above the MIM bottom plate's keep-out
    (capm grown by capm.3, then capm.2b_a), met4 past it, via3 at each end (via3.5 enclosure)."""
    keep = nm(_T.value("capm.3")) + nm(_T.value("capm.2b_a")) + side // 2
    m3_end, m4_enc = nm(_T.value("via3.5")), nm(_T.value("m4.3"))
    y_lo = (y_mim - keep - m3_end - V3 // 2) // GRID * GRID   # lower via3 centre
    y_hi = -(-(y_mim + keep + m3_end + V3 // 2) // GRID) * GRID
    if y_lo - V3 // 2 - m4_enc < 0 or y_hi + V3 // 2 + m4_enc > h:
        raise InputError(f"the compute cell ({h / 1000} µm high) leaves no room to cross its MIM keep-out "
                         "with the bit lines", file="cell library")
    # the lower stub reaches below the tile (onto the bit line of the bitcell below, or into the
    # free top of the ADC's last row) so that, alone under local array 0, it keeps m3.6's area
    top_lo = y_lo + V3 // 2 + m3_end
    y0 = min(0, top_lo - nm(_T.value("m3.6") / (M3W / 1000)) // GRID * GRID - GRID)
    for x in xs:
        d.rect("met3", x - M3W // 2, y0, x + M3W // 2, top_lo)
        d.rect("met3", x - M3W // 2, y_hi - V3 // 2 - m3_end, x + M3W // 2, h)
        for y in (y_lo, y_hi):
            d.box("via3", x, y, V3, V3)
        d.rect("met4", x - M4W // 2, y_lo - V3 // 2 - m4_enc, x + M4W // 2, y_hi + V3 // 2 + m4_enc)
