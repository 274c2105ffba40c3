"""The ACIM macro's schematic (what LVS compares the layout of :mod:`eda.layout.macro` with).

Hierarchical: the library cells' subcircuits, one local-array subcircuit per DAC-group variant
(compute cell + L bitcells; each row's VDD a separate port since rows meet only at the macro's
spine), and the top cell instancing per column the comparator, B+1 sequencer stages, B result
flip-flops and DAC switches and the G local arrays, plus per row the drivers and taps.
"""

from __future__ import annotations

import gdstk

from eda.circuit import Circuit, Device, Subckt
from eda.errors import InputError
from eda.layout.library import CellInfo
from eda.layout.macro_hold import hold_params, hold_side

#: the sky130 MIM capacitor model (the hold capacitor of a shared comparator)
MIM_MODEL = "sky130_fd_pr__cap_mim_m3_1"

#: cell ports that connect to the macro-global net of the same name
GLOBAL_NETS = ("VDD", "VSS", "PCHB", "EN", "ENB", "RST", "RSTB", "VREFP", "VREFN", "INN", "CLK", "SCLK", "SRST",
               "SRSTB", "CLR", "VCM")


def _subckts(info: CellInfo) -> list[Subckt]:
    from eda.read.from_spice import read_spice

    c = read_spice(info.spice)
    if not any(s.name.lower() == info.name.lower() for s in c.subckts):
        raise InputError(f"SPICE file defines no subckt {info.name!r}", file=info.spice)
    return c.subckts


def _sub_rows(ports_of: dict[str, tuple[str, ...]]) -> list[str]:
    """Pin suffixes of the word lines one bitcell-row cell serves: ``["0", "1"]`` for the pair
    bitcell rows (WL0/WL1, ...), ``[""]`` for one bit per row."""
    return ["0", "1"] if "WL0" in ports_of["bitcell"] else [""]


def _block_subckts(blocks: dict[int, gdstk.Cell], L: int, ports_of: dict[str, tuple[str, ...]],
                   C: dict[str, CellInfo]) -> list[Subckt]:
    out = []
    sub = _sub_rows(ports_of)
    Lr = L // len(sub)
    for _q, b in sorted(blocks.items()):
        bports = (["BL", "BLB", "CL", "VB"] + [f"WL_{r}" for r in range(L)] + [f"RWL_{r}" for r in range(L)]
                  + ["PCHB", "EN", "ENB", "RST", "RSTB", "VSS", "VDDC"] + [f"VDD_{r}" for r in range(Lr)])
        bdev = [Device("XCC", "X", tuple({"VDD": "VDDC"}.get(x, x) for x in ports_of["compute"]),
                       model=C["compute"].name)]
        for r in range(Lr):
            m_ = {"VDD": f"VDD_{r}"}
            for k, s in enumerate(sub):
                m_.update({f"WL{s}": f"WL_{r * len(sub) + k}", f"RWL{s}": f"RWL_{r * len(sub) + k}"})
            bdev.append(Device(f"XB_{r}", "X", tuple(m_.get(x, x) for x in ports_of["bitcell"]),
                               model=C["bitcell"].name))
        out.append(Subckt(b.name, tuple(bports), devices=bdev))
    return out


