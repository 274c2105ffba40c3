"""Two 8T bitcells of one column in one macro row: the pair cell (two bits per template row).

One template row of the single 8T cell (:mod:`eda.layout.bitcell8t_template`) is as wide as the
column pitch the compute cell sets (6.54 µm) while its transistors need 4.68 µm, and 3.42 µm
tall: 22.4 µm² per bit. The pair cell puts two compact cores (the stacked read / n / p strips of
:mod:`eda.layout.bitcell8t`, 2.24 µm wide each) side by side in one 4-slot row (4.34 µm, the row
template of every row-end cell with 4 track slots): 14.2 µm² per bit at the 6.54 µm pitch.

Both cores are bits of the same column (shared ``BL``/``BLB`` and local read line ``RBL``) on
different word lines: core 0 on ``WL0``/``RWL0``, core 1 on ``WL1``/``RWL1``. The four word lines
are full-width met2 tracks on the row template's slots (RWL0 0, RWL1 1, WL0 2, WL1 3), where the
double word-line / input drivers (:func:`eda.layout.cells.wl_driver2`, ``in_driver2``) put
them. The bit lines leave on three met2 stubs outside the track band — ``BL`` below the read
strips, ``RBL`` at the read contacts, ``BLB`` above the tracks — that reach the column template's
met3 x's (RBL 0.33, BLB 3.48, BL 4.11 µm), where the macro drops its via2; so the cell has no
met3 and the macro's DAC, termination and compute lines cross it as they cross the single cell.
To give the lowest stub a via, the VSS rail is 0.25 µm wide over the p-tap (its contacts sit low
in the tap strip) instead of the row template's 0.38 µm; rails still abut the row-end cells'.

Per core, y upward (the read strip at the bottom, the RWL pad on slot 0 between the read and n
strips, the WL pads on the x edges between the n and p strips, the Q pad above the p strip)::

    4.34 ─ n-tap + VDD rail ───────────────────────────────────────────────────────────
           Q pad (col 5) + li from Q's p contact
           p strip:          Q │M2 QB│ VDD │M4 Q│ QB             cols 2..6
     BLB stub (met2) ......................................................................
           WL pads (x edges, to WL0 / WL1), QB pad (col 3) + li to QB
           n strip:  BL │M5 WL│ Q │M1 QB│ VSS │M3 Q│ QB │M6 WL│ BLB   cols 0..8
           RWL pad (col 5, slot 0) + li to its via stack (to RWL0 / RWL1)
           read strip:       VSS │M7 QB│ RX │M8 RWL│ RBL          cols 2..6   RBL stub (met2)
     BL stub (met2) .......................................................................
    0    ─ p-tap + VSS rail ───────────────────────────────────────────────────────────
"""

from __future__ import annotations

from functools import cache

from eda.circuit import Device, Subckt
from eda.layout import bitcell8t as C8
from eda.layout.bitcell8t import (
    DIFF_END,
    ENDCAP,
    GATE_L,
    HALF,
    LI_ENC,
    LICON,
    MCON,
    PAD,
    PAD_POLY,
    POLY_SP,
    VIA1,
    W_FET,
)
from eda.layout.devices import LI_EDGE, RAIL_W, RAIL_Y, TRACK, CellResult, PinInfo, RowCellParams, slot_y
from eda.layout.geometry import Drawing, to_gdstk
from eda.tech.sky130 import sky130

