"""The search space of a topology: one variable per matching group's W and L, mirror
multipliers, R/C values, bias values and the input common mode; all mapped from [0, 1].

The starting design comes from the gm/Id tables: every branch at :data:`I_BRANCH` (output stages
:data:`OUT_BOOST` times that, through their width or mirror ratio), input pairs at gm/Id = 15,
loads and sinks at gm/Id = 10, L = 0.5 µm; bias voltages are the |Vgs| of those devices (cascode
gates one |Vgs| plus a saturation margin above what sits below them), bias currents the branch
current; load resistors drop ~0.6 V, common-mode sensing resistors start at 1 MΩ.
:meth:`Space.starts` adds variants (longer L, more current, other inversion levels) that seed the
search's first generation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from eda.generators.sizing.gmid import GmIdTable
from eda.generators.sizing.roles import mirror_images, mos_polarity, passive_twins
from eda.generators.sizing.testbench import VDD, AmpBench, Design

I_BRANCH = 10e-6
W_RANGE, L_RANGE = (0.42, 60.0), (0.15, 2.0)
R_RANGE, C_RANGE = (500.0, 2e6), (50e-15, 5e-12)
I_RANGE, V_RANGE, CM_RANGE = (1e-6, 60e-6), (0.3, 1.5), (0.3, 1.5)
VOFF_RANGE = (-1.2, 1.2)  # output DC level relative to the input common mode (single-output amplifiers)
MULT_MIN, MULT_MAX = 0.1, 8  # mirror ratio: narrower (then longer) device below 1, multiplier m above
TRIM_RANGE = (0.5, 10.0)  # width scale of the one side of a symmetric load that feeds an extra branch
V_DSAT = 0.2  # saturation margin of a current source under a cascode (V)
OUT_BOOST = 3
SIDE_K = 4  # current of a side branch hanging on one side of a symmetric load, in tail units (starts)


@dataclass
class Var:
    """One search variable: ``kind`` (w, l, mult, trim, value, bias, vcm, voff), its target and range."""

    kind: str
    target: str
    lo: float
    hi: float
    log: bool

    def decode(self, u: float) -> float:
        u = min(max(float(u), 0.0), 1.0)
        if self.log:
            return math.exp(math.log(self.lo) + u * (math.log(self.hi) - math.log(self.lo)))
        return self.lo + u * (self.hi - self.lo)

    def encode(self, x: float) -> float:
        x = min(max(x, self.lo), self.hi)
        if self.log:
            return (math.log(x) - math.log(self.lo)) / (math.log(self.hi) - math.log(self.lo))
        return (x - self.lo) / (self.hi - self.lo)


def _vbias_range(pol: str) -> tuple[float, float]:
    # N gates: 0.4..1.4 V above VSS; P gates: 0.4..1.4 V below VDD; others anywhere useful
    return {"n": (0.4, 1.4), "p": (VDD - 1.4, VDD - 0.4)}.get(pol, V_RANGE)


class Space:
    """Variables of one testbench's topology and their mapping to a :class:`Design`."""

    def __init__(self, bench: AmpBench):
        self.bench = bench
        v: list[Var] = []
        for g in bench.groups:
            v += [Var("w", g.name, *W_RANGE, True), Var("l", g.name, *L_RANGE, True)]
            v += [Var("mult", m, MULT_MIN, MULT_MAX, True) for m in g.ratio]
            v += [Var("trim", m, *TRIM_RANGE, True) for m in g.trim]
        # resistors/capacitors in mirror-image positions of a twin take its value
        self.twins = passive_twins(bench.circuit, mirror_images(bench.fets, bench.roles))
        for d in bench.circuit.devices:
            if d.name in self.twins:
                continue
            if d.kind == "R":
                v.append(Var("value", d.name, *R_RANGE, True))
            elif d.kind == "C":
                v.append(Var("value", d.name, *C_RANGE, True))
        for n in bench.roles.vbias:
            v.append(Var("bias", n, *_vbias_range(bench.polarity[n]), False))
        for n in bench.roles.ibias:
            v.append(Var("bias", n, *I_RANGE, True))
        if bench.inp is not None:
            v.append(Var("vcm", "vcm", *CM_RANGE, False))
        if not bench.differential:
            v.append(Var("voff", "voff", *VOFF_RANGE, False))
        self.vars = v

    @property
    def n(self) -> int:
        return len(self.vars)

    def decode(self, u: np.ndarray) -> Design:
        d = Design(sizes={})
        wl: dict[str, list[float]] = {}
        for var, x in zip(self.vars, u, strict=True):
            val = var.decode(x)
            if var.kind in ("w", "l"):
                wl.setdefault(var.target, [0.0, 0.0])[0 if var.kind == "w" else 1] = round(val, 3)
            elif var.kind == "mult":
                d.mult[var.target] = int(round(val)) if val >= 1 else round(val, 3)
            elif var.kind == "trim":
                d.trim[var.target] = round(val, 3)
            elif var.kind == "value":
                d.values[var.target] = val
            elif var.kind == "bias":
                d.bias[var.target] = val
            elif var.kind == "voff":
                d.voff = round(val, 4)
            else:
                d.vcm = val
        d.sizes = {k: (w, ln) for k, (w, ln) in wl.items()}
        self.tie(d)
        return d

    def encode(self, d: Design) -> np.ndarray:
        out = []
        for var in self.vars:
            if var.kind in ("w", "l"):
                x = d.sizes[var.target][0 if var.kind == "w" else 1]
            elif var.kind == "mult":
                x = d.mult.get(var.target, 1)
            elif var.kind == "trim":
                x = d.trim.get(var.target, 1.0)
            elif var.kind == "value":
                x = d.values[var.target]
            elif var.kind == "bias":
                x = d.bias[var.target]
            elif var.kind == "voff":
                x = d.voff
            else:
                x = d.vcm
            out.append(var.encode(x))
        return np.array(out)

    def initial(self, table: GmIdTable, length: float = 0.5, gm_id_pair: float = 15.0,
                current: float = I_BRANCH, stacked: bool = False) -> Design:
        """The gm/Id starting design (see the module docstring) at channel length ``length`` µm,
        input pairs at ``gm_id_pair`` and branches of ``current`` A; ``stacked`` places cascode
        gates above their stack (else every gate bias is one |Vgs| from its rail)."""
        b = self.bench
        d = Design(sizes={})
        inputs = set(b.roles.inputs)
        outs = set(b.roles.outputs)
        drain = {x.name: x.nodes[0] for x in b.fets}
        for g in b.groups:
            dev = next(x for x in b.fets if x.name == g.members[0])
            pair = dev.nodes[1] in inputs
            gm_id = gm_id_pair if pair else 10.0
            # an output stage carries OUT_BOOST branch currents: its pole sits above the first stage's
            boost = OUT_BOOST if not pair and not g.ratio and any(drain[m] in outs for m in g.members) else 1
            w = table.width_for(g.polarity, length, gm_id, current * boost)
            d.sizes[g.name] = (round(min(max(w, W_RANGE[0]), W_RANGE[1]), 3), length)
            for m in g.ratio:
                d.mult[m] = OUT_BOOST if drain[m] in outs else 1
            d.trim.update({m: 1.0 for m in g.trim})
        self.tie(d)
        rails = {b.roles.vdd, b.roles.vss}
        res = [x for x in b.circuit.devices if x.kind == "R"]
        # common-mode sensing: resistors from two nets in mirror-image positions (the outputs, the
        # drains of the input pair) to one other net
        sense = set()
        for a, c in map(tuple, mirror_images(b.fets, b.roles)):
            for x in res:
                for y in res:
                    mid = set(x.nodes[:2]) & set(y.nodes[:2]) - {a, c} - rails
                    if x is not y and mid and a in x.nodes[:2] and c in y.nodes[:2]:
                        sense |= {x.name, y.name}
        for dev in b.circuit.devices:
            if dev.kind == "R":
                d.values[dev.name] = R_RANGE[1] if dev.name in sense else \
                    _start_resistance(set(dev.nodes[:2]), outs, rails, current)
            elif dev.kind == "C":
                d.values[dev.name] = 1e-12
        pair = [x for x in b.fets if x.nodes[1] in inputs]
        pol = mos_polarity(pair[0]) if pair else "n"
        d.vcm = 1.0 if pol == "n" else 0.7
        for n in b.roles.vbias:
            vgs = table.at(b.polarity[n] if b.polarity[n] in "np" else "n", length, 10.0)["vgs"]
            d.bias[n] = _start_bias(b, n, vgs, d.vcm, stacked)
        for n in b.roles.ibias:
            d.bias[n] = current
        return d

    def light_resistors(self, d: Design) -> Design | None:
        """``d`` with every resistor that is not a supply-to-output load at the top of its range (``None`` when
        there is none below it): a resistor between two signal nodes (a tail and a drain, two drains) that starts
        at 20 kΩ can carry a whole branch current and cut off the transistors beside it (generated topologies,
        issue #17); at 2 MΩ it loads them least, and the search can bring it down."""
        b = self.bench
        outs, rails = set(b.roles.outputs), {b.roles.vdd, b.roles.vss}
        heavy = [x.name for x in b.circuit.devices if x.kind == "R" and x.name in d.values
                 and d.values[x.name] < R_RANGE[1] and not _output_load(set(x.nodes[:2]), outs, rails)]
        if not heavy:
            return None
        return replace(d, sizes=dict(d.sizes), mult=dict(d.mult), trim=dict(d.trim), bias=dict(d.bias),
                       values={**d.values, **{r: R_RANGE[1] for r in heavy}})

    def tie(self, d: Design) -> None:
        """Mirror-image devices copy their twin: mirror members' ratios (see
        :class:`~eda.generators.sizing.roles.Group`) and R/C values."""
        for g in self.bench.groups:
            for b, a in g.tied.items():
                d.mult[b] = d.mult.get(a, 1)
        for b, a in self.twins.items():
            if a in d.values:
                d.values[b] = d.values[a]

    def starts(self, table: GmIdTable) -> list[Design]:
        """Deterministic starting designs, the plain gm/Id one first: longer channels (gain), a
        stronger-inversion pair and more current (bandwidth, headroom), weaker inversion."""
        combos = [(0.5, 15.0, I_BRANCH), (1.0, 15.0, I_BRANCH), (2.0, 15.0, I_BRANCH), (2.0, 12.0, 3 * I_BRANCH),
                  (1.0, 10.0, 3 * I_BRANCH), (0.5, 10.0, 3 * I_BRANCH), (1.0, 18.0, I_BRANCH / 2),
                  (2.0, 18.0, I_BRANCH / 2)]
        out = [self.initial(table)] + [self.initial(table, *c, stacked=True) for c in combos]
        aux = [m for m, k in out[0].mult.items() if k == 1]
        low = None
        if aux:
            # auxiliary branches (mirror members not driving an output, e.g. a compensation
            # branch hanging on a signal node) at a quarter of their reference's current
            low = self.initial(table)
            low.mult.update({m: 0.25 for m in aux})
            self.tie(low)
            out.append(low)
        if out[0].trim:
            # a symmetric load that also feeds a side branch (an Ahuja compensation branch) of k tail
            # units must give 1 + 2k times its twin's current for the pair to balance; the branch's
            # device needs gm well above the pair's for the compensation to act up to the UGB: every
            # start gets a variant with the side branches at SIDE_K units, the load trimmed to match
            # and the capacitors at 3 C_L, right after the plain start (the search seeds its first
            # generation from the first starts)
            caps = [x.name for x in self.bench.circuit.devices if x.kind == "C"]
            side = [replace(d, mult={**d.mult, **{m: SIDE_K for m in aux}}, trim={m: 1.0 + 2 * SIDE_K for m in d.trim},
                            values={**d.values, **{c: 3 * self.bench.cl for c in caps}}) for d in out if d is not low]
            out = out[:1] + side + out[1:]
        light = self.light_resistors(out[0])
        if light is not None:
            out.insert(1, light)
        if not self.bench.differential and abs(VDD / 2 - out[0].vcm) > 0.1:
            # the output mid-supply with the inputs where the input pair has headroom
            mid = self.initial(table)
            mid.voff = round(VDD / 2 - mid.vcm, 4)
            out.insert(1, mid)
        return out


