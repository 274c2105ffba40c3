"""The default sky130 ACIM cell library, drawn with the row-cell generator.

Column template (x from a column's left edge, nm): vertical met3 lines the macro draws over a
column sit on a 630 nm grid starting at 330 nm (met3 0.33 wide + m3.2 0.30 space); the compute
capacitor's top plate (``CL``, met4) sits at ``pitch - 1500`` with a met3-free window around its
bottom plate. Array lines: ``RBL`` 330, ``BLB`` 3480, ``BL`` 4110; ADC lines: ``CMP`` 3480,
``BIT`` 4110, sequencer ``V_k`` 4740 (k even) / 5370 (k odd); ``DAC_k`` lines 960 + 630·k
(k < 4), shared by the array and the ADC.
Row template: horizontal word lines on fixed track slots (``WL`` slot 0, ``RWL`` slot 1).
"""

from __future__ import annotations

from eda.layout.devices import Chain, Fet, Mim, Port, RowCellParams, nm
from eda.tech.sky130 import sky130

_T = sky130()
#: met3 column-line width: a via2 plus m3.4 enclosure on both sides (0.33 µm)
M3W = nm(_T.value("via2.1a") + 2 * _T.value("m3.4"))
#: met4 line width: a via3 plus m4.3 enclosure on both sides (0.33 µm)
M4W = nm(_T.value("via3.1") + 2 * _T.value("m4.3"))
#: the compute capacitor (MIM, capm) side
MIM_SIDE = 1000
#: MIM bottom-plate keep-out: capm grown by capm.3 is the plate; other met3 stays capm.2b_a from it
PLATE_GROW = nm(_T.value("capm.3"))
PLATE_KEEP = nm(_T.value("capm.2b_a"))

X_RBL, X_BLB, X_BL = 330, 3480, 4110
X_CMP, X_BIT = 3480, 4110
X_T = (4740, 5370)  # SAR sequencer lines V_k: x_T[k % 2] (consecutive lines overlap in y)
X_DAC = (960, 1590, 2220, 2850)
#: comparator latch outputs, down to its output stage (the row above; DAC lines start higher up)
X_OUTP, X_OUTN = X_DAC[0], X_DAC[1]
#: CL reset transmission-gate finger width (two fingers per device): it must settle the compute line
#: to VCM = VDD/2 (where both devices are weakest) within the MAC phase after the bottom plates kick it
W_RESET = 840
MAX_ADC_BITS = 2 * len(X_DAC)  # lines 4..7 run on met4 above lines 0..3 (see eda.layout.macro)
SLOT_WL, SLOT_RWL = 0, 1


def x_cl(pitch: int) -> int:
    """x of the compute line (met4, over the MIM top plate) in a column of width ``pitch``: the
    middle of the window where the MIM bottom plate keeps capm.2b_a from the last DAC line on its
    left and the next column's RBL line on its right (BL/BLB cross the compute cell on met4)."""
    half = MIM_SIDE // 2 + PLATE_GROW + PLATE_KEEP + M3W // 2
    lo, hi = X_DAC[-1] + half, pitch + X_RBL - half
    if lo > hi:
        raise ValueError(f"column pitch {pitch} nm leaves no room for the MIM bottom-plate keep-out")
    return (lo + hi) // 20 * 10


def _pw(*ports: Port) -> tuple[Port, ...]:
    return ports + (Port("VDD", "power"), Port("VSS", "power"))


def bitcell(pitch: int = 0, slots: int = 0) -> RowCellParams:
    """8T SRAM bitcell (6T core + decoupled read port), logic rules, hand-drawn to the column
    template (:mod:`eda.layout.bitcell8t_template`): 3 row slots (3.88 µm) tall, 4.68 µm natural
    width, stretched to ``pitch``; same ports and transistors as :func:`bitcell_generated` (the
    row-cell generator's 7.38 × 5.26 µm version). ``slots`` is ignored (the cell is 3 slots tall).

    Write: WL opens M5/M6 onto BL/BLB. Read/compute: RWL (the input activation) turns on M8;
    M7 (gate QB) discharges the local read bit line RBL when Q = 1.
    """
    del slots
    return RowCellParams("acim_bitcell8t", ports=bitcell_generated(pitch).ports, min_width=pitch, hand="bitcell8t")


