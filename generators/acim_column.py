"""Closed-loop ngspice simulation of one ACIM column conversion, on sky130 device models.

The column is the macro's own netlist: :func:`eda.layout.macro.build_macro` with ``cols = 1``
(or any netlist with the macro's ports, e.g. the one the LVS run extracts from the GDS, see
:func:`eda.verify.lvs.extract_spice`), instantiated as one subcircuit — 8T bitcells, compute cells
(read inverter, EN transmission gate, RST switch, MIM capacitor), the StrongARM comparator, the
thermometer sequencer, the result flip-flops and the DAC switches all switch in the transient; no
decision is made in Python. Python only drives the macro's ports and reads the result bits.

Testbench, per conversion (all times in :class:`ColumnBench`):

1. reset: SRST presets every result bit to 1, SRSTB clears the sequencer (so every DAC line sits at
   VREFN), RST/RSTB tie the bottom plates to their VB lines, PCHB precharges the read bit lines and
   CLR holds the compute line CL at ``VCM`` (the macro's reset transmission gate in its comparator
   output stage);
2. MAC: the inputs ``IN_r`` raise the read word lines, each compute cell's bottom plate follows
   ``VDD·x·w`` through the EN gate while CL is held;
3. sample: CLR opens (top-plate sampling), EN opens, the SAR reset ends and the first SCLK edge
   raises DAC line 0 (the MSB trial), then RST closes: the bottom plates move to their DAC lines and
   CL goes to ``VCM + (N/2 − k)·v_u`` (``v_u = VDD·C_u/C_tot``), within VCM ± N·v_u/2 — so with
   ``VCM = VDD/2`` the compute line never leaves the rails (no junction on CL forward-biases);
4. SAR: SCLK edges step the sequencer; trial k raises DAC line k (VREFP) under its group; the
   StrongARM (CLK high in the second half of each SCLK period) compares CL with ``INN``; the result
   flip-flop of bit k captures its decision at the next edge. ``INN = VCM + (½ + δ)·v_u`` puts the
   thresholds half a unit below each DAC level (the model's convention); ``δ`` shifts the input by a
   fraction of a unit for sub-LSB transition levels (INL/DNL).

Weights are written once through WL/BL/BLB (effective weight = QB, the node the read stack sees).
Nothing is added to the macro's netlist: every control swings between the rails, the CL reset and
the bottom-plate (VB) switches are the cells' transmission gates, and the comparator's outputs are
loaded alike by its output stage. (Before the cells had them, this testbench had to add a CL reset
nfet, a dummy OUTN load and RST/CLR gates bootstrapped to 3.3 V.)

Device models: ``models="sky130"`` (default) binds the cells' ``sky130_fd_pr__*`` instances to the
BSIM4 sky130 library at ``corner``/``temp_c`` (a reduced file of the three devices used, cached —
:func:`eda.tech.sky130_models.reduced_lib`); ``models="generic"`` is the explicit fallback (level-1
MOS, ideal 2 fF/µm² capacitor; :func:`generic_models`).
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from eda.circuit import Circuit, Device, Model, Subckt, Waveform
from eda.errors import InputError
from eda.generators.acim_params import ParamsModel

MODEL_SETS = ("sky130", "generic")
_TR = 50e-12  # edge time of every testbench source
#: Phase times within a conversion (s): precharge/RST off, MAC on, CL sampled, EN off, RST on, first SCLK.
#: SAR reset release, first SCLK edge (DAC line 0 up before the bottom plates reconnect: the MSB trial starts
#: at the sample, so CL stays within VCM ± N·v_u/2 instead of dropping to VCM − N·v_u below ground).
_T_PRE, _T_MAC, _T_SMP, _T_ENOFF, _T_SREL, _T_SAR, _T_RSTON = 0.6e-9, 0.7e-9, 1.9e-9, 2.0e-9, 2.0e-9, 2.1e-9, 2.3e-9


def generic_models() -> list[Subckt]:
    """The explicit fallback: sky130 device names bound to level-1 MOS models (V_T ≈ 0.45 V) and
    an ideal 2 fF/µm² capacitor (W, L in µm). Checks topology, not sky130 timing or margins."""
    mos = {"level": 1.0, "lambda": 0.1, "tox": 4e-9, "cgso": 3e-10, "cgdo": 3e-10, "cj": 1e-3}
    out = []
    for name, kind, vto, kp in (("nfet", "nmos", 0.45, 3e-4), ("pfet", "pmos", -0.45, 1.2e-4)):
        out.append(Subckt(f"sky130_fd_pr__{name}_01v8", ("d", "g", "s", "b"),
                          params={"W": 1.0, "L": 0.15, "nf": 1.0},
                          devices=[Device("M1", "M", ("d", "g", "s", "b"), model=f"{name}gen",
                                          params={"w": "{W*1e-6}", "l": "{L*1e-6}"})],
                          models=[Model(f"{name}gen", kind, {**mos, "vto": vto, "kp": kp})]))
    out.append(Subckt("sky130_fd_pr__cap_mim_m3_1", ("a", "b"), params={"W": 1.0, "L": 1.0, "MF": 1.0},
                      devices=[Device("C1", "C", ("a", "b"), value="{W*L*2e-15}")]))
    return out


def bind_models(circuit: Circuit, models: str = "sky130", corner: str = "tt", temp_c: float = 27.0) -> Circuit:
    """``circuit`` with its sky130 device names bound to a model set at ``corner`` and ``temp_c``.

    Raises:
        InputError: an unknown model set or corner.
        eda.tech.sky130_models.ModelsMissing: ``models="sky130"`` without the models installed.
    """
    from eda.tech import sky130_models

    if models not in MODEL_SETS:
        raise InputError(f"field 'models': {models!r}; expected one of {', '.join(MODEL_SETS)}", file="acim column")
    opts = {**circuit.options, "temp": float(temp_c), "tnom": 27.0}
    if models == "generic":
        return replace(circuit, subckts=generic_models() + list(circuit.subckts), options=opts)
    if corner not in sky130_models.CORNERS:
        raise InputError(f"field 'corner': {corner!r}; expected one of {', '.join(sky130_models.CORNERS)}",
                         file="acim column")
    geo = {(float(d.params[w]), float(d.params[ln])) for sub in [*circuit.subckts, circuit] for d in sub.devices
           if (d.model or "").lower().startswith("sky130_fd_pr__") and "fet" in (d.model or "").lower()
           for w, ln in (_wl_keys(d),) if w and ln}
    card = sky130_models.include_card(corner, geometries=tuple(sorted(geo)) or None)
    return replace(circuit, includes=[*circuit.includes, card], options=opts)


def _wl_keys(d: Device) -> tuple[str | None, str | None]:
    keys = {k.lower(): k for k in d.params}
    return keys.get("w"), keys.get("l")


class ColumnBench(ParamsModel):
    """One column conversion testbench (:class:`eda.params.Params` style; errors :class:`ParamError`
    ``field '...'`` in ``acim column``)."""

    where: ClassVar[str] = "acim column"
    adc_bits: int = Field(3, ge=1, le=8, description="SAR resolution B")
    n_caps: int | None = Field(None, ge=2, description="compute caps per column N (2**B must divide it); "
                               "default 2**B")
    local: int = Field(1, ge=1, le=64, description="bitcells per compute cell L (only row 0 of each local array "
                       "is driven)")
    vdd: float = Field(1.8, ge=0.8, le=2.0, description="supply (V); VREFP = VDD, VREFN = 0")
    vcm: float | None = Field(None, gt=0, description="compute-line reset level (V); default VDD/2 (CL then "
                              "swings within VCM ± N·v_u/2 ≈ the rails)")
    t_sclk: float = Field(2e-9, gt=0, description="SCLK period (s)")
    corner: str = Field("tt", description="process corner (see the module docstring)")
    temp_c: float = Field(27.0, description="temperature (°C)")
    models: Literal[MODEL_SETS] = Field("sky130", description="device models: " + ", ".join(MODEL_SETS))
    c_par_fF: float = Field(1.0, ge=0, description="compute-line parasitic assumed when setting INN (comparator "
                            "gate etc.); only places the thresholds, the transfer is measured")
    t_mac_extra: float = Field(0.0, ge=0, description="extra MAC-phase time (s) before the sample (the compute "
                               "line's reset gate must absorb the bottom plates' kick)")
    max_step: float = Field(100e-12, gt=0, le=5e-9, description="largest ngspice time step (s); keep <= 100 ps "
                            "for 6-8 bits: at 1-2 ns the StrongARM misreads decisions of a few mV "
                            "(acim_probe.comparator_small_overdrive; 8 bits, k = 128 -> 129)")
    gmin: float | None = Field(None, gt=0, description="ngspice gmin (S; default 1e-12 across every junction: over "
                               "an 8-bit conversion's ~0.4 us it can drain mV from the floating compute line)")
    extra: dict = Field(default_factory=dict, description="free-form settings carried with the bench")

    @model_validator(mode="after")
    def _dac_fits(self) -> ColumnBench:
        if self.caps % 2 ** self.adc_bits:
            raise self.param_error("n_caps", f"{self.caps}; 2**adc_bits = {2 ** self.adc_bits} must divide it")
        return self

    @property
    def caps(self) -> int:
        return self.n_caps if self.n_caps is not None else 2 ** self.adc_bits

    @property
    def rows(self) -> int:
        return self.caps * self.local

    def c_unit_fF(self) -> float:
        """The cell's MIM capacitance (sky130 model: 2 fF/µm² on (W + 0.15 µm)(L + 0.15 µm))."""
        return 2.0 * 1.15 ** 2 if self.models == "sky130" else 2.0

    def v_unit(self) -> float:
        """Estimated compute-line step of one unit cap (V)."""
        cu = self.c_unit_fF()
        return self.vdd * cu / (self.caps * cu + self.c_par_fF)

    def v_cm(self) -> float:
        return self.vcm if self.vcm is not None else 0.5 * self.vdd

    @property
    def t_conv(self) -> float:
        return _T_SAR + self.t_mac_extra + (self.adc_bits + 1) * self.t_sclk

    def settled(self, margin: float = 1.0) -> ColumnBench:
        """This bench with the MAC phase and SAR clock of :func:`settle_timing` (never shorter)."""
        t = settle_timing(self, margin)
        return self.replace(t_mac_extra=max(self.t_mac_extra, t["t_mac_extra"]), t_sclk=t["t_sclk"])



