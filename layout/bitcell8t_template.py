"""The 8T bitcell hand-drawn to the macro's column template (a drop-in for the row-cell bitcell).

Same contract as :func:`eda.layout.cells.bitcell`: pins ``RBL`` / ``BLB`` / ``BL`` are met2
landings at the template's met3 x's (0.33 / 3.48 / 4.11 µm) where the macro drops a via2, ``WL``
and ``RWL`` are full-width met2 tracks on the row template's slots 0 and 1, VDD/VSS met1 rails
over n-/p-tap strips on the top/bottom edges, wells and implants on the row-cell bands (so it
abuts the word-line/input drivers and taps), no met3/met4 (the macro's DAC, VB and CL lines
cross it) and no mirroring. The transistors are placed by hand as in :mod:`eda.layout.bitcell8t`
(read strip left, 6T n strip right, p strip above, cross-couplings on two poly-pad levels in the
n–p gap), so the cell is 3 row slots (3.88 µm) tall instead of the generator's 5.26 µm and
narrower than the periphery; it is stretched to the column pitch ``pitch``::

    3.88 ─ n-tap + VDD ──────────────────────────────────────────────────────────────
           p strip:                          QB │M4 Q│ VDD │M2 QB│ Q          (cols 2..6)
      B    M7 pad ─ li (QB) ───────────────────────── M1/M2 pad (col 5)        slot 2
           RWL stack (slot 1)
      A    RWL pad     WL pad (jog)        M3/M4 pad (col 3) ─ li (Q) ─ col 6   WL pad (jog)   slot 0
           read strip: RBL │M8 RWL│ RX │M7 QB│ VSS     n strip: BLB │M6│ QB │M3│ VSS │M1│ Q │M5│ BL
    0    ─ p-tap + VSS ──────────────────────────────────────────────────────────────
"""

from __future__ import annotations

from functools import cache

from eda.circuit import Subckt
from eda.errors import InputError
from eda.layout import bitcell8t as C8
from eda.layout.bitcell8t import DIFF_END, GATE_L, HALF, LI_ENC, LICON, MCON, VIA1, W_FET, _pad
from eda.layout.devices import NDIFF_B, RAIL_Y, TRACK, CellResult, PinInfo, RowCellParams, _draw_wells, _frame, slot_y
from eda.layout.geometry import Drawing, to_gdstk
from eda.tech.sky130 import sky130

