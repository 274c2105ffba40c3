"""Amplifier testbenches from port roles, simulated in ngspice with the sky130 models.

The testbench of an amplifier (one deck, one parse, several analyses)::

    VDD ─ 1.8 V, VSS ─ 0 V, VBk ─ bias voltages, IBk ─ bias currents (into N diodes / out of P diodes)
    VIN+ ─ Vcm                               (the non-inverting input; other inputs also at Vcm)
    VOUT ─ Voff ─ Lfb (1 GH) ─ VIN−           DC: feedback sets the operating point (VOUT = Vcm + Voff)
    VIN− ─ Cin (1 kF) ─ Vac (ac 1)            AC: the loop is open above ~1 mHz, A(f) = V(out)
    VOUT ─ C_L                                every output loaded

* ``op``: operating point (output at Vcm, every device's gm/gds/Id saved), power = Σ −V·I of the
  supplies and bias sources;
* ``ac dec 10 1 10g``: DC gain, unity-gain bandwidth, phase margin of the loop gain T = −A;
* ``dc voff``: moves the output across its range with the inputs fixed (feedback through Voff);
  output swing = range where the local open-loop gain stays within 6 dB of its peak;
* slew (separate deck): unity-gain follower with a 0.4 V step, 20–80 % slope, slower edge.

Which input is inverting is found once (:meth:`AmpBench.calibrate`): the assignment whose DC loop
holds the output at Vcm (else the steepest falling open-loop :meth:`AmpBench.transfer`); single-input
amplifiers use the same loop. Both inputs must work (:func:`input_balance`).

**Fully differential** amplifiers (two inputs, two outputs) are measured differentially::

    VOUTa ─ Voff ─ Lfb ─ VINa,  VOUTb ─ Lfb ─ VINb      both DC loops negative (pairing found once)
    VINa ─ Cin ─ (ac +0.5),     VINb ─ Cin ─ (ac −0.5)   A(f) = V(VOUTa) − V(VOUTb)
    BCMFB: VBk = Vb0 + K·((V(VOUTa) + V(VOUTb))/2 − Vcm)  ideal CMFB, only when nothing in the
                                                           circuit sets the output common mode

The ideal common-mode loop is a behavioural source in the testbench (as in early hand sizing, before
a CMFB circuit is designed): it drives the bias port of the output-side current sources
(:func:`~eda.generators.sizing.roles.cmfb_ports`), holds the output common mode at Vcm, and its
control voltage is reported (``cmfb_v``). Circuits with their own CMFB (resistive averaging) or
resistor/diode loads keep their own common mode. Slew is not measured for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from eda.circuit import Circuit, Device, is_ground, unique_names
from eda.errors import EdaError
from eda.export.to_sky130 import to_sky130
from eda.export.to_spice import to_spice
from eda.generators.sizing.roles import (
    Group,
    Roles,
    cmfb_ports,
    find_roles,
    matching_groups,
    mos_polarity,
    output_cm_defined,
)
from eda.generators.topology_check import port_polarity, sinks_bias_current

VDD = 1.8
L_FB, C_IN = 1e9, 1e3
AC_CMD = "ac dec 10 1 10g"
SIM_TIMEOUT = 30.0  # s per analysis: a candidate whose operating point stalls is dropped, not waited for
MAX_OFFSET = 0.15  # V: systematic offset beyond which the DC loop is taken not to hold the output
BALANCE_DB = 6.0  # dB: the two inputs' open-loop gains must agree within this (opposite signs)
K_CMFB = 200.0  # gain of the ideal common-mode loop (V/V): the output CM lands within a few mV


@dataclass
class Design:
    """Physical design values: (W, L) µm per matching group, current ratios of mirror members
    (integer multipliers m from 1, narrower widths below 1), width scales (``trim``) of the one
    side of a symmetric load that also feeds a side branch, R/C values, bias
    values (V for voltage ports, A for current ports), the input common mode and, for
    single-output amplifiers, the output's DC level above it (``voff``: the level shift of the
    feedback path, so that the output can sit mid-range while the inputs sit where the input stage
    has headroom, as in a servo-loop open-loop testbench)."""

    sizes: dict[str, tuple[float, float]]
    mult: dict[str, float] = field(default_factory=dict)
    trim: dict[str, float] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    bias: dict[str, float] = field(default_factory=dict)
    vcm: float = 0.9
    voff: float = 0.0

    def to_dict(self) -> dict:
        return {"sizes_um": {k: list(v) for k, v in self.sizes.items()}, "mult": self.mult, "trim": self.trim,
                "values": self.values, "bias": self.bias, "vcm": self.vcm, "voff": self.voff}


def _ratio_size(w: float, ln: float, k: float) -> tuple[float, float]:
    """(W, L) µm of a mirror member at current ratio ``k`` below 1 (above 1 it is a multiplier):
    a narrower device of the same length, and below the minimum width a longer one of the same
    W/L (so that a bias branch can carry a small fraction of its reference)."""
    if k >= 1:
        return w, ln
    wk = w * k
    if wk >= 0.42:
        return round(wk, 3), ln
    return 0.42, round(ln * 0.42 / wk, 3)


#: Ports an amplifier testbench has no role for but holds at a DC level (clock, latch, control, select).
_CONTROL = ("VCLK", "CLK", "VLATCH", "LATCH", "VCONT", "VCTRL", "VSEL", "VEN", "EN")


def unbiased_nets(circuit: Circuit, roles: Roles) -> list[str]:
    """Nets the testbench biases by role although the circuit does not: control ports (clock,
    latch, control, select: held at a DC level in an amplifier testbench) and inner nets that only
    reach MOSFET gates (and capacitors), which have no DC path and so no defined voltage. Each
    becomes a searched bias voltage, like a ``VBk`` port."""
    known = {roles.vdd, roles.vss, *roles.inputs, *roles.outputs, *roles.vbias, *roles.ibias}
    dc: set[str] = set()
    gates: set[str] = set()
    for d in circuit.devices:
        if mos_polarity(d):
            dc.update((d.nodes[0], d.nodes[2]))
            gates.add(d.nodes[1])
        elif d.kind in "RLDVIEFGH":
            dc.update(d.nodes[:2])
        elif d.kind == "Q":
            dc.update(d.nodes[:3])
    out = []
    for n in circuit.nets:
        if n in known or is_ground(n):
            continue
        control = n.upper().rstrip("0123456789").startswith(_CONTROL)
        if control or (n in gates and n not in dc):
            out.append(n)
    return out


def driven_bias_ports(circuit: Circuit, roles: Roles) -> list[str]:
    """Voltage-bias ports (``VBk``…) that a transistor's channel drives — a drain, source,
    collector or emitter on the port, other than a diode-connected device (gate = drain = port, the
    input of a bias mirror). The circuit generates such a bias itself (a bias branch, or a port
    name on an inner node); a testbench source there would short what the circuit does, so the
    testbench leaves it alone. Real data: in the public set 2,609 of 6,384 ``VB`` ports sit on a
    channel; in the built-in library's amplifiers none does."""
    out = []
    for n in roles.vbias:
        for d in circuit.devices:
            if (mos_polarity(d) or d.kind == "Q") and n in (d.nodes[0], d.nodes[2]) \
                    and not (d.nodes[0] == n and d.nodes[1] == n):
                out.append(n)
                break
    return out