_T = sky130()
NAME = "acim_bitcell8t_pair"
PORTS = ("BL", "BLB", "RBL", "WL0", "RWL0", "WL1", "RWL1", "VDD", "VSS")
SLOTS = 4
_FRAME = RowCellParams(NAME, min_slots=SLOTS)
#: the row template's track slots (nm): RWL0, RWL1, WL0, WL1
TRACKS = tuple(slot_y(_FRAME, k) for k in range(SLOTS))                      # 1465, 1925, 2385, 2845
SLOT_OF = {"RWL0": 0, "RWL1": 1, "WL0": 2, "WL1": 3}
HEIGHT = slot_y(_FRAME, SLOTS - 1) + 285 + 420 + 790   # 4340: the 4-slot row-cell frame
X_RBL, X_BLB, X_BL = 330, 3480, 4110          # template met3 x's (layout/cells.py)
M1_LINE = C8.M1_MCON                          # 230: a met1 line over mcons
M2_PITCH = TRACK + C8._r("m2.2")              # 420: met2 line pitch (0.28 wide, 0.14 apart)
#: vertical stack (nm): the RWL pad on slot 0, the strips and the other pad levels from it
Y_R = TRACKS[0]
R_TOP = Y_R - PAD
R_BOT = R_TOP - W_FET
N_BOT = Y_R + PAD_POLY // 2 + POLY_SP + ENDCAP
N_TOP = N_BOT + W_FET
Y_G = N_TOP + PAD
P_BOT = Y_G + PAD
P_TOP = P_BOT + W_FET
Y_Q = P_TOP + PAD
Y_RC, Y_NC, Y_PC = (R_BOT + R_TOP) // 2, (N_BOT + N_TOP) // 2, (P_BOT + P_TOP) // 2
#: met2 stubs of the bit lines: RBL above the read contact, BL one met2 pitch lower, BLB one above WL1
Y_RBL = TRACKS[0] - M2_PITCH                  # 1045
Y_BL = Y_RBL - M2_PITCH                       # 625
Y_BLB = TRACKS[-1] + M2_PITCH                 # 3265
#: rails: VSS narrowed so the BL stub's via keeps m1.2 from it; VDD as the row template's
VSS_RAIL = (RAIL_Y - RAIL_W // 2, 350)
VDD_RAIL = (HEIGHT - RAIL_Y - RAIL_W // 2, HEIGHT - RAIL_Y + RAIL_W // 2)
#: core-local x (nm): diffusion columns on the compact cell's half-pitch grid, the WL pads 140 nm
#: beyond the cell's edges (so the bit-line risers on cols 0 / 8 keep m1.2 from their stacks),
#: the RWL via stack right of the col-4 VSS riser
X0 = C8.X0
WL_PAD = (-140, C8.WIDTH + 140)
X_RWLV = X0 + 4 * HALF + M1_LINE // 2 + C8._r("m1.2") + 160          # 1535
#: core origins: the WL pads of the two cores 480 nm apart (pad 270 + poly.2 210); the pads' npc band
#: starts npc.2 from the cell's left edge (the row-end cells' pad bands reach their edges)
X_NPC0 = C8._r("npc.2")
OX = (X_NPC0 + LICON // 2 + C8.NPC_ENC - WL_PAD[0], 0)
OX = (OX[0], OX[0] + WL_PAD[1] - WL_PAD[0] + PAD_POLY + POLY_SP)       # 595, 3595
NATURAL_WIDTH = (OX[1] + WL_PAD[1] + LICON // 2 + C8.NPC_ENC + X_NPC0 + 9) // 10 * 10   # npc band + npc.2
E1 = C8._r("via.5a") + VIA1 // 2              # 160: met1 beyond a via on its long sides
E1S = C8._r("via.4a") + VIA1 // 2             # 130: ... on its short sides


def _c(ox: int, k: int) -> int:
    return ox + X0 + k * HALF


def _wells(d: Drawing, w: int) -> None:
    """Implants, well, p-/n-tap strips and rails (the row template's bands at the cell edges)."""
    enc = C8._r("nsd.5a")
    d.rect("psdm", 0, 0, w, 625)
    d.rect("nsdm", 0, 625, w, N_TOP + enc)
    d.rect("nwell", 0, P_BOT - C8._r("difftap.8"), w, HEIGHT)
    d.rect("psdm", 0, P_BOT - enc, w, HEIGHT - 655)
    d.rect("nsdm", 0, HEIGHT - 655, w, HEIGHT)
    h = LICON // 2
    yn = HEIGHT - 350
    for (t0, t1), yl, ym, (m0, m1), net in (((150, 490), 320, 235, VSS_RAIL, "VSS"),
                                            ((HEIGHT - 520, HEIGHT - 180), yn, yn, VDD_RAIL, "VDD")):
        inset = 140 if net == "VSS" else 180
        d.rect("tap", inset, t0, w - inset, t1)
        d.rect("li", LI_EDGE, min(yl, ym) - h - (0 if net == "VSS" else 15), w - LI_EDGE, max(yl, ym) + h + 15)
        xs = list(range(400, w - 300, 340))
        for i, x in enumerate(xs):
            d.box("licon", x, yl, LICON, LICON)
            if i % 2 == 0:
                d.box("mcon", x, ym, MCON, MCON)
        d.rect("met1", 0, m0, w, m1)
        d.label("met1.label", net, w // 2, (m0 + m1) // 2)


def _core_fe(d: Drawing, ox: int) -> None:
    """Diffusions, contacts, gates, pads and li of one core at ``ox``."""
    c = lambda k: _c(ox, k)  # noqa: E731
    for k0, k1, y0, y1 in ((2, 6, R_BOT, R_TOP), (0, 8, N_BOT, N_TOP), (2, 6, P_BOT, P_TOP)):
        d.rect("diff", c(k0) - DIFF_END, y0, c(k1) + DIFF_END, y1)
    for ks, y in (((2, 6), Y_RC), ((0, 2, 4, 6, 8), Y_NC), ((2, 4, 6), Y_PC)):
        for k in ks:
            C8._contact(d, c(k), y)
    h, hl = GATE_L // 2, LICON // 2
    for k, y0, y1 in ((3, R_BOT - ENDCAP, P_TOP + ENDCAP), (5, R_BOT - ENDCAP, Y_R), (5, N_BOT - ENDCAP, Y_Q),
                      (1, N_BOT - ENDCAP, Y_G + h), (7, N_BOT - ENDCAP, Y_G + h)):
        d.rect("poly", c(k) - h, y0, c(k) + h, y1)
    d.rect("poly", ox + WL_PAD[0], Y_G - h, c(1) + h, Y_G + h)      # WL gates jog to the edge pads
    d.rect("poly", c(7) - h, Y_G - h, ox + WL_PAD[1], Y_G + h)
    for x in WL_PAD:                 # li enclosing the pad's licon vertically (the pads are 480 apart)
        C8._pad(d, ox + x, Y_G, (ox + x - hl, ox + x + hl))
        d.rect("li", ox + x - hl, Y_G - hl - LI_ENC, ox + x + hl, Y_G + hl + LI_ENC)
    C8._pad(d, c(5), Y_R, (c(5) - hl - LI_ENC, ox + X_RWLV + hl))    # RWL pad, li to its via stack
    C8._pad(d, c(3), Y_G, (c(3) - hl - LI_ENC, c(6) + hl))          # QB pad, li to QB (col 6)
    d.rect("li", c(6) - hl, Y_NC, c(6) + hl, Y_PC)                    # QB: n to p contact
    C8._pad(d, c(5), Y_Q, (c(2) - hl, c(5) + hl + LI_ENC))          # Q pad, li from Q's p contact
    d.rect("li", c(2) - hl, Y_PC, c(2) + hl, Y_Q + hl)
    npc = hl + C8.NPC_ENC
    for y in (Y_R, Y_Q):
        d.rect("npc", c(5) - npc, y - npc, c(5) + npc, y + npc)


def _via_stack(d: Drawing, x: int, y: int, horizontal: bool) -> None:
    """via (met1–met2) with its met1 enclosure (the via.5a sides along x when ``horizontal``)."""
    d.box("via", x, y, VIA1, VIA1)
    ex, ey = (E1, E1S) if horizontal else (E1S, E1)
    d.rect("met1", x - ex, y - ey, x + ex, y + ey)


def _core_be(d: Drawing, ox: int, core: int) -> None:
    """mcon / met1 / via of one core: supply risers, Q join, bit-line risers, word-line stacks."""
    c = lambda k: _c(ox, k)  # noqa: E731
    w1, ext = M1_LINE // 2, MCON // 2 + C8._r("m1.5")
    for k, y in ((2, Y_RC), (2, Y_NC), (2, Y_PC), (4, Y_NC), (4, Y_PC), (0, Y_NC), (8, Y_NC), (6, Y_RC)):
        d.box("mcon", c(k), y, MCON, MCON)
    d.rect("met1", c(2) - w1, VSS_RAIL[0], c(2) + w1, Y_RC + ext)     # VSS of M7
    d.rect("met1", c(4) - w1, VSS_RAIL[0], c(4) + w1, Y_NC + ext)     # VSS of M1/M3
    d.rect("met1", c(2) - w1, Y_NC - ext, c(2) + w1, Y_PC + ext)      # Q: n to p contact
    d.rect("met1", c(4) - w1, Y_PC - ext, c(4) + w1, VDD_RAIL[1])     # VDD of M2/M4
    # bit lines: BL (col 0) down to its stub, BLB (col 8) up to its stub, RBL (col 6) at the read contact
    d.rect("met1", c(0) - w1, Y_BL, c(0) + w1, Y_NC + ext)
    _via_stack(d, c(0), Y_BL, True)
    d.rect("met1", c(8) - w1, Y_NC - ext, c(8) + w1, Y_BLB)
    _via_stack(d, c(8), Y_BLB, True)
    d.rect("met1", c(6) - E1, Y_RC - ext, c(6) + E1, Y_RBL)
    _via_stack(d, c(6), Y_RBL, True)
    # RWL: mcon on the pad's li; core 0 drops its via onto RWL0 there, core 1 rises to RWL1
    xr, y_rwl = ox + X_RWLV, TRACKS[SLOT_OF[f"RWL{core}"]]
    d.box("mcon", xr, Y_R, MCON, MCON)
    d.rect("met1", xr - E1S, Y_R - MCON // 2 - C8._r("m1.5"), xr + E1S, y_rwl)
    _via_stack(d, xr, y_rwl, True)
    # WL: mcon on each edge pad, met1 to a via on the core's WL track (down for WL0, up for WL1)
    y_wl = TRACKS[SLOT_OF[f"WL{core}"]]
    for x in WL_PAD:
        d.box("mcon", ox + x, Y_G, MCON, MCON)
        d.rect("met1", ox + x - E1S, min(Y_G - ext, y_wl), ox + x + E1S, max(Y_G + ext, y_wl))
        _via_stack(d, ox + x, y_wl, False)


def _met2(d: Drawing, w: int) -> None:
    """The four word-line tracks (full width) and the three bit-line stubs to the template x's."""
    t = TRACK // 2
    for y in TRACKS:
        d.rect("met2", 0, y - t, w, y + t)
    e1, e2 = VIA1 // 2 + C8._r("m2.5"), C8.VIA2 // 2 + C8._r("via2.5")
    for y, k, x3 in ((Y_BL, 0, X_BL), (Y_RBL, 6, X_RBL), (Y_BLB, 8, X_BLB)):
        xs = [_c(ox, k) for ox in OX]
        d.rect("met2", min(min(xs) - e1, x3 - e2), y - t, max(max(xs) + e1, x3 + e2), y + t)


def subckt(name: str = NAME) -> Subckt:
    """Two 8T cells (:func:`eda.layout.bitcell8t.subckt`) on shared BL/BLB/RBL: core k's devices
    are ``Mk1``..``Mk8`` on ``WLk``/``RWLk``."""
    one = C8.subckt()
    devs = []
    for core in (0, 1):
        ren = {"WL": f"WL{core}", "RWL": f"RWL{core}", "Q": f"Q{core}", "QB": f"QB{core}", "RX": f"RX{core}"}
        devs += [Device(f"M{core}{dv.name[1:]}", "X", tuple(ren.get(n, n) for n in dv.nodes), model=dv.model,
                        params=dict(dv.params)) for dv in one.devices]
    return Subckt(name, PORTS, devices=devs)


@cache
def pair_bitcell(pitch: int = NATURAL_WIDTH) -> CellResult:
    """The pair cell ``pitch`` nm wide (≥ :data:`NATURAL_WIDTH`, 10 nm steps), 4 row slots tall."""
    if pitch < NATURAL_WIDTH or pitch % 10:
        raise ValueError(f"pair bitcell needs a pitch >= {NATURAL_WIDTH} nm on a 10 nm grid, got {pitch}")
    d = Drawing()
    _wells(d, pitch)
    for core, ox in enumerate(OX):
        _core_fe(d, ox)
        _core_be(d, ox, core)
    npc = LICON // 2 + C8.NPC_ENC            # one npc band over both cores' gap pads (npc.2)
    d.rect("npc", OX[0] + WL_PAD[0] - npc, Y_G - npc, OX[1] + WL_PAD[1] + npc, Y_G + npc)
    _met2(d, pitch)
    pins = []
    for net, x, y in (("BL", X_BL, Y_BL), ("BLB", X_BLB, Y_BLB), ("RBL", X_RBL, Y_RBL)):
        d.label("met2.label", net, x, y)
        pins.append(PinInfo(net, "met2", x / 1000, y / 1000, "v"))
    for net, k in SLOT_OF.items():
        d.label("met2.label", net, pitch // 2, TRACKS[k])
        pins.append(PinInfo(net, "met2", pitch / 2000, TRACKS[k] / 1000, "h"))
    pins += [PinInfo("VDD", "met1", pitch / 2000, (HEIGHT - RAIL_Y) / 1000, "power"),
             PinInfo("VSS", "met1", pitch / 2000, sum(VSS_RAIL) / 2000, "power")]
    d.rect("prbndry", 0, 0, pitch, HEIGHT)
    return CellResult(NAME, to_gdstk(d, NAME, _T), subckt(NAME), pins, pitch, HEIGHT,
                      {n: TRACKS[k] for n, k in SLOT_OF.items()})
