"""Map a :class:`~eda.circuit.Circuit` onto the real sky130 devices (``sky130_fd_pr``).

Generic devices become the sky130 subcircuits, written as ``X`` instances after the corner's
``.lib`` card (:func:`eda.tech.sky130_models.lib_card`):

=========  ==============================================================================
MOSFET     ``X.. d g s b sky130_fd_pr__nfet_01v8 W= L=`` / ``pfet_01v8`` (µm; the library sets
           ``scale=1u``). Sizes from the device's ``w``/``l`` (metres) when given, else
           :data:`DEFAULT_SIZE`; clamped to the 1.8 V device minimums; ``m`` becomes ``m`` and ``mult``.
BJT        NPN ``sky130_fd_pr__npn_05v5_W1p00L1p00`` (c b e, substrate on the lowest supply),
           PNP ``sky130_fd_pr__pnp_05v5_W0p68L0p68`` (c b e).
resistor   ≥ 5 kΩ: ``res_xhigh_po`` (2 kΩ/sq), ≥ 600 Ω: ``res_high_po`` (325 Ω/sq), W = 1 µm and
           L from the library's own head/body equations (within 1 % of the value at tt).
capacitor  MIM ``cap_mim_m3_1``, square, side from 2 fF/µm² and the library's edge bias.
diode      ``sky130_fd_pr__diode_pw2nd_05v5`` (``area`` in µm², default 1).
=========  ==============================================================================

Inductors, smaller resistors and capacitors below 1 fF have no sky130 device: they stay ideal and
a ``* note:`` comment in the deck says so. Sources and analysis cards are kept as they are.

Default sizes bias sensibly at 1.8 V with ~10-20 µA per branch: sky130's tt thresholds are about
0.7 V (nfet) and 1.0 V (pfet) at L = 0.5 µm, so the pfet is three times as wide
(:data:`BIAS_N`/:data:`BIAS_P` are the gate voltages of such diode-connected devices).
"""

from __future__ import annotations

import math
from dataclasses import replace

from eda.circuit import Circuit, Device, Subckt, is_ground
from eda.tech.sky130_models import lib_card

NFET = "sky130_fd_pr__nfet_01v8"
PFET = "sky130_fd_pr__pfet_01v8"
NPN = "sky130_fd_pr__npn_05v5_W1p00L1p00"
PNP = "sky130_fd_pr__pnp_05v5_W0p68L0p68"
RES_XHIGH = "sky130_fd_pr__res_xhigh_po"
RES_HIGH = "sky130_fd_pr__res_high_po"
CAP_MIM = "sky130_fd_pr__cap_mim_m3_1"
DIODE = "sky130_fd_pr__diode_pw2nd_05v5"

#: Default (W, L) in µm per polarity.
DEFAULT_SIZE = {"n": (2.0, 0.5), "p": (6.0, 0.5)}
#: Minimum W and L (µm) of the 1.8 V FETs.
MIN_W, MIN_L = 0.42, 0.15
#: Gate voltages (from the rail they are referred to) of default-size diode-connected devices at
#: ~10 µA, tt: nfet gate above VSS, pfet gate below VDD.
BIAS_N, BIAS_P = 0.8, 1.1
#: Values given to R and C that carry none (Cadence-form topologies).
DEFAULT_R, DEFAULT_C = 10e3, 1e-12

_N_MODELS = ("nmos", "nfet", "nch", "sky130_fd_pr__nfet")
_P_MODELS = ("pmos", "pfet", "pch", "sky130_fd_pr__pfet")


def device_polarity(d: Device, circuit: Circuit) -> str | None:
    """``n``/``p`` for a MOSFET or BJT (``.model`` card type first, then the model name)."""
    name = (d.model or "").lower()
    for m in circuit.models:
        if m.name.lower() == name:
            name = m.type.lower()
            break
    if d.kind == "Q":
        return "n" if name.startswith("npn") else "p" if name.startswith("pnp") else None
    if name.startswith(_N_MODELS) or name == "n":
        return "n"
    if name.startswith(_P_MODELS) or name == "p":
        return "p"
    return None