_T = sky130()
NAME = "acim_bitcell8t"
#: template x's (nm) of the macro's met3 lines this cell lands on (layout/cells.py X_RBL, X_BLB, X_BL)
X_RBL, X_BLB, X_BL = 330, 3480, 4110
#: row slots: WL track and the n-level pads on slot 0, RWL track and the p-level (QB) pads on slot 1
SLOTS = 2
_FRAME_P = RowCellParams(NAME, min_slots=SLOTS)
_F = _frame(_FRAME_P, {})
Y_A, Y_RWL, Y_B = slot_y(_FRAME_P, 0), slot_y(_FRAME_P, 1), slot_y(_FRAME_P, SLOTS - 1)   # 1465, 1925, 1925
N_BOT, N_TOP = NDIFF_B, NDIFF_B + W_FET                   # 760, 1180 (row-cell nmos band)
P_BOT, P_TOP = _F.pb, _F.pt_top                           # 2210, 2630
Y_N, Y_P = (N_BOT + N_TOP) // 2, (P_BOT + P_TOP) // 2
HEIGHT = _F.height                                        # 3420
#: read strip: RBL contact on the template's RBL x, M8 (RWL) one contacted half-pitch right, RX
#: uncontacted (gate to gate: poly.2 + poly.1a), M7 (QB), VSS contact
XR = {"RBL": X_RBL, "M8": X_RBL + HALF}
XR["M7"] = XR["M8"] + GATE_L + C8.POLY_SP
XR["VSS"] = XR["M7"] + HALF
#: n strip: column k at XN0 + k·HALF, BL (col 8) on the template's BL x
XN0 = X_BL - 8 * HALF                                     # 2390 (BLB contact, col 0)
#: WL pads: poly jogs in level A to pads left of col 1 / right of col 7, poly.2 from the gate lines
X_WLPAD = (XN0 + HALF - GATE_L // 2 - C8.POLY_SP - C8.PAD_POLY // 2 - 5,
           XN0 + 7 * HALF + GATE_L // 2 + C8.POLY_SP + C8.PAD_POLY // 2 + 5)
X_RWLPAD = XR["M8"] - 60                                  # poly.2 from the M7 gate poly
NATURAL_WIDTH = X_WLPAD[1] + 135 + 140 + 85
nm_m15, nm_m25, nm_v25 = C8._r("m1.5"), C8._r("m2.5"), C8._r("via2.5")


def _xn(k: int) -> int:
    return XN0 + k * HALF


def _fe(d: Drawing, w: int) -> None:
    """Diffusions, contacts, gates, pads, npc."""
    d.rect("diff", XR["RBL"] - DIFF_END, N_BOT, XR["VSS"] + DIFF_END, N_TOP)
    d.rect("diff", _xn(0) - DIFF_END, N_BOT, _xn(8) + DIFF_END, N_TOP)
    d.rect("diff", _xn(2) - DIFF_END, P_BOT, _xn(6) + DIFF_END, P_TOP)
    for x in (XR["RBL"], XR["VSS"]) + tuple(_xn(k) for k in (0, 2, 4, 6, 8)):
        C8._contact(d, x, Y_N)
    for k in (2, 4, 6):
        C8._contact(d, _xn(k), Y_P)
    h = GATE_L // 2
    poly = [(XR["M8"], N_BOT - C8.ENDCAP, Y_A), (XR["M7"], N_BOT - C8.ENDCAP, Y_B),
            (_xn(1), N_BOT - C8.ENDCAP, Y_A + h), (_xn(7), N_BOT - C8.ENDCAP, Y_A + h),
            (_xn(3), N_BOT - C8.ENDCAP, P_TOP + C8.ENDCAP), (_xn(5), N_BOT - C8.ENDCAP, P_TOP + C8.ENDCAP)]
    for x, y0, y1 in poly:
        d.rect("poly", x - h, y0, x + h, y1)
    d.rect("poly", X_WLPAD[0], Y_A - h, _xn(1) + h, Y_A + h)      # WL jogs to the pads
    d.rect("poly", _xn(7) - h, Y_A - h, X_WLPAD[1], Y_A + h)
    hl = LICON // 2
    _pad(d, X_RWLPAD, Y_A)
    _pad(d, X_WLPAD[0], Y_A)
    _pad(d, X_WLPAD[1], Y_A)
    # Q: col-3 pad (gate of M3/M4) at level A, li to col 6 (Q) which rises from its n contact
    _pad(d, _xn(3), Y_A, (_xn(3) - hl - LI_ENC, _xn(6) + hl))
    d.rect("li", _xn(6) - hl, Y_N, _xn(6) + hl, Y_A + hl)
    # QB: col-5 pad (gate of M1/M2) at level B, li to col 2 (QB, down from its p contact) and on
    # to the M7 pad (the read port's gate)
    _pad(d, XR["M7"], Y_B, (XR["M7"] - hl - LI_ENC, _xn(5) + hl))
    _pad(d, _xn(5), Y_B, (_xn(5) - hl, _xn(5) + hl + LI_ENC))
    d.rect("li", _xn(2) - hl, Y_B, _xn(2) + hl, Y_P)
    npc = hl + C8.NPC_ENC   # one band over both pad levels (two bands 460 nm apart would break npc.2)
    d.rect("npc", 0, Y_A - npc, w, Y_B + npc)


def _be(d: Drawing, w: int) -> None:
    """mcon / met1 / via / met2: supply stubs, the n–p met1 joins of Q and QB, word-line stacks,
    bit-line landings."""
    w1 = C8.M1_MCON // 2
    ext = MCON // 2 + nm_m15
    for x, y in ((_xn(2), Y_N), (_xn(2), Y_P), (_xn(6), Y_N), (_xn(6), Y_P), (_xn(4), Y_N), (_xn(4), Y_P),
                 (XR["VSS"], Y_N)):
        d.box("mcon", x, y, MCON, MCON)
    for k in (2, 6):                                              # QB and Q: n contact to p contact
        d.rect("met1", _xn(k) - w1, Y_N - ext, _xn(k) + w1, Y_P + ext)
    d.rect("met1", _xn(4) - w1, RAIL_Y, _xn(4) + w1, Y_N + ext)                 # VSS (M1/M3)
    d.rect("met1", XR["VSS"] - w1, RAIL_Y, XR["VSS"] + w1, Y_N + ext)           # VSS (M7)
    d.rect("met1", _xn(4) - w1, Y_P - ext, _xn(4) + w1, HEIGHT - RAIL_Y)         # VDD (M2/M4)
    sx, sy = C8.M1_STACK[0] // 2, C8.M1_STACK[1] // 2
    # RWL: li from the pad up to the slot-1 track; WL: stacks on both pads
    hl = LICON // 2
    d.rect("li", X_RWLPAD - hl, Y_A, X_RWLPAD + hl, Y_RWL + hl)
    for x, y in ((X_RWLPAD, Y_RWL), (X_WLPAD[0], Y_A), (X_WLPAD[1], Y_A)):
        d.box("mcon", x, y, MCON, MCON)
        d.box("via", x, y, VIA1, VIA1)
        d.rect("met1", x - sy, y - sx, x + sy, y + sx)
    t = TRACK // 2
    for y in (Y_A, Y_RWL):
        d.rect("met2", 0, y - t, w, y + t)
    # bit lines: mcon + met1 + via at the contact, met2 to the template x (the macro's via2 spot)
    e1, e2 = VIA1 // 2 + nm_m25, C8.VIA2 // 2 + nm_v25
    for x, x3 in ((XR["RBL"], X_RBL), (_xn(0), X_BLB), (_xn(8), X_BL)):
        d.box("mcon", x, Y_N, MCON, MCON)
        d.box("via", x, Y_N, VIA1, VIA1)
        d.rect("met1", x - sx, Y_N - sy, x + sx, Y_N + sy)
        d.rect("met2", min(x - e1, x3 - e2), Y_N - t, max(x + e1, x3 + e2), Y_N + t)


@cache
def template_bitcell(pitch: int) -> CellResult:
    """The drop-in 8T cell ``pitch`` nm wide (≥ :data:`NATURAL_WIDTH`), 3 row slots tall."""
    if pitch < NATURAL_WIDTH or pitch % 10:
        raise ValueError(f"template bitcell needs a pitch >= {NATURAL_WIDTH} nm on a 10 nm grid, got {pitch}")
    d = Drawing()
    _draw_wells(d, _FRAME_P, pitch, _F, "VSS", "VDD")
    _fe(d, pitch)
    _be(d, pitch)
    pins = []
    for net, x in (("BL", X_BL), ("BLB", X_BLB), ("RBL", X_RBL)):
        d.label("met2.label", net, x, Y_N)
        pins.append(PinInfo(net, "met2", x / 1000, Y_N / 1000, "v"))
    for net, y in (("WL", Y_A), ("RWL", Y_RWL)):
        d.label("met2.label", net, pitch // 2, y)
        pins.append(PinInfo(net, "met2", pitch / 2000, y / 1000, "h"))
    pins += [PinInfo("VDD", "met1", pitch / 2000, (HEIGHT - RAIL_Y) / 1000, "power"),
             PinInfo("VSS", "met1", pitch / 2000, RAIL_Y / 1000, "power")]
    d.rect("prbndry", 0, 0, pitch, HEIGHT)
    sub = C8.subckt(NAME)
    return CellResult(NAME, to_gdstk(d, NAME, _T), Subckt(NAME, sub.ports, devices=sub.devices), pins, pitch,
                      HEIGHT, {"WL": Y_A, "RWL": Y_RWL})



def hand_cell(p: RowCellParams) -> CellResult:
    """The hand-drawn cell named by ``p.hand`` for :func:`eda.layout.devices.row_cell` (``"bitcell8t"``:
    :func:`template_bitcell` at ``max(p.min_width, NATURAL_WIDTH)``)."""
    if p.hand == "bitcell8t":
        return template_bitcell(max(p.min_width, (NATURAL_WIDTH + 9) // 10 * 10))
    raise InputError(f"cell {p.name}: unknown hand-drawn cell {p.hand!r}; expected 'bitcell8t'", file="cell params")