#: compute-line parasitic of the macro's column netlist besides the unit caps (fF): what the
#: single-column transient measures (unit step 210 mV for 8 caps of 2.645 fF at 1.8 V; comparator
#: input and CL reset gate included, as S = 1 has them on CL)
C_PAR_NETLIST_FF = 1.5


#: settling resistances measured on the as-drawn 5-bit group (N = 32, tt, 27 °C): the compute line's
#: reset (the col_mux CLR transmission gate near VCM; τ = 0.70 ns on C_tot = 86 fF) and a DAC line's
#: driver (the dac_msb/dac_sel switch pair through the bottom-plate switches; τ = 0.48 ns on the
#: 16-cap MSB group's C_g·(1 − C_g/C_tot) = 21.5 fF)
R_RESET_OHM, R_DAC_OHM = 8.1e3, 22e3


def settle_timing(bench: ColumnBench, margin: float = 1.0) -> dict[str, float]:
    """The MAC phase and SAR clock the column's capacitances need (``margin`` scales both time
    constants, e.g. for a slow corner):

    * MAC phase: the compute-line reset must absorb the bottom plates' kick (up to N·v_u) to 0.05 LSB
      before the sample: ``τ_reset·ln(N/0.05)`` plus 0.2 ns for the read path, τ_reset = R_RESET·C_tot;
    * SAR clock: the comparator decides half a period after the SCLK edge, when the MSB group's DAC
      line (the slowest) must have settled to 0.5 LSB of the full scale: ``T/2 − 0.2 ns ≥
      τ_dac·ln(2^B/0.5)``, τ_dac = R_DAC·C_g(1 − C_g/C_tot).

    Returns ``t_mac_extra`` (beyond the bench's 1.2 ns) and ``t_sclk`` (at least the bench's), with the
    time constants."""
    n, b, cu = bench.caps, bench.adc_bits, bench.c_unit_fF() * 1e-15
    c_tot = n * cu + (C_PAR_NETLIST_FF + getattr(bench, "c_wire_fF", 0.0)) * 1e-15
    c_g = n // 2 * cu
    tau_r = margin * R_RESET_OHM * c_tot
    tau_d = margin * R_DAC_OHM * c_g * (1 - c_g / c_tot)
    t_mac = tau_r * math.log(n / 0.05) + 0.2e-9
    t_half = tau_d * math.log(2 ** b / 0.5) + 0.2e-9
    return {"t_mac_extra": max(0.0, t_mac - (_T_SMP - _T_MAC)), "t_sclk": max(bench.t_sclk, 2 * t_half),
            "tau_reset_s": tau_r, "tau_dac_s": tau_d}



