"""The shared comparator's input: a hold capacitor on the multiplexer node and its reset off (S > 1).

With S columns behind one comparator, the comparator input ``MUX_s`` is a ~4 fF node behind the
column multiplexer's select gate, so the StrongARM's kickback at each CLK rise drops it by ~30 mV
near the threshold, and the output stage's reset gate (``cmp_buf``'s CL ↔ VCM on CLR) leaves a
release pedestal on the first column only. The drawn fix (:mod:`eda.generators.acim_shared`
measured it on the netlist first):

- **hold capacitor**: a square sky130 MIM per group, a quarter of a column's capacitance
  (:func:`hold_side`; 3.01 µm, ~20 fF at N = 32 compute caps per column), bottom plate (met3)
  on VSS, top plate (capm → via3 → met4) on ``MUX_s``. It sits in a slot that is empty in its row
  (slot S − 2 of the comparator row), with its right
  edge where the next slot's first met3 line (template x 0.96) keeps ``capm.2b_a`` from the plate;
  the bottom plate drops a via2–via1 stack onto the row's VSS rail; the top plate's via3 lands on
  a met4 jog to the ``MUX_s`` line. Only groups of ``HOLD_MIN_BITS`` or more bits get the fix, so
  only stacked shared layouts (:mod:`eda.layout.macro_shared`): a packed one has 2B ≤ S − 2 ≤ 6.
- **reset off**: ``cmp_buf``'s CLR pin on VSS (its met2 track extended out of the cell into an
  empty slot, via1 and met1 down to the row's VSS rail), so ``MUX_s`` is never reset: every column
  meets the previous residue alike. The columns' own compute-line resets (``col_mux``) stay on CLR.

The macro netlist (:func:`eda.layout.macro_netlist.macro_circuit`) carries the same: ``XCHOLD_s``
(VSS, MUX_s) and ``XCBUF_s`` with CLR on VSS, so LVS checks both.
"""

from __future__ import annotations

import numpy as np

from eda.layout.cells import M3W, M4W, MIM_SIDE, PLATE_GROW, PLATE_KEEP, X_OUTP
from eda.layout.devices import RAIL_Y, TRACK
from eda.layout.macro import GRID, V1, V3

#: the largest hold capacitor's side (nm) the slot takes: W = L = 3.01 µm, ~20 fF with the model's fringe
HOLD_SIDE = 3010
#: capm.1: the smallest capm side (nm)
CAPM_MIN = 1000
#: groups with this many ADC bits or more get the fix: the kick on the bare ~4 fF node is 27-30 mV near the
#: threshold, 0.3 LSB at the multiplexer at 4 bits (N = 16), 0.6 at 5 (measured: 1 of 8 codes off)
HOLD_MIN_BITS = 4
#: capm edge to the centre of the bottom plate's via2 (capm.5-like 0.14 + half a via2 + grid)
_VIA_GAP = 140 + 100 + 10
#: CLR's via1 this far beyond the output stage's cell edge
_CLR_OUT = 360


def hold_side(n_caps, bits):
    """Side (nm) of the hold capacitor of a group whose columns have ``n_caps`` compute caps and a
    ``bits``-bit SAR (arrays broadcast); 0 = none (below ``HOLD_MIN_BITS`` the kick is < 0.2 LSB and a hold capacitor
    would only carry more of the previous column's residue: those groups keep the output stage's
    reset). A quarter of a column's capacitance (the unit MIM is 1 µm square; the model's C ∝
    (W + 0.15)(L + 0.15)), so the residue it carries into the next conversion stays ~1/5 and the
    kick it absorbs ~0.1 LSB; at least capm.1, at most ``HOLD_SIDE`` (N ≥ 32: ~20 fF)."""
    n = np.asarray(n_caps, dtype=float)
    side = np.clip(np.round(((MIM_SIDE + 150) * np.sqrt(n) / 2 - 150) / GRID) * GRID, CAPM_MIN, HOLD_SIDE)
    side = np.where(np.asarray(bits) >= HOLD_MIN_BITS, side, 0).astype(int)
    return int(side) if side.ndim == 0 else side