def _um(v, default: float, minimum: float) -> float:
    """A size in µm from a parameter in metres (values ≥ 1e-3 are taken as µm already)."""
    if isinstance(v, (int, float)) and v > 0:
        um = v * 1e6 if v < 1e-3 else float(v)
        return round(max(um, minimum), 4)
    return default


def _num(v, default: float) -> float:
    return float(v) if isinstance(v, (int, float)) and v > 0 else default


#: The sky130 poly resistors at tt, from the library's own head/body equations: body Ω/□, number of heads,
#: head Ω (over weff + its width term), width loss (weff = W − loss) and length offset (body over L + offset), µm.
#: xhigh_po: two heads of 188.2/(weff+1.41) and a 2 kΩ/□ body; high_po: one head of 345.8/(weff+0.1558), 325 Ω/□
#: over L+0.247.
_POLY = {RES_XHIGH: (2000.0, 2, 188.2, 1.41, 0.056, -0.0592), RES_HIGH: (325.0, 1, 345.8312, 0.1558, 0.001, 0.247)}
#: MIM capacitor: F/µm² and the edge bias added to each side, µm.
_MIM_DENSITY, _MIM_BIAS = 2e-15, 0.15


def poly_resistance(model: str, w: float, length: float) -> float:
    """Ohms at tt of a sky130 poly resistor (``res_xhigh_po``/``res_high_po``) of W × L µm."""
    sheet, heads, head, head_w, loss, offset = _POLY[model]
    weff = w - loss
    return (length + offset) * sheet / weff + heads * head / (weff + head_w)


def resistor_geometry(r: float) -> tuple[str, float, float] | None:
    """(subcircuit, W, L) in µm giving ``r`` ohms at tt (:func:`poly_resistance` solved for L at W = 1 µm),
    or None below 600 Ω."""
    model = RES_XHIGH if r >= 5e3 else RES_HIGH if r >= 600 else None
    if model is None:
        return None
    r0 = poly_resistance(model, 1.0, 0.0)  # linear in L
    return model, 1.0, round((r - r0) / (poly_resistance(model, 1.0, 1.0) - r0), 4)


def cap_side(c: float) -> float | None:
    """Side (µm) of a square MIM capacitor of ``c`` farads (2 fF/µm², 0.15 µm edge bias)."""
    if c < 1e-15:
        return None
    return round(max(math.sqrt(c / _MIM_DENSITY) - _MIM_BIAS, 1.0), 4)


def _lowest_supply(circuit: Circuit) -> str:
    nets = circuit.nets
    for n in nets:
        if is_ground(n):
            return n
    return next((n for n in nets if n.upper().startswith("VSS")), "0")


def _highest_supply(circuit: Circuit) -> str | None:
    return next((n for n in circuit.nets if n.upper().startswith("VDD")), None)


#: Body (bulk) connection rules of :func:`to_sky130`: ``netlist`` keeps the body pins as drawn;
#: ``rails`` moves a body that sits on neither a supply nor the device's own source to the
#: substrate/well rail (nfet → lowest supply, pfet → VDD).
BULK_RULES = ("netlist", "rails")


def body_net(d: Device, pol: str, circuit: Circuit, bulk: str) -> str:
    """The body net of a 4-terminal MOSFET under the ``bulk`` rule (:data:`BULK_RULES`).

    In the real AnalogGenie circuits an nfet body is on a supply or its own source in 99.85 % of
    34,800 devices and a pfet body in 92 % (the rest: separate-well input pairs); in the topology
    model's samples 35-39 % sit on a signal net, where in sky130's p-substrate (nfet) or a shared
    n-well (pfet) they forward-bias a junction: a decoding artefact, which ``rails`` undoes.
    """
    b = d.nodes[3]
    if bulk == "netlist" or b == d.nodes[2]:
        return b
    rail = _lowest_supply(circuit) if pol == "n" else _highest_supply(circuit)
    up = b.upper()
    if rail is None or is_ground(b) or up.startswith(("VDD", "VSS", "GND")):
        return b
    return rail