def column_netlist(bench: ColumnBench, lib: Any = None) -> tuple[Subckt, list[Subckt]]:
    """The macro netlist of one column (``cols = 1``) from the cell library, with the compute line
    CL_0 made a port (for the testbench's reset switch)."""
    from eda.layout.library import load_library
    from eda.layout.macro import MacroParams, build_macro

    lib = lib if lib is not None else load_library()
    m = build_macro(MacroParams(bench.rows, 1, bench.local, bench.adc_bits), lib)
    top = next(s for s in m.circuit.subckts if s.name == m.name)
    return Subckt(top.name, (*top.ports, "CL_0"), devices=top.devices), [s for s in m.circuit.subckts
                                                                           if s is not top]


def extract_macro(m: Any, what: str) -> Circuit:
    """The circuit the LVS run extracts from the GDS of the built macro ``m`` (see
    :func:`eda.verify.lvs.extracted_circuit`).

    Raises:
        InputError: the layout does not pass LVS against its schematic (``what`` names it).
    """
    import tempfile
    from pathlib import Path

    from eda.verify.lvs import extracted_circuit

    with tempfile.TemporaryDirectory() as tmp:
        gds = Path(tmp) / f"{m.name}.gds"
        m.library.write_gds(str(gds))
        circ, res = extracted_circuit(gds, m.circuit)
    if not res.clean:
        raise InputError(f"the {what} layout fails LVS ({'; '.join((res.mismatches + res.extraction_errors)[:3])})",
                         file=f"acim {what}")
    return circ


