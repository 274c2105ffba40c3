"""Shared ADCs packed across their S columns (adc_share S > 2, 2·B <= S, B + 1 odd slots).

:class:`~eda.layout.macro_shared.SharedAssembler` stacks a group's comparator, output stage,
B result flip-flops and B + 1 sequencer stages in the group's last column, one row each, so the
other S − 1 columns leave those 2B + 3 rows empty. Here two mixed rows hold them: the B result
flip-flops (even slots 0, 2, …) with the output stage (slot S − 2), and the B + 1 sequencer stages
(odd slots 1, 3, …) with the comparator (the last odd slot, when one is left; else the comparator
keeps a row of its own under channel W, in slot S − 1). Cells wider than the column pitch overhang
into the next slot, which is empty in that row. Floorplan of the ADC region (y grows upward)::

    dac_k rows and bit channels (as in macro_shared), then the array
    col_mux row, multiplexer channel (MUX_s strap)         (as in macro_shared)
    seq row      stage k in slot 2k+1, comparator           V, VIN, SCLK, SRSTB, the comparator's
                                                              ports: stubs down to channel X
    channel X    V_0..V_B, BIT_k, OUTP, OUTN, SCLK, SRSTB, INN, CLK   + risers: BIT_k in slot 2k,
    sar row      bit k in slot 2k, cmp_buf in slot S − 2      V_k in slot 2k+1 (met3 at the CMP x)
    channel W    CMP, SRST, CLR, VCM                          up to bit k's channel
    [comparator row, when no odd slot is left]

The rows are bottom-aligned and as tall as their tallest cell: full-width met1 rails, a shorter
cell's VDD rail bridged up to the row's. Cells of different roles have their horizontal ports on
different track heights, so no row strap crosses a cell: every port (v-pins and horizontal ports
alike) reaches its net's channel track with a met3 stub (via2 at both ends); a group net's track
spans its pins, a global net's track (SRST, CLR, VCM, SCLK, SRSTB to their spines, INN and CLK to
left-edge pins) the macro. Stubs of one slot sit on distinct template x's (horizontal ports on the
DAC-line x's, free below the multiplexer; CMP 3.48, BIT 4.11, V/CK 4.74, VIN 5.37), and the two
rows use disjoint slots, so no two nets' stubs overlap. The compute line MUX_s reaches the
comparator's INP and the output stage's CL reset on met4 from the multiplexer channel.
"""

from __future__ import annotations

from eda.layout.cells import M3W, M4W
from eda.layout.devices import RAIL_W, RAIL_Y
from eda.layout.macro import M3PAD, M3PAD_V, V2, V3
from eda.layout.macro_shared import SharedAssembler


def packable(adc_share: int, adc_bits: int) -> bool:
    """Whether the packed layout fits: B result flip-flops in the even slots and the output stage
    in slot S − 2, B + 1 sequencer stages in the odd slots, 2B risers (one per slot) up to the
    bit channels."""
    S, B = adc_share, adc_bits
    return (S > 2 and len(_slots(S, 0)) >= B and len(_slots(S, 1)) >= B + 1 and 2 * B <= S
            and S - 2 not in _slots(S, 0)[:B])


def _slots(S: int, parity: int) -> list[int]:
    """Slots of one parity whose overhang (into the slot on their right) lands in an empty slot."""
    return [s for s in range(parity, S, 2) if S % 2 == 0 or s + 1 < S]


#: horizontal ports of the cells in the packed rows: (role, port, spine or None for a left-edge pin)
H_PORTS = (("sar_bit", "SRST", "SRST"), ("cmp_buf", "CLR", "CLR"), ("cmp_buf", "VCM", "VCM"),
           ("sar_seq", "SCLK", "SCLK"), ("sar_seq", "SRSTB", "SRSTB"), ("comparator", "INN", None),
           ("comparator", "CLK", None))
#: x (in its slot) of the met3 stub from each horizontal port down to its channel track: free x's
#: of the template (the DAC-line x's; no DAC line runs below the multiplexer)
X_H = {"SRST": 960, "CLR": 2220, "VCM": 2850, "SCLK": 960, "SRSTB": 1590, "INN": 2220, "CLK": 2850}