def convert_device(d: Device, circuit: Circuit, notes: list[str],
                   size: tuple[float, float] | None = None, bulk: str = "netlist") -> Device:
    """The sky130 form of one device (unchanged, with a note, when sky130 has none).

    ``size`` (W, L in µm) overrides the device's own and the default size of a MOSFET; ``bulk``
    is the body rule (:data:`BULK_RULES`).
    """
    xname = d.name if d.name[:1].upper() == "X" else f"X{d.name}"
    if d.kind == "M":
        pol = device_polarity(d, circuit)
        if pol is None:
            notes.append(f"{d.name}: MOS model {d.model!r} of unknown polarity kept as written")
            return d
        w0, l0 = DEFAULT_SIZE[pol]
        w, ln = size if size else (_um(d.params.get("w"), w0, MIN_W), _um(d.params.get("l"), l0, MIN_L))
        params: dict = {"W": w, "L": ln}
        if _num(d.params.get("m"), 1) != 1:  # m multiplies the instance; mult scales its mismatch
            params["mult"] = params["m"] = d.params["m"]
        nodes = d.nodes[:4]
        if len(nodes) == 4 and bulk != "netlist":
            b = body_net(d, pol, circuit, bulk)
            if b != nodes[3]:
                notes.append(f"{d.name}: body moved from {nodes[3]} to {b} (bulk rule {bulk!r})")
            nodes = (*nodes[:3], b)
        return Device(xname, "X", nodes, model=NFET if pol == "n" else PFET, params=params)
    if d.kind == "Q":
        pol = device_polarity(d, circuit)
        if pol is None:
            notes.append(f"{d.name}: BJT model {d.model!r} of unknown polarity kept as written")
            return d
        params = {"mult": d.params["m"], "m": d.params["m"]} if _num(d.params.get("m"), 1) != 1 else {}
        if pol == "n":
            return Device(xname, "X", (*d.nodes[:3], _lowest_supply(circuit)), model=NPN, params=params)
        return Device(xname, "X", d.nodes[:3], model=PNP, params=params)
    if d.kind == "R":
        geo = resistor_geometry(_num(d.value, DEFAULT_R))
        if geo is None:
            notes.append(f"{d.name}: {d.value} Ω is below the sky130 poly resistors' range; kept ideal")
            return d
        model, w, ln = geo
        return Device(xname, "X", (*d.nodes[:2], _lowest_supply(circuit)), model=model, params={"W": w, "L": ln})
    if d.kind == "C":
        side = cap_side(_num(d.value, DEFAULT_C))
        if side is None:
            notes.append(f"{d.name}: {d.value} F is below the smallest MIM capacitor; kept ideal")
            return d
        return Device(xname, "X", d.nodes[:2], model=CAP_MIM, params={"W": side, "L": side})
    if d.kind == "D":
        return Device(xname, "X", d.nodes[:2], model=DIODE, params={"area": _num(d.params.get("area"), 1.0),
                                                                   "perim": 4.0})
    if d.kind == "L":
        notes.append(f"{d.name}: sky130 has no inductor device; kept ideal")
    return d


