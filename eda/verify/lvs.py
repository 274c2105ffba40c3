"""LVS in-process with ``klayout.db.LayoutVsSchematic``.

Extraction: 4-terminal sky130 MOS transistors (``sky130_fd_pr__nfet_01v8``/``pfet_01v8``, bulk
of nfets on the global substrate net joined to p-taps, pfets on their nwell) and MIM capacitors
(``sky130_fd_pr__cap_mim_m3_1``, area capacitance), connectivity from diffusion through met4,
labels as net names. The reference is a :class:`~eda.circuit.Circuit` (or a SPICE file read into
one) converted directly to a KLayout netlist — no text is re-parsed. Port labels must land on
the nets of the same name (a swapped label fails), extraction warnings count as failures, and
the full cross-reference is written as a ``.lvsdb`` that KLayout's netlist browser opens.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import klayout.db as db

from eda.circuit import Circuit, Device, Subckt
from eda.errors import InputError
from eda.tech.sky130 import MIM_CAP_F_PER_UM2, Technology, get_technology
from eda.verify.drc import _load


@dataclass
class LvsResult:
    """Result of :func:`run_lvs`."""

    gds: str
    top: str
    match: bool
    devices_layout: int
    devices_reference: int
    nets_layout: int
    mismatches: list[str] = field(default_factory=list)
    extraction_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return self.match and not self.extraction_errors

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["clean"] = self.clean
        d["seconds"] = round(self.seconds, 3)
        return d

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.as_dict(), indent=2))
        return path


_MOS = {"sky130_fd_pr__nfet_01v8": "n", "sky130_fd_pr__pfet_01v8": "p"}
_MIM = "sky130_fd_pr__cap_mim_m3_1"


def _um(v: float | str, what: str, dev: Device) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InputError(f"device {dev.name}: {what}={v!r} is not a number") from None
    # sky130 netlists give W/L in µm (xschem/magic convention); SI metres are below 1e-3
    return f * 1e6 if f < 1e-3 else f


def _param(dev: Device, *names: str) -> float | None:
    low = {k.lower(): v for k, v in dev.params.items()}
    for n in names:
        if n in low:
            return low[n]
    return None


def circuit_to_netlist(circuit: Circuit, top: str) -> db.Netlist:
    """Convert a :class:`Circuit` (sky130 devices as ``X``/``M``/``C`` elements) to a KLayout netlist.

    Subcircuits become circuits of the same name; top-level devices form circuit ``top``.
    """
    nl = db.Netlist()
    nl.case_sensitive = False
    classes: dict[str, db.DeviceClass] = {}

    def cls(name: str) -> db.DeviceClass:
        if name not in classes:
            if name == _MIM:
                c = db.DeviceClassCapacitor()
            else:
                c = db.DeviceClassMOS4Transistor()
            c.name = name
            nl.add(c)
            classes[name] = c
        return classes[name]

    circuits: dict[str, db.Circuit] = {}
    defs: list[tuple[db.Circuit, Subckt]] = []
    for s in circuit.subckts:
        c = db.Circuit()
        c.name = s.name
        nl.add(c)
        for p in s.ports:
            net = c.net_by_name(p) or c.create_net(p)
            pin = c.create_pin(p)
            c.connect_pin(pin, net)
        circuits[s.name.lower()] = c
        defs.append((c, s))
    topc = db.Circuit()
    topc.name = top
    nl.add(topc)
    for p in circuit.ports:
        net = topc.create_net(p)
        topc.connect_pin(topc.create_pin(p), net)
    defs.append((topc, Subckt(top, circuit.ports, devices=circuit.devices)))

    for c, s in defs:
        nets: dict[str, db.Net] = {n.name.lower(): n for n in c.each_net()}

        def net(name: str, c=c, nets=nets) -> db.Net:
            key = name.lower()
            if key not in nets:
                nets[key] = c.create_net(name)
            return nets[key]

        for dev in s.devices:
            model = (dev.model or "").lower()
            if dev.kind in ("X", "M") and model in _MOS:
                if len(dev.nodes) != 4:
                    raise InputError(f"device {dev.name}: a sky130 MOS needs 4 nodes (d g s b)")
                w, ln = _param(dev, "w"), _param(dev, "l")
                if w is None or ln is None:
                    raise InputError(f"device {dev.name}: W and L are required")
                nf = _param(dev, "nf")
                mult = _param(dev, "m", "mult")
                k = int(float(mult)) if mult is not None else 1
                for i in range(max(k, 1)):
                    x = c.create_device(cls(model), dev.name if i == 0 else f"{dev.name}.{i}")
                    for term, node in zip(("D", "G", "S", "B"), dev.nodes, strict=False):
                        x.connect_terminal(term, net(node))
                    x.set_parameter("W", _um(w, "W", dev))
                    x.set_parameter("L", _um(ln, "L", dev))
                del nf
            elif dev.kind == "X" and model == _MIM:
                w, ln = _param(dev, "w"), _param(dev, "l")
                if w is None or ln is None:
                    raise InputError(f"device {dev.name}: MIM W and L are required")
                x = c.create_device(cls(_MIM), dev.name)
                x.connect_terminal("A", net(dev.nodes[0]))
                x.connect_terminal("B", net(dev.nodes[1]))
                x.set_parameter("C", _um(w, "W", dev) * _um(ln, "L", dev) * MIM_CAP_F_PER_UM2)
            elif dev.kind == "C" and model == _MIM:
                x = c.create_device(cls(_MIM), dev.name)
                x.connect_terminal("A", net(dev.nodes[0]))
                x.connect_terminal("B", net(dev.nodes[1]))
                x.set_parameter("C", float(dev.value))
            elif dev.kind == "X":
                sub = circuits.get(model)
                if sub is None:
                    raise InputError(f"instance {dev.name}: unknown subcircuit {dev.model!r}")
                if sub.pin_count() != len(dev.nodes):
                    raise InputError(f"instance {dev.name}: {len(dev.nodes)} nodes for {dev.model} with "
                                     f"{sub.pin_count()} ports")
                x = c.create_subcircuit(sub, dev.name)
                for i, node in enumerate(dev.nodes):
                    x.connect_pin(i, net(node))
            else:
                raise InputError(f"device {dev.name}: kind {dev.kind} model {dev.model!r} is not a sky130 "
                                 "device this LVS extracts")
    return nl


def _extract(ly: db.Layout, top: db.Cell, tech: Technology, threads: int = 2) -> db.LayoutVsSchematic:
    lvs = db.LayoutVsSchematic(db.RecursiveShapeIterator(ly, top, []))
    lvs.threads = threads

    def index(name: str) -> int:  # the layout's layer index of a technology layer (created when absent)
        lay = tech.layer(name)
        idx = ly.find_layer(lay.layer, lay.datatype)
        return ly.layer(lay.layer, lay.datatype) if idx is None else idx

    L = {n: lvs.make_layer(index(n), n) for n in ("nwell", "diff", "tap", "poly", "licon", "nsdm", "psdm", "li",
                                                 "mcon", "met1", "via", "met2", "via2", "met3", "via3", "met4",
                                                 "capm")}
    T = {n: lvs.make_text_layer(index(n + ".label"), n + ".label")
         for n in ("poly", "li", "met1", "met2", "met3", "met4")}
    nwell = L["nwell"]
    diff, poly = L["diff"], L["poly"]
    pdiff = diff & L["psdm"] & nwell
    ndiff = (diff & L["nsdm"]) - nwell
    ngate = ndiff & poly
    pgate = pdiff & poly
    nsd = ndiff - poly
    psd = pdiff - poly
    ntap = L["tap"] & L["nsdm"] & nwell
    ptap = (L["tap"] & L["psdm"]) - nwell
    nbulk = ngate.sized(5)  # bulk terminal of nfets: the substrate under the gate
    lvs.register(nbulk, "nbulk")
    for n, r in (("pdiff", pdiff), ("ndiff", ndiff), ("ngate", ngate), ("pgate", pgate), ("nsd", nsd),
                 ("psd", psd), ("ntap", ntap), ("ptap", ptap)):
        lvs.register(r, n)
    via3_cap = L["via3"] & L["capm"]
    via3_m3 = L["via3"] - L["capm"]
    lvs.register(via3_cap, "via3_cap")
    lvs.register(via3_m3, "via3_m3")

    lvs.extract_devices(db.DeviceExtractorMOS4Transistor("sky130_fd_pr__nfet_01v8"),
                        {"SD": nsd, "G": ngate, "P": poly, "W": nbulk})
    lvs.extract_devices(db.DeviceExtractorMOS4Transistor("sky130_fd_pr__pfet_01v8"),
                        {"SD": psd, "G": pgate, "P": poly, "W": nwell})
    lvs.extract_devices(db.DeviceExtractorCapacitor(_MIM, MIM_CAP_F_PER_UM2 * 1.0),
                        {"P1": L["met3"], "P2": L["capm"]})

    for r in (nwell, poly, nsd, psd, ntap, ptap, L["licon"], L["li"], L["mcon"], L["met1"], L["via"],
              L["met2"], L["via2"], L["met3"], via3_m3, via3_cap, L["met4"], L["capm"], nbulk):
        lvs.connect(r)
    conn = [(nwell, ntap), (ntap, L["licon"]), (ptap, L["licon"]), (nsd, L["licon"]), (psd, L["licon"]),
            (poly, L["licon"]), (L["licon"], L["li"]), (L["li"], L["mcon"]), (L["mcon"], L["met1"]),
            (L["met1"], L["via"]), (L["via"], L["met2"]), (L["met2"], L["via2"]), (L["via2"], L["met3"]),
            (L["met3"], via3_m3), (via3_m3, L["met4"]), (L["capm"], via3_cap), (via3_cap, L["met4"])]
    for a, b in conn:
        lvs.connect(a, b)
    for n, lay in (("poly", poly), ("li", L["li"]), ("met1", L["met1"]), ("met2", L["met2"]),
                   ("met3", L["met3"]), ("met4", L["met4"])):
        lvs.connect(lay, T[n])
    lvs.connect_global(ptap, "VSUB")
    lvs.connect_global(nbulk, "VSUB")
    lvs.extract_netlist()
    return lvs


def _align(a: db.Netlist, b: db.Netlist) -> None:
    """Flatten circuits that exist in only one netlist (routing-only cells, glue)."""
    names_a = {c.name.lower() for c in a.each_circuit()}
    names_b = {c.name.lower() for c in b.each_circuit()}
    for nl, other in ((a, names_b), (b, names_a)):
        flat = [c for c in nl.each_circuit() if c.name.lower() not in other and any(True for _ in c.each_ref())]
        if flat:
            nl.flatten_circuits(flat)  # batch: one pass over the parents instead of one per circuit


def _circuit(nl: db.Netlist, name: str) -> db.Circuit | None:
    # by lower-case name: a case-insensitive netlist's circuit_by_name expects normalised names
    return next((c for c in nl.each_circuit() if c.name.lower() == name.lower()), None)


def run_lvs(gds: str | Path | db.Layout, reference: Circuit | str | Path, tech: Technology | str = "sky130",
            top: str | None = None, report: str | Path | None = None,
            extracted: str | Path | None = None) -> LvsResult:
    """Extract ``gds`` and compare it with ``reference`` (a Circuit or a SPICE file).

    Top-level ports of the reference (``Circuit.ports``; for a SPICE file whose top circuit has no
    devices, the subckt named like the layout top cell) must be labelled on nets of the same name.
    ``extracted``: also write the extracted netlist there as SPICE (:func:`xref_circuit`: the
    layout's devices and connectivity, nets named from the schematic where LVS paired them).

    Returns:
        LvsResult; ``clean`` is True only for a match without extraction errors.
    """
    if isinstance(tech, str):
        tech = get_technology(tech)
    t0 = time.perf_counter()
    ly, cell, name = _load(gds, top)
    if not isinstance(reference, Circuit):
        from eda.read.from_spice import read_spice

        reference = read_spice(reference)
    ref = reference
    # a SPICE library with the top cell as a subckt and no top-level devices: use that subckt
    top_sub = next((s for s in ref.subckts if s.name.lower() == cell.name.lower()), None)
    if not ref.devices and top_sub is not None:
        ref = Circuit(title=ref.title, subckts=[s for s in ref.subckts if s is not top_sub],
                      devices=list(top_sub.devices), ports=top_sub.ports)
    schem = circuit_to_netlist(ref, cell.name)

    lvs = _extract(ly, cell, tech)
    # warnings and errors of the extraction are failures; only informational entries are not
    quiet = ("info", "nosev", "noseverity")
    errors = [f"{e.severity}: {e.message}" for e in lvs.each_log_entry() if str(e.severity).lower() not in quiet]
    errors += [str(e) for e in lvs.each_error()] if hasattr(lvs, "each_error") else []
    lay_nl = lvs.netlist()
    lay_nl.make_top_level_pins()
    lay_nl.purge_nets()
    schem.purge_nets()
    _align(lay_nl, schem)
    lvs.reference = schem
    comparer = db.NetlistComparer()
    comparer.max_branch_complexity = 500
    comparer.max_depth = 16
    # port labels must sit on the nets of the same name
    ctop_l = _circuit(lay_nl, cell.name)
    ctop_s = _circuit(schem, cell.name)
    if ctop_l is not None and ctop_s is not None:
        lnets = {n.name.lower(): n for n in ctop_l.each_net() if n.name}
        snets = {n.name.lower(): n for n in ctop_s.each_net() if n.name}
        for p in ref.ports:
            nl_ = lnets.get(p.lower())
            ns_ = snets.get(p.lower())
            if ns_ is not None:
                if nl_ is None:
                    errors.append(f"port {p}: no label on the layout")
                else:
                    comparer.same_nets(ctop_l, ctop_s, nl_, ns_, True)
    match = lvs.compare(comparer)
    if extracted is not None:
        from eda.export.to_spice import write_spice

        write_spice(xref_circuit(lvs, lay_nl, cell.name), extracted)
    mismatches: list[str] = []
    xref = lvs.xref()
    if not match and xref is not None:
        for cp in xref.each_circuit_pair():
            st = xref.status(cp) if hasattr(xref, "status") else None
            a, b = cp.first(), cp.second()
            nm = (a or b).name if (a or b) is not None else "?"
            if st is not None and str(st) not in ("Match", "MatchWithWarning", "Skipped"):
                mismatches.append(f"circuit {nm}: {st}")
            for what, pairs, most in (("net", xref.each_net_pair, 50), ("device", xref.each_device_pair, 80)):
                for pr in pairs(cp):
                    if str(pr.status()) not in ("Match", "MatchWithWarning"):
                        na = pr.first().expanded_name() if pr.first() else "-"
                        nb = pr.second().expanded_name() if pr.second() else "-"
                        mismatches.append(f"{nm}: {what} {na} ↔ {nb}: {pr.status()}")
                        if len(mismatches) > most:
                            break
        if not mismatches:
            mismatches.append("netlists differ (see the .lvsdb)")
    if report is not None:
        lvs.write(str(report))
    ndev_l = sum(c.device_count() if hasattr(c, "device_count") else sum(1 for _ in c.each_device())
                 for c in lay_nl.each_circuit())
    ndev_s = sum(sum(1 for _ in c.each_device()) for c in schem.each_circuit())
    nnet = sum(c.net_count() if hasattr(c, "net_count") else sum(1 for _ in c.each_net())
               for c in lay_nl.each_circuit())
    return LvsResult(name, cell.name, bool(match), ndev_l, ndev_s, nnet, mismatches, errors,
                     time.perf_counter() - t0)


def _spice_name(name: str) -> str:
    """A net name ngspice reads: ``$12`` (KLayout's unnamed nets) and other odd characters
    become ``n_12``-style identifiers."""
    out = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    return out if out and not out.startswith("_") else "n" + out


def _mim_wl(area_um2: float, perim_um: float) -> tuple[float, float]:
    """Width and length (µm) of a rectangle with the given area and perimeter (a square when the
    perimeter is missing or inconsistent)."""
    half = perim_um / 2.0
    disc = half * half - 4.0 * area_um2
    if perim_um <= 0 or disc < 0:
        s = area_um2 ** 0.5
        return s, s
    w = (half + disc ** 0.5) / 2.0
    return w, area_um2 / w


def xref_circuit(lvs: db.LayoutVsSchematic, lay_nl: db.Netlist, top: str) -> Circuit:
    """The extracted (layout) netlist of a compared LVS run as a :class:`Circuit`: one subcircuit
    per layout circuit, MOS devices as ``X… d g s b sky130_fd_pr__nfet_01v8 W= L=`` (µm), MIM
    capacitors as ``X… a b sky130_fd_pr__cap_mim_m3_1 W= L=`` (W, L from the extracted area and
    perimeter). Nets the comparison paired with a schematic net carry the schematic's name (so the
    compute line of a macro is ``CL_0`` even without a label); the others are ``n_<id>``."""
    xref = lvs.xref()
    names: dict[tuple[str, int], str] = {}
    if xref is not None:
        for cp in xref.each_circuit_pair():
            a = cp.first()
            if a is None:
                continue
            for np_ in xref.each_net_pair(cp):
                la, sb = np_.first(), np_.second()
                if la is not None and sb is not None and sb.name:
                    names[(a.name, la.cluster_id)] = sb.name
    subs: list[Subckt] = []
    for c in lay_nl.each_circuit_bottom_up():
        def net_name(n: db.Net | None, c=c) -> str:
            if n is None:
                return f"nc_{c.name}"
            return _spice_name(names.get((c.name, n.cluster_id)) or n.expanded_name())

        ports = tuple(net_name(c.net_for_pin(p)) for p in c.each_pin())
        devices: list[Device] = []
        for d in c.each_device():
            cls = d.device_class()
            terms = tuple(net_name(d.net_for_terminal(t.id())) for t in cls.terminal_definitions())
            name = "X" + _spice_name(d.expanded_name())
            if cls.name.lower() == _MIM:
                w, ln = _mim_wl(d.parameter("A"), d.parameter("P"))
                devices.append(Device(name, "X", terms[:2], model=_MIM, params={"W": round(w, 4), "L": round(ln, 4)}))
            else:
                devices.append(Device(name, "X", terms[:4], model=cls.name,
                                      params={"W": round(d.parameter("W"), 4), "L": round(d.parameter("L"), 4)}))
        for sc in c.each_subcircuit():
            ref = sc.circuit_ref()
            if ref.pin_count() == 0:  # nothing to connect (e.g. a tap cell)
                continue
            nodes = tuple(net_name(sc.net_for_pin(p.id())) for p in ref.each_pin())
            devices.append(Device("X" + _spice_name(sc.expanded_name()), "X", nodes, model=ref.name))
        if ports or c.name.lower() == top.lower():
            subs.append(Subckt(c.name, ports, devices=devices))
    return Circuit(title=f"* {top}: netlist extracted from the layout (LVS)", subckts=subs)


def extracted_circuit(gds: str | Path | db.Layout, reference: Circuit | str | Path,
                      tech: Technology | str = "sky130", top: str | None = None) -> tuple[Circuit, LvsResult]:
    """Run LVS of ``gds`` against ``reference`` and return (:func:`xref_circuit` of the layout,
    the LVS result). Simulate the layout itself with it (its nets carry the schematic names)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extracted.spice"
        res = run_lvs(gds, reference, tech, top, extracted=path)
        from eda.read.from_spice import read_spice

        return read_spice(path), res
