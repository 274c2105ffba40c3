"""Closed-loop ngspice simulation of a shared-ADC column group: S columns → column multiplexer →
one StrongARM comparator and SAR register, on sky130 device models.

The group is the macro's own netlist: :func:`eda.layout.macro.build_macro` with ``cols = S`` and
``adc_share = S`` on the shared-ADC cell library (:mod:`eda.layout.macro_shared`): every column has
its compute caps and its own DAC switches (driven by the group's shared ``BIT_k``/``V_k`` lines and
gated by the column's ``SEL_j``: ``dac_msb`` for bit 0, ``dac_sel`` for the others), a ``col_mux`` cell connects its
compute line ``CL_j`` to the comparator input ``MUX_0`` on ``SEL_j`` and resets ``CL_j`` to VCM on
``CLR``; the comparator, its output stage (which resets ``MUX_0`` on ``CLR``) and the SAR register
are shared. Nothing is added to the netlist; Python drives the ports and reads ``BIT_k_0``.

Per frame (one MVM of the group; the testbench of :mod:`eda.generators.acim_column` otherwise):

1. weights written through WL/BL (only the rows whose pattern changed, one write slot per
   distinct new row pattern);
2. reset, MAC and top-plate sampling in **all S columns at once** (CLR opens for every column);
3. S conversions in turn. Column 0 starts like the single-column bench (MSB line up before RST
   reconnects the bottom plates). Column c ≥ 1: ``SEL_{c−1}`` opens, RST opens (every bottom
   plate floats, so the compute lines hold their charge while the shared DAC lines reset), the
   SAR register resets, the first SCLK edge raises the MSB line, RST closes (column c's compute
   line returns to ``VCM + (N/2 − k_c)·v_u``), then ``SEL_c`` closes: the compute line shares its
   charge with the multiplexer node, which still holds column c−1's final residue.

Between its sample and its own conversion a column's compute line holds still: while ``SEL_j`` is
low its DAC switches keep the MSB-trial pattern (line 0 at VREFP, the others at VREFN) that its
bottom plates were connected to at the first RST close, so ``CL_j`` stays at ``VCM + (N/2 − k)·v_u``,
inside the rails. (With ungated DAC switches, as the layout first had them, a waiting line follows
the *other* columns' SAR trials and swings by up to ``±(N − Δ)·v_u``; beyond about a threshold
voltage outside the rails its multiplexer and reset gates conduct and its charge leaks:
:func:`excursion` gives that range, ``ungated`` rebuilds that netlist to show it.)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field

from eda.circuit import Circuit, Device, Subckt, Waveform
from eda.errors import InputError
from eda.generators.acim_column import (  # noqa: F401 (settle_timing: API)
    _T_MAC,
    _T_RSTON,
    _T_SAR,
    C_PAR_NETLIST_FF,
    ColumnBench,
    _steps,
    bind_models,
    extract_macro,
    metrics_from_transfer,
    saving,
    settle_timing,
    snr_from_codes,
    start_events,
)

#: follow-up conversion c ≥ 1, relative to the end of conversion c−1 (s): SEL_{c−1} and RST open,
#: SAR reset on, reset released, first SCLK edge (MSB line up), RST closes, SEL_c closes
_F_RST, _F_SREL, _F_SCLK, _F_RSTON, _F_SEL = 0.1e-9, 0.4e-9, 0.5e-9, 0.7e-9, 0.9e-9
#: SEL_0 after the first SCLK edge of the frame (RST closes at _T_RSTON − _T_SAR after it)
_SEL0 = _T_RSTON - _T_SAR + 0.2e-9
_SLOT = 1e-9  # one weight-write slot
#: the shared comparator's effective input offset (V), measured (5 bits, tt, 27 °C, one frame probed;
#: ``bench_acim.py --shared-probe``): each CLK rise kicks the multiplexer node MUX_0 down by ~30 mV
#: (its ~4 fF sits behind the select gate's resistance for the ~0.1 ns of the decision; INN is a stiff
#: reference), so a decision needs MUX_0 ≈ 22 mV above INN to read "above" (wrong at +21.2 mV, right at +22.5:
#: ``results/acim_shared/kick_b5_*.json``); the kick near the threshold is 27-30 mV, 54 mV 0.44 V above it
KICK_OFFSET_V = 0.0225
#: the prototyped hold capacitor on the multiplexer node MUX_0 (fF), 5 bits (N = 32): what the layout draws
#: there (:func:`hold_fF`: a 3.01 µm square sky130 MIM, ~20 fF with the model's fringe)
C_HOLD_FF = 20.0
#: the multiplexer node's own capacitance besides the hold capacitor (fF), assumed when placing INN
C_MUX_FF = 4.0


def hold_fF(n_caps: int, bits: int) -> float:
    """The drawn hold capacitor on MUX_0 for ``n_caps`` compute caps per column and a ``bits``-bit SAR (fF):
    :func:`eda.layout.macro_hold.hold_fF`, a quarter of a column from 4 bits on, else none."""
    from eda.layout.macro_hold import hold_fF as drawn

    return float(drawn(n_caps, bits))


class SharedBench(ColumnBench):
    """A shared-ADC group testbench: :class:`~eda.generators.acim_column.ColumnBench` plus
    ``adc_share`` (errors ``field '...'`` in ``acim shared``)."""

    where = "acim shared"
    adc_share: int = Field(2, ge=2, le=8, description="columns S sharing one comparator and SAR register")
    c_par_fF: float | None = Field(None, ge=0, description="compute-line parasitic plus the multiplexer node assumed "
                                   "when setting INN (only places the thresholds; the transfer is measured); "
                                   "None: C_MUX_FF plus the drawn hold capacitor (hold_fF)")
    inn_trim_V: float = Field(0.0, ge=-0.1, le=0.1, description="comparator offset trim (V) subtracted from the "
                              "reference INN: the StrongARM's kickback on the multiplexer node (KICK_OFFSET_V)")
    c_wire_fF: float = Field(0.0, ge=0, description="lumped wiring capacitor added from each CL_j to ground (fF): "
                             "the compute-line wire the LVS extraction does not carry (0 = as drawn)")

    def v_unit(self) -> float:
        """Estimated compute-line step of one unit cap (V), with the wiring capacitor."""
        cu = self.c_unit_fF()
        return self.vdd * cu / (self.caps * cu + self.c_mux_fF() + self.c_wire_fF)

    def c_mux_fF(self) -> float:
        """``c_par_fF``, or by default the multiplexer node with its drawn hold capacitor (fF)."""
        return self.c_par_fF if self.c_par_fF is not None else C_MUX_FF + hold_fF(self.caps, self.adc_bits)

    @property
    def t_follow(self) -> float:
        """Duration of a follow-up conversion (c ≥ 1)."""
        return _F_SCLK + (self.adc_bits + 1) * self.t_sclk


def model_wire_fF(bench: ColumnBench, cells: Any = None) -> float:
    """The analytical model's compute-line wiring capacitance for the bench's column (fF):
    ``c_wire_fF_per_um`` × the compute-line length from the cell library
    (:func:`eda.generators.acim_model.column_height_um`) — the parasitic the netlist lacks."""
    from eda.generators.acim_model import AcimTech, column_height_um, load_cell_sizes

    tech = AcimTech()
    cells = cells if cells is not None else load_cell_sizes()
    return float(tech.c_wire_fF_per_um * column_height_um(bench.rows, bench.local, cells, tech))


def shared_netlist(bench: SharedBench, lib: Any = None, extracted: bool = False) -> tuple[Subckt, list[Subckt]]:
    """The macro netlist of one group (``cols = adc_share = S``), with the compute lines CL_j and
    the multiplexer node MUX_0 made ports (to probe them). ``extracted``: the netlist the LVS
    run extracts from the group's GDS (:func:`eda.verify.lvs.extracted_circuit`) instead of the
    schematic.

    Raises:
        InputError: (extracted) the layout fails LVS, or a probed net has no extracted twin.
    """
    from eda.layout.library import load_library
    from eda.layout.macro import MacroParams, build_macro

    lib = lib if lib is not None else load_library(shared=True)
    S = bench.adc_share
    m = build_macro(MacroParams(bench.rows, S, bench.local, bench.adc_bits, adc_share=S), lib)
    circ = m.circuit
    if extracted:
        circ = extract_macro(m, "shared")
    top = next(s for s in circ.subckts if s.name.lower() == m.name.lower())
    probes = [f"CL_{j}" for j in range(S)] + ["MUX_0"]
    nets = {x for d in top.devices for x in d.nodes}
    lost = [q for q in probes if q not in nets]
    if lost:
        raise InputError(f"the group netlist has no net {', '.join(lost)}", file="acim shared")
    return Subckt(top.name, (*top.ports, *probes), devices=top.devices), [s for s in circ.subckts if s is not top]


def ungated(netlist: tuple[Subckt, list[Subckt]], lib: Any = None) -> tuple[Subckt, list[Subckt]]:
    """The group ``netlist`` with every DAC switch replaced by the library's ungated ``dac_switch``
    cell (it follows the shared BIT/V lines whatever SEL is): the layout before the select gating,
    to show what the gating fixes (a waiting compute line swings past the rails)."""
    from dataclasses import replace

    from eda.layout.library import load_library
    from eda.read.from_spice import read_spice

    lib = lib if lib is not None else load_library(shared=True)
    info = lib.cell("dac_switch")
    cell = next(x for x in read_spice(info.spice).subckts if x.name.lower() == info.name.lower())
    sub, leaf = netlist
    ports = {x.name.lower(): x.ports for x in leaf}
    devs = []
    for d in sub.devices:
        if d.name.startswith("XDAC_"):
            conn = dict(zip(ports[(d.model or "").lower()], d.nodes, strict=True))
            d = replace(d, model=cell.name, nodes=tuple(conn[q] for q in cell.ports))
        devs.append(d)
    return replace(sub, devices=devs), [*(x for x in leaf if x.name.lower() != cell.name.lower()), cell]


def mux_fixed(netlist: tuple[Subckt, list[Subckt]], c_hold_fF: float = 20.0,
              mux_reset: bool = False) -> tuple[Subckt, list[Subckt]]:
    """The group ``netlist`` with the circuit fix for the shared comparator's input as it was prototyped
    in the netlist (now drawn: a netlist that has a hold capacitor ``XCHOLD*`` comes back unchanged;
    :func:`unfixed` removes the drawn one): a MIM capacitor of ``c_hold_fF`` from the multiplexer node MUX_0 to VSS
    (the comparator's kickback then lands on C_mux + C_hold instead of the ~4 fF node the select gate
    isolates during a decision) and, unless ``mux_reset``, the output stage's reset gate on MUX_0 off
    (its CLR pin on VSS: MUX_0 is no longer reset, so the first column meets the previous residue
    like the others instead of the reset gate's release pedestal)."""
    from dataclasses import replace

    sub, leaf = netlist
    if any(d.name.startswith("XCHOLD") for d in sub.devices):  # drawn (eda.layout.macro_hold): nothing to add
        return netlist
    devs = []
    for d in sub.devices:
        if d.name.startswith("XCBUF_") and not mux_reset:
            ports = next(x.ports for x in leaf if x.name.lower() == (d.model or "").lower())
            d = replace(d, nodes=tuple("VSS" if q == "CLR" else x for q, x in zip(ports, d.nodes, strict=True)))
        devs.append(d)
    if c_hold_fF > 0:  # sky130 MIM: 2 fF/um^2 on (W + 0.15)(L + 0.15)
        side = math.sqrt(c_hold_fF / 2.0) - 0.15
        devs.append(Device("XCHOLD", "X", ("MUX_0", "VSS"), model="sky130_fd_pr__cap_mim_m3_1",
                           params={"W": round(side, 3), "L": round(side, 3), "MF": 1}))
    return replace(sub, devices=devs), leaf


def unfixed(netlist: tuple[Subckt, list[Subckt]]) -> tuple[Subckt, list[Subckt]]:
    """The group ``netlist`` as the layout was before the multiplexer fix was drawn (the mutation):
    no hold capacitor on MUX_0, the output stage's reset gate on CLR (it resets MUX_0). Simulate it
    with ``c_par_fF = 4`` (no hold capacitor in the INN placement)."""
    from dataclasses import replace

    sub, leaf = netlist
    devs = []
    for d in sub.devices:
        if d.name.startswith("XCHOLD"):
            continue
        if d.name.startswith("XCBUF_"):
            ports = next(x.ports for x in leaf if x.name.lower() == (d.model or "").lower())
            d = replace(d, nodes=tuple("CLR" if q == "CLR" else x for q, x in zip(ports, d.nodes, strict=True)))
        devs.append(d)
    return replace(sub, devices=devs), leaf


def schedule(n: int, S: int, ks: np.ndarray | None = None) -> np.ndarray:
    """MAC values (F, S) of the frames of a transfer sweep: every column sees every k = 0..N once;
    odd columns run the other way (k_1 = N − k_0 for S = 2: the largest swings a column waits
    through). ``ks`` picks a subset of frames (values of k_0's sweep)."""
    f = np.arange(n + 1) if ks is None else np.asarray(ks, dtype=int)
    step = (n + 1) // S
    out = np.empty((len(f), S), dtype=int)
    for j in range(S):
        base = (f + (j // 2) * 2 * step) % (n + 1)
        out[:, j] = base if j % 2 == 0 else n - base
    return out


def _write_slots(prev: np.ndarray | None, w: np.ndarray) -> list[tuple[tuple[int, ...], list[int]]]:
    """(pattern, rows) per write slot: the rows whose weights change, grouped by their new pattern."""
    rows = range(len(w)) if prev is None else np.nonzero((prev != w).any(-1))[0]
    slots: dict[tuple[int, ...], list[int]] = {}
    for r in rows:
        slots.setdefault(tuple(int(v) for v in w[r]), []).append(int(r))
    return sorted(slots.items())


def testbench(bench: SharedBench, sub: Subckt, leaf: list[Subckt], weights: np.ndarray,
              deltas: np.ndarray) -> tuple[Circuit, dict[str, Any]]:
    """The transient testbench around the group netlist ``sub``.

    Args:
        weights: (F, N, S) 0/1 weight of row 0 of each local array of column j in frame f (every
            input is 1, so column j's MAC value is ``weights[f, :, j].sum()``).
        deltas: (F,) threshold shift δ of each frame's conversions (units of v_u).

    Returns:
        (circuit, timing): read-out and probe times per (frame, column).
    """
    b, n, L, S, vdd, T = bench.adc_bits, bench.caps, bench.local, bench.adc_share, bench.vdd, bench.t_sclk
    names = ("SRST", "SRSTB", "CLR", "RST", "RSTB", "EN", "ENB", "PCHB", "SCLK", "CLK", "INN")
    ev: dict[str, list[tuple[float, float]]] = {k: [] for k in names}
    ev_sel: dict[int, list[tuple[float, float]]] = {j: [] for j in range(S)}
    ev_bl: dict[int, list[tuple[float, float]]] = {j: [] for j in range(S)}
    ev_wl: dict[int, list[tuple[float, float]]] = {g: [] for g in range(n)}
    ev_in: list[tuple[float, float]] = []
    v_u, vcm = bench.v_unit(), bench.v_cm()
    t, prev = 0.0, None
    tm: dict[str, list] = {"t_read": [], "t_pre": [], "t_post": []}

    def sar(t_sclk0: float, c: int, tf: float) -> float:
        """SCLK/CLK of one conversion whose first edge is at t_sclk0; returns its end."""
        for k in range(b + 1):
            te = t_sclk0 + k * T
            ev["SCLK"] += [(te, vdd), (te + T / 2, 0.0)]
            if k < b:
                ev["CLK"] += [(te + 0.5 * T, vdd), (te + 1.15 * T, 0.0)]
        tm["t_read"].append(t_sclk0 + (b + 0.6) * T)
        tm["t_pre"].append(t_sclk0 + (_SEL0 if c == 0 else _F_SEL - _F_SCLK) - 0.02e-9)
        tm["t_post"].append(t_sclk0 + 0.45 * T)
        return t_sclk0 + (b + 1) * T

    for w, d in zip(weights, deltas, strict=True):
        for si, (pat, rows) in enumerate(_write_slots(prev, w)):
            ts = t + si * _SLOT
            for j in range(S):  # Q = not w: the read stack sees QB
                ev_bl[j].append((ts + 0.05e-9, 0.0 if pat[j] else vdd))
            for g in rows:
                ev_wl[g] += [(ts + 0.2e-9, vdd), (ts + 0.8e-9, 0.0)]
            t = ts + _SLOT
        prev = w
        t0 = t + 0.2e-9
        t1 = t0 + bench.t_mac_extra  # the events after the MAC start
        start_events(ev, t0, t1, vdd, vdd, vcm + (0.5 + float(d)) * v_u - bench.inn_trim_V)
        ev_in += [(t0 + _T_MAC, vdd), (t1 + _T_RSTON, 0.0)]
        ev_sel[0] += [(t1 + _T_SAR + _SEL0, vdd)]
        tc = sar(t1 + _T_SAR, 0, t0)
        for c in range(1, S):
            ev_sel[c - 1] += [(tc, 0.0)]
            ev["RST"] += [(tc, 0.0), (tc + _F_RSTON, vdd)]
            ev["RSTB"] += [(tc, vdd), (tc + _F_RSTON, 0.0)]
            ev["SRST"] += [(tc + _F_RST, vdd), (tc + _F_SREL, 0.0)]
            ev["SRSTB"] += [(tc + _F_RST, 0.0), (tc + _F_SREL, vdd)]
            ev_sel[c] += [(tc + _F_SEL, vdd)]
            tc = sar(tc + _F_SCLK, c, t0)
        ev_sel[S - 1] += [(tc, 0.0)]
        t = tc
    init = {"SRST": vdd, "SRSTB": 0.0, "CLR": vdd, "RST": vdd, "RSTB": 0.0, "EN": 0.0, "ENB": vdd, "PCHB": vdd,
            "SCLK": 0.0, "CLK": 0.0, "INN": vcm + (0.5 + float(deltas[0])) * v_u - bench.inn_trim_V}
    drive: dict[str, Waveform | float] = {k: _steps(e, init[k]) for k, e in ev.items()}
    drive.update({"VDD": vdd, "VSS": 0.0, "VREFP": vdd, "VREFN": 0.0, "VCM": vcm})
    for j in range(S):
        drive[f"SEL_{j}"] = _steps(ev_sel[j], 0.0)
        drive[f"BL_{j}"] = _steps(ev_bl[j], vdd)
        drive[f"BLB_{j}"] = _steps([(x, vdd - v) for x, v in ev_bl[j]], 0.0)
    for r in range(bench.rows):
        g, rr = divmod(r, L)
        drive[f"WLIN_{r}"] = _steps(ev_wl[g], 0.0) if rr == 0 else 0.0
        drive[f"IN_{r}"] = _steps(ev_in, 0.0) if rr == 0 else 0.0
    missing = [q for q in sub.ports if q not in drive and not q.startswith(("BIT_", "CL_", "MUX_"))]
    if missing:
        raise InputError(f"group netlist {sub.name}: ports {', '.join(missing[:5])} have no testbench drive",
                         file="acim shared")
    devices = [Device("XGRP", "X", tuple(sub.ports), model=sub.name)]
    if bench.c_wire_fF > 0:
        devices += [Device(f"CW{j}", "C", (f"CL_{j}", "0"), value=bench.c_wire_fF * 1e-15) for j in range(S)]
    for net, v in drive.items():
        wave = v if isinstance(v, Waveform) else None
        devices.append(Device(f"V{net}", "V", (net, "0"), value=float(v.args[1]) if wave else float(v),
                              waveform=wave))
    circ = Circuit(title=f"* ACIM shared-ADC group: S={S} N={n} L={L} B={b}", subckts=[*leaf, sub], devices=devices)
    return circ, {**{k: np.array(v).reshape(len(weights), S) for k, v in tm.items()}, "t_stop": t + 0.2e-9}


def run_frames(bench: SharedBench, ks: np.ndarray, deltas: np.ndarray | None = None,
               netlist: tuple[Subckt, list[Subckt]] | None = None, lib: Any = None) -> dict[str, np.ndarray]:
    """Simulate the frames whose MAC values are ``ks`` (F, S); return per (frame, column) the
    ``codes``, the compute line just before (``v_pre``) and after (``v_cl``) its selection, the
    multiplexer node just before it (``v_mux``), and ``k``, ``delta``, ``seconds``."""
    import time

    from eda.sim.ngspice import transient

    t_start = time.perf_counter()
    ks = np.atleast_2d(np.asarray(ks, dtype=int))
    n, S = bench.caps, bench.adc_share
    if ks.shape[1] != S or ks.min() < 0 or ks.max() > n:
        raise InputError(f"ks: shape {ks.shape}, range {ks.min()}..{ks.max()}; expected (frames, {S}) in 0..{n}",
                         file="acim shared")
    deltas = np.zeros(len(ks)) if deltas is None else np.asarray(deltas, dtype=float)
    weights = (np.arange(n)[None, :, None] < ks[:, None, :]).astype(int)
    sub, leaf = netlist if netlist is not None else shared_netlist(bench, lib)
    circ, tm = testbench(bench, sub, leaf, weights, deltas)
    circ = saving(bind_models(circ, bench.models, bench.corner, bench.temp_c),
                  [f"BIT_{k}_0" for k in range(bench.adc_bits)] + [f"CL_{j}" for j in range(S)] + ["MUX_0"])
    t, wav = transient(circ, 20e-12, tm["t_stop"], max_step=bench.max_step)
    bits = np.stack([np.interp(tm["t_read"], t, wav[f"BIT_{k}_0"]) > bench.vdd / 2
                     for k in range(bench.adc_bits)], -1)
    codes = (bits * 2 ** np.arange(bench.adc_bits - 1, -1, -1)).sum(-1)
    cl = np.stack([wav[f"CL_{j}"] for j in range(S)], 0)
    probe = {key: np.array([[np.interp(tm[tk][f, j], t, cl[j]) for j in range(S)] for f in range(len(ks))])
             for key, tk in (("v_pre", "t_pre"), ("v_cl", "t_post"))}
    return {"codes": codes, **probe, "v_mux": np.interp(tm["t_pre"], t, wav["MUX_0"]),
            "k": ks, "delta": np.broadcast_to(deltas[:, None], ks.shape).copy(),
            "v_cl_min": cl.min(1), "v_cl_max": cl.max(1), "seconds": time.perf_counter() - t_start}


def excursion(n: int, b: int, vdd: float, v_u: float, vcm: float | None = None) -> tuple[float, float]:
    """Range (V) a waiting compute line can reach: sampled at ``VCM + (N/2 − k)·v_u`` with the MSB
    trial, it moves with the other columns' DAC patterns ``D·v_u − N/2·v_u``, D = 0 .. N − Δ, so
    over all k it spans ``VCM − N·v_u`` .. ``VCM + (N − Δ)·v_u``."""
    vcm = 0.5 * vdd if vcm is None else vcm
    delta = n // 2 ** b
    return vcm - n * v_u, vcm + (n - delta) * v_u


def share_prediction(bench: SharedBench, alpha: float) -> dict[str, float]:
    """What the charge sharing at selection does to a conversion, for a multiplexer node that is
    a fraction ``alpha = C_mux/(C_tot + C_mux)`` of the selected column's total capacitance:
    the unit step shrinks by ``(1 − α)``, and column c ≥ 1 starts off by ``α·r_{c−1}`` where
    ``r = code·Δ − k`` (units) is the previous column's final residue. Returns the largest input
    shift (units) over k and the SNR of one conversion when the previous column's k is an
    independent Binomial(N, p) draw (exact over both)."""
    from scipy.stats import binom

    n, b = bench.caps, bench.adc_bits
    m, delta, p = 2 ** b, n // 2 ** b, 0.25
    ks = np.arange(n + 1)
    pmf = binom.pmf(ks, n, p)
    resid = np.clip(np.floor((ks + 0.5) / delta), 0, m - 1) * delta - ks  # final residue (units)
    shift = alpha * resid  # (previous k) -> input shift of this column
    x = ks[:, None] + shift[None, :]  # (this k, previous k)
    code = np.clip(np.floor((x + 0.5) / delta), 0, m - 1)
    err2 = (code * delta + (delta - 1) / 2 - ks[:, None]) ** 2
    mse = float((pmf[:, None] * pmf[None, :] * err2).sum())
    return {"alpha": alpha, "max_shift_units": float(np.abs(shift).max()),
            "snr_share_db": 10 * math.log10(n * p * (1 - p) / max(mse, 1e-300))}


def group_check(bench: SharedBench, n_delta: int = 1, ks: np.ndarray | None = None,
                netlist: tuple[Subckt, list[Subckt]] | None = None) -> dict[str, Any]:
    """One closed-loop characterisation of a shared-ADC group: the frames of :func:`schedule`
    (every column converts every k = 0..N; ``n_delta`` odd sub-unit input shifts), then per column
    the transfer curve, INL/DNL, SNR from the operating-point codes (δ = 0), the measured unit step
    and charge-sharing fraction α at selection, and beside them the analytical model's numbers
    (:func:`eda.generators.acim_column.model_prediction`, :func:`share_prediction` with the
    measured α, the swing of a waiting compute line by :func:`excursion`)."""
    if n_delta < 1 or n_delta % 2 == 0:
        raise InputError(f"field 'n_delta': {n_delta}; expected an odd count >= 1", file="acim shared")
    sched = schedule(bench.caps, bench.adc_share, ks)
    deltas = (np.arange(n_delta) + 0.5) / n_delta - 0.5
    frames = np.repeat(sched, n_delta, axis=0)
    return analyse(bench, run_frames(bench, frames, np.tile(deltas, len(sched)), netlist=netlist))


def analyse(bench: SharedBench, r: dict[str, np.ndarray]) -> dict[str, Any]:
    """The per-column and group numbers of :func:`group_check` from :func:`run_frames` output."""
    from eda.generators.acim_column import model_prediction

    n, b, S = bench.caps, bench.adc_bits, bench.adc_share
    r = {k: np.asarray(v) if k != "seconds" else v for k, v in r.items()}
    pred = model_prediction(bench)
    c_tot = n * bench.c_unit_fF() + C_PAR_NETLIST_FF + bench.c_wire_fF
    v_single = bench.vdd * bench.c_unit_fF() / c_tot
    cols = []
    for j in range(S):
        k, codes, d, v_cl = r["k"][:, j], r["codes"][:, j], r["delta"][:, j], r["v_cl"][:, j]
        # unit step: median step between successive k (robust to a few lines spoilt by the overshoot)
        ks_u = np.unique(k)
        v_k = np.array([np.median(v_cl[(k == x) & np.isclose(d, 0.0)]) for x in ks_u])
        slope = -float(np.median(np.diff(v_k) / np.diff(ks_u)))
        u = k + (0.5 + d) * bench.v_unit() / slope - 0.5
        op = np.isclose(d, 0.0)
        ideal = np.clip(np.floor((k[op] + 0.5) / (n // 2 ** b)), 0, 2 ** b - 1)
        # α from the unit step: the selected line's step against the column's own (C_tot alone)
        alpha = 1.0 - slope / v_single
        cols.append({"column": j, **metrics_from_transfer(u, codes, n, b),
                     "snr_sim_db": snr_from_codes(k[op], codes[op], n, b, pred["p"]) if op.sum() == n + 1 else None,
                     "codes_wrong": int((codes[op] != ideal).sum()), "v_unit_sim_mV": slope * 1e3,
                     "alpha_sim": alpha, "k": k.tolist(), "u": u.tolist(), "codes": codes.tolist(),
                     "v_cl": np.round(v_cl, 4).tolist(), "v_pre": np.round(r["v_pre"][:, j], 4).tolist(),
                     "v_mux": np.round(r["v_mux"][:, j], 4).tolist()})
    alpha = float(np.mean([c["alpha_sim"] for c in cols]))
    # a waiting line moves with the column's own unit step (it is not selected)
    lo, hi = excursion(n, b, bench.vdd, v_single, bench.v_cm())
    share = share_prediction(bench, alpha)
    # the model's α: AcimTech.c_mux_fF plus the drawn hold capacitor against this column's C_tot
    from eda.generators.acim_params import AcimTech

    c_mux = AcimTech().c_mux_fF + hold_fF(n, b)
    alpha_model = c_mux / (c_tot + c_mux)
    share_model = share_prediction(bench, alpha_model)
    return {"corner": bench.corner, "temp_c": bench.temp_c, "adc_bits": b, "n_caps": n, "adc_share": S,
            "local": bench.local, "c_wire_fF": bench.c_wire_fF, "t_mac_extra": bench.t_mac_extra, "columns": cols,
            "codes_wrong": sum(c["codes_wrong"] for c in cols),
            "max_inl_lsb": float(np.nanmax([c["max_inl_lsb"] for c in cols])),
            "max_dnl_lsb": float(np.nanmax([c["max_dnl_lsb"] for c in cols])),
            "v_cl_min": float(r["v_cl_min"].min()), "v_cl_max": float(r["v_cl_max"].max()),
            "excursion_model": [lo, hi], "overshoot_model_V": max(-lo, hi - bench.vdd),
            "v_unit_single_mV": v_single * 1e3, **pred, **share, "alpha_model": alpha_model,
            "snr_share_model_db": share_model["snr_share_db"], "seconds": round(r["seconds"], 1)}
