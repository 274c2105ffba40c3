"""A hand-placed compact 8T SRAM bitcell for sky130 under logic (periphery) rules.

The row-cell generator (:mod:`eda.layout.devices`) puts every transistor in one row with a met2
routing channel; this cell is drawn by hand instead (integer nm on the 5 nm grid, every distance
derived below from the rules in :mod:`eda.tech.sky130`). Floorplan, y upward::

    H ─ n-tap + VDD rail (met1), shared with the row above (mirrored) ─────────────────────
        Q pad (col 5 poly) + li from Q's p contact: the cross-coupling of inverter 2
        p strip (psdm, nwell):        Q │M2 QB│ VDD │M4 Q│ QB            cols 2..6
        gap: WL pads (poly jogs to the cell's x edges, shared), QB pad (col 3) + li to QB
        n strip (nsdm):   BL │M5 WL│ Q │M1 QB│ VSS │M3 Q│ QB │M6 WL│ BLB   cols 0..8
        read strip (nsdm):            VSS │M7 QB│ RX │M8 RWL│ RBL          cols 2..6
        RWL pad (col 5 lower poly)
    0 ─ p-tap + VSS rail (met1), shared with the row below (mirrored) ───────────────────

Contacted transistors sit on a 215 nm half-pitch grid (licon 0.17 + 2 × licon.11 0.055 + poly
0.15 per gate pitch); the poly of column 3 (gate QB) runs through all three strips (M7, M1, M2),
column 5 is split between Q (M3, M4) and RWL (M8). Q connects its n and p contacts in met1 and
reaches the col-5 gate in li above the p strip; QB connects in li through the gap. Word lines:
``WL`` met2 track (via stacks on the shared poly pads at the x edges), ``RWL`` met2 track at the
bottom; bit lines ``BL``, ``BLB`` and the read bit line ``RBL`` are met3 lines over the whole
height (via2 onto met2 landing pads). Cells are arrayed mirrored in x and y (``array``), so
shapes on the cell edges (taps, rails, word-line pads) are shared by both neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import gdstk

from eda.circuit import Circuit, Device, Subckt
from eda.layout.devices import CellResult, PinInfo, nm
from eda.layout.geometry import Drawing, to_gdstk
from eda.tech.sky130 import sky130

_T = sky130()


def _r(name: str) -> int:
    return nm(_T.value(name))


LICON = _r("licon.1")                      # 170: licon / mcon side
MCON = _r("ct.1")
GATE_L = _r("poly.1a")                      # 150
CT_GATE = _r("licon.11")                    # 55: diff licon to gate
HALF = LICON // 2 + CT_GATE + GATE_L // 2   # 215: contact centre to gate centre
DIFF_END = LICON // 2 + _r("licon.5a")      # 125: diff beyond a contact centre
DIFF_SP = _r("difftap.3")                   # 270
W_FET = _r("difftap.2")                     # 420: channel width (min for 1.8 V devices)
PAD = _r("licon.14") + LICON // 2           # 275: poly-contact centre from a diffusion edge
PAD_POLY = LICON + 2 * _r("licon.8")        # 270: poly pad side
ENDCAP = _r("poly.8")                       # 130
POLY_SP = _r("poly.2")                      # 210
LI_ENC = _r("li.5a")                        # 80: li beyond licon on two opposite edges
NPC_ENC = _r("licon.9")                     # 100
VIA1 = _r("via.1a")
VIA2 = _r("via2.1a")
M3W = VIA2 + 2 * _r("m3.4")                 # 330: met3 line
GRID = nm(_T.grid_um)

X0 = DIFF_END + DIFF_SP // 2                # 260: column 0 (BL contact) from the left edge
WIDTH = X0 + 8 * HALF + DIFF_END + DIFF_SP // 2          # 2240
# y levels (nm) from the bottom edge; see the module sketch
TAP_H = LICON                               # 170: tap strip height (licon.7: 0 enclosure in y)
Y_RWLPAD = TAP_H // 2 + _r("li.3") + LICON // 2   # 340: the pad's li 170 above the tap's li
R_BOT = Y_RWLPAD + PAD                      # 615: read strip
R_TOP = R_BOT + W_FET
N_BOT = R_TOP + 2 * ENDCAP + POLY_SP        # 1505: col-5 poly split between the strips
N_TOP = N_BOT + W_FET
Y_GAP = N_TOP + PAD                         # 2200: gap pads
P_BOT = Y_GAP + PAD                         # 2475
P_TOP = P_BOT + W_FET
Y_QPAD = P_TOP + PAD                        # 3170
HEIGHT = Y_QPAD + PAD_POLY // 2 + nm(_T.value("poly.4")) + TAP_H // 2   # 3465

NAME = "acim_bitcell8t_c"
PORTS = ("BL", "BLB", "RBL", "WL", "RWL", "VDD", "VSS")
#: x of the met3 lines (BL and BLB near the edges, RBL in the middle) and y of the met2 tracks
X_BL, X_RBL, X_BLB = X0 + 70, WIDTH // 2, WIDTH - X0 - 70
Y_RWL = Y_RWLPAD + 45
Y_WL = Y_GAP


def _xc(k: int) -> int:
    return X0 + k * HALF


@dataclass(frozen=True)
class CompactCell:
    """The drawn cell: :class:`CellResult` plus its array pitch (the cell edges, nm)."""

    result: CellResult
    pitch_x: int
    pitch_y: int


def _diffusions(d: Drawing) -> None:
    yc_r, yc_n, yc_p = (R_BOT + R_TOP) // 2, (N_BOT + N_TOP) // 2, (P_BOT + P_TOP) // 2
    d.rect("diff", _xc(0) - DIFF_END, N_BOT, _xc(8) + DIFF_END, N_TOP)
    d.rect("diff", _xc(2) - DIFF_END, R_BOT, _xc(6) + DIFF_END, R_TOP)
    d.rect("diff", _xc(2) - DIFF_END, P_BOT, _xc(6) + DIFF_END, P_TOP)
    for k in (0, 2, 4, 6, 8):
        _contact(d, _xc(k), yc_n)
    for k in (2, 6):
        _contact(d, _xc(k), yc_r)
    for k in (2, 4, 6):
        _contact(d, _xc(k), yc_p)
    # implants and well
    enc = _r("nsd.5a")
    d.rect("nsdm", 0, R_BOT - enc, WIDTH, N_TOP + enc)
    d.rect("psdm", 0, P_BOT - enc, WIDTH, P_TOP + enc)
    # taps: p-tap on the bottom edge, n-tap on the top edge (both straddle the edge)
    inset = DIFF_SP // 2
    d.rect("tap", inset, -TAP_H // 2, WIDTH - inset, TAP_H // 2)
    d.rect("psdm", 0, -TAP_H // 2 - enc, WIDTH, TAP_H // 2 + enc)
    d.rect("tap", inset, HEIGHT - TAP_H // 2, WIDTH - inset, HEIGHT + TAP_H // 2)
    d.rect("nsdm", 0, HEIGHT - TAP_H // 2 - enc, WIDTH, HEIGHT + TAP_H // 2 + enc)
    nw = _r("difftap.10")
    d.rect("nwell", inset - nw, P_BOT - _r("difftap.8"), WIDTH - inset + nw, HEIGHT + TAP_H // 2 + nw)


def _contact(d: Drawing, x: int, y: int) -> None:
    """A diffusion licon with its li (enclosed on the two vertical edges)."""
    d.box("licon", x, y, LICON, LICON)
    d.rect("li", x - LICON // 2, y - LICON // 2 - LI_ENC, x + LICON // 2, y + LICON // 2 + LI_ENC)


def _pad(d: Drawing, x: int, y: int, li: tuple[int, int] | None = None) -> None:
    """Poly contact: poly pad, licon, npc; li enclosing it on the two horizontal edges (or the
    given x span)."""
    d.box("poly", x, y, PAD_POLY, PAD_POLY)
    d.box("licon", x, y, LICON, LICON)
    a, b = li if li is not None else (x - LICON // 2 - LI_ENC, x + LICON // 2 + LI_ENC)
    d.rect("li", a, y - LICON // 2, b, y + LICON // 2)


def _gates(d: Drawing) -> None:
    h = GATE_L // 2
    # col 3: gate QB of M7, M1, M2 (read strip to p strip), its pad in the gap
    d.rect("poly", _xc(3) - h, R_BOT - ENDCAP, _xc(3) + h, P_TOP + ENDCAP)
    # col 5: RWL (M8) below, Q (M3, M4) above up to the Q pad
    d.rect("poly", _xc(5) - h, Y_RWLPAD, _xc(5) + h, R_TOP + ENDCAP)
    d.rect("poly", _xc(5) - h, N_BOT - ENDCAP, _xc(5) + h, Y_QPAD)
    # col 1 / col 7: WL (M5, M6), jogging in the gap to pads on the cell's x edges
    for k, edge in ((1, 0), (7, WIDTH)):
        d.rect("poly", _xc(k) - h, N_BOT - ENDCAP, _xc(k) + h, Y_GAP + h)
        d.rect("poly", min(_xc(k) - h, edge), Y_GAP - h, max(_xc(k) + h, edge), Y_GAP + h)
    npc = LICON // 2 + NPC_ENC
    d.rect("npc", -npc, Y_GAP - npc, WIDTH + npc, Y_GAP + npc)  # covers the edge pads too
    d.rect("npc", _xc(5) - npc, Y_QPAD - npc, _xc(5) + npc, HEIGHT)
    d.rect("npc", _xc(5) - npc, Y_RWLPAD - npc, _xc(5) + npc, Y_RWLPAD + npc)


Y_C = {"r": (R_BOT + R_TOP) // 2, "n": (N_BOT + N_TOP) // 2, "p": (P_BOT + P_TOP) // 2}
#: x of the RWL via stack (right of the col-5 pad, clear of the VSS line on col 4)
X_RWLV = _xc(5) + 210
#: met1 around a stacked mcon + via (via.4a/via.5a on the long edges) and around a lone mcon
M1_STACK = (VIA1 + 2 * _r("via.4a"), VIA1 + 2 * _r("via.5a"))   # 260 × 320
M1_MCON = MCON + 2 * _r("m1.4")                                  # 230 wide


def _local(d: Drawing) -> None:
    """li cross-couplings, tap contacts, the RWL pad."""
    yn, yp, yr = Y_C["n"], Y_C["p"], Y_C["r"]
    h = LICON // 2
    # QB: col-6 li from the n to the p contact; the col-3 pad in the gap joins it
    d.rect("li", _xc(6) - h, yn, _xc(6) + h, yp)
    _pad(d, _xc(3), Y_GAP, (_xc(3) - h - LI_ENC, _xc(6) + h))
    # Q: col-2 p-contact li up to the Q pad (col 5) above the p strip
    d.rect("li", _xc(2) - h, yp, _xc(2) + h, Y_QPAD + h)
    _pad(d, _xc(5), Y_QPAD, (_xc(2) - h, _xc(5) + h + LI_ENC))
    # RWL pad (col-5 lower poly) with li over to its via stack
    _pad(d, _xc(5), Y_RWLPAD, (_xc(5) - h - LI_ENC, X_RWLV + h))
    d.rect("li", X_RWLV - h, Y_RWLPAD - h, X_RWLV + h, Y_RWL + h)
    # WL pads on the x edges (shared with the mirrored neighbour)
    for x in (0, WIDTH):
        _pad(d, x, Y_GAP)
    # taps: p-tap li strip along the bottom edge with contacts; one n-tap contact on the top edge
    e = _r("li.3") // 2  # the strip stops li.3/2 inside the edges: no li polygon spans a whole array row
    d.rect("li", e, -h, WIDTH - e, h)
    for x in (400, _xc(3) - 25, WIDTH - 400):  # clear of the RWL pad's npc (licon.13)
        d.box("licon", x, 0, LICON, LICON)
        d.box("mcon", x, 0, MCON, MCON)
    xn = WIDTH - 390
    d.box("licon", xn, HEIGHT, LICON, LICON)
    d.rect("li", xn - h - LI_ENC, HEIGHT - h, xn + h + LI_ENC, HEIGHT + h)
    d.box("mcon", xn, HEIGHT, MCON, MCON)
    del yr


def _metal(d: Drawing) -> None:
    """mcon / met1 / via / met2 / via2 / met3: rails, word-line tracks, bit-line stacks."""
    yn, yp, yr = Y_C["n"], Y_C["p"], Y_C["r"]
    w1 = M1_MCON // 2
    sx, sy = M1_STACK[0] // 2, M1_STACK[1] // 2
    # rails (met1) on the shared edges
    d.rect("met1", 0, -w1, WIDTH, w1)
    d.rect("met1", 0, HEIGHT - w1, WIDTH, HEIGHT + w1)
    for x, y in ((_xc(2), yn), (_xc(2), yp), (_xc(4), yn), (_xc(4), yp), (_xc(2), yr)):
        d.box("mcon", x, y, MCON, MCON)
    ext = MCON // 2 + _r("m1.5")
    d.rect("met1", _xc(2) - w1, yn - ext, _xc(2) + w1, yp + ext)        # Q: n to p contact
    d.rect("met1", _xc(4) - w1, -w1, _xc(4) + w1, yn + ext)              # VSS (M1/M3 source)
    d.rect("met1", _xc(4) - w1, yp - ext, _xc(4) + w1, HEIGHT + w1)      # VDD (M2/M4 source)
    d.rect("met1", _xc(2) - w1, -w1, _xc(2) + w1, yr + ext)              # VSS (M7 source)
    # via stacks: mcon + met1 + via (+ met2 landing and via2 onto the met3 line)
    stacks = [(_xc(0), yn, X_BL), (_xc(8), yn, X_BLB), (_xc(6), yr, X_RBL),
              (X_RWLV, Y_RWL, None), (0, Y_WL, None), (WIDTH, Y_WL, None)]
    for x, y, x3 in stacks:
        d.box("mcon", x, y, MCON, MCON)
        d.box("via", x, y, VIA1, VIA1)
        horizontal = y == Y_WL or y == Y_RWL
        d.rect("met1", x - (sy if horizontal else sx), y - (sx if horizontal else sy),
               x + (sy if horizontal else sx), y + (sx if horizontal else sy))
        if x3 is None:
            continue
        e1 = VIA1 // 2 + _r("m2.5")
        e2 = VIA2 // 2 + _r("via2.5")
        d.rect("met2", min(x - e1, x3 - e2), y - VIA2 // 2 - 45, max(x + e1, x3 + e2), y + VIA2 // 2 + 45)
        d.box("via2", x3, y, VIA2, VIA2)
    for x3 in (X_BL, X_BLB, X_RBL):
        d.rect("met3", x3 - M3W // 2, 0, x3 + M3W // 2, HEIGHT)
    e = VIA1 // 2 + _r("m2.5")  # the WL track covers the via of the shared edge pads
    d.rect("met2", -e, Y_WL - 130, WIDTH + e, Y_WL + 130)
    d.rect("met2", 0, Y_RWL - 130, WIDTH, Y_RWL + 130)


def _labels(d: Drawing) -> list[PinInfo]:
    pins = []
    for net, x in (("BL", X_BL), ("BLB", X_BLB), ("RBL", X_RBL)):
        d.label("met3.label", net, x, HEIGHT // 2)
        pins.append(PinInfo(net, "met3", x / 1000, HEIGHT / 2000, "v"))
    for net, y in (("WL", Y_WL), ("RWL", Y_RWL)):
        d.label("met2.label", net, WIDTH // 2, y)
        pins.append(PinInfo(net, "met2", WIDTH / 2000, y / 1000, "h"))
    for net, y in (("VSS", 0), ("VDD", HEIGHT)):
        d.label("met1.label", net, WIDTH // 2, y)
        pins.append(PinInfo(net, "met1", WIDTH / 2000, y / 1000, "power"))
    return pins


def subckt(name: str = NAME) -> Subckt:
    """The cell's schematic: 6T core (M1–M6) and the decoupled read port M7/M8."""
    model = _T.devices
    fets = [("M1", "Q", "QB", "VSS", "n"), ("M2", "Q", "QB", "VDD", "p"), ("M3", "QB", "Q", "VSS", "n"),
            ("M4", "QB", "Q", "VDD", "p"), ("M5", "BL", "WL", "Q", "n"), ("M6", "BLB", "WL", "QB", "n"),
            ("M7", "RX", "QB", "VSS", "n"), ("M8", "RBL", "RWL", "RX", "n")]
    devs = [Device(n, "X", (a, g, b, "VSS" if t == "n" else "VDD"), model=model["nfet" if t == "n" else "pfet"],
                   params={"W": W_FET / 1000, "L": GATE_L / 1000, "nf": 1}) for n, a, g, b, t in fets]
    return Subckt(name, PORTS, devices=devs)


