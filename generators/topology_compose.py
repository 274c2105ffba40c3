"""Compose large families of distinct, valid analog topologies from building blocks.

Op-amp family: input pair (MOS, BJT, degenerated) × load (mirror, cascoded mirror, resistors,
diodes, folded cascode) × tail/bias (VB port, IB mirror, resistor, self-biased β-multiplier)
× 0-3 extra gain stages (common source, cascoded CS, source follower, inverter) ×
compensation (none, Miller C, Miller C + nulling R, cascode/Ahuja, load C), each in its
complementary form (NMOS↔PMOS, VDD↔VSS). LDOs wrap an op-amp with a pass device and divider,
comparators add a latch, oscillators are rings of 3-15 stages (plain, starved, RC-loaded) and
mirror banks fan a reference out to 1-12 outputs. Every composed circuit is checked
(:func:`eda.generators.topology_check.check_circuit`) before it is kept.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, model_validator

from eda.circuit import Circuit, Device
from eda.errors import InputError
from eda.params import Params
from eda.topology import Topology

Family = Literal["opamp", "ldo", "comparator", "oscillator", "mirror"]
FAMILIES: tuple[str, ...] = get_args(Family)


class ComposeParams(Params):
    """What the composer may build (:class:`eda.params.Params`; errors ``ComposeParams.field: ...``)."""

    families: tuple[Family, ...] = Field(FAMILIES, min_length=1, strict=False,
                                         description="families to draw from (subset of " + " ".join(FAMILIES) + ")")
    weights: tuple[float, ...] | None = Field(None, strict=False, description="relative draw weight per family "
                                              "(same order); default uniform")
    max_devices: int = Field(40, ge=2, description="reject compositions larger than this")
    simulate: bool = Field(True, description="also require an ngspice operating point (else ERC only)")

    @model_validator(mode="after")
    def _weights_fit(self) -> ComposeParams:
        if self.weights is not None and len(self.weights) != len(self.families):
            raise self.param_error("weights", f"{len(self.weights)} values for {len(self.families)} families")
        return self


class _B:
    """Netlist builder in N-convention (``HI``/``LO`` rails, ``n``/``p`` polarity) with an
    optional complementary flip applied when devices are written."""

    def __init__(self, flip: bool):
        self.flip = flip
        self.devs: list[Device] = []
        self.k = 0
        self.count: dict[str, int] = {}
        self.nb = 0
        self.nvin = 0
        self.nout = 0
        self.nib = 0

    def net(self) -> str:
        self.k += 1
        return f"n{self.k}"

    def vb(self) -> str:
        self.nb += 1
        return f"VB{self.nb}"

    def ib(self) -> str:
        self.nib += 1
        return f"IB{self.nib}"

    def _rail(self, n: str) -> str:
        if n == "HI":
            return "VSS" if self.flip else "VDD"
        if n == "LO":
            return "VDD" if self.flip else "VSS"
        return n

    def _name(self, letter: str) -> str:
        self.count[letter] = self.count.get(letter, 0) + 1
        return f"{letter}{self.count[letter]}"

    def m(self, pol: str, d: str, g: str, s: str) -> None:
        if self.flip:
            pol = "p" if pol == "n" else "n"
        bulk = "VSS" if pol == "n" else "VDD"
        self.devs.append(Device(self._name("M"), "M", tuple(self._rail(x) for x in (d, g, s)) + (bulk,),
                                model="nmos4" if pol == "n" else "pmos4"))

    def q(self, pol: str, c: str, b: str, e: str) -> None:
        if self.flip:
            pol = "p" if pol == "n" else "n"
        self.devs.append(Device(self._name("Q"), "Q", tuple(self._rail(x) for x in (c, b, e)),
                                model="npn" if pol == "n" else "pnp"))

    def two(self, kind: str, a: str, b: str) -> None:
        a, b = self._rail(a), self._rail(b)
        if kind == "D" and self.flip:
            a, b = b, a
        self.devs.append(Device(self._name(kind), kind, (a, b), model="diode" if kind == "D" else None))


# ------------------------------------------------------------------------------------ op-amp blocks


def _tail(b: _B, rng: random.Random, mode: str) -> str:
    t = b.net()
    if mode == "vb":
        b.m("n", t, b.vb(), "LO")
    elif mode == "ib":
        ib = b.ib()
        b.m("n", ib, ib, "LO")
        b.m("n", t, ib, "LO")
    elif mode == "res":
        b.two("R", t, "LO")
    elif mode == "cascode":
        x = b.net()
        b.m("n", t, b.vb(), x)
        b.m("n", x, b.vb(), "LO")
    else:  # beta-multiplier self bias
        n1, n2, n3 = b.net(), b.net(), b.net()
        b.m("n", n1, n1, "LO")
        b.m("n", n2, n1, n3)
        b.two("R", n3, "LO")
        b.m("p", n1, n2, "HI")
        b.m("p", n2, n2, "HI")
        b.m("n", t, n1, "LO")
    return t


def _pair(b: _B, rng: random.Random, mode: str, tail: str, inp: tuple[str, str]) -> tuple[str, str]:
    x1, x2 = b.net(), b.net()
    if mode == "bjt":
        b.q("n", x1, inp[0], tail)
        b.q("n", x2, inp[1], tail)
    elif mode == "degen":
        s1, s2 = b.net(), b.net()
        b.m("n", x1, inp[0], s1)
        b.m("n", x2, inp[1], s2)
        b.two("R", s1, tail)
        b.two("R", s2, tail)
    else:
        b.m("n", x1, inp[0], tail)
        b.m("n", x2, inp[1], tail)
    return x1, x2


def _load(b: _B, rng: random.Random, mode: str, x1: str, x2: str) -> tuple[str, bool]:
    """Load of the pair; returns (single-ended output net, whether it is high-impedance)."""
    if mode == "mirror":
        b.m("p", x1, x1, "HI")
        b.m("p", x2, x1, "HI")
        return x2, True
    if mode == "cascode_mirror":
        vb = b.vb()
        y1, y2 = b.net(), b.net()
        b.m("p", x1, vb, y1)
        b.m("p", x2, vb, y2)
        b.m("p", y1, x1, "HI")
        b.m("p", y2, x1, "HI")
        return x2, True
    if mode == "res":
        b.two("R", "HI", x1)
        b.two("R", "HI", x2)
        return x2, False
    if mode == "diode":
        b.m("p", x1, x1, "HI")
        b.m("p", x2, x2, "HI")
        return x2, False
    # folded cascode: PMOS sources into the pair drains, cascodes fold down to an NMOS mirror
    vbp, vbc, vbn = b.vb(), b.vb(), b.vb()
    y1, y2, z1, z2 = b.net(), b.net(), b.net(), b.net()
    b.m("p", x1, vbp, "HI")
    b.m("p", x2, vbp, "HI")
    b.m("p", y1, vbc, x1)
    b.m("p", y2, vbc, x2)
    b.m("n", y1, vbn, z1)
    b.m("n", y2, vbn, z2)
    b.m("n", z1, y1, "LO")
    b.m("n", z2, y1, "LO")
    return y2, True


def _stage(b: _B, rng: random.Random, mode: str, inp: str, bias: str) -> str:
    """A gain stage driven from ``inp`` (a node near HI in N-convention); returns its output."""
    out = b.net()
    if mode == "cs":
        b.m("p", out, inp, "HI")
        _sink(b, out, bias)
    elif mode == "cs_cascode":
        x = b.net()
        b.m("p", x, inp, "HI")
        b.m("p", out, b.vb(), x)
        y = b.net()
        b.m("n", out, b.vb(), y)
        _sink(b, y, bias)
    elif mode == "sf":
        b.m("p", "LO", inp, out)
        src = b.vb()
        b.m("p", out, src, "HI")
    else:  # inverter
        b.m("p", out, inp, "HI")
        b.m("n", out, inp, "LO")
    return out


def _sink(b: _B, node: str, bias: str) -> None:
    if bias.startswith("IB"):
        b.m("n", node, bias, "LO")
    elif bias == "res":
        b.two("R", node, "LO")
    else:
        b.m("n", node, bias, "LO")


def _comp(b: _B, rng: random.Random, mode: str, a: str, out: str) -> None:
    if mode == "miller":
        b.two("C", a, out)
    elif mode == "miller_rz":
        x = b.net()
        b.two("R", a, x)
        b.two("C", x, out)
    elif mode == "load":
        b.two("C", out, "LO")


def _opamp(b: _B, rng: random.Random, inp: tuple[str, str] = ("VIN1", "VIN2")) -> tuple[str, int, str]:
    """Compose an op-amp; returns (output net, number of stages, type label)."""
    tail_mode = rng.choice(["vb", "vb", "ib", "res", "cascode", "self"])
    pair_mode = rng.choices(["mos", "bjt", "degen"], [6, 1, 1])[0]
    load_mode = rng.choices(["mirror", "cascode_mirror", "res", "diode", "folded"], [5, 2, 1, 1, 2])[0]
    telescopic = load_mode == "cascode_mirror" and rng.random() < 0.5
    tail = _tail(b, rng, tail_mode)
    if telescopic:
        # cascode the input pair too: a telescopic OTA
        vbc = b.vb()
        c1, c2 = b.net(), b.net()
        x1, x2 = _pair(b, rng, pair_mode, tail, inp)
        b.m("n", c1, vbc, x1)
        b.m("n", c2, vbc, x2)
        x1, x2 = c1, c2
    else:
        x1, x2 = _pair(b, rng, pair_mode, tail, inp)
    out, _ = _load(b, rng, load_mode, x1, x2)
    if load_mode == "folded":
        label = "folded_cascode"
    elif telescopic:
        label = "telescopic"
    else:
        label = "opamp1"
    n_extra = rng.choices([0, 1, 2, 3], [4, 5, 2, 1])[0]
    bias = b.ib() if rng.random() < 0.3 else b.vb()
    if bias.startswith("IB"):
        b.m("n", bias, bias, "LO")
    # stage inputs must sit near HI in N-convention: alternate polarity through flips of the builder
    stages = 1
    for _ in range(n_extra):
        mode = rng.choices(["cs", "cs_cascode", "sf", "inv"], [5, 2, 2, 1])[0]
        prev = out
        out = _stage(b, rng, mode, out, bias)
        stages += 1
        if mode in ("cs", "cs_cascode"):
            _comp(b, rng, rng.choice(["none", "miller", "miller_rz", "load"]), prev, out)
    if stages > 1 and label == "opamp1":
        label = "opamp2"
    if rng.random() < 0.3:
        b.two("C", out, "LO")
    return out, stages, label


def _rename_output(devs: list[Device], old: str, new: str) -> None:
    for d in devs:
        d.nodes = tuple(new if n == old else n for n in d.nodes)


def compose_opamp(rng: random.Random, flip: bool) -> tuple[list[Device], str]:
    b = _B(flip)
    out, _, label = _opamp(b, rng)
    _rename_output(b.devs, out, "VOUT1")
    return b.devs, label


def compose_ldo(rng: random.Random, flip: bool) -> tuple[list[Device], str]:
    b = _B(flip)
    fb = b.net()
    amp_out, _, _ = _opamp(b, rng, inp=("VREF1", fb))
    vout = "VOUT1"
    if rng.random() < 0.7:
        b.m("p", vout, amp_out, "HI")  # PMOS pass device
    else:
        b.m("n", "HI", amp_out, vout)  # NMOS follower pass device
    b.two("R", vout, fb)
    b.two("R", fb, "LO")
    if rng.random() < 0.7:
        b.two("C", vout, "LO")
    if rng.random() < 0.3:
        b.two("C", amp_out, vout)
    return b.devs, "ldo"


def compose_comparator(rng: random.Random, flip: bool) -> tuple[list[Device], str]:
    b = _B(flip)
    if rng.random() < 0.5:
        # preamp (+ gain stages) then inverter chain
        out, _, _ = _opamp(b, rng)
        for _ in range(rng.randint(1, 3)):
            out = _stage(b, rng, "inv", out, "")
        _rename_output(b.devs, out, "VOUT1")
        return b.devs, "comparator"
    # preamp into a clocked cross-coupled latch
    tail = _tail(b, rng, rng.choice(["vb", "ib"]))
    x1, x2 = _pair(b, rng, "mos", tail, ("VIN1", "VIN2"))
    b.m("p", x1, x1, "HI")
    b.m("p", x2, x2, "HI")
    s = b.net()
    b.m("n", "VOUT1", x1, s)
    b.m("n", "VOUT2", x2, s)
    b.m("n", s, "VCLK1", "LO")
    b.m("p", "VOUT1", "VOUT2", "HI")
    b.m("p", "VOUT2", "VOUT1", "HI")
    if rng.random() < 0.5:
        b.m("p", "VOUT1", "VCLK1", "HI")
        b.m("p", "VOUT2", "VCLK1", "HI")
    return b.devs, "comparator"


def compose_oscillator(rng: random.Random, flip: bool) -> tuple[list[Device], str]:
    b = _B(flip)
    n = rng.choice([3, 5, 7, 9, 11, 13, 15])
    mode = rng.choices(["plain", "starved", "rc"], [3, 2, 2])[0]
    if mode == "starved":
        vbn, vbp = b.vb(), b.vb()
    nodes = [b.net() for _ in range(n - 1)] + ["VOUT1"]
    prev = nodes[-1]
    for i in range(n):
        out = nodes[i]
        if mode == "starved":
            p, s = b.net(), b.net()
            b.m("p", out, prev, p)
            b.m("n", out, prev, s)
            b.m("p", p, vbp, "HI")
            b.m("n", s, vbn, "LO")
        else:
            b.m("p", out, prev, "HI")
            b.m("n", out, prev, "LO")
            if mode == "rc" and rng.random() < 0.5:
                b.two("C", out, "LO")
        prev = out
    if rng.random() < 0.5:
        o2 = b.net()
        b.m("p", o2, "VOUT1", "HI")
        b.m("n", o2, "VOUT1", "LO")
        _rename_output(b.devs, o2, "VOUT2")
    return b.devs, "oscillator"


def _mirror_leg(b: _B, d: str, ref: str, cascode: bool, x: str | None = None) -> str | None:
    """One leg of a mirror from ``d`` to LO gated by ``ref``; cascoded: over a new mid net whose lower device
    is gated by ``x`` (the reference leg: by its own mid net, returned)."""
    if not cascode:
        b.m("n", d, ref, "LO")
        return None
    mid = b.net()
    b.m("n", d, ref, mid)
    b.m("n", mid, x or mid, "LO")
    return mid


def compose_mirror(rng: random.Random, flip: bool) -> tuple[list[Device], str]:
    b = _B(flip)
    k = rng.randint(1, 12)
    cascode = rng.random() < 0.4
    ref = "IB1"
    x = _mirror_leg(b, ref, ref, cascode)
    for i in range(k):
        out = f"VOUT{i + 1}" if i < 8 else b.net()
        _mirror_leg(b, out, ref, cascode, x)
        load = rng.choice(["R", "P"])
        if load == "R":
            b.two("R", "HI", out)
        else:
            b.m("p", out, out, "HI")
    return b.devs, "current_mirror"


_COMPOSERS = {"opamp": compose_opamp, "ldo": compose_ldo, "comparator": compose_comparator,
              "oscillator": compose_oscillator, "mirror": compose_mirror}


def compose(seed: int, params: ComposeParams | None = None) -> Topology:
    """One composed topology from ``seed`` (deterministic); not yet checked."""
    params = params or ComposeParams()
    rng = random.Random(seed)
    fam = rng.choices(params.families, params.weights or [1.0] * len(params.families))[0]
    flip = rng.random() < 0.5
    devs, label = _COMPOSERS[fam](rng, flip)
    nets = {n for d in devs for n in d.nodes}
    from eda.topology import is_port_name, port_sort_key

    ports = tuple(sorted((n for n in nets if is_port_name(n)), key=port_sort_key))
    c = Circuit(title=f"composed {fam} seed {seed}", devices=devs, ports=ports)
    return Topology(name=f"{fam}_{seed}", circuit=c, ctype=label, meta={"family": fam, "seed": seed,
                                                                          "flip": flip})


def compose_family(n: int, seed: int = 0, params: ComposeParams | None = None,
                   progress: bool = False) -> list[Topology]:
    """``n`` distinct (non-isomorphic) valid composed topologies.

    Raises:
        InputError: the composer cannot find ``n`` distinct valid circuits in ``50 n`` draws.
    """
    from eda.generators.topology_check import GraphSet, check_circuit
    from eda.graphs.pin_graph import circuit_to_graph

    params = params or ComposeParams()
    seen = GraphSet()
    out: list[Topology] = []
    draws = 0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n, desc="composing", unit="circuit")
    s = seed
    while len(out) < n:
        if draws >= 50 * n + 100:
            raise InputError(f"the composer found only {len(out)} distinct valid circuits in {draws} draws")
        t = compose(s, params)
        s += 1
        draws += 1
        if len(t.circuit.devices) > params.max_devices:
            continue
        if not seen.add(circuit_to_graph(t.circuit)):
            continue
        if not check_circuit(t.circuit, t.name, run_sim=params.simulate).valid:
            continue
        out.append(t)
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    return out


def topology_text(t: Topology) -> str:
    """Library-format netlist of a topology (``*.type`` and ``*.ports`` headers, Cadence form)."""
    lines = [f"* {t.circuit.title or t.name}", f"*.type {t.ctype or 'other'}", "*.ports " + " ".join(t.ports)]
    for d in t.circuit.devices:
        lines.append(f"{d.name} ({' '.join(d.nodes)}) {_model_token(d)}")
    return "\n".join(lines) + "\n"


def _model_token(d: Device) -> str:
    return {"R": "resistor", "C": "capacitor", "L": "inductor"}.get(d.kind) or d.model or "diode"


class SampleRecord(Params):
    """``sample.json`` of a composed-topology sample (what :func:`make_topology_sample` writes)."""

    seed: int = Field(..., ge=0, description="the sample's seed")
    name: str = Field(..., description="topology name")
    ctype: str | None = Field(..., description="circuit type label")
    family: str = Field(..., description="composer family")
    n_devices: int = Field(..., ge=1, description="devices in the topology")
    valid: bool = Field(..., description="passed ERC (and ngspice when simulated)")
    reasons: list[str] = Field(default_factory=list, description="why the earlier draws of this seed were refused")
    netlist: str | None = Field(None, description="topology file name (library format)")
    deck: str | None = Field(None, description="self-contained simulation deck file name")


def make_topology_sample(seed: int, out_dir: str | Path, params: ComposeParams | None = None,
                         attempts: int = 20) -> dict:
    """One dataset sample for the batch runner: compose a valid topology from ``seed`` and write it.

    Draws ``seed``, ``seed + 1``... (deterministic) until a composition passes ERC and ngspice
    (at most ``attempts``). Writes ``<out_dir>/topology.cir`` (library format, type and ports in the
    header), ``<out_dir>/deck.sp`` (self-contained simulation deck) and ``<out_dir>/sample.json``.

    Raises:
        InputError: no valid composition within ``attempts`` draws.
    """
    from eda.export.to_spice import write_spice
    from eda.generators.topology_check import check_circuit, simulation_deck

    params = params or ComposeParams()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tried: list[str] = []
    for k in range(attempts):
        t = compose(seed + k, params)
        if len(t.circuit.devices) > params.max_devices:
            tried.append(f"{t.name}: {len(t.circuit.devices)} devices > max_devices")
            continue
        res = check_circuit(t.circuit, t.name, run_sim=params.simulate)
        if not res.valid:
            tried.append(f"{t.name}: {'; '.join(res.reasons)}")
            continue
        (out_dir / "topology.cir").write_text(topology_text(t))
        rec = SampleRecord(seed=seed, name=t.name, ctype=t.ctype, family=t.meta["family"],
                           n_devices=len(t.circuit.devices), valid=True, reasons=tried, netlist="topology.cir",
                           deck=write_spice(simulation_deck(t.circuit), out_dir / "deck.sp").name)
        (out_dir / "sample.json").write_text(json.dumps(rec.to_dict(), indent=1))
        return {"name": t.name, "type": t.ctype, "family": t.meta["family"], "devices": rec.n_devices,
                "draws": k + 1}
    raise InputError(f"no valid composition in {attempts} draws from seed {seed}: {tried[-1] if tried else ''}")


def verify_topology_sample(sample_dir: str | Path) -> dict:
    """Re-check a dataset sample folder (the runner's verifier): the topology passes ERC and
    ngspice again and its deck parses. Returns ``{"ok": ..., "reasons": [...], ...}``.

    Raises:
        InputError: a sample file is missing or does not parse.
    """
    from eda.generators.topology_check import check_circuit
    from eda.read.from_spice import read_spice
    from eda.read.topology_dataset import read_topology

    d = Path(sample_dir)
    t = read_topology(d / "topology.cir")
    res = check_circuit(t.circuit, t.name)
    deck = read_spice(d / "deck.sp")
    return {"ok": res.valid, "reasons": res.reasons, "devices": res.n_devices, "deck_elements": len(deck.devices),
            "type": t.ctype}


def build_topology_dataset(out: str | Path, n: int, seed: int = 0, workers: int = 1, scheduler=None,
                           params: ComposeParams | None = None, progress: bool = True):
    """Build (or resume) ``n`` composed-topology samples with the shared batch runner
    (:func:`eda.dataset.runner.build_dataset`): ``raw/<id>/topology.cir``, ``deck.sp``, ``sample.json``.

    Returns:
        the runner's :class:`~eda.dataset.runner.BuildReport`.
    """
    from functools import partial

    from eda.dataset.runner import build_dataset

    params = params or ComposeParams()
    return build_dataset(out, n, partial(make_topology_sample, params=params), kind="topo",
                         builder="eda.generators.topology_compose:make_topology_sample",
                         config={"compose": params.model_dump(mode="json")},
                         seed=seed, workers=workers, scheduler=scheduler,
                         verifier="eda.generators.topology_compose:verify_topology_sample", progress=progress)