def hold_fF(n_caps, bits):
    """The hold capacitor (fF; the sky130 MIM model's 2 fF/µm² on (W + 0.15)(L + 0.15)) of
    :func:`hold_side`; 0 where there is none. Arrays broadcast (the explorer's populations)."""
    side = np.asarray(hold_side(n_caps, bits), dtype=float) / 1000
    c = np.where(side > 0, 2.0 * (side + 0.15) ** 2, 0.0)
    return float(c) if c.ndim == 0 else c


def hold_params(n_caps: int, bits: int) -> dict[str, float]:
    """The hold capacitor's SPICE parameters (µm), as the macro netlist writes them."""
    side = hold_side(n_caps, bits) / 1000
    return {"W": side, "L": side, "MF": 1}


def capm_x(pitch: int, side: int) -> tuple[int, int]:
    """x range (in its slot) of the hold capacitor's capm: right edge where the next slot's first
    met3 line (template x 0.96) keeps ``capm.2b_a`` from the bottom plate."""
    right = (pitch + X_OUTP - M3W // 2 - PLATE_KEEP - PLATE_GROW) // GRID * GRID
    return right - side, right


def draw_hold(a, slot_x: int, y_row: int, x_mux: int, y_mux: int) -> tuple[int, int]:
    """The hold capacitor in the slot at ``slot_x`` of the row at ``y_row`` (VSS rail at
    ``y_row + RAIL_Y``): capm, met3 bottom plate down to a via stack on the rail, via3 at
    ``x_mux`` if it lies over the capm (the MUX line crosses it there), else at the capm centre
    with a met4 jog over to ``x_mux`` and along it to ``y_mux`` (a point on the MUX line).
    Returns the via3 point (x, y)."""
    d = a.d
    side = hold_side(a.G, a.B)
    lo, hi = capm_x(a.P, side)
    x0, x1 = slot_x + lo, slot_x + hi
    y_rail = y_row + RAIL_Y
    y0 = y_rail + _VIA_GAP
    y1 = y0 + side
    d.rect("capm", x0, y0, x1, y1)
    d.rect("met3", x0 - PLATE_GROW, y0 - PLATE_GROW, x1 + PLATE_GROW, y1 + PLATE_GROW)
    xc, yc = (x0 + x1) // 2 // GRID * GRID, (y0 + y1) // 2 // GRID * GRID
    d.rect("met3", xc - M3W // 2, y_rail - M3W // 2, xc + M3W // 2, y0)
    a.stack12(xc, y_rail)
    inside = x0 + 140 + V3 // 2 <= x_mux <= x1 - 140 - V3 // 2
    xv = x_mux if inside else xc
    d.box("via3", xv, yc, V3, V3)
    if inside:
        d.box("met4", xv, yc, M4W, M4W)
    else:
        d.rect("met4", min(xv, x_mux) - M4W // 2, yc - M4W // 2, max(xv, x_mux) + M4W // 2, yc + M4W // 2)
        d.rect("met4", x_mux - M4W // 2, min(yc, y_mux) - M4W // 2, x_mux + M4W // 2, max(yc, y_mux) + M4W // 2)
    return xv, yc


def clr_to_vss(a, x_edge: int, y_pin: int, y_row: int, right: bool) -> None:
    """The output stage's CLR track (met2 at ``y_pin``, reaching the cell edge ``x_edge``) out of
    the cell by ``_CLR_OUT`` (to the ``right`` or left, into an empty slot), via1 and met1 down to
    the row's VSS rail."""
    d = a.d
    xv = x_edge + _CLR_OUT if right else x_edge - _CLR_OUT
    end = V1 // 2 + 85  # via.5a / m2.5: 0.085 on the end edge
    d.rect("met2", min(x_edge, xv - end), y_pin - TRACK // 2, max(x_edge, xv + end), y_pin + TRACK // 2)
    d.box("via", xv, y_pin, V1, V1)
    d.rect("met1", xv - 130, y_row + RAIL_Y, xv + 130, y_pin + end)