@cache
def compact_bitcell(name: str = NAME) -> CompactCell:
    """Draw the compact 8T cell: GDS cell, SPICE subcircuit, pins; pitch WIDTH × HEIGHT nm."""
    d = Drawing()
    _diffusions(d)
    _gates(d)
    _local(d)
    _metal(d)
    pins = _labels(d)
    d.rect("prbndry", 0, 0, WIDTH, HEIGHT)
    res = CellResult(name, to_gdstk(d, name, _T), subckt(name), pins, WIDTH, HEIGHT,
                     {"WL": Y_WL, "RWL": Y_RWL})
    return CompactCell(res, WIDTH, HEIGHT)


#: test-array power straps: met1 width and gap from the array edge
STRAP_W, STRAP_GAP = 400, 600


def _placement(r: int, c: int) -> dict:
    """Origin and transform of array cell (r, c): odd columns mirrored in x, odd rows in y."""
    fx, fy = c % 2 == 1, r % 2 == 1
    ox, oy = (c + fx) * WIDTH, (r + fy) * HEIGHT
    if fx and fy:
        return {"origin": (ox / 1000, oy / 1000), "rotation": 3.141592653589793}
    if fx:
        return {"origin": (ox / 1000, oy / 1000), "rotation": 3.141592653589793, "x_reflection": True}
    return {"origin": (ox / 1000, oy / 1000), "x_reflection": fy}