def _normalised(circuit: Circuit) -> Circuit:
    """Top-level devices, ground nets renamed ``VSS``, instance names unique (sizes are keyed by name)."""
    devs = unique_names([replace(d, nodes=tuple("VSS" if is_ground(n) else n for n in d.nodes),
                                 params=dict(d.params)) for d in circuit.devices])
    return replace(circuit, devices=devs, analyses=[], extra=[])


class AmpBench:
    """Testbench of one amplifier topology (generic devices) at a corner and load.

    Raises:
        InputError: the circuit lacks supply/input/output ports.
    """

    def __init__(self, circuit: Circuit, corner: str = "tt", cl: float = 1e-12, bulk: str = "netlist"):
        self.circuit = _normalised(circuit)
        self.corner, self.cl, self.bulk = corner, cl, bulk
        self.roles: Roles = find_roles(self.circuit)
        # control ports and gate-only nets: biased by the testbench (reported as ``added_bias``)
        self.added_bias = unbiased_nets(self.circuit, self.roles)
        # voltage-bias ports the circuit drives itself (through a channel) are left to it
        self.internal_bias = driven_bias_ports(self.circuit, self.roles)
        self.roles.vbias = [n for n in self.roles.vbias if n not in self.internal_bias] + self.added_bias
        self.groups: list[Group] = matching_groups(self.circuit, self.roles)
        self.group_of = {m: g.name for g in self.groups for m in g.members}
        self.out = self.roles.outputs[0]
        ins = self.roles.inputs
        self.inn, self.inp = (ins[1], ins[0]) if len(ins) > 1 else (ins[0], None)
        self.polarity = {n: port_polarity(self.circuit, n) for n in self.roles.vbias + self.roles.ibias}
        self.fets = [d for d in self.circuit.devices if mos_polarity(d)]
        # fully differential: VOUT1 fed back to self.inn, VOUT2 (self.out2) to self.inp
        self.out2 = self.roles.outputs[1] if len(ins) > 1 and len(self.roles.outputs) > 1 else None
        self.cmfb_options: list[str] = []
        if self.out2 is not None:
            self.inn, self.inp = ins[0], ins[1]
            if not output_cm_defined(self.circuit, self.roles):
                self.cmfb_options = cmfb_ports(self.circuit, self.roles)
        self.cmfb = self.cmfb_options[0] if self.cmfb_options else None

    @property
    def differential(self) -> bool:
        return self.out2 is not None

    @property
    def free_vbias(self) -> list[str]:
        """Voltage-bias ports the search sets (all but the one the ideal CMFB drives)."""
        return [n for n in self.roles.vbias if n != self.cmfb]

    @property
    def sets_vcm(self) -> bool:
        """Whether the testbench imposes a common mode (else the circuit's own sets it)."""
        return self.inp is not None and (not self.differential or self.cmfb is not None)

    # ------------------------------------------------------------------ decks
    def sized(self, design: Design) -> Circuit:
        """The circuit in sky130 devices at ``design`` (no sources)."""
        devs = []
        for d in self.circuit.devices:
            d = replace(d, params=dict(d.params))
            if d.name in design.values:
                d.value = design.values[d.name]
            if d.name in design.mult and design.mult[d.name] >= 1:
                d.params["m"] = int(design.mult[d.name])
            devs.append(d)
        sizes = {}
        for d in self.fets:
            w, ln = design.sizes[self.group_of[d.name]]
            w, ln = _ratio_size(w, ln, design.mult.get(d.name, 1))
            sizes[d.name] = (round(w * design.trim.get(d.name, 1.0), 3), ln)
        return to_sky130(replace(self.circuit, devices=devs), self.corner, sizes=sizes, bulk=self.bulk)

    def _sources(self, design: Design) -> list[Device]:
        r = self.roles
        src = [Device("VVDD", "V", (r.vdd, "0"), value=VDD), Device("VVSS", "V", (r.vss, "0"), value=0.0)]
        for n in self.free_vbias:
            src.append(Device(f"V{n}", "V", (n, r.vss), value=design.bias[n]))
        for n in r.ibias:
            nodes = (n, r.vss) if sinks_bias_current(self.circuit, n) else (r.vdd, n)
            src.append(Device(f"I{n}", "I", nodes, value=design.bias[n]))
        for n in self.held_inputs:
            src.append(Device(f"V{n}", "V", (n, r.vss), value=design.vcm))
        return src

    @property
    def held_inputs(self) -> list[str]:
        """Inputs held at Vcm by a source (the others are fed back from an output)."""
        fed = {self.inn, self.inp} if self.differential else {self.inn}
        return [n for n in self.roles.inputs if n not in fed]

    def _cmfb_line(self, design: Design) -> list[str]:
        if self.cmfb is None:
            return []
        o1, o2, vss = self.out, self.out2, self.roles.vss
        v0 = design.bias.get(self.cmfb, VDD / 2)
        expr = f"{v0:.6g} + {K_CMFB:g}*((v({o1})+v({o2}))/2 - {design.vcm:.6g})"
        # linear (no clamp: a kink costs Newton 10-20x the iterations); out-of-supply results are refused
        return [f"BCMFB {self.cmfb} {vss} v = {expr}"]

    def _saves(self) -> str:
        items = [f"v({n})" for n in self.circuit.nets if not is_ground(n)]
        for d in self.fets:
            model = "sky130_fd_pr__nfet_01v8" if mos_polarity(d) == "n" else "sky130_fd_pr__pfet_01v8"
            x = d.name if d.name[:1].upper() == "X" else f"X{d.name}"
            items += [f"@m.{x.lower()}.m{model}[{p}]" for p in ("gm", "gds", "id")]
        srcs = [f"v{n.lower()}#branch" for n in self.free_vbias + self.held_inputs]
        return ".save " + " ".join(items + ["vvdd#branch", "vvss#branch"] + srcs)

    def deck(self, design: Design, open_loop: bool = False) -> str:
        """Open-loop AC / unity-gain DC testbench text; ``open_loop``: no feedback, the fed-back
        inputs held at Vcm by sources ``VPROBE`` (and ``VPROBE2``) instead (for DC transfer sweeps)."""
        c = self.sized(design)
        vss = self.roles.vss
        ac = 0.5 if self.differential else 1.0
        if open_loop:
            extra = [Device("VPROBE", "V", (self.inn, vss), value=design.vcm)]
            if self.differential:
                extra.append(Device("VPROBE2", "V", (self.inp, vss), value=design.vcm))
        else:
            extra = [Device("VOFF", "V", (self.out, "fb"), value=0.0 if self.differential else design.voff),
                     Device("LFB", "L", ("fb", self.inn), value=L_FB),
                     Device("CIN", "C", (self.inn, "acin"), value=C_IN),
                     Device("VAC", "V", ("acin", vss), value=0.0, ac=ac)]
            if self.differential:
                extra += [Device("LFB2", "L", (self.out2, self.inp), value=L_FB),
                          Device("CIN2", "C", (self.inp, "acin2"), value=C_IN),
                          Device("VAC2", "V", ("acin2", vss), value=0.0, ac=-ac)]
        loads = [Device(f"CL{i}", "C", (o, vss), value=self.cl) for i, o in enumerate(self.roles.outputs)]
        c = replace(c, devices=c.devices + self._sources(design) + extra + loads,
                    extra=c.extra + self._cmfb_line(design) + [self._saves()], options={"gmin": 1e-12})
        return to_spice(c)

    def slew_deck(self, design: Design, t_edge: float) -> str:
        """Unity-gain follower with a ±0.2 V step about Vcm; edges every ``t_edge`` seconds."""
        c = self.sized(design)
        lo, hi = design.vcm - 0.2, design.vcm + 0.2
        step = Device("VSTEP", "V", (self.inp, self.roles.vss), value=lo)
        from eda.circuit import Waveform

        step.waveform = Waveform("pulse", (lo, hi, t_edge / 10, t_edge / 1000, t_edge / 1000, t_edge, 2 * t_edge))
        srcs = [s for s in self._sources(design) if s.name != f"V{self.inp}"] + [step]
        fb = Device("VFB", "V", (self.out, self.inn), value=design.voff)
        loads = [Device(f"CL{i}", "C", (o, self.roles.vss), value=self.cl) for i, o in enumerate(self.roles.outputs)]
        c = replace(c, devices=c.devices + srcs + [fb] + loads,
                    extra=c.extra + [f".save v({self.out}) v({self.inp})"])
        return to_spice(c)

    # ------------------------------------------------------------------ simulate
    def evaluate(self, design: Design, swing: bool = False) -> dict:
        """Performance of ``design``: gain (dB), ugb (Hz), pm (deg), power (W), vout (V), and,
        with ``swing``, the output swing (V). ``ok`` False with a ``reason`` when it fails."""
        from eda.sim.ngspice import run_deck

        cmds = ["op", AC_CMD] + (["dc voff -1.8 1.8 0.02"] if swing else [])
        balance = self.inp is not None and not self.differential
        if balance:  # open-loop gain from the non-inverting input (its source gets the AC drive)
            cmds += ["alter @vac[acmag]=0", f"alter @v{self.inp.lower()}[acmag]=1", "ac lin 1 1 1"]
        try:
            res = run_deck(self.deck(design), cmds, timeout=SIM_TIMEOUT)
        except (EdaError, TimeoutError) as e:
            return {"ok": False, "reason": str(e).splitlines()[0][:200]}
        perf = measure_op(res[0][1], self, design)
        perf.update(measure_ac(res[1][1], self.out, self.out2))
        if perf["reason"] is None and not perf["inverting"]:
            perf["reason"] = "the DC loop is positive feedback (inputs swapped, or a non-inverting stage)"
        if balance:
            perf.update(input_balance(res[1][1], res[-1][1], self.out))
            if perf["reason"] is None and not perf["differential_input"]:
                perf["reason"] = (f"not a differential input: open-loop gain from {self.inp} "
                                  f"{perf['gain_inp']:.1f} dB vs {perf['gain']:.1f} dB from {self.inn} "
                                  f"(needs the opposite sign within {BALANCE_DB:g} dB)")
        if swing:
            perf["swing"] = measure_swing(res[2][1], self.out, self.inn, self.inp)
        perf["ok"] = perf["reason"] is None
        return perf

    def transfer(self, design: Design) -> dict[str, float] | None:
        """Open-loop DC transfer (no feedback, other inputs at Vcm): per input the steepest dVout/dVin
        of a 0–1.8 V sweep in 20 mV steps (negative: inverting; 0: the output does not move; a step
        crossing > 1 V is swept again in 0.5 mV steps, see :func:`_steepest`). None if it fails."""
        from eda.sim.ngspice import run_deck

        srcs = {self.inn: "vprobe"}
        srcs[self.inp] = "vprobe2" if self.differential else f"v{self.inp.lower()}" if self.inp else None
        srcs = {k: v for k, v in srcs.items() if k and v}
        deck = self.deck(design, open_loop=True)
        try:
            res = run_deck(deck, [f"dc {v} 0 1.8 0.02" for v in srcs.values()], timeout=SIM_TIMEOUT)
            out = {n: _steepest(v, self.out, self.out2, 0.0, 1.8) for n, (_, v) in zip(srcs, res, strict=True)}
            for n, (_, x0, jump) in list(out.items()):
                if jump:  # most of the supply in one step: resolve it
                    (_, v), = run_deck(deck, [f"dc {srcs[n]} {x0:.4f} {x0 + 0.02:.4f} 0.0005"], timeout=SIM_TIMEOUT)
                    out[n] = _steepest(v, self.out, self.out2, x0, x0 + 0.02)
        except (EdaError, TimeoutError):
            return None
        return {n: s for n, (s, _, _) in out.items()}

    def bode(self, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """(frequency, complex open-loop gain A(f)) of ``design``."""
        from eda.sim.ngspice import run_deck

        (_, v), = run_deck(self.deck(design), [AC_CMD])
        a = v[self.out.lower()] - (v[self.out2.lower()] if self.out2 else 0)
        return np.real(v["frequency"]), a

    def slew(self, design: Design, ugb: float | None) -> float | None:
        """Slew rate (V/s) of the unity-gain follower, slower edge; None when it cannot be run."""
        from eda.sim.ngspice import run_deck

        if self.inp is None or self.differential:
            return None
        t_edge = min(max(50.0 / (ugb or 1e6), 20e-9), 1e-3)
        try:
            (_, v), = run_deck(self.slew_deck(design, t_edge), [f"tran {t_edge / 400:.4g} {2 * t_edge:.4g}"])
        except EdaError:
            return None
        return measure_slew(np.real(v["time"]), np.real(v[self.out.lower()]), t_edge)

    def centred(self, design: Design) -> Design | None:
        """``design`` with ``voff`` placing the output mid-way in its high-gain range (from a
        ``dc voff`` sweep), or None when that cannot be found (differential, sweep fails)."""
        from eda.sim.ngspice import run_deck

        if self.differential:
            return None
        try:
            (_, v), = run_deck(self.deck(design), ["dc voff -1.8 1.8 0.02"], timeout=SIM_TIMEOUT)
        except (EdaError, TimeoutError):
            return None
        level = output_level(v, self.out, self.inn, self.inp)
        if level is None:
            return None
        vo, vn = np.real(v[self.out.lower()]), np.real(v[self.inn.lower()])
        i = int(np.argmin(np.abs(vo - level)))  # VOFF = V(out) − V(fb) and V(fb) = V(inn) at DC
        return replace(design, voff=round(float(vo[i] - vn[i]), 4))

    def cm_stable(self, design: Design) -> bool | None:
        """For a fully differential amplifier that sets its own output common mode: whether that
        common-mode loop is stable — a 1 µA, 20 ns common-mode kick into both outputs from the
        operating point must leave the output common mode within 0.1 V after 1 µs (a positive
        common-mode loop latches both outputs to a rail; the DC solver can still land on its
        unstable balanced point). None when not applicable or when the transient fails."""
        from eda.circuit import Waveform
        from eda.sim.ngspice import run_deck

        if not self.differential or self.cmfb is not None:
            return None
        kick = [Device(f"IKICK{i}", "I", (self.roles.vss, o), value=0.0,
                       waveform=Waveform("pulse", (0.0, 1e-6, 1e-7, 1e-9, 1e-9, 2e-8, 1.0)))
                for i, o in enumerate((self.out, self.out2))]
        deck = self.deck(design)
        extra = "\n".join(to_spice(replace(self.circuit, devices=kick, title="")).splitlines()[1:-1])
        deck = deck.replace("\n.end", f"\n{extra}\n.end")
        try:
            (_, v), = run_deck(deck, ["tran 10n 1u"], timeout=4 * SIM_TIMEOUT)
        except (EdaError, TimeoutError):
            return None
        cm = 0.5 * (np.real(v[self.out.lower()]) + np.real(v[self.out2.lower()]))
        return bool(abs(cm[-1] - cm[0]) < 0.1 and 0.05 < cm[-1] < VDD - 0.05)

    def calibrate(self, design: Design) -> bool:
        """Pick which input is inverting: the one whose DC loop holds the output at Vcm (a
        negative DC gain); for a fully differential amplifier, which output feeds which input and
        which bias port the ideal CMFB drives. Returns False when no assignment does."""
        order = [(self.inn, self.inp)]
        if self.inp is not None:
            order.append((self.inp, self.inn))
        best = None
        for cmfb in self.cmfb_options or [self.cmfb]:
            self.cmfb = cmfb
            for inn, inp in order:
                self.inn, self.inp = inn, inp
                perf = self.evaluate(design)
                if perf.get("ok"):
                    return True
                if best is None and perf.get("inverting"):
                    best = (cmfb, inn, inp)  # inverting, but this design's DC point is off: still the right way round
        self.cmfb, self.inn, self.inp = best or ((self.cmfb_options or [None])[0], *order[0])
        if best is None and len(order) > 1 and not self.differential:
            # no DC loop inverts at this design (e.g. the output sits at a rail at Vcm): the inverting
            # input is the one whose open-loop DC transfer falls most steeply anywhere in its range
            t = self.transfer(design)
            if t and min(t.values()) < -1.0:
                self.inn = min(t, key=t.get)
                self.inp = next(n for n in t if n != self.inn)
        return best is not None

def _fet_params(vecs: dict[str, np.ndarray], bench: AmpBench) -> dict[str, dict[str, float]]:
    out = {}
    for d in bench.fets:
        x = (d.name if d.name[:1].upper() == "X" else f"X{d.name}").lower()
        vals = {}
        for key, arr in vecs.items():
            if key.startswith(f"@m.{x}.m") and key.endswith("]"):
                vals[key[key.rindex("[") + 1:-1]] = float(np.real(arr[0]))
        out[d.name] = vals
    return out


def measure_op(vecs: dict[str, np.ndarray], bench: AmpBench, design: Design) -> dict:
    """Operating-point figures: output voltage, power, per-FET gm/gds/Id; a reason when the DC
    loop does not hold the output near the input common mode."""
    v = {k: float(np.real(a[0])) for k, a in vecs.items()}
    vout = v.get(bench.out.lower())
    # power delivered by every DC source: the supply, bias voltages, and inputs held at Vcm (an input
    # on a source/drain terminal carries current)
    power = VDD * -v.get("vvdd#branch", 0.0)
    for n in bench.free_vbias:
        power += -design.bias[n] * v.get(f"v{n.lower()}#branch", 0.0)
    for n in bench.held_inputs:
        power += -design.vcm * v.get(f"v{n.lower()}#branch", 0.0)
    extra: dict = {}
    if vout is None or not math.isfinite(vout):
        reason = "no operating point"
    elif bench.differential:
        vout2 = v.get(bench.out2.lower(), math.nan)
        cm = 0.5 * (vout + vout2)
        extra = {"vout2": vout2, "vout_cm": cm, "cmfb_port": bench.cmfb, "offset": abs(vout - vout2),
                 "cmfb_v": v.get(bench.cmfb.lower()) if bench.cmfb else None}
        reason = None
        if not (abs(vout - vout2) <= MAX_OFFSET and 0.05 < min(vout, vout2) and max(vout, vout2) < VDD - 0.05):
            reason = f"DC loops do not hold the outputs (VOUT={vout:.3f}, {vout2:.3f} V)"
        elif bench.cmfb and not 0.0 <= (extra["cmfb_v"] or 0.0) <= VDD:
            reason = f"the CMFB loop needs {bench.cmfb} = {extra['cmfb_v']:.2f} V, outside the supply"
        elif bench.cmfb and abs(cm - design.vcm) > 0.05:
            reason = f"the CMFB loop on {bench.cmfb} does not reach Vcm (output CM {cm:.3f} V)"
    else:
        vin = v.get(bench.inn.lower(), vout)
        target = (design.vcm if bench.inp is not None else vin) + design.voff
        reason = None
        # the follower loop puts the amplifier's systematic input offset at the output: up to
        # MAX_OFFSET is a working (if offset) amplifier, reported as ``offset`` (bound it with the
        # spec's offset<=…); more, or an output at a rail, is a loop that does not hold
        extra = {"offset": abs(vout - target)}
        if abs(vout - target) > MAX_OFFSET or not 0.05 < vout < VDD - 0.05:
            reason = f"DC loop does not hold the output (VOUT={vout:.3f} V)"
    return {"vout": vout, **extra, "power": power, "fets": _fet_params(vecs, bench), "reason": reason}


def measure_ac(vecs: dict[str, np.ndarray], out: str, out2: str | None = None) -> dict:
    """DC gain (dB), unity-gain bandwidth (Hz) and phase margin (deg) of T = −A; A = V(out), or
    V(out) − V(out2) for a differential output."""
    f = np.real(vecs["frequency"])
    a = vecs[out.lower()] - (vecs[out2.lower()] if out2 else 0)
    mag = np.abs(a)
    gain_db = float(20 * np.log10(max(mag[0], 1e-30)))
    res = {"gain": gain_db, "ugb": None, "pm": None, "inverting": bool(np.real(a[0]) < 0)}
    ph = np.degrees(np.unwrap(np.angle(-a)))
    ph -= 360 * np.round(ph[0] / 360)
    below = np.nonzero(mag < 1)[0]
    if mag[0] <= 1 or len(below) == 0:
        return res
    k = int(below[0])
    lm0, lm1 = np.log10(mag[k - 1]), np.log10(mag[k])
    t = lm0 / (lm0 - lm1)
    lf = np.log10(f[k - 1]) + t * (np.log10(f[k]) - np.log10(f[k - 1]))
    res["ugb"] = float(10 ** lf)
    res["pm"] = float(180 + ph[k - 1] + t * (ph[k] - ph[k - 1]))
    return res


def _steepest(vecs: dict[str, np.ndarray], out: str, out2: str | None, x0: float, x1: float
              ) -> tuple[float, float, bool]:
    """(steepest slope, its step's start, whether that step crosses > 1 V) of a DC sweep from ``x0`` to
    ``x1`` over the steps not at one rail at both ends; (0, x0, False) when none."""
    vo = np.real(vecs[out.lower()])
    vd = vo - np.real(vecs[out2.lower()]) if out2 else vo
    dx = (x1 - x0) / max(len(vd) - 1, 1)
    slope = np.diff(vd) / dx
    lo, hi = np.minimum(vo[1:], vo[:-1]), np.maximum(vo[1:], vo[:-1])
    live = (hi > 0.05) & (lo < VDD - 0.05)
    if not live.any():
        return 0.0, x0, False
    k = int(np.argmax(np.abs(slope) * live))
    return float(slope[k]), x0 + k * dx, bool(hi[k] - lo[k] > 1.0)


def input_balance(ac_n: dict[str, np.ndarray], ac_p: dict[str, np.ndarray], out: str) -> dict:
    """Gain from the non-inverting input (dB, at the lowest frequency) next to the inverting one's:
    a differential input needs the opposite sign and a magnitude within ``BALANCE_DB`` (an input
    that does nothing, or a follower path, makes a single-input stage, not an op-amp)."""
    a_n, a_p = ac_n[out.lower()][0], ac_p[out.lower()][0]
    ratio = abs(a_p) / max(abs(a_n), 1e-30)
    ok = bool(np.real(a_p) * np.real(a_n) < 0 and abs(20 * np.log10(max(ratio, 1e-30))) <= BALANCE_DB)
    return {"gain_inp": float(20 * np.log10(max(abs(a_p), 1e-30))), "differential_input": ok}


def local_gain(vecs: dict[str, np.ndarray], out: str, inn: str, inp: str | None
               ) -> tuple[np.ndarray, np.ndarray] | None:
    """(output level, local open-loop gain |dVout/dVerr|) along the ``dc voff`` sweep."""
    vo = np.real(vecs[out.lower()])
    vn = np.real(vecs[inn.lower()])
    vp = np.real(vecs[inp.lower()]) if inp else np.full_like(vn, vn[len(vn) // 2])
    err = vp - vn
    dv, de = np.diff(vo), np.diff(err)
    ok = np.abs(de) > 1e-12
    if not ok.any():
        return None
    gain = np.zeros_like(dv)
    gain[ok] = np.abs(dv[ok] / de[ok])
    return 0.5 * (vo[1:] + vo[:-1]), gain


def measure_swing(vecs: dict[str, np.ndarray], out: str, inn: str, inp: str | None) -> float | None:
    """Output range (V) over which the local open-loop gain dVout/dVerr stays within 6 dB of its
    peak, from the ``dc voff`` sweep."""
    lg = local_gain(vecs, out, inn, inp)
    if lg is None:
        return None
    mids, gain = lg
    keep = gain >= gain.max() / 2
    return float(mids[keep].max() - mids[keep].min()) if keep.any() else None


def output_level(vecs: dict[str, np.ndarray], out: str, inn: str, inp: str | None) -> float | None:
    """The output level (V) in the middle of the range where the local open-loop gain is within
    6 dB of its peak (the ``dc voff`` sweep): where the output stage has its headroom."""
    lg = local_gain(vecs, out, inn, inp)
    if lg is None:
        return None
    mids, gain = lg
    keep = (gain >= gain.max() / 2) & (mids > 0.05) & (mids < VDD - 0.05)
    return float(0.5 * (mids[keep].max() + mids[keep].min())) if keep.any() and gain.max() > 1 else None


def measure_slew(t: np.ndarray, v: np.ndarray, t_edge: float) -> float | None:
    """Slew rate (V/s): 20–80 % slope of the rising and falling edges; the slower of the two."""
    rates = []
    for lo_t, hi_t in ((t_edge / 10, t_edge * 1.1), (t_edge * 1.1, 2 * t_edge)):
        sel = (t >= lo_t) & (t <= hi_t)
        if sel.sum() < 4:
            return None
        ts, vs = t[sel], v[sel]
        v0, v1 = vs[0], vs[-1]
        if abs(v1 - v0) < 0.1:
            return None
        a, b = v0 + 0.2 * (v1 - v0), v0 + 0.8 * (v1 - v0)
        s = np.sign(v1 - v0)
        ta = ts[np.argmax(s * (vs - a) >= 0)]
        tb = ts[np.argmax(s * (vs - b) >= 0)]
        if tb <= ta:
            return None
        rates.append(abs(b - a) / (tb - ta))
    return float(min(rates))