def bitcell_generated(pitch: int = 0, slots: int = 0) -> RowCellParams:
    """The row-cell generator's 8T bitcell (one transistor row, met2 routing channel): kept to
    measure the hand-drawn cell against (benchmarks/bench_bitcell8t.py)."""
    n = (Chain((Fet("M8", "RBL", "RWL", "RX"), Fet("M7", "RX", "QB", "VSS"), Fet("M3", "VSS", "Q", "QB"),
                Fet("M6", "QB", "WL", "BLB"))),
         Chain((Fet("M5", "BL", "WL", "Q"), Fet("M1", "Q", "QB", "VSS")), col=9))
    p = (Chain((Fet("M2", "Q", "QB", "VDD"), Fet("M4", "VDD", "Q", "QB")), col=4),)
    ports = _pw(Port("BL", "v", x_nm=X_BL), Port("BLB", "v", x_nm=X_BLB), Port("RBL", "v", x_nm=X_RBL),
                Port("WL", "h", slot=SLOT_WL), Port("RWL", "h", slot=SLOT_RWL))
    return RowCellParams("acim_bitcell8t", nmos=n, pmos=p, ports=ports, min_width=pitch, min_slots=max(slots, 3))


def wl_driver(slots: int = 0) -> RowCellParams:
    """Word-line driver: two-inverter buffer WLIN → WL (WL leaves on the right at the WL slot); each
    gate column has one net in both rows, so it routes in 2 slots (WLIN and WL share slot 0)."""
    n = (Chain((Fet("MN1", "WLB", "WLIN", "VSS"), Fet("MN2", "VSS", "WLB", "WL"))),)
    p = (Chain((Fet("MP1", "WLB", "WLIN", "VDD"), Fet("MP2", "VDD", "WLB", "WL"))),)
    return RowCellParams("acim_wl_driver", nmos=n, pmos=p, min_slots=max(slots, 2),
                         ports=_pw(Port("WLIN", "h", "l"), Port("WL", "h", "r", slot=SLOT_WL)))


def in_driver(slots: int = 0) -> RowCellParams:
    """Input (read word-line) driver: buffer IN → RWL, placed right of the array (RWL leaves left);
    routes in 2 slots (RWL and IN share slot 1)."""
    n = (Chain((Fet("MN2", "RWL", "INB", "VSS"), Fet("MN1", "VSS", "IN", "INB"))),)
    p = (Chain((Fet("MP2", "RWL", "INB", "VDD"), Fet("MP1", "VDD", "IN", "INB"))),)
    return RowCellParams("acim_in_driver", nmos=n, pmos=p, min_slots=max(slots, 2),
                         ports=_pw(Port("RWL", "h", "l", slot=SLOT_RWL), Port("IN", "h", "r")))


def wl_driver2() -> RowCellParams:
    """Two word-line drivers in one 4-slot row, for the pair bitcell row
    (:mod:`eda.layout.bitcell8t_pair`): WLIN0 → WL0 on slot 2, WLIN1 → WL1 on slot 3."""
    n = tuple(Chain((Fet(f"MN{2 * k + 1}", f"WLB{k}", f"WLIN{k}", "VSS"), Fet(f"MN{2 * k + 2}", "VSS", f"WLB{k}",
                                                                          f"WL{k}"))) for k in (0, 1))
    p = tuple(Chain((Fet(f"MP{2 * k + 1}", f"WLB{k}", f"WLIN{k}", "VDD"), Fet(f"MP{2 * k + 2}", "VDD", f"WLB{k}",
                                                                          f"WL{k}"))) for k in (0, 1))
    return RowCellParams("acim_wl_driver2", nmos=n, pmos=p, min_slots=4,
                         ports=_pw(Port("WLIN0", "h", "l"), Port("WL0", "h", "r", slot=2), Port("WLIN1", "h", "l"),
                                   Port("WL1", "h", "r", slot=3)))


