"""Shared ADCs packed across their S columns (adc_share S > 1, 2·B <= S, B + 1 <= S // 2).

:class:`~eda.layout.macro_shared.SharedAssembler` stacks a group's comparator, output stage,
B result flip-flops and B + 1 sequencer stages in the group's last column, one row each, so the
other S − 1 columns leave those 2B + 3 rows empty. Here the B result flip-flops share ONE row
(even slots of the group: 0, 2, …) and the B + 1 sequencer stages another (odd slots: 1, 3, …);
cells wider than the column pitch overhang into the next slot, which is empty in that row.
Floorplan of the ADC region (y grows upward)::

    dac_k rows and bit channels (as in macro_shared), then the array
    col_mux row, multiplexer channel                      (as in macro_shared)
    seq row      stage k in slot 2k+1                     V down, VIN down (stage 0: VIN up to VDD)
    channel X    V_0 .. V_B, BIT_0 .. BIT_{B-1} (met2)    + risers: BIT_k in slot 2k, V_k in slot
    sar row      bit k in slot 2k                           2k+1 (met3 at the CMP x) up to bit k's
    channel W    CMP                                        channel, where every column's dac_k
    cmp_buf, comparator (last slot)                         hangs on the straps

Each v-pin reaches its net's channel track with a met3 stub (via2 at both ends); a net's track
spans its pins. Stubs of one slot sit on distinct template x's (CMP 3.48, BIT 4.11, V/CK 4.74,
VIN 5.37), and the sar and seq rows use disjoint slots, so no two nets' stubs overlap.
"""

from __future__ import annotations

from eda.layout.cells import M3W
from eda.layout.devices import RAIL_Y
from eda.layout.macro import V2
from eda.layout.macro_shared import SharedAssembler


def packable(adc_share: int, adc_bits: int) -> bool:
    """Whether the packed layout fits: B result flip-flops in the even slots, B + 1 sequencer
    stages in the odd slots, 2B risers (one per slot) up to the bit channels."""
    S, B = adc_share, adc_bits
    return S > 1 and len(_slots(S, 0)) >= B and len(_slots(S, 1)) >= B + 1 and 2 * B <= S


def _slots(S: int, parity: int) -> list[int]:
    """Slots of one parity whose overhang (into the slot on their right) lands in an empty slot."""
    return [s for s in range(parity, S, 2) if S % 2 == 0 or s + 1 < S]


class PackedAssembler(SharedAssembler):
    """Shared ADCs with the SAR register packed into two rows (see the module docstring)."""

    def adc(self) -> int:
        S, B = self.S, self.B
        y = self.shared_row("comparator", 0, (), ("INN", "CLK"))
        self.y_buf = y
        y = self.shared_row("cmp_buf", y, ("CLR", "VCM"))
        y, (self.y_w,) = self.channel(y, 1)
        self.slot_sar, self.slot_seq = _slots(S, 0)[:B], _slots(S, 1)[:B + 1]
        self.y_sar_row = y
        y = self.shared_row("sar_bit", y, ("SRST",), slots=tuple(self.slot_sar))
        y, tr = self.channel(y, 2 * B + 1)
        self.y_x = {("V", k): tr[k] for k in range(B + 1)} | {("BIT", k): tr[B + 1 + k] for k in range(B)}
        self.y_seq_row = y
        y = self.shared_row("sar_seq", y, ("SCLK", "SRSTB"), slots=tuple(self.slot_seq))
        y = self.mux_rows(y)
        for k in reversed(range(B)):
            y = self.bit_channel(k, y)
            self.y_dac[k] = y
            y = self.row("dac_switch", y, ("VREFP", "VREFN"))
        return y

    def group_adc(self, j: int) -> bool:
        """The group's comparator lines, then its packed SAR register (module docstring)."""
        self.cmp_lines(j, cl_top=self.y_mch[0])
        S, B, P, pin, d = self.S, self.B, self.P, self.pin, self.d
        x_g = (j - S + 1) * P

        def at(slot: int, role: str, name: str) -> int:
            return x_g + slot * P + self.x(role, name)

        def net(track: int, pins: list[tuple[int, int]]) -> None:
            """A met2 track over the pins' x's and a met3 stub from each pin to it."""
            for x, y in pins:
                self.via_line(x, [y, track])
            xs = [x for x, _ in pins]
            self.strap(track, min(xs), max(xs))

        ys, yq = self.y_sar_row, self.y_seq_row
        x_v, x_vin = self.x_seq
        net(self.y_w, [(at(S - 1, "cmp_buf", "CMP"), self.y_buf + pin("cmp_buf", "CMP")[1])]
            + [(at(s, "sar_bit", "CMP"), ys + pin("sar_bit", "CMP")[1]) for s in self.slot_sar])
        for k in range(B + 1):
            pins = [(x_g + self.slot_seq[k] * P + x_v, yq + pin("sar_seq", "V")[1])]
            if k < B:
                pins.append((x_g + self.slot_seq[k + 1] * P + x_vin, yq + pin("sar_seq", "VIN")[1]))
                pins.append(self.riser(x_g + (2 * k + 1) * P, self.y_ch[("V", k)], k, "V"))
            if k >= 1:
                pins.append((x_g + self.slot_sar[k - 1] * P + x_v, ys + pin("sar_bit", "CK")[1]))
            net(self.y_x[("V", k)], pins)
        for k in range(B):
            r = self.riser(x_g + 2 * k * P, self.y_ch[("BIT", k)], k, "BIT")
            net(self.y_x[("BIT", k)], [(at(self.slot_sar[k], "sar_bit", "BIT"), ys + pin("sar_bit", "BIT")[1]), r])
            d.label("met3.label", f"BIT_{k}_{j // S}", r[0], (self.y_x[("BIT", k)] + self.y_ch[("BIT", k)]) // 2)
        # stage 0 takes D = 1: its VIN up to the stage's own VDD rail (via2–met3–via1 stack)
        x0 = x_g + self.slot_seq[0] * P + x_vin
        ya, yv = yq + pin("sar_seq", "VIN")[1], yq + self.H["sar_seq"] - RAIL_Y
        d.box("via2", x0, ya, V2, V2)
        self.vline("met3", x0, ya - M3W // 2, yv + M3W // 2)
        self.stack12(x0, yv)
        return False

    def riser(self, x_slot: int, y_ch: int, k: int, what: str) -> tuple[int, int]:
        """A riser at the slot's CMP x (met3, free there up through the multiplexer and DAC rows)
        from channel X to bit k's channel, whose strap is extended to it; returns its top end
        (x, y) as the pin that the channel-X net's stub reaches."""
        x = x_slot + self.x("cmp_buf", "CMP")
        x_g = x_slot - x_slot % (self.S * self.P)
        x_strap = x_g + (self.x("sar_bit", "BIT") if what == "BIT" else self.x_seq[k % 2])
        self.strap(y_ch, min(x, x_strap), max(x, x_strap))
        return x, y_ch