def array(rows: int, cols: int, name: str = "bitcell_array") -> tuple[gdstk.Library, Circuit]:
    """A ``rows`` × ``cols`` mirrored array of the compact cell and its schematic (ports
    ``WL_r``, ``RWL_r``, ``BL_c``, ``BLB_c``, ``RBL_c``, ``VDD``, ``VSS``), for checking the
    cell's abutment with DRC, the precheck deck and LVS."""
    cc = compact_bitcell()
    lib = gdstk.Library(name=name, unit=1e-6, precision=1e-9)
    lib.add(cc.result.gds)
    top = gdstk.Cell(name)
    lib.add(top)
    devs = []
    l2, l3 = _T.layer("met2.label"), _T.layer("met3.label")
    for r in range(rows):
        for c in range(cols):
            top.add(gdstk.Reference(cc.result.gds, **_placement(r, c)))
            devs.append(Device(f"X{r}_{c}", "X", (f"BL_{c}", f"BLB_{c}", f"RBL_{c}", f"WL_{r}", f"RWL_{r}",
                                                  "VDD", "VSS"), model=NAME))
        for net, y in (("WL", Y_WL), ("RWL", Y_RWL)):
            yy = r * HEIGHT + (HEIGHT - y if r % 2 else y)
            top.add(gdstk.Label(f"{net}_{r}", (WIDTH / 2000, yy / 1000), layer=l2.layer, texttype=l2.datatype))
    for c in range(cols):
        for net, x in (("BL", X_BL), ("BLB", X_BLB), ("RBL", X_RBL)):
            xx = c * WIDTH + (WIDTH - x if c % 2 else x)
            top.add(gdstk.Label(f"{net}_{c}", (xx / 1000, HEIGHT / 2000), layer=l3.layer, texttype=l3.datatype))
    # power straps (met1) left (VDD) and right (VSS) of the array join the rails of every row pair
    d = Drawing()
    w1, x_r = M1_MCON // 2, cols * WIDTH
    for k in range(rows + 1):
        net = "VSS" if k % 2 == 0 else "VDD"
        lo, hi = (-STRAP_GAP - STRAP_W, 0) if net == "VDD" else (x_r, x_r + STRAP_GAP + STRAP_W)
        d.rect("met1", lo, k * HEIGHT - w1, hi, k * HEIGHT + w1)
    y_top = rows * HEIGHT + w1
    d.rect("met1", -STRAP_GAP - STRAP_W, -w1, -STRAP_GAP, y_top)
    d.rect("met1", x_r + STRAP_GAP, -w1, x_r + STRAP_GAP + STRAP_W, y_top)
    d.label("met1.label", "VDD", -STRAP_GAP - STRAP_W // 2, 0)
    d.label("met1.label", "VSS", x_r + STRAP_GAP + STRAP_W // 2, 0)
    straps = to_gdstk(d, "straps", _T)
    top.add(*straps.polygons, *straps.labels)
    ports = ([f"{n}_{r}" for r in range(rows) for n in ("WL", "RWL")]
             + [f"{n}_{c}" for c in range(cols) for n in ("BL", "BLB", "RBL")] + ["VDD", "VSS"])
    circ = Circuit(title=f"* {name}: {rows}x{cols} compact 8T array", subckts=[cc.result.subckt], devices=devs,
                   ports=ports)
    return lib, circ