def extracted_netlist(bench: ColumnBench, lib: Any = None) -> tuple[Subckt, list[Subckt]]:
    """The column as the LVS run extracts it from its GDS (devices and connectivity of the
    layout, nets named from the schematic where LVS paired them; see
    :func:`eda.verify.lvs.extracted_circuit`), in the form :func:`run_conversions` takes.

    Raises:
        InputError: the layout does not pass LVS against its schematic (the extracted netlist
            would not be the column).
    """
    from eda.layout.library import load_library
    from eda.layout.macro import MacroParams, build_macro

    lib = lib if lib is not None else load_library()
    m = build_macro(MacroParams(bench.rows, 1, bench.local, bench.adc_bits), lib)
    circ = extract_macro(m, "column")
    top = next(s for s in circ.subckts if s.name.lower() == m.name.lower())
    nets = {x for d in top.devices for x in d.nodes}
    if "CL_0" not in nets:
        raise InputError("the extracted column has no net paired with CL_0", file="acim column")
    sub = Subckt(top.name, (*top.ports, "CL_0"), devices=top.devices)
    return sub, [x for x in circ.subckts if x is not top]


def saving(circuit: Circuit, nets: list[str]) -> Circuit:
    """``circuit`` with a ``.save`` card: ngspice keeps only these nets' waveforms (a 256-cap column
    has ~10k nodes; saving them all costs memory and time for nothing)."""
    return replace(circuit, includes=[*circuit.includes, ".save " + " ".join(f"v({x})" for x in nets)])


def _steps(events: list[tuple[float, float]], v0: float) -> Waveform:
    """PWL that starts at ``v0`` and moves to each (t, v) in ``_TR``."""
    pts, last = [0.0, v0], v0
    for t, v in sorted(events):
        if v == last:
            continue
        pts += [t, last, t + _TR, v]
        last = v
    return Waveform("pwl", tuple(pts))