def in_driver2() -> RowCellParams:
    """Two input (read word-line) drivers in one 4-slot row, for the pair bitcell row: IN0 → RWL0
    on slot 0, IN1 → RWL1 on slot 1 (both leave on the left)."""
    n = tuple(Chain((Fet(f"MN{2 * k + 2}", f"RWL{k}", f"INB{k}", "VSS"), Fet(f"MN{2 * k + 1}", "VSS", f"IN{k}",
                                                                         f"INB{k}"))) for k in (0, 1))
    p = tuple(Chain((Fet(f"MP{2 * k + 2}", f"RWL{k}", f"INB{k}", "VDD"), Fet(f"MP{2 * k + 1}", "VDD", f"IN{k}",
                                                                         f"INB{k}"))) for k in (0, 1))
    return RowCellParams("acim_in_driver2", nmos=n, pmos=p, min_slots=4,
                         ports=_pw(Port("RWL0", "h", "l", slot=0), Port("IN0", "h", "r"),
                                   Port("RWL1", "h", "l", slot=1), Port("IN1", "h", "r")))


def compute(pitch: int) -> RowCellParams:
    """Local compute cell: RBL precharge, sense inverter, transmission gate onto the compute
    capacitor's bottom plate N, reset/DAC transmission gate N → VB (RST/RSTB, so VB passes
    VREFP = VDD and VREFN = 0 both in full), MIM capacitor N–CL (1 µm × 1 µm)."""
    n = (Chain((Fet("MNI", "VSS", "RBL", "X"), Fet("MNT", "X", "EN", "N"), Fet("MNR", "N", "RST", "VB")), col=2),)
    p = (Chain((Fet("MPP", "RBL", "PCHB", "VDD"), Fet("MPI", "VDD", "RBL", "X"), Fet("MPT", "X", "ENB", "N"),
                Fet("MPR", "N", "RSTB", "VB"))),)
    ports = _pw(Port("RBL", "v", x_nm=X_RBL), Port("VB", "v", x_nm=X_DAC[0], span_nm=X_DAC[-1] - X_DAC[0]),
                Port("CL", "m4", x_nm=x_cl(pitch)),
                Port("PCHB", "h"), Port("EN", "h"), Port("ENB", "h"), Port("RST", "h"), Port("RSTB", "h"))
    return RowCellParams("acim_compute", nmos=n, pmos=p, ports=ports, min_width=pitch,
                         mims=(Mim("C0", "N", "CL", MIM_SIDE, MIM_SIDE, x_cl(pitch)),))


def comparator(pitch: int = 0) -> RowCellParams:
    """StrongARM latch comparator: INP/INN pair, CLK tail, cross-coupled latch, CLK resets of
    outputs and internal nodes."""
    n = (Chain((Fet("M3", "OUTP", "OUTN", "X1"), Fet("M1", "X1", "INP", "TAIL"), Fet("M2", "TAIL", "INN", "X2"),
                Fet("M4", "X2", "OUTP", "OUTN"))),
         Chain((Fet("M0", "TAIL", "CLK", "VSS"),), col=10))
    p = (Chain((Fet("M9", "X1", "CLK", "VDD"), Fet("M7", "VDD", "CLK", "OUTP"), Fet("M5", "OUTP", "OUTN", "VDD"),
                Fet("M6", "VDD", "OUTP", "OUTN"), Fet("M8", "OUTN", "CLK", "VDD"), Fet("M10", "VDD", "CLK", "X2"))),
         )
    p = (Chain(p[0].fets, col=2),)
    ports = _pw(Port("INP", "v", x_nm=x_cl(pitch) if pitch else X_RBL), Port("INN", "h"), Port("CLK", "h"),
                Port("OUTP", "v", x_nm=X_OUTP), Port("OUTN", "v", x_nm=X_OUTN))
    return RowCellParams("acim_comparator", nmos=n, pmos=p, ports=ports, min_width=pitch)


