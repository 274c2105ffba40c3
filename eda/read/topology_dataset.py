"""Read analog topologies: the built-in library and the public topology-dataset layout.

Public layout (AnalogGenie): a folder of numbered sub-folders ``N/`` each holding ``N.cir`` (a
flat netlist in the Cadence instance form ``M0 (d g s b) nmos4``) and usually ``PortN.txt`` (the
port nets on one line). Device types come from the model token, never from instance names, which
repeat and mislead. Every name ``PortN.txt`` lists is a port (unknown classes are kept by name, see
:mod:`eda.topology`). Instances of subcircuits ``N.cir`` does not define (``INVERTER``,
``TRANSMISSION_GATE``, ``NAND``, ``NOR``, ``XOR``, ``PFD``) are expanded to their transistors from
the definitions in ``N_full.cir`` (Spectre ``subckt``/``ends`` syntax), else from the standard
cells of :data:`STANDARD_CELLS`. ``data_categorization.md`` (ID ranges per textbook chapter) gives
the type labels (:func:`read_categories`; a circuit in no mapped chapter is unlabelled, "any").

Library files (``data/topologies/<type>/<name>.cir``) are SPICE/Cadence netlists with two header
comments: ``*.type <label>`` and ``*.ports VDD VSS ...``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

from eda.circuit import Circuit, Device, Subckt, is_ground
from eda.errors import InputError
from eda.export.to_sky130 import from_sky130
from eda.paths import PATHS
from eda.read.from_spice import parse_spice
from eda.topology import PORT_NAME_RE, Topology, is_port_name

__all__ = ["Topology", "flatten", "parse_topology", "read_topology", "read_netlist_topology", "load_library",
           "read_topology_dataset", "read_categories", "category_type", "load_topologies", "STANDARD_CELLS"]

_TYPE_RE = re.compile(r"^\*\.type\s+(\S+)", re.MULTILINE)

#: Standard digital cells as the public data set's ``N_full.cir`` files define them (pin order
#: included), used when a circuit instantiates one without defining it: a SPICE file beside the library.
STANDARD_CELLS: Path = PATHS.topologies / "standard_cells.sp"
_standard: list[Subckt] | None = None


def standard_cells() -> list[Subckt]:
    """The :data:`STANDARD_CELLS` subcircuits (parsed once)."""
    global _standard
    if _standard is None:
        _standard = parse_spice(STANDARD_CELLS.read_text(), str(STANDARD_CELLS), title=False).subckts
    return _standard


def flatten(circuit: Circuit, max_depth: int = 16, library: list[Subckt] | None = None) -> Circuit:
    """Inline subcircuit instances (``X`` devices) so only primitive devices remain.

    Internal nets of an instance become ``<instance>/<net>``; its ports map to the instance's nets.
    Definitions come from the circuit itself first, then ``library`` (default: the standard cells).

    Raises:
        InputError: an instance names an undefined subcircuit, has the wrong number of nodes, or
            the nesting is deeper than ``max_depth`` (recursive definitions).
    """
    if not any(d.kind == "X" for d in circuit.devices):
        return circuit
    subs = {s.name.lower(): s for s in (standard_cells() if library is None else library)}
    subs.update({s.name.lower(): s for s in circuit.subckts})

    def expand(devs: list[Device], depth: int) -> list[Device]:
        out: list[Device] = []
        for d in devs:
            if d.kind != "X":
                out.append(d)
                continue
            if depth >= max_depth:
                raise InputError(f"subcircuit nesting deeper than {max_depth} at {d.name}")
            s = subs.get((d.model or "").lower())
            if s is None:
                raise InputError(f"instance {d.name} uses undefined subcircuit {d.model!r}")
            if len(s.ports) != len(d.nodes):
                raise InputError(f"instance {d.name}: {len(d.nodes)} nodes, subcircuit {s.name} has "
                                 f"{len(s.ports)} ports")
            mapping = dict(zip(s.ports, d.nodes, strict=True))
            inner = f"{d.name}/"  # (a nested instance's name already carries its parents')

            def net(n: str, mapping=mapping, inner=inner) -> str:
                if n in mapping:
                    return mapping[n]
                return n if is_ground(n) else f"{inner}{n}"

            body = [Device(f"{inner}{x.name}", x.kind, tuple(net(n) for n in x.nodes), x.model, x.value,
                           dict(x.params)) for x in s.devices]
            out += expand(body, depth + 1)
        return out

    return Circuit(title=circuit.title, devices=expand(circuit.devices, 0), ports=circuit.ports,
                   models=circuit.models)


def _spectre_to_spice(text: str) -> str:
    """Spectre subcircuit files (``// comments``, ``subckt``/``ends`` without dots) as SPICE."""
    out = []
    for ln in text.splitlines():
        s = ln.strip()
        if s.startswith("//"):
            out.append("")
        elif re.match(r"^(subckt|ends)\b", s):
            out.append("." + s)
        else:
            out.append(ln)
    return "\n".join(out)


def _instance_line(text: str, name: str) -> int | None:
    """1-based line of the instance ``name`` in a netlist (for error messages)."""
    pat = re.compile(rf"^\s*{re.escape(name.split('/')[0])}\s*\(", re.IGNORECASE)
    return next((i for i, ln in enumerate(text.splitlines(), 1) if pat.match(ln)), None)


def parse_topology(text: str, name: str = "circuit", file: str | Path | None = None,
                   ports: tuple[str, ...] | None = None, title: bool = True,
                   library: list[Subckt] | None = None) -> Topology:
    """A topology from netlist text (``*.type`` and ``*.ports`` headers are honoured).

    Raises:
        SpiceParseError: the netlist does not parse; InputError: bad subcircuit use (with the
            instance's line).
    """
    # a deck on real devices (e.g. `eda topo generate`'s sky130 decks) reads back as its generic devices; the
    # device-model libraries it loads (.lib) are not part of the topology and are not read
    c = from_sky130(parse_spice(text, file, title=title))
    if ports is not None:
        c.ports = tuple(ports)
    m = _TYPE_RE.search(text)
    try:
        flat = flatten(c, library=library)
    except InputError as e:
        inst = re.search(r"instance (\S+)", e.message)
        raise InputError(e.message, file=file, line=_instance_line(text, inst.group(1)) if inst else None) from e
    return Topology(name=name, circuit=flat, ctype=m.group(1) if m else None, source=Path(file) if file else None)


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


def _read_ports(path: Path) -> tuple[str, ...]:
    names = tuple(path.read_text(errors="replace").split())
    for k, n in enumerate(names):
        if not PORT_NAME_RE.match(n):
            raise InputError(f"port name {n!r} (entry {k + 1}): expected letters, digits and _ "
                             "starting with a capital", file=path, line=1)
    return names


def _full_library(cir: Path) -> list[Subckt] | None:
    """Subcircuit definitions of ``N_full.cir`` beside ``N.cir`` plus the standard cells."""
    full = cir.with_name(f"{cir.stem}_full.cir")
    if not full.is_file():
        return None
    text = _spectre_to_spice(full.read_bytes().decode("utf-8", errors="replace"))
    # only the definitions: the top-level body repeats N.cir
    defs = "\n".join(re.findall(r"^\.subckt\b.*?^\.ends\b.*?$", text, re.MULTILINE | re.DOTALL))
    own = parse_spice(defs, full, title=False).subckts
    names = {s.name.lower() for s in own}
    return own + [s for s in standard_cells() if s.name.lower() not in names]


def read_netlist_topology(path: str | Path, *, label: bool = True) -> Topology:
    """One netlist file as a topology: library form (``*.ports`` header), a SPICE deck, or a
    Cadence ``N.cir`` body (no title line) with ``PortN.txt`` and ``N_full.cir`` beside it; with ``label``,
    a body in a public dataset folder (``DIR/N/N.cir``) takes its type from ``DIR/data_categorization.md``."""
    f = Path(path)
    try:
        text = f.read_bytes().decode("utf-8", errors="replace")
    except OSError as e:
        raise InputError(f"cannot read netlist: {e}", file=f) from e
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    body = bool(re.match(r"^\s*\w+\s*\(", first))  # Cadence body: no title line
    pf = f.parent / f"Port{f.stem}.txt"
    ports = _read_ports(pf) if pf.is_file() else None
    t = parse_topology(text, f.stem, f, ports=ports, title=not body, library=_full_library(f) if body else None)
    if body:
        # nets named like a port class are ports even when PortN.txt misspells them (one file
        # lists VCKL2 for its VCLK2) or is absent
        listed = set(t.circuit.ports)
        t.circuit.ports += tuple(n for n in t.circuit.nets if is_port_name(n) and n not in listed)
        # a circuit of a public dataset folder (DIR/N/N.cir): its chapter's type label
        cats = f.parent.parent / "data_categorization.md"
        if label and t.ctype is None and f.stem.isdigit() and f.parent.name == f.stem and cats.is_file():
            chapter = _categories(str(cats.resolve()), cats.stat().st_mtime_ns).get(int(f.stem))
            if chapter:
                t.ctype, t.meta["chapter"] = category_type(chapter), chapter
    return t


@functools.lru_cache(maxsize=8)
def _categories(path: str, mtime_ns: int) -> dict[int, str]:
    return read_categories(path)


def is_dataset_folder(root: str | Path) -> bool:
    """Whether ``root`` is in the public dataset's layout (``N/N.cir`` folders)."""
    return Path(root).is_dir() and bool(_dataset_dirs(Path(root)))


def _dataset_dirs(root: Path) -> list[Path]:
    dirs = [d for d in root.iterdir() if d.is_dir() and (d / f"{d.name}.cir").is_file()]
    return sorted(dirs, key=lambda d: (not d.name.isdigit(), int(d.name) if d.name.isdigit() else 0, d.name))


def read_topology_dataset(root: str | Path, on_error: str = "raise",
                          errors: list[tuple[Path, str]] | None = None, labels: bool = True) -> Iterator[Topology]:
    """Read a public topology-dataset folder: every ``N/N.cir`` with its ``PortN.txt``.

    Args:
        root: the dataset folder.
        on_error: ``"raise"`` (default) or ``"skip"`` a netlist that does not parse; skipped files
            and their reasons (``file:line: message``) are appended to ``errors`` when given.
        labels: type labels from ``root/data_categorization.md`` when present (else none).

    Yields:
        topologies in numeric order.

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
    cat_file = root / "data_categorization.md"
    cats = read_categories(cat_file) if labels and cat_file.is_file() else {}
    for d in dirs:
        cir = d / f"{d.name}.cir"
        try:
            t = read_netlist_topology(cir, label=False)  # (labelled below, from the categories read once)
        except InputError as e:
            if on_error != "skip":
                raise
            if errors is not None:
                errors.append((cir, str(e)))
            continue
        t.name = t.circuit.title = d.name
        if d.name.isdigit():
            chapter = cats.get(int(d.name))
            t.ctype = category_type(chapter) if chapter else None
            if chapter:
                t.meta["chapter"] = chapter
        yield t


# ---------------------------------------------------------------------------------- type labels

_RANGE_LINE = re.compile(r"^\s*[-*]\s*([\d\s,\-–—]+):\s*(.+?)\s*$")

#: Chapter keywords → our type names (first match wins; chapters matching none are "any").
CHAPTER_TYPES: tuple[tuple[str, str], ...] = (
    (r"bandgap", "bandgap"),
    (r"voltage regulation|\bldo\b", "ldo"),
    (r"power converter", "power_converter"),
    (r"comparator", "comparator"),
    (r"\blna\b|low noise amplifier", "lna"),
    (r"mixer", "mixer"),
    (r"oscillator|\bvco\b", "oscillator"),
    (r"\bpa papers\b|power amplifier|output stages", "power_amplifier"),
    (r"phase[- ]locked|synthesizer|\bpll\b", "pll"),
    (r"sampler|sample-and-hold|switched[- ]capacitor", "sampler"),
    (r"filter", "filter"),
    (r"current mirror|current source|bias", "current_mirror"),
    (r"reference", "reference"),
    (r"op(erational)? ?amp|frequency compensation|opamp", "opamp"),
    (r"amplifier|differential pair", "amplifier"),
)


def category_type(chapter: str) -> str | None:
    """Our type name for a chapter title of ``data_categorization.md`` (None: no type fits)."""
    low = chapter.lower()
    return next((t for pat, t in CHAPTER_TYPES if re.search(pat, low)), None)


def read_categories(path: str | Path) -> dict[int, str]:
    """Circuit ID → chapter title from a ``data_categorization.md`` (lines ``- 1-68: title``,
    ``- 458–460, 493: title``)."""
    path = Path(path)
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        raise InputError(f"cannot read categories: {e}", file=path) from e
    out: dict[int, str] = {}
    for k, ln in enumerate(text.splitlines(), 1):
        m = _RANGE_LINE.match(ln)
        if not m:
            continue
        for part in m.group(1).split(","):
            ends = [x for x in re.split(r"[-–—]", part.strip()) if x.strip()]
            if not ends:
                continue
            try:
                a, b = int(ends[0]), int(ends[-1])
            except ValueError as e:
                raise InputError(f"bad ID range {part.strip()!r}", file=path, line=k, text=ln) from e
            for i in range(a, b + 1):
                out[i] = m.group(2)
    return out


def load_topologies(source: str | Path, errors: list[tuple[Path, str]] | None = None) -> list[Topology]:
    """Topologies from ``"builtin"`` (the library), a library folder (``*/*.cir``) or a public
    dataset folder (``N/N.cir`` + ``PortN.txt``; netlists that do not parse are skipped and
    listed in ``errors`` as ``(file, "file:line: reason")``)."""
    if str(source) == "builtin":
        return load_library()
    root = Path(source)
    if not root.is_dir():
        raise InputError("expected 'builtin' or a folder of topologies", file=root)
    if not _dataset_dirs(root) and any(root.glob("*/*.cir")):
        return load_library(root)
    return list(read_topology_dataset(root, on_error="skip", errors=errors))
