"""Read analog topologies: the built-in library and the public topology-dataset layout.

Public layout (AnalogGenie): a folder of numbered sub-folders ``N/`` each holding ``N.cir`` (a
flat netlist in the Cadence instance form ``M0 (d g s b) nmos4``) and usually ``PortN.txt`` (the
port nets on one line). Other files (pictures, ``N_full.cir``, graphs) are skipped. Device types
come from the model token, never from instance names, which repeat and mislead.

Library files (``data/topologies/<type>/<name>.cir``) are SPICE/Cadence netlists with two header
comments: ``*.type <label>`` and ``*.ports VDD VSS ...``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from eda.circuit import Circuit, Device, is_ground
from eda.errors import InputError
from eda.paths import PATHS
from eda.read.from_spice import parse_spice


@dataclass
class Topology:
    """One circuit topology with its ports and type label.

    Attributes:
        name: identifier (file stem or dataset number).
        circuit: the flat circuit (devices only matter; values are ignored).
        ctype: type label (``opamp1``, ``ldo``...) or ``None`` when unknown.
        source: the file it came from.
    """

    name: str
    circuit: Circuit
    ctype: str | None = None
    source: Path | None = None
    meta: dict = field(default_factory=dict)

    @property
    def ports(self) -> tuple[str, ...]:
        return self.circuit.ports


_TYPE_RE = re.compile(r"^\*\.type\s+(\S+)", re.MULTILINE)


def flatten(circuit: Circuit, max_depth: int = 16) -> Circuit:
    """Inline subcircuit instances (``X`` devices) so only primitive devices remain.

    Internal nets of an instance become ``<instance>/<net>``; its ports map to the instance's nets.

    Raises:
        InputError: an instance names an undefined subcircuit, has the wrong number of nodes, or
            the nesting is deeper than ``max_depth`` (recursive definitions).
    """
    if not any(d.kind == "X" for d in circuit.devices):
        return circuit
    subs = {s.name.lower(): s for s in circuit.subckts}

    def expand(devs: list[Device], prefix: str, depth: int) -> list[Device]:
        out: list[Device] = []
        for d in devs:
            if d.kind != "X":
                out.append(d)
                continue
            if depth >= max_depth:
                raise InputError(f"subcircuit nesting deeper than {max_depth} at {prefix}{d.name}")
            s = subs.get((d.model or "").lower())
            if s is None:
                raise InputError(f"instance {d.name} uses undefined subcircuit {d.model!r}")
            if len(s.ports) != len(d.nodes):
                raise InputError(f"instance {d.name}: {len(d.nodes)} nodes, subcircuit {s.name} has "
                                 f"{len(s.ports)} ports")
            mapping = dict(zip(s.ports, d.nodes, strict=True))
            inner = f"{prefix}{d.name}/"

            def net(n: str, mapping=mapping, inner=inner) -> str:
                if n in mapping:
                    return mapping[n]
                return n if is_ground(n) else f"{inner}{n}"

            body = [Device(f"{inner}{x.name}", x.kind, tuple(net(n) for n in x.nodes), x.model, x.value,
                           dict(x.params)) for x in s.devices]
            out += expand(body, inner, depth + 1)
        return out

    flat = Circuit(title=circuit.title, devices=expand(circuit.devices, "", 0), ports=circuit.ports,
                   models=circuit.models)
    return flat


def parse_topology(text: str, name: str = "circuit", file: str | Path | None = None,
                   ports: tuple[str, ...] | None = None, title: bool = True) -> Topology:
    """A topology from netlist text (``*.type`` and ``*.ports`` headers are honoured).

    Raises:
        SpiceParseError: the netlist does not parse; InputError: bad subcircuit use.
    """
    c = parse_spice(text, file, title=title)
    if ports is not None:
        c.ports = tuple(ports)
    m = _TYPE_RE.search(text)
    return Topology(name=name, circuit=flatten(c), ctype=m.group(1) if m else None,
                    source=Path(file) if file else None)


def read_topology(path: str | Path) -> Topology:
    """Read one library-style topology file."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read topology: {e}", file=path) from e
    return parse_topology(text, path.stem, path)


def load_library(root: str | Path | None = None) -> list[Topology]:
    """All topologies of the built-in library (``data/topologies``), sorted by type and name."""
    root = Path(root) if root else PATHS.topologies
    files = sorted(root.glob("*/*.cir"))
    if not files:
        raise InputError(f"no topology files (*/*.cir) under {root}")
    return [read_topology(f) for f in files]


def _dataset_dirs(root: Path) -> list[Path]:
    dirs = [d for d in root.iterdir() if d.is_dir() and (d / f"{d.name}.cir").is_file()]
    return sorted(dirs, key=lambda d: (not d.name.isdigit(), int(d.name) if d.name.isdigit() else 0, d.name))


def read_topology_dataset(root: str | Path, on_error: str = "raise",
                          errors: list[tuple[Path, str]] | None = None) -> Iterator[Topology]:
    """Read a public topology-dataset folder: every ``N/N.cir`` with its ``PortN.txt``.

    Args:
        root: the dataset folder.
        on_error: ``"raise"`` (default) or ``"skip"`` a netlist that does not parse; skipped files
            and their reasons are appended to ``errors`` when given.

    Yields:
        topologies in numeric order (type label ``None``: the public layout has none).

    Raises:
        InputError: ``root`` is not a folder or holds no ``N/N.cir``; with ``on_error="raise"``,
            the first netlist that does not parse (file and line named).
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError("not a folder", file=root)
    dirs = _dataset_dirs(root)
    if not dirs:
        raise InputError("no N/N.cir netlists in this folder (expected the layout N/N.cir + N/PortN.txt)",
                         file=root)
    for d in dirs:
        cir = d / f"{d.name}.cir"
        port_file = d / f"Port{d.name}.txt"
        try:
            ports = None
            if port_file.is_file():
                ports = tuple(port_file.read_text(errors="replace").split())
            text = cir.read_bytes().decode("utf-8", errors="replace")
            c = parse_spice(text, cir, title=False)
            c.title = d.name
            if ports is None:
                from eda.graphs.pin_graph import is_port_name

                ports = tuple(n for n in c.nets if is_port_name(n))
            c.ports = ports
            yield Topology(name=d.name, circuit=flatten(c), ctype=None, source=cir)
        except InputError as e:
            if on_error != "skip":
                raise
            if errors is not None:
                errors.append((cir, str(e)))