def cmp_buf(pitch: int = 0) -> RowCellParams:
    """Comparator output stage and compute-line reset, one per comparator (the row above it).

    Two equal inverters load the StrongARM's OUTP and OUTN alike (a latch with one output loaded
    does not resolve against it); ``CMP = NOT OUTN`` (= OUTP once the latch has decided: low when
    INP > INN) drives the SAR result flip-flops, the OUTP inverter's output is a dummy. The
    compute-line reset is a transmission gate CL ↔ VCM on ``CLR`` (and a local CLR inverter), so
    VCM passes in full at any level between the rails (a charge-domain MAC samples the top plate
    at VCM); its devices are 2 × 0.84 µm wide."""
    n = (Chain((Fet("MN1", "DP", "OUTP", "VSS"), Fet("MN2", "VSS", "OUTN", "CMP"))),
         Chain((Fet("MN3", "CLRB", "CLR", "VSS"),)),
         Chain((Fet("MN4", "CL", "CLR", "VCM", w_nm=W_RESET), Fet("MN5", "VCM", "CLR", "CL", w_nm=W_RESET))))
    p = (Chain((Fet("MP1", "DP", "OUTP", "VDD"), Fet("MP2", "VDD", "OUTN", "CMP"))),
         Chain((Fet("MP3", "CLRB", "CLR", "VDD"),)),
         Chain((Fet("MP4", "CL", "CLRB", "VCM", w_nm=W_RESET), Fet("MP5", "VCM", "CLRB", "CL", w_nm=W_RESET))))
    ports = _pw(Port("OUTP", "v", x_nm=X_OUTP), Port("OUTN", "v", x_nm=X_OUTN), Port("CMP", "v", x_nm=X_CMP),
                Port("CL", "v", x_nm=x_cl(pitch) if pitch else X_T[1]), Port("CLR", "h"), Port("VCM", "h"))
    return RowCellParams("acim_cmp_buf", nmos=n, pmos=p, ports=ports, min_width=pitch, wn_band=W_RESET,
                         wp_band=W_RESET)


def col_mux(pitch: int = 0) -> RowCellParams:
    """Column multiplexer in front of a shared SAR ADC (one per column when S > 1 columns share
    one comparator): a transmission gate CL ↔ OUT on ``SEL`` (local SEL inverter) and the
    column's compute-line reset, a transmission gate CL ↔ VCM on ``CLR`` (local CLR inverter);
    the gates are 2 × 0.84 µm fingers (reset) and 0.84 µm (select)."""
    w = W_RESET
    n = (Chain((Fet("MN1", "SELB", "SEL", "VSS"), Fet("MN2", "VSS", "CLR", "CLRB"))),
         Chain((Fet("MN3", "CL", "CLR", "VCM", w_nm=w), Fet("MN4", "VCM", "CLR", "CL", w_nm=w),
                Fet("MN5", "CL", "SEL", "OUT", w_nm=w))))
    p = (Chain((Fet("MP1", "SELB", "SEL", "VDD"), Fet("MP2", "VDD", "CLR", "CLRB"))),
         Chain((Fet("MP3", "CL", "CLRB", "VCM", w_nm=w), Fet("MP4", "VCM", "CLRB", "CL", w_nm=w),
                Fet("MP5", "CL", "SELB", "OUT", w_nm=w))))
    ports = _pw(Port("CL", "v", x_nm=x_cl(pitch) if pitch else X_T[1]), Port("OUT", "v", x_nm=X_BIT),
                Port("SEL", "v", x_nm=X_RBL), Port("CLR", "h"), Port("VCM", "h"))
    return RowCellParams("acim_col_mux", nmos=n, pmos=p, ports=ports, min_width=pitch, wn_band=w, wp_band=w)