def _start_bias(bench: AmpBench, port: str, vgs: float, vcm: float, stacked: bool) -> float:
    """A bias voltage's start: |Vgs| from the rail for current sources; with ``stacked``, a cascode
    gate sits one |Vgs| plus a saturation margin (:data:`V_DSAT`) above what is below its source —
    the rail, or Vcm when the source is an input pair's drain (telescopic stacks)."""
    pol = bench.polarity[port]
    rails = {bench.roles.vdd, bench.roles.vss}
    driven = [x for x in bench.fets if x.nodes[1] == port]
    if pol not in "np":
        return VDD / 2
    if not stacked or all(x.nodes[2] in rails for x in driven):
        return vgs if pol == "n" else VDD - vgs
    sources = {x.nodes[2] for x in driven}
    on_pair = any(x.nodes[0] in sources and x.nodes[1] in bench.roles.inputs and mos_polarity(x) == pol
                  for x in bench.fets)
    if on_pair:
        return vcm + V_DSAT if pol == "n" else vcm - V_DSAT
    return vgs + V_DSAT if pol == "n" else VDD - vgs - V_DSAT


def _start_resistance(nodes: set[str], outs: set[str], rails: set[str], current: float) -> float:
    """A resistor's starting value: a load from a supply to an output drops ~0.6 V at the branch
    current; others 20 kΩ (common-mode sensing resistors start at the top of the range, so that
    they load the differential output least: see :meth:`Space.initial`)."""
    if _output_load(nodes, outs, rails):
        return min(max(0.6 / current, R_RANGE[0]), R_RANGE[1])
    return 20e3


def _output_load(nodes: set[str], outs: set[str], rails: set[str]) -> bool:
    """Whether a resistor on ``nodes`` is a load from a supply rail to an output."""
    return bool(nodes & outs and nodes & rails)
