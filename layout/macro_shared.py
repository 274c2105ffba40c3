"""ADC sharing: S columns share one comparator and SAR register through a column multiplexer.

Floorplan of the ADC region when ``adc_share`` S > 1 (y grows upward; per group of S columns the
shared cells sit in the group's last column, the other columns' slots of those rows are empty)::

    array
    ───────────────────────────────────────────────────────────────────────
    dac_0  (every column)                 per bit k = 0 .. B-1 (top to bottom):
    channel 0: BIT_0, V_0 straps (met2)     dac_k in every column (its DAC lines as with S = 1),
    seq_0, sar_0 (last column only)         a channel with the group's BIT_k and V_k on met2
    ...                                     straps (via2 onto each column's short met3 lines to
    seq_B (last column only)                its dac_k pins), seq_k and sar_k in the last column
    col_mux (every column)                the column multiplexer: CL_j ↔ MUX_s on SEL_{j mod S},
    channel M: MUX_s strap, SEL_0..S-1      and CL_j's reset (CLR → VCM); MUX_s strap per group,
    cmp_buf (last column only)              SEL_r straps over the whole width (pins at the left)
    comparator (last column only)         INP = MUX_s (met4 from the channel down), reset by CLR

The sequencer lines V_k, BIT_k and CMP of the group stay in its last column exactly as with S = 1;
the channels only add the straps and each other column's short line to its own dac_k cell. Rows
with cells in the last columns only get full-width met1 rails and met2 straps for their
horizontal ports, so the cells between them need no abutment.
"""

from __future__ import annotations

from eda.errors import InputError
from eda.layout.cells import M4W
from eda.layout.devices import RAIL_W, RAIL_Y, TRACK
from eda.layout.macro import M3PAD_V, V2, _Assembler
from eda.layout.macro_hold import clr_to_vss, draw_hold, hold_side

#: channel track pitch (met2 width + spacing with room for the via2 stubs) and edge margin (nm)
CH_PITCH, CH_MARGIN = 460, 300
#: met2 beyond a strap's end via2 (via2.5's 0.085 on the end edge, on the grid)
STRAP_END = 100 + 90