class PackedAssembler(SharedAssembler):
    """Shared ADCs with the SAR register packed into two rows (see the module docstring)."""

    def adc(self) -> int:
        S, B = self.S, self.B
        odd = _slots(S, 1)
        self.slot_sar, self.slot_seq = _slots(S, 0)[:B], odd[:B + 1]
        self.slot_buf = S - 2
        # the comparator joins the sequencer row when an odd slot is left, else it keeps its own row
        self.slot_cmp = odd[-1] if len(odd) >= B + 2 else None
        y = 0
        if self.slot_cmp is None:
            y = self.shared_row("comparator", 0, (), ("INN", "CLK"))
        self.y_cmp_row = 0
        w_nets = ["CMP", "SRST", "CLR", "VCM"]
        y, tr = self.channel(y, len(w_nets))
        self.y_w = dict(zip(w_nets, tr, strict=True))
        self.y_sar_row = self.y_buf = y
        y = self.mixed_row(y, [("sar_bit", self.slot_sar), ("cmp_buf", [self.slot_buf])])
        x_nets = ([("V", k) for k in range(B + 1)] + [("BIT", k) for k in range(B)]
                  + [("OUTP", 0), ("OUTN", 0), ("SCLK", 0), ("SRSTB", 0)]
                  + ([("INN", 0), ("CLK", 0)] if self.slot_cmp is not None else []))
        y, tr = self.channel(y, len(x_nets))
        self.y_x = dict(zip(x_nets, tr, strict=True))
        self.y_seq_row = y
        if self.slot_cmp is not None:
            self.y_cmp_row = y
        y = self.mixed_row(y, [("sar_seq", self.slot_seq)]
                           + ([("comparator", [self.slot_cmp])] if self.slot_cmp is not None else []))
        for _, port, spine in H_PORTS:
            track = self.y_w.get(port, self.y_x.get((port, 0)))
            if track is not None:
                self.hext(track, self.W * self.P, self.X_L, spine, None if spine else port)
        y = self.mux_rows(y)
        for k in reversed(range(B)):
            y = self.bit_channel(k, y)
            self.y_dac[k] = y
            y = self.dac_row(k, y)
        return y

    def mixed_row(self, y: int, members: list[tuple[str, list[int]]]) -> int:
        """Cells of several roles in one row (bottom-aligned; the row is as tall as the tallest):
        full-width VSS and VDD rails (a shorter cell's VDD rail is bridged up to the row's), no
        horizontal straps (each port drops to a channel track, see :meth:`group_adc`)."""
        S, P, W = self.S, self.P, self.W
        h = max(self.H[r] for r, _ in members)
        self.rails(y, h, 0)
        for yc in (y + RAIL_Y, y + h - RAIL_Y):
            self.d.rect("met1", 0, yc - RAIL_W // 2, W * P, yc + RAIL_W // 2)
        for role, slots in members:
            for s in slots:
                self.ref(self.gc[role], s * P, y, W // S, 1, S * P, 0)
                if self.H[role] < h:
                    for g in range(W // S):
                        x0 = g * S * P + s * P
                        self.d.rect("met1", x0, y + self.H[role] - RAIL_Y - RAIL_W // 2,
                                    x0 + self.wnm(role), y + h - RAIL_Y + RAIL_W // 2)
        return y + h

    def wnm(self, role: str) -> int:
        return int(round(self.C[role].width_um * 1000))

    def group_adc(self, j: int) -> bool:
        """The group's comparator, output stage and packed SAR register (module docstring)."""
        S, B, P, pin, d = self.S, self.B, self.P, self.pin, self.d
        x_g = (j - S + 1) * P
        s_cmp = S - 1 if self.slot_cmp is None else self.slot_cmp

        def at(slot: int, role: str, name: str) -> int:
            return x_g + slot * P + self.x(role, name)

        def net(track: int, pins: list[tuple[int, int]], strap: bool = True) -> None:
            """A met3 stub from each pin to the track, and the track over the pins' x's."""
            for x, y in pins:
                self.via_line(x, [y, track])
            if strap:
                xs = [x for x, _ in pins]
                self.strap(track, min(xs), max(xs))

        ys, yq, yc = self.y_sar_row, self.y_seq_row, self.y_cmp_row
        x_v, x_vin = self.x_seq
        # compute line: the comparator's INP and the output stage's CL reset, both on MUX_s (met4 down
        # from the multiplexer channel, whose MUX_s strap spans the group)
        for slot, role, name, yr in ((s_cmp, "comparator", "INP", yc), (self.slot_buf, "cmp_buf", "CL", ys)):
            x, yy = at(slot, role, name), yr + pin(role, name)[1]
            d.box("via2", x, yy, V2, V2)
            d.box("met3", x, yy, M3PAD, M3PAD)
            d.box("via3", x, yy, V3, V3)
            self.vline("met4", x, yy - M3PAD // 2, self.y_mch[0] + M3PAD_V // 2, M4W)
            if slot != S - 1:  # column j's own MUX_s stack is drawn by mux_lines
                d.box("via2", x, self.y_mch[0], V2, V2)
                self.m4_stack(d, x, self.y_mch[0])
        for nm_ in ("OUTP", "OUTN"):
            net(self.y_x[(nm_, 0)], [(at(s_cmp, "comparator", nm_), yc + pin("comparator", nm_)[1]),
                                     (at(self.slot_buf, "cmp_buf", nm_), ys + pin("cmp_buf", nm_)[1])])
        # horizontal ports: a stub from each cell's port track down to its full-width channel track
        rows = {"sar_bit": (ys, self.slot_sar), "cmp_buf": (ys, [self.slot_buf]),
                "sar_seq": (yq, self.slot_seq), "comparator": (yc, [s_cmp])}
        for role, port, _ in H_PORTS:
            track = self.y_w.get(port, self.y_x.get((port, 0)))
            if track is None:
                continue
            yr, slots = rows[role]
            net(track, [(x_g + s * P + X_H[port], yr + pin(role, port)[1]) for s in slots], strap=False)
        net(self.y_w["CMP"], [(at(self.slot_buf, "cmp_buf", "CMP"), ys + pin("cmp_buf", "CMP")[1])]
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