def start_events(ev: dict[str, list[tuple[float, float]]], t0: float, t1: float, hi: float, vdd: float,
                 inn: float) -> None:
    """Append one conversion's start to the control-line events ``ev`` (line -> [(time, level)]): SAR reset,
    clear, compute-line reset and precharge from ``t0``, MAC at ``t0 + _T_MAC``, the releases timed from ``t1``
    (``t0`` plus any extra MAC time); ``hi`` is the high level of CLR and RST, ``inn`` the reference input."""
    ev["SRST"] += [(t0, vdd), (t1 + _T_SREL, 0.0)]
    ev["SRSTB"] += [(t0, 0.0), (t1 + _T_SREL, vdd)]
    ev["CLR"] += [(t0, hi), (t1 + _T_SMP, 0.0)]
    ev["RST"] += [(t0, hi), (t0 + _T_PRE, 0.0), (t1 + _T_RSTON, hi)]
    ev["RSTB"] += [(t0, 0.0), (t0 + _T_PRE, vdd), (t1 + _T_RSTON, 0.0)]
    ev["EN"] += [(t0 + _T_MAC, vdd), (t1 + _T_ENOFF, 0.0)]
    ev["ENB"] += [(t0 + _T_MAC, 0.0), (t1 + _T_ENOFF, vdd)]
    ev["PCHB"] += [(t0, 0.0), (t0 + _T_PRE, vdd)]
    ev["INN"] += [(t0, inn)]