class SharedAssembler(_Assembler):
    """:class:`~eda.layout.macro._Assembler` with S > 1 columns per comparator."""

    def __init__(self, p, lib):
        super().__init__(p, lib)
        self.C["col_mux"] = lib.cell("col_mux")
        from eda.layout.macro import _cell_from_lib

        self.gc["col_mux"] = _cell_from_lib(self.glib, self.C["col_mux"], {})
        self.H["col_mux"] = self.hnm("col_mux")
        # DAC switches gated by the column's SEL (a waiting column holds the MSB-trial pattern): the
        # dac_sel cell fills the dac_switch role (bits k >= 1), dac_msb bit 0; both have the same pins
        self.glib.remove(self.gc["dac_switch"])  # the ungated cell the base class loaded
        for role, cell in (("dac_switch", "dac_sel"), ("dac_msb", "dac_msb")):
            self.C[role] = lib.cell(cell)
            self.H[role] = self.hnm(role)
            if role == "dac_msb" or self.B > 1:  # only cells that are placed join the GDS
                self.gc[role] = _cell_from_lib(self.glib, self.C[role], {})
        if self.C["dac_msb"].pins != self.C["dac_switch"].pins or self.H["dac_msb"] != self.H["dac_switch"]:
            raise InputError(f"cells {self.C['dac_msb'].name} and {self.C['dac_switch'].name} must have the same "
                             "size and pins (one DAC-switch row template)", file=lib.path / "manifest.json")
        self.y_ch: dict[int, int] = {}
        # the multiplexer fix (a hold capacitor on MUX_s, the output stage's reset off) from HOLD_MIN_BITS on
        self.fixed = hold_side(self.G, self.B) > 0

    def hnm(self, role: str) -> int:
        return int(round(self.C[role].height_um * 1000))

    def last(self, j: int) -> bool:
        return j % self.S == self.S - 1

    # ---- rows
    def shared_row(self, role: str, y: int, spines: tuple[str, ...] = (), labels: tuple[str, ...] = (),
                   slots: tuple[int, ...] | None = None) -> int:
        """A row of ``role`` cells in every group's last column (or in its ``slots``), with
        full-width rails and straps."""
        S, P, W = self.S, self.P, self.W
        for s in (S - 1,) if slots is None else slots:
            self.ref(self.gc[role], s * P, y, W // S, 1, S * P, 0)
        h = self.H[role]
        self.rails(y, h, 0)
        for yc in (y + RAIL_Y, y + h - RAIL_Y):
            self.d.rect("met1", 0, yc - RAIL_W // 2, W * P, yc + RAIL_W // 2)
        for net in spines + labels:
            yy = y + self.pin(role, net)[1]
            self.hext(yy, 0, self.X_L, net if net in spines else None, None if net in spines else net)
            self.d.rect("met2", 0, yy - TRACK // 2, W * P, yy + TRACK // 2)
        return y + h

    def channel(self, y: int, n: int) -> tuple[int, list[int]]:
        """A routing channel of ``n`` met2 tracks at ``y``; returns (next y, track y's)."""
        ys = [y + CH_MARGIN + i * CH_PITCH for i in range(n)]
        return y + 2 * CH_MARGIN + (n - 1) * CH_PITCH, ys

    def strap(self, y: int, x_a: int, x_b: int) -> None:
        self.d.rect("met2", x_a - STRAP_END, y - TRACK // 2, x_b + STRAP_END, y + TRACK // 2)

    def adc_row(self, role: str, y: int, spines: tuple[str, ...]) -> int:
        return self.shared_row(role, y, spines)

    def dac_row(self, k: int, y: int) -> int:
        return self.row("dac_msb" if k == 0 else "dac_switch", y, ("VREFP", "VREFN"))

    def bit_channel(self, k: int, y: int) -> int:
        """Bit k's channel: the group's BIT_k and V_k straps."""
        y, (self.y_ch[("BIT", k)], self.y_ch[("V", k)]) = self.channel(y, 2)
        return y

    def adc_bottom(self) -> int:
        """Comparator, output stage, the multiplexer channel and row (see the module docstring)."""
        y = self.shared_row("comparator", 0, (), ("INN", "CLK"))
        self.y_buf = y
        y = self.shared_row("cmp_buf", y, ("VCM",) if self.fixed else ("CLR", "VCM"))  # fixed: CLR on VSS
        return self.mux_rows(y)

    def mux_rows(self, y: int) -> int:
        """The multiplexer channel (MUX_s straps, SEL_r lines) and the col_mux row."""
        S = self.S
        y, self.y_mch = self.channel(y, 1 + S)  # MUX_s, then SEL_0 .. SEL_{S-1}
        for r in range(S):
            ys = self.y_mch[1 + r]
            self.d.rect("met2", self.X_L, ys - TRACK // 2, self.W * self.P, ys + TRACK // 2)
            self.d.label("met2.label", f"SEL_{r}", self.X_L + 100, ys)
        self.y_mux = y
        return self.row("col_mux", y, ("CLR", "VCM"))

    # ---- columns
    def column(self, j: int, y_top: int, y_end: int) -> None:
        self.array_lines(j, y_top, y_end)
        if self.mux_lines(j):
            return
        self.dac_stubs(j)

    def dac_stubs(self, j: int) -> None:
        """Column ``j``'s dac_k BIT and V pins up from bit k's channel straps."""
        x0, pin = j * self.P, self.pin
        for k in range(self.B):
            self.via_line(x0 + self.x("dac_switch", "BIT"), [self.y_ch[("BIT", k)],
                                                            self.y_dac[k] + pin("dac_switch", "BIT")[1]])
            self.via_line(x0 + self.x_seq[k % 2], [self.y_ch[("V", k)], self.y_dac[k] + pin("dac_switch", "V")[1]])

    def mux_lines(self, j: int) -> bool:
        """Column ``j``'s multiplexer wiring; in a group's last column also the group's straps and
        ADC lines (then returns True: that column's dac_k pins hang on its own BIT/V lines)."""
        x0, pin, d, S, P = j * self.P, self.pin, self.d, self.S, self.P
        x_cl = x0 + self.x("compute", "CL")
        # the multiplexer: CL_j down from the array to its CL pin; OUT down to MUX_s; SEL to SEL_{j mod S}
        y_in = self.y_mux + pin("col_mux", "CL")[1]
        d.box("via2", x_cl, y_in, V2, V2)
        self.m4_stack(d, x_cl, y_in)
        self.vline("met4", x_cl, y_in - M3PAD_V // 2, self.y_dac[0] + self.H["dac_switch"], M4W)
        x_out = x0 + self.x("col_mux", "OUT")
        self.via_line(x_out, [self.y_mch[0], self.y_mux + pin("col_mux", "OUT")[1]])
        # SEL_{j mod S}: the multiplexer's select and every DAC switch of the column (one met3 line up)
        self.via_line(x0 + self.x("col_mux", "SEL"), [self.y_mch[1 + j % S], self.y_mux + pin("col_mux", "SEL")[1]]
                      + [self.y_dac[k] + pin("dac_switch", "SEL")[1] for k in range(self.B)])
        if self.last(j):
            d.box("via2", x_cl, self.y_mch[0], V2, V2)
            self.m4_stack(d, x_cl, self.y_mch[0])
            x_first = (j - S + 1) * P
            self.strap(self.y_mch[0], x_first + self.x("col_mux", "OUT"), x_cl)
            for k in range(self.B):
                self.strap(self.y_ch[("BIT", k)], x_first + self.x("sar_bit", "BIT"), x0 + self.x("sar_bit", "BIT"))
                xv = self.x_seq[k % 2]
                self.strap(self.y_ch[("V", k)], x_first + xv, x0 + xv)
            return self.group_adc(j)
        return False

    def group_adc(self, j: int) -> bool:
        """The ADC lines of the group whose last column is ``j`` (the vertical lines of the
        unshared template, through the bit channels); True: column j's dac_k pins are on them."""
        self.adc_lines(j, cl_top=self.y_mch[0], extra={key: [y] for key, y in self.y_ch.items()})
        if self.fixed:  # the hold capacitor in slot S - 2 of the comparator row (met4 jog to MUX_s), CLR on VSS
            self.hold(j)
        return True

    def hold(self, j: int) -> None:
        """The multiplexer fix of the group whose last column is ``j`` (:mod:`eda.layout.macro_hold`)."""
        draw_hold(self, (j - 1) * self.P, 0, j * self.P + self.x("compute", "CL"), self.pin("comparator", "INP")[1])
        clr_to_vss(self, j * self.P, self.y_buf + self.pin("cmp_buf", "CLR")[1], self.y_buf, right=False)
