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
capacitors exactly binary-weighted (the rule of ``eda.generators.acim_model``, shared with the
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

from dataclasses import dataclass, field

import gdstk

from eda.circuit import Circuit, Device, Subckt
from eda.errors import InputError
from eda.generators.acim_model import check_dac_fit, dac_group_sizes
from eda.layout.geometry import Drawing, to_gdstk
from eda.layout.library import CellInfo, CellLibrary
from eda.tech.sky130 import sky130

M3W = 330      # met3 line width (via2 0.2 + 2 × m3.4 0.065)
M4W = 330      # met4 line width (via3 0.2 + 2 × m4.3 0.065)
TRACK = 280    # met2 track width of the cell template
SPINE_W = 400
SPINE_PITCH = 800
GLOBAL_SPINES = ("VSS", "VDD", "PCHB", "EN", "ENB", "RST", "VREFP", "VREFN", "SCLK", "SRST", "SRSTB")


@dataclass(frozen=True)
class MacroParams:
    """What to build.

    Attributes:
        rows: array rows H (inputs).
        cols: array columns W (one ADC per column).
        local: local array size L (bitcells sharing one compute cell); divides ``rows``.
        adc_bits: SAR ADC resolution B (1 .. the library template's ``max_adc_bits``); 2^B must
            divide rows/local (the binary DAC is built from the column's compute caps).
        name: top cell name.
    """

    rows: int
    cols: int
    local: int
    adc_bits: int
    name: str = "acim_macro"

    def validate(self, max_bits: int) -> None:
        for f in ("rows", "cols", "local", "adc_bits"):
            v = getattr(self, f)
            if not isinstance(v, int) or v < 1:
                raise InputError(f"field '{f}': {v!r}; expected a positive integer", file="macro params")
        if self.adc_bits > max_bits:
            raise InputError(f"field 'adc_bits': {self.adc_bits} bits; the cell library's column template wires "
                             f"at most {max_bits} DAC lines", file="macro params")
        check_dac_fit(self.rows, self.local, self.adc_bits, local_field="local", where="macro params")
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


def dac_groups(n_local: int, bits: int) -> list[int]:
    """Local arrays per DAC group: ``bits`` binary groups 2^(B-1-k)·Δ (MSB first), then the
    termination group Δ; Δ = n_local / 2^B exactly (the model's rule,
    :func:`eda.generators.acim_model.dac_group_sizes`)."""
    return dac_group_sizes(n_local, bits)


def _nm(v: float) -> int:
    return int(round(v * 1000))


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


def _subckt(info: CellInfo) -> list[Subckt]:
    from eda.read.from_spice import read_spice

    c = read_spice(info.spice)
    if not any(s.name.lower() == info.name.lower() for s in c.subckts):
        raise InputError(f"SPICE file defines no subckt {info.name!r}", file=info.spice)
    return c.subckts


def _pin(info: CellInfo, name: str):
    try:
        return info.pin(name)
    except KeyError:
        raise InputError(f"cell {info.name} lacks pin {name!r} needed by the macro template",
                         file=info.gds.parent / "manifest.json") from None


def build_macro(p: MacroParams, lib: CellLibrary) -> Macro:
    """Place and route the macro ``p`` from the cells of ``lib``."""
    tech = sky130()
    max_bits = int(lib.template.get("max_adc_bits", 4))
    p.validate(max_bits)
    C = {r: lib.cell(r) for r in ("bitcell", "compute", "wl_driver", "in_driver", "comparator", "sar_bit",
                                  "sar_seq", "dac_switch", "tap")}
    P = _nm(C["bitcell"].width_um)
    for r in ("compute", "comparator", "sar_bit", "sar_seq", "dac_switch"):
        if _nm(C[r].width_um) != P:
            raise InputError(f"{r} cell {C[r].name} is {C[r].width_um} µm wide; column cells must match the "
                             f"bitcell pitch {P / 1000} µm", file=lib.path / "manifest.json")
    hb = _nm(C["bitcell"].height_um)
    for r in ("wl_driver", "in_driver", "tap"):
        if _nm(C[r].height_um) != hb:
            raise InputError(f"{r} cell {C[r].name} height {C[r].height_um} µm ≠ bitcell row height",
                             file=lib.path / "manifest.json")
    H = {r: _nm(C[r].height_um) for r in C}
    Wd = {r: _nm(C[r].width_um) for r in ("wl_driver", "in_driver", "tap")}
    G, L, W, B = p.rows // p.local, p.local, p.cols, p.adc_bits
    groups = dac_groups(G, B)  # B binary groups, then the termination group (index B)
    group_of = [k for k, n in enumerate(groups) for _ in range(n)]
    assert len(group_of) == G

    glib = gdstk.Library(name=p.name, unit=1e-6, precision=1e-9)
    cache: dict = {}
    gc = {r: _cell_from_lib(glib, C[r], cache) for r in C}

    def pin(role: str, name: str) -> tuple[int, int]:
        q = _pin(C[role], name)
        return _nm(q.x_um), _nm(q.y_um)

    # x of the vertical template lines, from the pins
    x_rbl, _ = pin("bitcell", "RBL")
    x_bl, _ = pin("bitcell", "BL")
    x_blb, _ = pin("bitcell", "BLB")
    x_cmp, _ = pin("comparator", "OUTP")
    x_bit, _ = pin("sar_bit", "BIT")
    x_cl, _ = pin("compute", "CL")
    mim_side = _nm(float(lib.template.get("mim_side_um", 1.0)))
    x_dacs = [_nm(x) for x in lib.template.get("x_dac_um", [])][:B]
    if len(x_dacs) < B:
        raise InputError("library template lacks x_dac_um for the DAC lines", file=lib.path / "manifest.json")
    # the termination group's VB line reuses DAC line 0's x: the termination local arrays sit above
    # every binary group, where line 0 (ending at the MSB group's top) leaves the x free
    x_vb = x_dacs + [x_dacs[0]]
    x_seq = [_nm(x) for x in lib.template.get("x_seq_um", [])]
    if len(x_seq) != 2:
        raise InputError("library template lacks x_seq_um (the two SAR sequencer line x's)",
                         file=lib.path / "manifest.json")

    # ---- hierarchy: tile = a cell plus its via2s and full-height line segments (arrays of tiles
    # abut, so the array's vertical lines need no flat shapes); local-array block = compute tile +
    # L bitcell tiles, one variant per SAR group q (where its via2 drops onto DAC line q). Blocks are
    # the schematic's local-array subcircuits, so LVS compares each variant once.
    tiles: dict[tuple, gdstk.Cell] = {}

    def tile(role: str, q: int) -> gdstk.Cell:
        key = (role, q if role == "compute" else -1)
        if key in tiles:
            return tiles[key]
        h = H[role]
        d = Drawing()
        if role == "bitcell":
            for n in ("BL", "BLB", "RBL"):
                x, yy = pin(role, n)
                d.box("via2", x, yy, 200, 200)
                d.rect("met3", x - M3W // 2, 0, x + M3W // 2, h)
        else:
            x, yy = pin(role, "RBL")
            d.box("via2", x, yy, 200, 200)
            d.rect("met3", x - M3W // 2, yy - M3W // 2, x + M3W // 2, h)
            _bitlines_over_mim(d, (x_bl, x_blb), h, pin("compute", "CL")[1], mim_side)
            d.box("via2", x_vb[q], pin("compute", "VB")[1], 200, 200)
        d.rect("met4", x_cl - M4W // 2, 0, x_cl + M4W // 2, h)
        t = to_gdstk(d, f"{p.name}_{role}_tile" + (f"_{q}" if role == "compute" else ""), tech)
        t.add(gdstk.Reference(gc[role]))
        glib.add(t)
        tiles[key] = t
        return t

    blocks: dict[int, gdstk.Cell] = {}

    def block(q: int) -> gdstk.Cell:
        if q not in blocks:
            b = gdstk.Cell(f"{p.name}_local_{q}")
            b.add(gdstk.Reference(tile("compute", q)))
            b.add(gdstk.Reference(tile("bitcell", q), (0, H["compute"] / 1000), columns=1, rows=L,
                                  spacing=(0, hb / 1000)))
            # row labels: the L rows are symmetric, so names pin each block port to its row for LVS
            lay2, lay1 = tech.layer("met2.label"), tech.layer("met1.label")
            for r in range(L):
                y0 = H["compute"] + r * hb
                for n in ("WL", "RWL"):
                    b.add(gdstk.Label(f"{n}_{r}", (P / 2000, (y0 + pin("bitcell", n)[1]) / 1000),
                                      layer=lay2.layer, texttype=lay2.datatype))
                b.add(gdstk.Label(f"VDD_{r}", (P / 2000, (y0 + pin("bitcell", "VDD")[1]) / 1000),
                                  layer=lay1.layer, texttype=lay1.datatype))
            b.add(gdstk.Label("VDDC", (P / 2000, pin("compute", "VDD")[1] / 1000), layer=lay1.layer,
                              texttype=lay1.datatype))
            glib.add(b)
            blocks[q] = b
        return blocks[q]

    top = gdstk.Cell(p.name)
    glib.add(top)
    d = Drawing()
    n_sp = len(GLOBAL_SPINES)
    x_left_cells = -(Wd["wl_driver"] + Wd["tap"])
    margin = 600 + n_sp * SPINE_PITCH
    X_L = x_left_cells - margin
    spine_x = {n: X_L + 500 + i * SPINE_PITCH for i, n in enumerate(GLOBAL_SPINES)}
    X_R = W * P + Wd["in_driver"] + Wd["tap"]
    spine_pts: dict[str, list[int]] = {n: [] for n in GLOBAL_SPINES}

    def ref(cell: gdstk.Cell, x: int, y: int, cols: int = 1, rows: int = 1, dx: int = 0, dy: int = 0) -> None:
        top.add(gdstk.Reference(cell, (x / 1000, y / 1000), columns=cols, rows=rows,
                                spacing=(dx / 1000, dy / 1000) if (cols > 1 or rows > 1) else None))

    def rails(y0: int, h: int, x_from: int) -> None:
        """Extend a row's met1 rails left to the spines and drop via stacks onto them."""
        for net, yc in (("VSS", y0 + 290), ("VDD", y0 + h - 290)):
            xs = spine_x[net]
            d.rect("met1", xs - 300, yc - 190, x_from, yc + 190)
            d.box("via", xs, yc, 150, 150)
            d.box("met2", xs, yc, 400, 400)
            d.box("via2", xs, yc, 200, 200)
            spine_pts[net].append(yc)

    def hext(y: int, x_from: int, x_to: int, spine: str | None = None, label: str | None = None,
             label_x: int | None = None) -> None:
        d.rect("met2", x_to, y - TRACK // 2, x_from, y + TRACK // 2)
        if spine is not None:
            d.box("via2", spine_x[spine], y, 200, 200)
            spine_pts[spine].append(y)
        if label is not None:
            d.label("met2.label", label, (label_x if label_x is not None else x_to + 100), y)

    def vline(layer: str, x: int, y0: int, y1: int, w: int) -> None:
        d.rect(layer, x - w // 2, min(y0, y1), x + w // 2, max(y0, y1))

    # ---- ADC rows, bottom-up: comparator, sequencer stage B (end of conversion), then per bit
    # k = B-1 .. 0 the rows sar_k (result flip-flop), seq_k (sequencer stage), dac_k
    y = 0
    ref(gc["comparator"], 0, y, W, 1, P, 0)
    rails(y, H["comparator"], 0)
    for net in ("INN", "CLK"):
        _, yy = pin("comparator", net)
        hext(y + yy, 0, X_L, None, net)
    y_cmp_pin = y + pin("comparator", "OUTP")[1]
    y_inp = y + pin("comparator", "INP")[1]
    y += H["comparator"]
    y_sar, y_seq, y_dac = {}, {}, {}

    def seq_row(k: int) -> None:
        nonlocal y
        y_seq[k] = y
        ref(gc["sar_seq"], 0, y, W, 1, P, 0)
        rails(y, H["sar_seq"], 0)
        for net in ("SCLK", "SRSTB"):
            hext(y + pin("sar_seq", net)[1], 0, X_L, net)
        y += H["sar_seq"]

    seq_row(B)
    for k in reversed(range(B)):
        y_sar[k] = y
        ref(gc["sar_bit"], 0, y, W, 1, P, 0)
        rails(y, H["sar_bit"], 0)
        hext(y + pin("sar_bit", "SRST")[1], 0, X_L, "SRST")
        y += H["sar_bit"]
        seq_row(k)
        y_dac[k] = y
        ref(gc["dac_switch"], 0, y, W, 1, P, 0)
        rails(y, H["dac_switch"], 0)
        hext(y + pin("dac_switch", "VREFP")[1], 0, X_L, "VREFP")
        hext(y + pin("dac_switch", "VREFN")[1], 0, X_L, "VREFN")
        y += H["dac_switch"]
    y_adc_top = y

    # ---- local arrays
    y_comp, y_bits = [], []
    for g in range(G):
        y_comp.append(y)
        ref(block(group_of[g]), 0, y, W, 1, P, 0)
        rails(y, H["compute"], 0)
        for net in ("PCHB", "EN", "ENB", "RST"):
            hext(y + pin("compute", net)[1], 0, X_L, net)
        y += H["compute"]
        y_bits.append(y)
        ref(gc["wl_driver"], -Wd["wl_driver"], y, 1, L, 0, hb)
        ref(gc["tap"], x_left_cells, y, 1, L, 0, hb)
        ref(gc["in_driver"], W * P, y, 1, L, 0, hb)
        ref(gc["tap"], W * P + Wd["in_driver"], y, 1, L, 0, hb)
        for r in range(L):
            row = g * L + r
            yr = y + r * hb
            rails(yr, hb, x_left_cells)
            hext(yr + pin("wl_driver", "WLIN")[1], -Wd["wl_driver"], X_L, None, f"WLIN_{row}")
            yi = yr + pin("in_driver", "IN")[1]
            d.rect("met2", W * P + Wd["in_driver"], yi - TRACK // 2, X_R, yi + TRACK // 2)
            d.label("met2.label", f"IN_{row}", X_R - 100, yi)
        y += L * hb
    y_top = y
    # the termination strap: met3 above the array's top edge (m3.2 spacing 0.3 µm from the BL/BLB
    # line ends), from the VREFN spine to the last column's termination line
    y_strap = y_top + 300 + M3W // 2
    y_end = y_strap + M3W // 2
    spine_pts["VREFN"].append(y_strap)

    # ---- vertical lines per column in the ADC region (the array's are in the tiles)
    for j in range(W):
        x0 = j * P
        for x, net in ((x_bl, "BL"), (x_blb, "BLB")):
            d.label("met3.label", f"{net}_{j}", x0 + x, y_top - 200)
        # CL: met4 from the comparator INP stack up to the array (tiles continue it)
        d.box("via2", x0 + x_cl, y_inp, 200, 200)
        d.box("met3", x0 + x_cl, y_inp, 500, 500)
        d.box("via3", x0 + x_cl, y_inp, 200, 200)
        vline("met4", x0 + x_cl, y_inp - 250, y_adc_top, M4W)
        # CMP: comparator OUTP to every sar_bit CMP
        ys = [y_cmp_pin] + [y_sar[k] + pin("sar_bit", "CMP")[1] for k in range(B)]
        for yy in ys:
            d.box("via2", x0 + x_cmp, yy, 200, 200)
        vline("met3", x0 + x_cmp, min(ys) - M3W // 2, max(ys) + M3W // 2, M3W)
        # BIT_k: sar_k to dac_k
        for k in range(B):
            a = y_sar[k] + pin("sar_bit", "BIT")[1]
            b = y_dac[k] + pin("dac_switch", "BIT")[1]
            d.box("via2", x0 + x_bit, a, 200, 200)
            d.box("via2", x0 + x_bit, b, 200, 200)
            vline("met3", x0 + x_bit, a - M3W // 2, b + M3W // 2, M3W)
            d.label("met3.label", f"BIT_{k}_{j}", x0 + x_bit, (a + b) // 2)
        # termination: from the lowest termination compute cell's VB (via2 in its block) up to the strap
        g_t = group_of.index(B)
        vline("met3", x0 + x_vb[B], y_comp[g_t] + pin("compute", "VB")[1] - M3W // 2, y_end, M3W)
        # V_k: sequencer stage k's output to stage k+1's input, bit k's DAC switch enable and bit
        # k-1's result clock; consecutive lines overlap in y, so they alternate between two x's
        for k in range(B + 1):
            ys = [y_seq[k] + pin("sar_seq", "V")[1]]
            if k < B:
                ys += [y_seq[k + 1] + pin("sar_seq", "VIN")[1], y_dac[k] + pin("dac_switch", "V")[1]]
            if k >= 1:
                ys.append(y_sar[k - 1] + pin("sar_bit", "CK")[1])
            xk = x0 + x_seq[k % 2]
            for yy in ys:
                d.box("via2", xk, yy, 200, 200)
            vline("met3", xk, min(ys) - M3W // 2, max(ys) + M3W // 2, M3W)
        # sequencer stage 0 takes D = 1: its VIN line rises to the stage's own VDD rail (via2-met2-via1)
        xt, ya = x0 + x_seq[1], y_seq[0] + pin("sar_seq", "VIN")[1]
        yv = y_seq[0] + H["sar_seq"] - 290
        d.box("via2", xt, ya, 200, 200)
        vline("met3", xt, ya - M3W // 2, yv + M3W // 2, M3W)
        d.box("via2", xt, yv, 200, 200)
        d.box("met2", xt, yv, 400, 400)
        d.box("via", xt, yv, 150, 150)
        # DAC_k: dac_k output up to the last compute cell of group k (its via2 is in the block)
        for k in range(B):
            xk = x0 + x_dacs[k]
            ya = y_dac[k] + pin("dac_switch", "DAC")[1]
            g_last = max(g for g in range(G) if group_of[g] == k)
            d.box("via2", xk, ya, 200, 200)
            vline("met3", xk, ya - M3W // 2, y_comp[g_last] + pin("compute", "VB")[1] + M3W // 2, M3W)

    d.rect("met3", spine_x["VREFN"] - SPINE_W // 2, y_end - M3W, (W - 1) * P + x_vb[B] + M3W // 2, y_end)

    # ---- spines (only VREFN reaches above the array, to the termination strap)
    for net, pts in spine_pts.items():
        if not pts:
            continue
        xs = spine_x[net]
        d.rect("met3", xs - SPINE_W // 2, max(min(pts) - 350, 0), xs + SPINE_W // 2,
               min(max(pts) + 350, y_end if net == "VREFN" else y_top))
        d.label("met3.label", net, xs, min(pts))
    d.rect("prbndry", X_L, 0, X_R, y_end)
    routing = to_gdstk(d, f"{p.name}_routing", tech)
    for shape in routing.polygons:
        top.add(shape)
    for lb in routing.labels:
        top.add(lb)

    # ---- schematic
    subs: dict[str, Subckt] = {}
    for r in C:
        for s in _subckt(C[r]):
            subs.setdefault(s.name.lower(), s)
    ports_of = {r: subs[C[r].name.lower()].ports for r in C}
    devices: list[Device] = []

    def inst(role: str, name: str, conn: dict[str, str]) -> None:
        ports = ports_of[role]
        try:
            nodes = tuple(conn[q] if q in conn else _global(q) for q in ports)
        except KeyError as e:
            raise InputError(f"cell {C[role].name}: port {e.args[0]} has no macro connection",
                             file=C[role].spice) from None
        devices.append(Device(name, "X", nodes, model=C[role].name))

    for j in range(W):
        inst("comparator", f"XCMP_{j}", {"INP": f"CL_{j}", "OUTP": f"CMP_{j}"})
        for k in range(B + 1):
            inst("sar_seq", f"XSEQ_{k}_{j}", {"VIN": f"V_{k - 1}_{j}" if k else "VDD", "V": f"V_{k}_{j}"})
        for k in range(B):
            inst("sar_bit", f"XSAR_{k}_{j}", {"CMP": f"CMP_{j}", "CK": f"V_{k + 1}_{j}", "BIT": f"BIT_{k}_{j}"})
            inst("dac_switch", f"XDAC_{k}_{j}", {"BIT": f"BIT_{k}_{j}", "V": f"V_{k}_{j}",
                                                 "DAC": f"DAC_{k}_{j}"})
        for g in range(G):
            q = group_of[g]
            vb = f"DAC_{q}_{j}" if q < B else "VREFN"  # the termination group is held at the reference
            nodes = ([f"BL_{j}", f"BLB_{j}", f"CL_{j}", vb] + [f"WL_{g * L + r}" for r in range(L)]
                     + [f"RWL_{g * L + r}" for r in range(L)] + ["PCHB", "EN", "ENB", "RST", "VSS", "VDD"]
                     + ["VDD"] * L)
            devices.append(Device(f"XLA_{g}_{j}", "X", tuple(nodes), model=blocks[q].name))
    for row in range(p.rows):
        inst("wl_driver", f"XWD_{row}", {"WLIN": f"WLIN_{row}", "WL": f"WL_{row}"})
        inst("in_driver", f"XID_{row}", {"IN": f"IN_{row}", "RWL": f"RWL_{row}"})
        inst("tap", f"XTL_{row}", {})
        inst("tap", f"XTR_{row}", {})
    ports = (["VDD", "VSS", "PCHB", "EN", "ENB", "RST", "VREFP", "VREFN", "INN", "CLK", "SCLK", "SRST", "SRSTB"]
             + [f"WLIN_{r}" for r in range(p.rows)]
             + [f"IN_{r}" for r in range(p.rows)] + [f"BL_{j}" for j in range(W)] + [f"BLB_{j}" for j in range(W)]
             + [f"BIT_{k}_{j}" for k in range(B) for j in range(W)])
    block_subs = []
    for _q, b in sorted(blocks.items()):
        # each row's VDD rail meets the others only at the macro's spine: separate block ports
        bports = (["BL", "BLB", "CL", "VB"] + [f"WL_{r}" for r in range(L)] + [f"RWL_{r}" for r in range(L)]
                  + ["PCHB", "EN", "ENB", "RST", "VSS", "VDDC"] + [f"VDD_{r}" for r in range(L)])
        bdev = [Device("XCC", "X", tuple({"VDD": "VDDC"}.get(x, x) for x in ports_of["compute"]),
                       model=C["compute"].name)]
        for r in range(L):
            m_ = {"WL": f"WL_{r}", "RWL": f"RWL_{r}", "VDD": f"VDD_{r}"}
            bdev.append(Device(f"XB_{r}", "X", tuple(m_.get(x, x) for x in ports_of["bitcell"]),
                               model=C["bitcell"].name))
        block_subs.append(Subckt(b.name, tuple(bports), devices=bdev))
    top_sub = Subckt(p.name, tuple(ports), devices=devices)
    leaf = [s for s in subs.values()]
    circuit = Circuit(title=f"* {p.name}: {p.rows}x{p.cols} ACIM macro, L={p.local}, {B}-bit SAR ADC per column "
                            "(sky130, eda-ml)", subckts=leaf + block_subs + [top_sub])
    counts = {"bitcell": p.rows * W, "compute": G * W, "wl_driver": p.rows, "in_driver": p.rows,
              "comparator": W, "sar_bit": B * W, "sar_seq": (B + 1) * W, "dac_switch": B * W, "tap": 2 * p.rows}
    return Macro(p.name, glib, circuit, (X_R - X_L) / 1000, y_end / 1000, counts, groups, ports,
                 {"column_pitch_um": P / 1000, "row_height_um": hb / 1000, "origin_um": (X_L / 1000, 0.0)})


def _bitlines_over_mim(d: Drawing, xs: tuple[int, ...], h: int, y_mim: int, side: int) -> None:
    """BL/BLB across a compute cell: met3 below and above the MIM bottom plate's keep-out
    (capm grown by capm.3, then capm.2b_a), met4 past it, via3 at each end (via3.5 enclosure)."""
    tech = sky130()
    keep = _nm(tech.value("capm.3")) + _nm(tech.value("capm.2b_a")) + side // 2
    v3, m3_end, m4_enc = _nm(tech.value("via3.1")), _nm(tech.value("via3.5")), _nm(tech.value("m4.3"))
    grid = _nm(tech.grid_um)
    y_lo = (y_mim - keep - m3_end - v3 // 2) // grid * grid   # lower via3 centre
    y_hi = -(-(y_mim + keep + m3_end + v3 // 2) // grid) * grid
    if y_lo - v3 // 2 - m4_enc < 0 or y_hi + v3 // 2 + m4_enc > h:
        raise InputError(f"the compute cell ({h / 1000} µm high) leaves no room to cross its MIM keep-out "
                         "with the bit lines", file="cell library")
    # the lower stub reaches below the tile (onto the bit line of the bitcell below, or into the
    # free top of the ADC's last row) so that, alone under local array 0, it keeps m3.6's area
    y0 = min(0, y_lo + v3 // 2 + m3_end - _nm(tech.value("m3.6") / (M3W / 1000)) // grid * grid - grid)
    for x in xs:
        d.rect("met3", x - M3W // 2, y0, x + M3W // 2, y_lo + v3 // 2 + m3_end)
        d.rect("met3", x - M3W // 2, y_hi - v3 // 2 - m3_end, x + M3W // 2, h)
        for y in (y_lo, y_hi):
            d.box("via3", x, y, v3, v3)
        d.rect("met4", x - M4W // 2, y_lo - v3 // 2 - m4_enc, x + M4W // 2, y_hi + v3 // 2 + m4_enc)


def _global(port: str) -> str:
    """Cell ports that connect to macro-global nets of the same name."""
    if port in ("VDD", "VSS", "PCHB", "EN", "ENB", "RST", "VREFP", "VREFN", "INN", "CLK", "SCLK", "SRST", "SRSTB"):
        return port
    raise KeyError(port)