def testbench(bench: ColumnBench, sub: Subckt, leaf: list[Subckt], weights: np.ndarray,
              inputs: np.ndarray, deltas: np.ndarray) -> tuple[Circuit, dict[str, Any]]:
    """The transient testbench around ``sub`` (the column's netlist, ports by name).

    Args:
        weights: (N,) 0/1 weight of row 0 of each local array (written once).
        inputs: (C, N) 0/1 inputs of each conversion (row 0 of each local array).
        deltas: (C,) threshold shift δ of each conversion (units of v_u).

    Returns:
        (circuit, timing) with the read-out times of each conversion.
    """
    b, n, L, vdd = bench.adc_bits, bench.caps, bench.local, bench.vdd
    vb, T, rows = bench.vdd, bench.t_sclk, bench.rows
    ev: dict[str, list[tuple[float, float]]] = {k: [] for k in ("SRST", "SRSTB", "CLR", "RST", "RSTB", "EN", "ENB",
                                                                 "PCHB",
                                                                 "SCLK", "CLK", "INN")}
    ev_in: dict[int, list[tuple[float, float]]] = {g: [] for g in range(n)}
    # weight write (Q = not w: the read stack sees QB): one 1 ns slot per driven row, or one slot
    # for all rows when every weight is the same
    slots = [[g * L for g in range(n)]] if len(set(weights.tolist())) == 1 else [[g * L] for g in range(n)]
    ev_bl: list[tuple[float, float]] = []
    ev_wl: dict[int, list[tuple[float, float]]] = {}
    for si, slot in enumerate(slots):
        ev_bl.append((si * 1e-9 + 0.05e-9, 0.0 if weights[slot[0] // L] else vdd))
        for r in slot:
            ev_wl[r] = [(si * 1e-9 + 0.2e-9, vdd), (si * 1e-9 + 0.8e-9, 0.0)]
    t_w = len(slots) * 1e-9 + 0.2e-9
    v_u, vcm = bench.v_unit(), bench.v_cm()
    t_read, t_smp = [], []
    for c, (x, d) in enumerate(zip(inputs, deltas, strict=True)):
        t0 = t_w + c * bench.t_conv
        t1 = t0 + bench.t_mac_extra  # the events after the MAC start
        start_events(ev, t0, t1, vb, vdd, vcm + (0.5 + float(d)) * v_u)
        for g in np.nonzero(x)[0]:
            ev_in[int(g)] += [(t0 + _T_MAC, vdd), (t1 + _T_RSTON, 0.0)]
        for k in range(b + 1):
            te = t1 + _T_SAR + k * T
            ev["SCLK"] += [(te, vdd), (te + T / 2, 0.0)]
            if k < b:
                ev["CLK"] += [(te + 0.5 * T, vdd), (te + 1.15 * T, 0.0)]
        t_read.append(t1 + _T_SAR + (b + 0.6) * T)
        t_smp.append(t1 + _T_SAR + 0.45 * T)  # settled, before the first comparator decision
    init = {"SRST": vdd, "SRSTB": 0.0, "CLR": vb, "RST": vb, "RSTB": 0.0, "EN": 0.0, "ENB": vdd, "PCHB": vdd,
            "SCLK": 0.0, "CLK": 0.0, "INN": vcm + (0.5 + float(deltas[0])) * v_u}
    drive: dict[str, Waveform | float] = {k: _steps(e, init[k]) for k, e in ev.items()}
    drive.update({"VDD": vdd, "VSS": 0.0, "VREFP": vdd, "VREFN": 0.0, "VCM": vcm,
                  "BL_0": _steps(ev_bl, vdd), "BLB_0": _steps([(t, vdd - v) for t, v in ev_bl], 0.0)})
    for r in range(rows):
        drive[f"WLIN_{r}"] = _steps(ev_wl.get(r, []), 0.0)
        g, rr = divmod(r, L)
        drive[f"IN_{r}"] = _steps(ev_in[g], 0.0) if rr == 0 else 0.0
    devices: list[Device] = [Device("XCOL", "X", tuple(sub.ports), model=sub.name)]
    for net, v in drive.items():
        if isinstance(v, Waveform):
            devices.append(Device(f"V{net}", "V", (net, "0"), value=float(v.args[1]), waveform=v))
        else:
            devices.append(Device(f"V{net}", "V", (net, "0"), value=float(v)))
    missing = [q for q in sub.ports if q not in drive and not q.startswith(("BIT_", "CL_"))]
    lacking = [q for q in ("CLR", "VCM", "RSTB") if q not in sub.ports]
    if lacking:
        raise InputError(f"column netlist {sub.name} has no port {', '.join(lacking)}: the compute-line reset "
                         "(CLR, VCM) and the bottom-plate transmission gates (RST/RSTB) must be in the macro",
                         file="acim column")
    if missing:
        raise InputError(f"column netlist {sub.name}: ports {', '.join(missing[:5])} have no testbench drive",
                         file="acim column")
    circ = Circuit(title=f"* ACIM column conversion: N={n} L={L} B={b}", subckts=[*leaf, sub], devices=devices)
    return circ, {"t_read": np.array(t_read), "t_sample": np.array(t_smp),
                  "t_stop": t_w + len(inputs) * bench.t_conv, "t_write": t_w}


def run_conversions(bench: ColumnBench, inputs: np.ndarray, deltas: np.ndarray | None = None,
                    weights: np.ndarray | None = None, netlist: tuple[Subckt, list[Subckt]] | None = None,
                    lib: Any = None) -> dict[str, np.ndarray]:
    """Simulate conversions of ``inputs`` (C, N) and return ``codes`` (C,), the sampled compute-line
    voltage ``v_cl`` (C,), ``k`` (C,) and ``delta`` (C,). ``netlist`` (subckt, leaf subckts)
    replaces the schematic column (e.g. the extracted one)."""
    from eda.sim.ngspice import transient

    t_start = time.perf_counter()
    inputs = np.atleast_2d(np.asarray(inputs, dtype=int))
    n = bench.caps
    if inputs.shape[1] != n:
        raise InputError(f"inputs: {inputs.shape[1]} per conversion; the column has {n} caps", file="acim column")
    deltas = np.zeros(len(inputs)) if deltas is None else np.asarray(deltas, dtype=float)
    weights = np.ones(n, dtype=int) if weights is None else np.asarray(weights, dtype=int)
    sub, leaf = netlist if netlist is not None else column_netlist(bench, lib)
    circ, tm = testbench(bench, sub, leaf, weights, inputs, deltas)
    circ = saving(bind_models(circ, bench.models, bench.corner, bench.temp_c),
                  [f"BIT_{k}_0" for k in range(bench.adc_bits)] + ["CL_0"])
    if bench.gmin is not None:
        circ = replace(circ, options={**circ.options, "gmin": bench.gmin})
    t, wav = transient(circ, 20e-12, tm["t_stop"], max_step=bench.max_step)
    bits = np.stack([np.interp(tm["t_read"], t, wav[f"BIT_{k}_0"]) > bench.vdd / 2
                     for k in range(bench.adc_bits)], -1)
    codes = (bits * 2 ** np.arange(bench.adc_bits - 1, -1, -1)).sum(-1)
    return {"codes": codes, "v_cl": np.interp(tm["t_sample"], t, wav["CL_0"]),
            "k": (inputs * weights[None, :]).sum(-1), "delta": deltas,
            "seconds": time.perf_counter() - t_start}


def transfer(bench: ColumnBench, n_delta: int = 1, **kw) -> dict[str, Any]:
    """Sweep the MAC value k = 0..N (and ``n_delta`` sub-unit input shifts) through whole column
    conversions; return the codes and the measured unit step."""
    n = bench.caps
    ks = np.arange(n + 1)
    deltas = (np.arange(n_delta) + 0.5) / n_delta - 0.5
    kk, dd = np.meshgrid(ks, deltas, indexing="ij")
    inputs = (np.arange(n)[None, :] < kk.reshape(-1)[:, None]).astype(int)
    r = run_conversions(bench, inputs, dd.reshape(-1), **kw)
    slope = np.polyfit(r["k"], r["v_cl"], 1)[0]
    r["v_unit_meas"] = float(-slope)
    # the input each conversion saw, in units: k plus the threshold shift (measured unit step)
    r["u"] = r["k"] + (0.5 + r["delta"]) * bench.v_unit() / (-slope) - 0.5
    return r


def metrics_from_transfer(u: np.ndarray, codes: np.ndarray, n: int, b: int, p: float = 0.25) -> dict[str, Any]:
    """INL/DNL (LSB) from the transition levels and SNR of one conversion over k ~ Binomial(N, p)
    (from the conversions with δ = 0, i.e. the operating thresholds)."""
    m, delta = 2 ** b, n // 2 ** b
    order = np.argsort(u, kind="stable")
    u, codes = u[order], codes[order]
    trans = np.full(m - 1, np.nan)
    for d in range(1, m):
        above = np.nonzero(codes >= d)[0]
        if len(above) and above[0] > 0:
            trans[d - 1] = 0.5 * (u[above[0] - 1] + u[above[0]])
    ideal = np.arange(1, m) * delta - 0.5
    inl = (trans - ideal) / delta
    dnl = np.diff(trans) / delta - 1.0
    mono = bool(np.all(np.diff(codes) >= 0))
    return {"transitions": trans.tolist(), "inl_lsb": inl.tolist(), "dnl_lsb": dnl.tolist(),
            "max_inl_lsb": float(np.nanmax(np.abs(inl))) if np.isfinite(inl).any() else math.nan,
            "max_dnl_lsb": float(np.nanmax(np.abs(dnl))) if np.isfinite(dnl).any() else math.nan,
            "monotonic": mono, "missing_codes": int(m - len(np.unique(codes)))}


def snr_from_codes(k: np.ndarray, codes: np.ndarray, n: int, b: int, p: float = 0.25) -> float:
    """SNR (dB) of one conversion when the MAC value is k ~ Binomial(N, p): signal N·p(1−p) over
    the mean-square error of the reconstruction ``code·Δ + (Δ−1)/2`` (the model's definition)."""
    from scipy.stats import binom

    delta = n // 2 ** b
    code_of = {int(a): int(c) for a, c in zip(k, codes, strict=True)}
    ks = np.arange(n + 1)
    recon = np.array([code_of[int(a)] * delta + (delta - 1) / 2 for a in ks])
    mse = float((binom.pmf(ks, n, p) * (recon - ks) ** 2).sum())
    return 10 * math.log10(n * p * (1 - p) / max(mse, 1e-300))


#: Process corners and temperatures of the closed-loop check (corner, °C, sub-unit input shifts:
#: 3 resolves transition levels to 1/3 unit for INL/DNL, 1 gives the codes at the operating point).
CORNER_CONFIGS: tuple[tuple[str, float, int], ...] = (("tt", 27.0, 3), ("ff", 27.0, 1), ("ss", 27.0, 1),
                                                       ("tt", 85.0, 1), ("tt", -40.0, 1))


def model_prediction(bench: ColumnBench, cells: Any = None) -> dict[str, float]:
    """The analytical model's numbers for the simulated column: SNR of one conversion with its
    stochastic terms (mismatch, kT/C, comparator noise/offset) and with quantisation only (what a
    nominal, noise-free transient can reproduce), and its unit step v_u."""
    from eda.generators.acim_model import AcimTech, conversion_mse, evaluate_batch, load_cell_sizes

    cells = cells if cells is not None else load_cell_sizes()
    tech = AcimTech(temperature_K=273.15 + bench.temp_c, v_ref=bench.vdd)
    n, b = bench.caps, bench.adc_bits
    m = evaluate_batch(bench.rows, 1, bench.local, b, 1, 1, 1, bench.vdd, 1e6, bench.c_unit_fF(), cells, tech)
    p = tech.p_input * tech.p_weight
    mse_q = float(conversion_mse(n, b, 0.0, 1e-12, p)[0])
    return {"snr_model_db": float(np.ravel(m["snr_conv_db"])[0]),
            "snr_model_quant_db": 10 * math.log10(n * p * (1 - p) / max(mse_q, 1e-300)),
            "v_unit_model_mV": float(np.ravel(m["v_unit_mV"])[0]), "p": p}


def column_check(bench: ColumnBench, n_delta: int = 3, netlist: tuple[Subckt, list[Subckt]] | None = None,
                 cells: Any = None) -> dict[str, Any]:
    """One closed-loop column characterisation: the transfer curve over k = 0..N with ``n_delta``
    sub-unit input shifts (odd, so δ = 0 is among them), INL/DNL from the transition levels, SNR
    from the operating-point codes (δ = 0), and the model's prediction beside them."""
    if n_delta < 1 or n_delta % 2 == 0:
        raise InputError(f"field 'n_delta': {n_delta}; expected an odd count >= 1", file="acim column")
    r = transfer(bench, n_delta=n_delta, netlist=netlist)
    n, b = bench.caps, bench.adc_bits
    pred = model_prediction(bench, cells)
    op = np.isclose(r["delta"], 0.0)
    codes_op = r["codes"][op]
    ideal = np.clip(np.floor((r["k"][op] + 0.5) / (n // 2 ** b)), 0, 2 ** b - 1).astype(int)
    out = {"corner": bench.corner, "temp_c": bench.temp_c, "models": bench.models, "adc_bits": b, "n_caps": n,
           "local": bench.local, **metrics_from_transfer(r["u"], r["codes"], n, b),
           "snr_sim_db": snr_from_codes(r["k"][op], codes_op, n, b, pred["p"]),
           "codes_wrong": int((codes_op != ideal).sum()), "v_unit_sim_mV": r["v_unit_meas"] * 1e3, **pred,
           "k": r["k"].tolist(), "u": r["u"].tolist(), "codes": r["codes"].tolist(),
           "v_cl": r["v_cl"].tolist(), "seconds": round(r["seconds"], 1)}
    return out


def _check_one(args: tuple) -> dict[str, Any]:
    corner, temp, bits, n_delta, models = args
    return column_check(ColumnBench(adc_bits=bits, corner=corner, temp_c=temp, models=models), n_delta)


def corner_table(configs: tuple[tuple[str, float, int], ...] = CORNER_CONFIGS, adc_bits: int = 3,
                 models: str = "sky130", jobs: int = 1, on_row: Any = None) -> list[dict[str, Any]]:
    """:func:`column_check` at every (corner, temperature, n_delta) of ``configs`` (``jobs``
    processes); ``on_row(row)`` is called as each one finishes (rows come back in ``configs`` order)."""
    work = [(c, t, adc_bits, nd, models) for c, t, nd in configs]
    rows: list[dict[str, Any]] = []
    if jobs <= 1:
        for w in work:
            rows.append(_check_one(w))
            if on_row is not None:
                on_row(rows[-1])
        return rows
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(jobs) as ex:
        futs = {ex.submit(_check_one, w): i for i, w in enumerate(work)}
        done: dict[int, dict[str, Any]] = {}
        for f in as_completed(futs):
            done[futs[f]] = f.result()
            if on_row is not None:
                on_row(done[futs[f]])
    return [done[i] for i in range(len(work))]