def sar_seq(pitch: int = 0) -> RowCellParams:
    """One stage of the per-column SAR bit sequencer: a TSPC positive-edge D flip-flop with an
    active-low asynchronous reset (``SRSTB`` pulls the internal node QB high, so ``V`` = 0).

    The B + 1 stages form a thermometer shift register clocked by ``SCLK``: stage 0 takes D = 1
    (tied high by the macro), stage k takes ``VIN`` = V of stage k-1; after the reset, V_k rises
    on the (k+1)-th SCLK edge and stays high. V_k enables bit k's trial in its DAC switch and
    its rising edge is the capture clock of bit k-1's result flip-flop. Assert SRSTB while SCLK
    is low (the TSPC output stage is then off, so the reset pull-up meets no contention).
    """
    n = (Chain((Fet("N1", "A", "VIN", "VSS"), Fet("N3", "VSS", "SCLK", "n2"), Fet("N2", "n2", "A", "B"))),
         Chain((Fet("N4", "QB", "SCLK", "n3"), Fet("N5", "n3", "B", "VSS"), Fet("N6", "VSS", "QB", "V")), col=7))
    p = (Chain((Fet("P2", "A", "SCLK", "n1"), Fet("P1", "n1", "VIN", "VDD"), Fet("P3", "VDD", "SCLK", "B"))),
         Chain((Fet("P7", "VDD", "SRSTB", "QB"), Fet("P4", "QB", "B", "VDD"), Fet("P5", "VDD", "QB", "V")), col=7))
    span = X_T[1] - X_T[0]
    ports = _pw(Port("VIN", "v", x_nm=X_T[0], span_nm=span), Port("SCLK", "h"),
                Port("V", "v", x_nm=X_T[0], span_nm=span), Port("SRSTB", "h"))
    return RowCellParams("acim_sar_seq", nmos=n, pmos=p, ports=ports, min_width=pitch)


def sar_bit(pitch: int = 0) -> RowCellParams:
    """One SAR result bit: a TSPC positive-edge D flip-flop with an active-high asynchronous
    preset (``SRST`` pulls the internal node QB low, so ``BIT`` = 1: the trial value).

    Its clock ``CK`` is V_{k+1} of the column's sequencer, so it stores the comparator decision
    ``CMP`` of bit k when the sequencer moves on to bit k+1; until then it holds the preset 1,
    which the DAC switch gates with V_k (bit k's DAC line stays at VREFN before its trial).
    Assert SRST while CK is low (all sequencer outputs are 0 during the reset).
    """
    n = (Chain((Fet("N1", "A", "CMP", "VSS"), Fet("N3", "VSS", "CK", "n2"), Fet("N2", "n2", "A", "B"))),
         Chain((Fet("N7", "VSS", "SRST", "QB"), Fet("N4", "QB", "CK", "n3"), Fet("N5", "n3", "B", "VSS"),
                Fet("N6", "VSS", "QB", "BIT")), col=7))
    p = (Chain((Fet("P2", "A", "CK", "n1"), Fet("P1", "n1", "CMP", "VDD"), Fet("P3", "VDD", "CK", "B"))),
         Chain((Fet("P4", "QB", "B", "VDD"), Fet("P5", "VDD", "QB", "BIT")), col=7))
    ports = _pw(Port("CMP", "v", x_nm=X_CMP), Port("CK", "v", x_nm=X_T[0], span_nm=X_T[1] - X_T[0]),
                Port("SRST", "h"), Port("BIT", "v", x_nm=X_BIT))
    return RowCellParams("acim_sar_bit", nmos=n, pmos=p, ports=ports, min_width=pitch)