def macro_circuit(p, C: dict[str, CellInfo], group_of: list[int],
                  blocks: dict[int, gdstk.Cell]) -> tuple[Circuit, list[str]]:
    """The macro ``p`` (:class:`~eda.layout.macro.MacroParams`) as a hierarchical circuit; returns
    (circuit, top-cell ports)."""
    subs: dict[str, Subckt] = {}
    for r in C:
        for s in _subckts(C[r]):
            subs.setdefault(s.name.lower(), s)
    ports_of = {r: subs[C[r].name.lower()].ports for r in C}
    devices: list[Device] = []
    B, L, W = p.adc_bits, p.local, p.cols
    sub = _sub_rows(ports_of)

    def inst(role: str, name: str, conn: dict[str, str]) -> None:
        missing = [q for q in ports_of[role] if q not in conn and q not in GLOBAL_NETS]
        if missing:
            raise InputError(f"cell {C[role].name}: port {missing[0]} has no macro connection", file=C[role].spice)
        devices.append(Device(name, "X", tuple(conn.get(q, q) for q in ports_of[role]), model=C[role].name))

    S = getattr(p, "adc_share", 1)
    for s in range(W // S):  # one comparator + SAR register per group of S columns
        inp = f"CL_{s}" if S == 1 else f"MUX_{s}"
        inst("comparator", f"XCMP_{s}", {"INP": inp, "OUTP": f"OUTP_{s}", "OUTN": f"OUTN_{s}"})
        buf = {"CL": inp, "OUTP": f"OUTP_{s}", "OUTN": f"OUTN_{s}", "CMP": f"CMP_{s}"}
        if S > 1 and hold_side(p.rows // p.local, B):  # MUX_s never reset, a hold capacitor on it (macro_hold)
            buf["CLR"] = "VSS"
            devices.append(Device(f"XCHOLD_{s}", "X", ("VSS", inp), model=MIM_MODEL,
                                  params=hold_params(p.rows // p.local, B)))
        inst("cmp_buf", f"XCBUF_{s}", buf)
        for k in range(B + 1):
            inst("sar_seq", f"XSEQ_{k}_{s}", {"VIN": f"V_{k - 1}_{s}" if k else "VDD", "V": f"V_{k}_{s}"})
        for k in range(B):
            inst("sar_bit", f"XSAR_{k}_{s}", {"CMP": f"CMP_{s}", "CK": f"V_{k + 1}_{s}", "BIT": f"BIT_{k}_{s}"})
    for j in range(W):
        s = j // S
        if S > 1:
            inst("col_mux", f"XMUX_{j}", {"CL": f"CL_{j}", "OUT": f"MUX_{s}", "SEL": f"SEL_{j % S}"})
        for k in range(B):  # shared ADCs: a waiting column's DAC switches hold the MSB trial (SEL-gated cells)
            conn = {"BIT": f"BIT_{k}_{s}", "V": f"V_{k}_{s}", "DAC": f"DAC_{k}_{j}"}
            if S > 1:
                conn["SEL"] = f"SEL_{j % S}"
            inst("dac_msb" if S > 1 and k == 0 else "dac_switch", f"XDAC_{k}_{j}", conn)
        for g, q in enumerate(group_of):
            vb = f"DAC_{q}_{j}" if q < B else "VREFN"  # the termination group is held at the reference
            nodes = ([f"BL_{j}", f"BLB_{j}", f"CL_{j}", vb] + [f"WL_{g * L + r}" for r in range(L)]
                     + [f"RWL_{g * L + r}" for r in range(L)] + ["PCHB", "EN", "ENB", "RST", "RSTB", "VSS", "VDD"]
                     + ["VDD"] * (L // len(sub)))
            devices.append(Device(f"XLA_{g}_{j}", "X", tuple(nodes), model=blocks[q].name))
    for pr in range(p.rows // len(sub)):  # row-end cells per template row (each serves len(sub) rows)
        rows = {s: pr * len(sub) + k for k, s in enumerate(sub)}
        inst("wl_driver", f"XWD_{pr}", {f"{n}{s}": f"{n}_{r}" for s, r in rows.items() for n in ("WLIN", "WL")})
        inst("in_driver", f"XID_{pr}", {f"{n}{s}": f"{n}_{r}" for s, r in rows.items() for n in ("IN", "RWL")})
        inst("tap", f"XTL_{pr}", {})
        inst("tap", f"XTR_{pr}", {})
    ports = (list(GLOBAL_NETS) + [f"WLIN_{r}" for r in range(p.rows)] + [f"IN_{r}" for r in range(p.rows)]
             + [f"BL_{j}" for j in range(W)] + [f"BLB_{j}" for j in range(W)]
             + [f"BIT_{k}_{s}" for k in range(B) for s in range(W // S)] + [f"SEL_{r}" for r in range(S * (S > 1))])
    top = Subckt(p.name, tuple(ports), devices=devices)
    per = "column" if S == 1 else f"{S} columns"
    bsubs = _block_subckts(blocks, L, ports_of, C)
    used = {(d.model or "").lower() for x in [top, *bsubs] for d in x.devices}  # e.g. no dac_sel cell at B = 1
    circuit = Circuit(title=f"* {p.name}: {p.rows}x{p.cols} ACIM macro, L={p.local}, {B}-bit SAR ADC per {per} "
                            "(sky130, eda-ml)", subckts=[x for x in subs.values() if x.name.lower() in used]
                      + bsubs + [top])
    return circuit, ports
