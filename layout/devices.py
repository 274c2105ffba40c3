"""Parametric sky130 devices and the row-cell generator that draws the library cells (not the bitcell).

A *row cell* is the sky130 logic-rule template shared by all default ACIM cells::

    H ┌──────────────────────────────────────────────┐  VDD rail (met1) over n-tap, nwell to top
      │  ▓▓▓ pmos diffusion chains (psdm)  ▓▓▓        │
      │   ■ pmos gate pads (poly licon, npc)           │
      │ ═══════ met2 tracks, slot T-1 … 0 ═══════════  │  routing channel; met1 stubs ┃ go from
      │   ■ nmos gate pads                             │  every terminal to its net's track
      │  ▓▓▓ nmos diffusion chains (nsdm)  ▓▓▓        │
    0 └──────────────────────────────────────────────┘  VSS rail (met1) over p-tap (psdm)

Transistors sit on a 480 nm column grid: contacted source/drain columns and gate columns alternate; a
diffusion node shared by two transistors and used nowhere else is left uncontacted (gates on adjacent
columns). Nets get met2 tracks packed by a constrained left-edge algorithm (at a column, the nmos
terminal's track lies below the pmos terminal's). Ports are full-width met2 tracks (``h``: abut to the
neighbour), met2 tracks reaching a column-template x where the parent drops a via2 onto its met3 line
(``v``), or the met1 power rails. Shapes keep half the spacing rule from the cell edge unless they
abut. Generators are pure functions of their frozen params, cached.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import gdstk

from eda.circuit import Device, Subckt
from eda.errors import InputError
from eda.layout.geometry import Drawing, to_gdstk
from eda.tech.sky130 import sky130


def nm(um: float) -> int:
    """µm → integer nm."""
    return int(round(um * 1000))


# Template constants (nm). Derived from the sky130 rules in eda.tech.sky130; see module sketch.
PITCH = 480          # column pitch: gate pad 270 + poly.2 210
X0 = 330             # first column centre: pdiff 145 + nwell enclosure 180 from the edge
LCH = 150            # channel length
SLOT = 460           # met2 track pitch: two via1 stubs 160+160 + m1.2 140
NDIFF_B = 760        # nmos diffusion bottom
PAD = 285            # gate pad centre from the diffusion edge (licon.14 + npc.4)
TOP_MARGIN = 790     # pmos diffusion top from the cell top
GRID = nm(sky130().grid_um)
_VIA2, _VIA2_END = nm(sky130().value("via2.1a")), nm(sky130().value("via2.5"))  # via2; met2 beyond it at an end
TRACK = _VIA2 + 2 * nm(sky130().value("via2.4"))  # met2 track width: via2 + via2.4 on both sides (0.28 µm)
#: li tap strips end this far inside the cell (half of li.3's 0.17 µm spacing)
LI_EDGE = nm(sky130().value("li.3")) // 2 // GRID * GRID
#: met1 power rails: centre from the cell edge and width
RAIL_Y, RAIL_W = 290, 380


@dataclass(frozen=True)
class Fet:
    """One transistor of a chain: left terminal, gate, right terminal (S/D are symmetric).

    Attributes:
        name: instance name (``M1``).
        left: net at the left diffusion terminal.
        gate: gate net.
        right: net at the right diffusion terminal.
        w_nm: channel width in nm (≥ 420, sky130 difftap.2).
        l_nm: channel length in nm (150 only; the template is drawn for it).
    """

    name: str
    left: str
    gate: str
    right: str
    w_nm: int = 420
    l_nm: int = LCH


@dataclass(frozen=True)
class Chain:
    """Transistors sharing diffusion left to right, starting at grid column ``col`` (auto if -1)."""

    fets: tuple[Fet, ...]
    col: int = -1


@dataclass(frozen=True)
class Port:
    """A cell port.

    Attributes:
        net: net name.
        kind: ``h`` (full-width met2 track reaching ``sides``), ``v`` (met2 track reaching
            column-template x ``x_nm`` for a parent via2 + met3 line), ``m4`` (a met4 pad at
            ``x_nm``, the top plate of a MIM cap) or ``power`` (met1 rail ``VDD``/``VSS``).
        sides: for ``h``: ``"lr"``, ``"l"`` or ``"r"``.
        x_nm: for ``v``: the template x.
        slot: for ``h``: the fixed track slot (template alignment with neighbours), -1 = free.
        span_nm: for ``v``: the track also reaches ``x_nm + span_nm`` (the parent picks one of
            several template lines there, e.g. a DAC group line).
    """

    net: str
    kind: str = "h"
    sides: str = "lr"
    x_nm: int = 0
    slot: int = -1
    span_nm: int = 0


@dataclass(frozen=True)
class Mim:
    """A MIM capacitor (sky130_fd_pr__cap_mim_m3_1): bottom plate met3 (``bot``), top capm/met4.

    Placed in an empty column range starting at grid column ``col`` (its width reserves
    columns); the top plate's via3 sits at x = ``x_nm`` (the parent's met4 line).
    """

    name: str
    bot: str
    top: str
    w_nm: int = 1000
    l_nm: int = 1000
    x_nm: int = 0


@dataclass(frozen=True)
class RowCellParams:
    """Everything that defines one row cell (hashable: generators are cached by it)."""

    name: str
    nmos: tuple[Chain, ...] = ()
    pmos: tuple[Chain, ...] = ()
    ports: tuple[Port, ...] = ()
    wn_band: int = 420
    wp_band: int = 420
    min_slots: int = 3
    min_width: int = 0
    mims: tuple[Mim, ...] = ()
    ntaps: bool = True
    hand: str = ""  # a hand-drawn cell row_cell returns instead (eda.layout.bitcell8t_template.hand_cell)


@dataclass
class PinInfo:
    """A pin abstract entry: net, layer and a point on the pin shape (µm)."""

    name: str
    layer: str
    x_um: float
    y_um: float
    kind: str = "h"
    span_um: float = 0.0

    def as_dict(self) -> dict:
        d = {"name": self.name, "layer": self.layer, "x_um": self.x_um, "y_um": self.y_um, "kind": self.kind}
        if self.span_um:
            d["span_um"] = self.span_um
        return d


@dataclass
class CellResult:
    """A generated cell: GDS cell, SPICE subcircuit, pins, size and track slots."""

    name: str
    gds: gdstk.Cell
    subckt: Subckt
    pins: list[PinInfo]
    width_nm: int
    height_nm: int
    slot_y: dict[str, int] = field(default_factory=dict)  # net → track y (nm)


def slot_y(p: RowCellParams, k: int) -> int:
    """y (nm) of track slot ``k`` in the template of ``p``."""
    return NDIFF_B + p.wn_band + PAD + k * SLOT


@dataclass
class _Item:
    col: int
    net: str
    kind: str  # "sd" | "g"
    row: str   # "n" | "p"
    w: int = 0


def _check(p: RowCellParams) -> None:
    for ch in p.nmos + p.pmos:
        if not ch.fets:
            raise InputError(f"cell {p.name}: empty chain", file="cell params")
        w = ch.fets[0].w_nm
        for f in ch.fets:
            if f.w_nm < 420 or f.w_nm % 10:
                raise InputError(f"cell {p.name}: {f.name} w_nm={f.w_nm}; expected ≥ 420 on a 10 nm grid",
                                 file="cell params")
            if f.l_nm != LCH:
                raise InputError(f"cell {p.name}: {f.name} l_nm={f.l_nm}; the template draws L=150 nm only",
                                 file="cell params")
            if f.w_nm != w:
                raise InputError(f"cell {p.name}: chain widths differ ({f.name})", file="cell params")
        for a, b in zip(ch.fets, ch.fets[1:], strict=False):
            if a.right != b.left:
                raise InputError(f"cell {p.name}: {a.name}.right={a.right} ≠ {b.name}.left={b.left}; "
                                 "chained transistors must share the diffusion net", file="cell params")
    for kind, chains, band in (("nmos", p.nmos, p.wn_band), ("pmos", p.pmos, p.wp_band)):
        if any(ch.fets[0].w_nm > band for ch in chains):
            raise InputError(f"cell {p.name}: {kind} width above w{kind[0]}_band", file="cell params")


def _licon_ys(y0: int, w: int) -> list[int]:
    """Centres of the licons in a diffusion of height ``w`` starting at ``y0``."""
    n = max(1, (w - 80 + 170) // 340)
    return [y0 + w // 2 - (n - 1) * 170 + i * 340 for i in range(n)]


def _cx(c: int) -> int:
    """x (nm) of grid column ``c``."""
    return X0 + c * PITCH


def _place_chains(p: RowCellParams, port_nets: set[str]) -> list[tuple[str, Chain, list[int | None], list[int]]]:
    """Chains on the column grid: (row, chain, source/drain columns (None: uncontacted), gate columns).

    A chain-internal node used exactly twice (both neighbours) and not a port stays uncontacted."""
    net_uses: dict[str, int] = defaultdict(int)
    for ch in p.nmos + p.pmos:
        for f in ch.fets:
            for n in (f.left, f.gate, f.right):
                net_uses[n] += 1
    chain_cols: list[tuple[str, Chain, list[int | None], list[int]]] = []
    for row, chains in (("n", p.nmos), ("p", p.pmos)):
        nxt = 0
        for ch in chains:
            c = ch.col if ch.col >= 0 else nxt
            if c < nxt:
                raise InputError(f"cell {p.name}: chain at column {c} overlaps the previous chain "
                                 f"(next free column {nxt})", file="cell params")
            sd_cols: list[int | None] = [c]
            g_cols: list[int] = []
            cur = c
            for i, f in enumerate(ch.fets):
                g_cols.append(cur + 1)
                last = i == len(ch.fets) - 1
                node = f.right
                if (not last and net_uses[node] == 2 and node not in port_nets):
                    sd_cols.append(None)  # uncontacted: next gate directly at cur+2
                    cur = cur + 1
                else:
                    sd_cols.append(cur + 2)
                    cur = cur + 2
            chain_cols.append((row, ch, sd_cols, g_cols))
            nxt = cur + 2
    return chain_cols


def _cell_width(p: RowCellParams, chain_cols) -> int:
    n_cols = max([max(g + 1 for g in gc) + 1 for _, _, _, gc in chain_cols] or [0])
    xs_needed = [X0 + (n_cols - 1) * PITCH + X0] if n_cols else [2 * X0]
    for pt in p.ports:
        if pt.kind in ("v", "m4"):
            xs_needed.append(pt.x_nm + pt.span_nm + 400)
    for m in p.mims:
        xs_needed.append(m.x_nm + max(m.w_nm, 1000) // 2 + 140 + 300 + 150)
    width = max(max(xs_needed), p.min_width)
    return (width + 9) // 10 * 10


def _terminals(p: RowCellParams, chain_cols, vss: str, vdd: str) -> tuple[list[_Item], list[Device]]:
    """Terminal items per column and the transistors of the subcircuit."""
    tech = sky130()
    items: list[_Item] = []
    devices: list[Device] = []
    for row, ch, sd_cols, g_cols in chain_cols:
        w = ch.fets[0].w_nm
        nets_sd = [ch.fets[0].left] + [f.right for f in ch.fets]
        for k, c in enumerate(sd_cols):
            if c is not None:
                items.append(_Item(c, nets_sd[k], "sd", row, w))
        for f, g in zip(ch.fets, g_cols, strict=False):
            items.append(_Item(g, f.gate, "g", row, w))
            model = tech.devices["nfet" if row == "n" else "pfet"]
            bulk = vss if row == "n" else vdd
            devices.append(Device(f.name, "X", (f.left, f.gate, f.right, bulk), model=model,
                                  params={"W": f.w_nm / 1000, "L": f.l_nm / 1000, "nf": 1}))
    for it in items:
        if it.net == vss and (it.row == "p" or it.kind == "g"):
            raise InputError(f"cell {p.name}: {vss} on a pmos/gate terminal is not supported by the "
                             "row template", file="cell params")
        if it.net == vdd and (it.row == "n" or it.kind == "g"):
            raise InputError(f"cell {p.name}: {vdd} on an nmos/gate terminal is not supported by the "
                             "row template", file="cell params")
    return items, devices


def _track_spans(p: RowCellParams, items: list[_Item], power: tuple[str, str], port_nets: set[str],
                 width: int) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Nets that need a met2 track: (net → x span of its terminals, net → drawn track extent)."""
    cols_of: dict[str, set[int]] = defaultdict(set)
    for it in items:
        if it.net not in power:
            cols_of[it.net].add(it.col)
    extra_x: dict[str, list[int]] = defaultdict(list)
    for m in p.mims:
        extra_x[m.bot].append(_mim_via2_x(m))
    tracked: dict[str, tuple[int, int]] = {}
    for net, cs in cols_of.items():
        xs = [_cx(c) for c in cs] + extra_x.get(net, [])
        if len(cs) > 1 or net in port_nets or net in extra_x:
            tracked[net] = (min(xs), max(xs))
    for pt in p.ports:
        if pt.kind in ("power", "m4"):
            continue
        lo, hi = tracked.get(pt.net, (None, None))
        if lo is None and pt.net not in cols_of:
            raise InputError(f"cell {p.name}: port {pt.net} touches no transistor", file="cell params")
        if pt.kind == "v":
            lo, hi = min(lo, pt.x_nm), max(hi, pt.x_nm + pt.span_nm)
        tracked[pt.net] = (lo, hi)
    extent: dict[str, tuple[int, int]] = {}
    for net, (lo, hi) in tracked.items():
        a, b = lo - 160, hi + 160
        if net in extra_x:  # a via2 at the track's end keeps via2.5's 0.085 on its end edge
            b = max(b, max(extra_x[net]) + _VIA2 // 2 + _VIA2_END)
        pt = next((q for q in p.ports if q.net == net and q.kind in ("h", "v")), None)
        if pt is not None and pt.kind == "v":
            a, b = min(a, pt.x_nm - 200), max(b, pt.x_nm + pt.span_nm + 200)
        if pt is not None and pt.kind == "h":
            if "l" in pt.sides:
                a = 0
            if "r" in pt.sides:
                b = width
        extent[net] = (max(a, 0 if a == 0 else 140), b if b == width else min(b, width - 140))
    return tracked, extent


def _below(items: list[_Item], tracked) -> tuple[dict[int, dict[str, _Item]], dict[str, set[str]]]:
    """Vertical constraints: at a column, the nmos item's track must lie below the pmos item's.
    Returns (column → row → item, net → nets that must be strictly below it)."""
    by_col: dict[int, dict[str, _Item]] = defaultdict(dict)
    for it in items:
        by_col[it.col][it.row] = it
    below: dict[str, set[str]] = defaultdict(set)
    for rows in by_col.values():
        if "n" in rows and "p" in rows:
            a, b = rows["n"].net, rows["p"].net
            if a != b and a in tracked and b in tracked:
                below[b].add(a)
    return by_col, below


@dataclass
class _Frame:
    """Vertical frame of a row cell (nm): gate-pad rows, pmos band, height, nwell bottom."""

    yn_pad: int
    yp_pad: int
    pb: int
    pt_top: int
    height: int
    nwell_bot: int


def _frame(p: RowCellParams, slot_of: dict[str, int]) -> _Frame:
    n_slots = max(max(slot_of.values(), default=0) + 1, p.min_slots, 2)  # 2 slots: gate pads joined (_draw_chains)
    if p.mims:
        need = max(m.l_nm for m in p.mims) + 2 * 140 + 600
        while (n_slots - 1) * SLOT - 400 < need:
            n_slots += 1
    yp_pad = slot_y(p, n_slots - 1)
    pb = yp_pad + PAD                      # pmos band bottom
    pt_top = pb + p.wp_band                # pmos band top
    return _Frame(slot_y(p, 0), yp_pad, pb, pt_top, pt_top + TOP_MARGIN, pb - 630)


def _draw_wells(d: Drawing, p: RowCellParams, W: int, f: _Frame, vss: str, vdd: str) -> None:
    """Wells, implants, p-/n-tap strips with contacts, met1 rails."""
    H = f.height
    d.rect("psdm", 0, 0, W, 625)
    d.rect("nsdm", 0, 625, W, NDIFF_B + p.wn_band + 125)
    d.rect("nwell", 0, f.nwell_bot, W, H)
    d.rect("psdm", 0, f.pb - 125, W, H - 655)
    d.rect("nsdm", 0, H - 655, W, H)
    for y_lo, y_hi, net, lbl_y in ((150, 490, vss, 290), (H - 520, H - 180, vdd, H - 290)):
        if y_lo > 0 and net == vdd and not p.ntaps:
            continue
        inset = 140 if net == vss else 180  # difftap.3 across abutment / difftap.10 to the edge
        d.rect("tap", inset, y_lo, W - inset, y_hi)
        yc = (y_lo + y_hi) // 2
        # the li strip stops li.3/2 short of the cell edges: abutting cells' strips would merge into
        # one polygon per row across the whole array, which costs the precheck deck's li.5 enclosure
        # check minutes (quadratic in the row length) instead of milliseconds per cell
        d.rect("li", LI_EDGE, yc - 100, W - LI_EDGE, yc + 100)
        n_ct = max(1, (W - 2 * inset - 240) // 340 + 1)
        x_first = (W - (n_ct - 1) * 340) // 2
        for i in range(n_ct):
            x = x_first + i * 340
            d.box("licon", x, yc, 170, 170)
            if i % 2 == 0 and x - 85 >= 70 and x + 85 <= W - 70:
                d.box("mcon", x, yc, 170, 170)
        rail_lo, rail_hi = (RAIL_Y - RAIL_W // 2, RAIL_Y + RAIL_W // 2) if net == vss else \
            (H - RAIL_Y - RAIL_W // 2, H - RAIL_Y + RAIL_W // 2)
        d.rect("met1", 0, rail_lo, W, rail_hi)
        d.label("met1.label", net, W // 2, lbl_y)


def _draw_chains(d: Drawing, p: RowCellParams, chain_cols, f: _Frame, tracked, by_col,
                 vss: str, vdd: str) -> dict[int, list[tuple[str, str, int]]]:
    """Diffusion chains, gates, contacts; returns column → (row, net, mcon y) of met1 stubs."""
    stub_ys: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for row, ch, sd_cols, g_cols in chain_cols:
        w = ch.fets[0].w_nm
        y0, y1 = (NDIFF_B, NDIFF_B + w) if row == "n" else (f.pt_top - w, f.pt_top)
        nets_sd = [ch.fets[0].left] + [fet.right for fet in ch.fets]
        d.rect("diff", _cx(sd_cols[0]) - 85 - 60, y0, _cx(sd_cols[-1]) + 85 + 60, y1)
        for k, c in enumerate(sd_cols):
            if c is None:
                continue
            x = _cx(c)
            ys = _licon_ys(y0, w)
            for y in ys:
                d.box("licon", x, y, 170, 170)
            li_lo, li_hi = ys[0] - 85 - 80, ys[-1] + 85 + 80
            net = nets_sd[k]
            if net == vss:
                li_lo = 400
            if net == vdd:
                li_hi = f.height - 400
            d.rect("li", x - 85, li_lo, x + 85, li_hi)
            if net in tracked or _gate_shared(by_col, c):
                ym = ys[-1] if row == "n" else ys[0]
                d.box("mcon", x, ym, 170, 170)
                stub_ys[c].append((row, net, ym))
        for fet, g in zip(ch.fets, g_cols, strict=False):
            x = _cx(g)
            if row == "n":
                ypad = f.yn_pad
                d.rect("poly", x - 75, y0 - 130, x + 75, ypad)
            else:
                ypad = f.yp_pad
                d.rect("poly", x - 75, ypad, x + 75, y1 + 130)
            d.box("poly", x, ypad, 270, 330)
            ng = by_col.get(g, {}).get("n") if row == "p" and f.yp_pad - f.yn_pad <= SLOT else None
            if ng is not None and ng.kind == "g":  # 2-slot frame: n and p pads of a column overlap: one net, joined
                if ng.net != fet.gate:
                    raise InputError(f"cell {p.name}: 2-slot cell with gates {ng.net}/{fet.gate} in column {g}; "
                                     "expected one net per gate column", file="cell params")
                d.rect("poly", x - 135, f.yn_pad, x + 135, ypad), d.rect("li", x - 85, f.yn_pad, x + 85, ypad)
            d.box("licon", x, ypad, 170, 170)
            d.box("li", x, ypad, 170, 340)
            if fet.gate in tracked or _gate_shared(by_col, g):
                d.box("mcon", x, ypad, 170, 170)
                stub_ys[g].append((row, fet.gate, ypad))
    return stub_ys


def _draw_stubs(d: Drawing, stub_ys: dict[int, list[tuple[str, str, int]]], y_of: dict[str, int]) -> None:
    """met1 stubs from the terminals and via1 onto the tracks."""
    for c, lst in stub_ys.items():
        x = _cx(c)
        nets = {net for _, net, _ in lst}
        if len(nets) == 1:
            net = lst[0][1]
            ys = [y for _, _, y in lst]
            lo, hi = min(ys) - 160, max(ys) + 160
            if net in y_of:
                lo, hi = min(lo, y_of[net] - 160), max(hi, y_of[net] + 160)
                d.box("via", x, y_of[net], 150, 150)
            d.rect("met1", x - 130, lo, x + 130, hi)
        else:
            for _row, net, ym in lst:
                yt = y_of[net]
                d.rect("met1", x - 130, min(ym - 160, yt - 160), x + 130, max(ym + 160, yt + 160))
                d.box("via", x, yt, 150, 150)


def _draw_mims(d: Drawing, p: RowCellParams, f: _Frame, y_of: dict[str, int],
               port_nets: set[str]) -> tuple[list[Device], list[PinInfo]]:
    """MIM capacitors: capm, met3 bottom plate with its via2 onto the bottom net's track, via3 and
    met4 top-plate pin; returns (devices, pins)."""
    tech = sky130()
    cap_devices: list[Device] = []
    mim_pins: list[PinInfo] = []
    for m in p.mims:
        cy = (f.yn_pad + f.nwell_bot) // 2 // GRID * GRID
        x0, x1 = m.x_nm - m.w_nm // 2, m.x_nm + m.w_nm // 2
        y0, y1 = cy - m.l_nm // 2, cy + m.l_nm // 2
        d.rect("capm", x0, y0, x1, y1)
        xv = _mim_via2_x(m)
        yb = y_of[m.bot]
        d.rect("met3", x0 - 140, min(y0 - 140, yb - 165), xv + 165, max(y1 + 140, yb + 165))
        d.box("via2", xv, yb, _VIA2, _VIA2)
        d.box("via3", m.x_nm, cy, 200, 200)
        d.box("met4", m.x_nm, cy, 500, 500)
        d.label("met4.label", m.top, m.x_nm, cy)
        mim_pins.append(PinInfo(m.top, "met4", m.x_nm / 1000, cy / 1000, "m4"))
        cap_devices.append(Device(m.name, "X", (m.bot, m.top), model=tech.devices["mim"],
                                  params={"W": m.w_nm / 1000, "L": m.l_nm / 1000, "MF": 1}))
        if m.top not in port_nets:
            raise InputError(f"cell {p.name}: MIM top net {m.top} must be an m4 port", file="cell params")
    return cap_devices, mim_pins


def _pins(d: Drawing, p: RowCellParams, W: int, H: int, y_of, extent, vss: str) -> list[PinInfo]:
    """Pin abstract entries and met2 labels of the ports."""
    pins: list[PinInfo] = []
    for pt in p.ports:
        if pt.kind == "power":
            y = RAIL_Y if pt.net == vss else H - RAIL_Y
            pins.append(PinInfo(pt.net, "met1", W / 2000, y / 1000, "power"))
        elif pt.kind != "m4":
            y = y_of[pt.net]
            a, b = extent[pt.net]
            x = pt.x_nm if pt.kind == "v" else ((a + b) // 2 if pt.sides == "lr" else (a if pt.sides == "l" else b))
            if pt.kind == "h":
                x = max(min(x, W - 50), 50)
            d.label("met2.label", pt.net, x, y)
            pins.append(PinInfo(pt.net, "met2", x / 1000, y / 1000, pt.kind, pt.span_nm / 1000))
    return pins


@lru_cache(maxsize=256)
def row_cell(p: RowCellParams) -> CellResult:
    """Draw the row cell ``p``: GDS, SPICE subcircuit and pin abstract (cached by params)."""
    if p.hand:
        from eda.layout.bitcell8t_template import hand_cell
        return hand_cell(p)
    _check(p)
    d = Drawing()
    port_nets = {pt.net for pt in p.ports}
    power = {pt.net for pt in p.ports if pt.kind == "power"}
    vss = next((n for n in power if n.upper().startswith(("VSS", "GND"))), "VSS")
    vdd = next((n for n in power if n.upper().startswith(("VDD", "VPWR"))), "VDD")
    chain_cols = _place_chains(p, port_nets)
    W = _cell_width(p, chain_cols)
    items, devices = _terminals(p, chain_cols, vss, vdd)
    tracked, extent = _track_spans(p, items, (vss, vdd), port_nets, W)
    by_col, below = _below(items, tracked)
    slot_of = _assign_slots(p, tracked, extent, below)
    y_of = {n: slot_y(p, k) for n, k in slot_of.items()}
    f = _frame(p, slot_of)
    _draw_wells(d, p, W, f, vss, vdd)
    _draw_stubs(d, _draw_chains(d, p, chain_cols, f, tracked, by_col, vss, vdd), y_of)
    ys = [y for y, on in ((f.yn_pad, p.nmos), (f.yp_pad, p.pmos)) if on]
    for lo, hi in [(ys[0], ys[-1])] if ys and ys[-1] - ys[0] <= SLOT else [(y, y) for y in ys]:  # 2 slots: 1 band
        d.rect("npc", 0, lo - 185, W, hi + 185)
    for net, y in y_of.items():
        d.rect("met2", extent[net][0], y - TRACK // 2, extent[net][1], y + TRACK // 2)
    cap_devices, mim_pins = _draw_mims(d, p, f, y_of, port_nets)
    pins = _pins(d, p, W, f.height, y_of, extent, vss) + mim_pins
    d.rect("prbndry", 0, 0, W, f.height)
    sub = Subckt(p.name, tuple(pt.net for pt in p.ports), devices=devices + cap_devices)
    return CellResult(p.name, to_gdstk(d, p.name, sky130()), sub, pins, W, f.height, dict(y_of))


def _gate_shared(by_col: dict[int, dict[str, _Item]], col: int) -> bool:
    """Both rows have the same net at ``col``: one straight met1 stub joins them."""
    rows = by_col.get(col, {})
    return "n" in rows and "p" in rows and rows["n"].net == rows["p"].net


def _mim_via2_x(m: Mim) -> int:
    # via2 onto the bottom plate, right of capm by capm.5 (0.14) + half via
    return m.x_nm + m.w_nm // 2 + 140 + 100 + 10


def _assign_slots(p: RowCellParams, tracked: dict[str, tuple[int, int]],
                  extent: dict[str, tuple[int, int]], below: dict[str, set[str]]) -> dict[str, int]:
    """Constrained left-edge track packing; fixed-slot ports first at their slot."""
    fixed = {pt.net: pt.slot for pt in p.ports if pt.kind == "h" and pt.slot >= 0}
    unplaced = set(tracked)
    slot_of: dict[str, int] = {}
    k = 0
    max_fixed = max(fixed.values(), default=-1)
    while unplaced:
        if k > 4 * len(tracked) + max_fixed + 4:
            raise InputError(f"cell {p.name}: cannot route nets {sorted(unplaced)}: cyclic vertical "
                             "constraints (reorder the transistor chains)", file="cell params")
        used: list[tuple[int, int]] = []
        for net, s in fixed.items():
            if s == k:
                if not all(b in slot_of and slot_of[b] < k for b in below[net]):
                    raise InputError(f"cell {p.name}: fixed track {net} at slot {k} sits below a net it "
                                     "must be above", file="cell params")
                slot_of[net] = k
                unplaced.discard(net)
                used.append(extent[net])
        cands = sorted((n for n in unplaced if n not in fixed
                        and all(b in slot_of and slot_of[b] < k for b in below[n])),
                       key=lambda n: (extent[n][0], extent[n][1], n))
        for n in cands:
            a, b = extent[n]
            if all(b + 140 <= u0 or a >= u1 + 140 for u0, u1 in used):
                slot_of[n] = k
                unplaced.discard(n)
                used.append((a, b))
        k += 1
    return slot_of