def to_sky130(circuit: Circuit, corner: str = "tt",
              sizes: dict[str, tuple[float, float]] | None = None, bulk: str = "netlist") -> Circuit:
    """The circuit with sky130 devices and the ``.lib`` card of ``corner``.

    Args:
        circuit: any circuit (top level and subcircuit bodies are converted).
        corner: process corner (``tt``, ``ff``, ``ss``, ``sf``, ``fs``).
        sizes: optional (W, L) in µm per MOSFET instance name, overriding its own size.
        bulk: body rule, ``netlist`` (as drawn) or ``rails`` (see :func:`body_net`).

    Raises:
        ValueError: unknown corner or bulk rule. ModelsMissing: the sky130 models are not installed.
    """
    if bulk not in BULK_RULES:
        raise ValueError(f"unknown bulk rule {bulk!r}; expected one of {', '.join(BULK_RULES)}")
    card = lib_card(corner)
    sizes = {k.lower(): v for k, v in (sizes or {}).items()}
    notes: list[str] = []

    def conv(devs: list[Device]) -> list[Device]:
        return [convert_device(d, circuit, notes, sizes.get(d.name.lower()), bulk) for d in devs]

    subckts = [Subckt(s.name, s.ports, conv(s.devices), dict(s.params), list(s.models)) for s in circuit.subckts]
    devices = conv(circuit.devices)
    used = {d.model.lower() for d in devices + [x for s in subckts for x in s.devices] if d.model}
    models = [m for m in circuit.models if m.name.lower() in used]
    includes = [ln for ln in circuit.includes if "sky130.lib.spice" not in ln] + [card]
    return replace(circuit, devices=devices, subckts=subckts, models=models, includes=includes,
                   extra=[f"* note: {n}" for n in notes] + list(circuit.extra))


def generic_device(d: Device) -> Device | None:
    """The generic device a sky130 instance written by :func:`convert_device` stands for (None: ``d`` is not
    one): FETs → ``M`` with ``w``/``l`` in metres, BJTs → ``Q`` (c b e), poly resistors → ``R`` and MIM
    capacitors → ``C`` with their values at tt (the inverses of :func:`resistor_geometry` and
    :func:`cap_side`), diodes → ``D``. The ``X`` that :func:`convert_device` put before the name is dropped."""
    model = (d.model or "").lower()
    if d.kind != "X" or not model.startswith("sky130_fd_pr__"):
        return None
    kind = model[len("sky130_fd_pr__"):]
    name = d.name[1:] if len(d.name) > 1 and d.name[:1].upper() == "X" else d.name
    p = {k.lower(): v for k, v in d.params.items()}
    w, ln = _num(p.get("w"), 0.0), _num(p.get("l"), 0.0)
    if kind.startswith(("nfet", "pfet")) and len(d.nodes) >= 4:
        params = {k: v * 1e-6 for k, v in (("w", w), ("l", ln)) if v}
        if _num(p.get("m"), 1) != 1:
            params["m"] = p["m"]
        return Device(name, "M", d.nodes[:4], model="nmos4" if kind.startswith("nfet") else "pmos4", params=params)
    if kind.startswith(("npn", "pnp")) and len(d.nodes) >= 3:
        return Device(name, "Q", d.nodes[:3], model=kind[:3])
    poly = next((m for m in _POLY if model.startswith(m)), None)
    if poly and len(d.nodes) >= 2 and w and ln:
        return Device(name, "R", d.nodes[:2], value=round(poly_resistance(poly, w, ln), 3))
    if kind.startswith("cap_mim") and len(d.nodes) >= 2 and w and ln:
        return Device(name, "C", d.nodes[:2], value=_MIM_DENSITY * (w + _MIM_BIAS) * (ln + _MIM_BIAS))
    if kind.startswith("diode") and len(d.nodes) >= 2:
        return Device(name, "D", d.nodes[:2], model="diode")
    return None


def from_sky130(circuit: Circuit) -> Circuit:
    """``circuit`` with every sky130 device instance replaced by its generic device (:func:`generic_device`), e.g.
    to read a deck that :func:`to_sky130` wrote (``eda topo generate``, ``eda topo size``) back as a topology;
    other devices and everything else unchanged."""
    devices = [generic_device(d) or d for d in circuit.devices]
    return replace(circuit, devices=devices)