def dac_switch(pitch: int = 0) -> RowCellParams:
    """DAC switch of one SAR bit: drives its capacitor group's bottom-plate line DAC to VREFP
    when BIT and its sequencer enable V are both 1 (the trial, then the kept decision), else to
    VREFN: a NAND2 then a CMOS switch pair."""
    n = (Chain((Fet("MN1", "BITB", "BIT", "m"), Fet("MN3", "m", "V", "VSS"))),
         Chain((Fet("MN2", "DAC", "BITB", "VREFN"),), col=6))
    p = (Chain((Fet("MP1", "BITB", "BIT", "VDD"), Fet("MP3", "VDD", "V", "BITB"))),
         Chain((Fet("MP2", "DAC", "BITB", "VREFP"),), col=6))
    ports = _pw(Port("BIT", "v", x_nm=X_BIT), Port("V", "v", x_nm=X_T[0], span_nm=X_T[1] - X_T[0]),
                Port("DAC", "v", x_nm=X_DAC[0], span_nm=X_DAC[-1] - X_DAC[0]),
                Port("VREFP", "h"), Port("VREFN", "h"))
    return RowCellParams("acim_dac_switch", nmos=n, pmos=p, ports=ports, min_width=pitch)


def _dac_sel_ports() -> tuple[Port, ...]:
    return _pw(Port("BIT", "v", x_nm=X_BIT), Port("V", "v", x_nm=X_T[0], span_nm=X_T[1] - X_T[0]),
               Port("SEL", "v", x_nm=X_RBL), Port("DAC", "v", x_nm=X_DAC[0], span_nm=X_DAC[-1] - X_DAC[0]),
               Port("VREFP", "h"), Port("VREFN", "h"))


def dac_sel(pitch: int = 0) -> RowCellParams:
    """DAC switch of SAR bit k >= 1 in a shared-ADC column (S > 1): VREFP when BIT, V and the
    column's select SEL are all 1, else VREFN (a NAND3, then the switch pair). A column waiting for
    its turn (SEL = 0) keeps the line at VREFN, as in the MSB trial, instead of following the
    group's shared BIT/V lines, so its compute line holds still (:func:`dac_msb` for bit 0)."""
    n = (Chain((Fet("MN1", "BITB", "BIT", "m1"), Fet("MN3", "m1", "V", "m2"), Fet("MN4", "m2", "SEL", "VSS"))),
         Chain((Fet("MN2", "DAC", "BITB", "VREFN"),)))
    p = (Chain((Fet("MP1", "BITB", "BIT", "VDD"), Fet("MP3", "VDD", "V", "BITB"), Fet("MP4", "BITB", "SEL", "VDD"))),
         Chain((Fet("MP2", "DAC", "BITB", "VREFP"),)))
    return RowCellParams("acim_dac_sel", nmos=n, pmos=p, ports=_dac_sel_ports(), min_width=pitch)


def dac_msb(pitch: int = 0) -> RowCellParams:
    """DAC switch of SAR bit 0 (the MSB) in a shared-ADC column: VREFP when BIT and V are 1 or the
    column is not selected (SEL = 0), else VREFN: a NAND2 of BIT and V, then a NAND2 of that and
    SEL drawn on the reference rails. A waiting column so holds the MSB-trial pattern (line 0 up,
    the others down: :func:`dac_sel`) its bottom plates were sampled against; same pins as dac_sel."""
    n = (Chain((Fet("MN1", "BITB", "BIT", "m"), Fet("MN3", "m", "V", "VSS"))),
         Chain((Fet("MN2", "DAC", "BITB", "x"), Fet("MN4", "x", "SEL", "VREFN"))))
    p = (Chain((Fet("MP1", "BITB", "BIT", "VDD"), Fet("MP3", "VDD", "V", "BITB"))),
         Chain((Fet("MP2", "DAC", "BITB", "VREFP"), Fet("MP4", "VREFP", "SEL", "DAC"))))
    return RowCellParams("acim_dac_msb", nmos=n, pmos=p, ports=_dac_sel_ports(), min_width=pitch)


def tap(slots: int = 0, name: str = "acim_tap") -> RowCellParams:
    """Well/substrate tap and row-end power cell (n-tap to VDD, p-tap to VSS), bitcell-row height."""
    return RowCellParams(name, ports=_pw(), min_slots=max(slots, 2), min_width=1320)
