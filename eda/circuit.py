"""The one intermediate form for circuits: :class:`Circuit`.

Readers (``eda.read``) produce it, writers (``eda.export``), graph builders (``eda.graphs``),
the simulator (``eda.sim``) and LVS (``eda.verify``) consume it. Nothing re-parses text.

Devices keep their order and parameters. Instance names are *not* assumed unique: real
datasets repeat them, so a circuit is a list of devices, not a dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from eda.errors import record_error

#: Device kinds by SPICE element letter.
DEVICE_KINDS: dict[str, str] = {
    "M": "mosfet",
    "Q": "bjt",
    "R": "resistor",
    "C": "capacitor",
    "L": "inductor",
    "D": "diode",
    "V": "vsource",
    "I": "isource",
    "X": "subckt",
}

#: Pin names per device kind, in SPICE terminal order.
PIN_NAMES: dict[str, tuple[str, ...]] = {
    "M": ("D", "G", "S", "B"),
    "Q": ("C", "B", "E"),
    "R": ("P", "N"),
    "C": ("P", "N"),
    "L": ("P", "N"),
    "D": ("P", "N"),
    "V": ("P", "N"),
    "I": ("P", "N"),
}

#: Number of terminals per kind (subcircuit instances are variable).
N_TERMINALS: dict[str, int] = {k: len(v) for k, v in PIN_NAMES.items()}

SourceKind = Literal["dc", "pulse", "pwl", "sin"]
ParamValue = float | str


@dataclass(frozen=True)
class Waveform:
    """An independent-source waveform: ``kind`` with its positional ``args``.

    ``pulse``: (v1, v2, td, tr, tf, pw, per); ``pwl``: (t0, v0, t1, v1, ...);
    ``sin``: (vo, va, freq, td, theta).
    """

    kind: SourceKind
    args: tuple[float, ...] = ()


@dataclass
class Device:
    """One circuit element.

    Attributes:
        name: instance name as written (``M1``, ``R3``, ``XU1``).
        kind: SPICE element letter, one of :data:`DEVICE_KINDS` (upper case).
        nodes: terminal nets, in SPICE order (MOS: d g s b; BJT: c b e [sub]).
        model: model name (MOS/BJT/diode, optional for R/C/L) or subcircuit name (``X``).
        value: the primary value: R in ohms, C in farads, L in henries, DC value of a source.
        params: instance parameters in written order (``w``, ``l``, ``m``...); numbers as float,
            expressions (``{2*w}``) as str.
        waveform: time-varying spec of a V/I source (PULSE, PWL, SIN), else ``None``.
        ac: AC magnitude of a V/I source, else ``None``.

    A plain dataclass, not an :class:`eda.params.Params` model: readers and rewriters create and
    ``dataclasses.replace`` devices in bulk (every circuit of a data set), and a pydantic ``Device`` was
    measured 4.6x slower to construct (6.5 vs 30 µs); its one check goes through
    :func:`eda.errors.record_error` so the error reads like every params error.
    """

    name: str
    kind: str
    nodes: tuple[str, ...]
    model: str | None = None
    value: float | str | None = None
    params: dict[str, ParamValue] = field(default_factory=dict)
    waveform: Waveform | None = None
    ac: float | None = None

    def __post_init__(self) -> None:
        self.kind = self.kind.upper()
        if self.kind not in DEVICE_KINDS:
            raise record_error("Device", "kind", f"unknown device kind of {self.name!r} (expected one of "
                               f"{', '.join(DEVICE_KINDS)})", self.kind)
        self.nodes = tuple(self.nodes)

    @property
    def pins(self) -> tuple[str, ...]:
        """Pin names in terminal order (subcircuit instances: ``1``, ``2``...)."""
        names = PIN_NAMES.get(self.kind)
        if names is None or len(names) != len(self.nodes):
            if self.kind == "Q" and len(self.nodes) == 4:
                return ("C", "B", "E", "S")
            return tuple(str(i + 1) for i in range(len(self.nodes)))
        return names


@dataclass
class Model:
    """A ``.model NAME TYPE (params)`` card."""

    name: str
    type: str
    params: dict[str, ParamValue] = field(default_factory=dict)


@dataclass
class Analysis:
    """An analysis card: ``.op``, ``.tran 1n 10u``, ``.dc V1 0 1 0.1``, ``.ac dec 10 1 1g``."""

    kind: str
    args: tuple[str, ...] = ()


@dataclass
class Subckt:
    """A ``.subckt NAME ports... params`` definition."""

    name: str
    ports: tuple[str, ...]
    devices: list[Device] = field(default_factory=list)
    params: dict[str, ParamValue] = field(default_factory=dict)
    models: list[Model] = field(default_factory=list)

    @property
    def nets(self) -> list[str]:
        return _nets(self.devices, self.ports)


@dataclass
class Circuit:
    """A netlist: top-level devices plus definitions and control cards.

    Attributes:
        title: first line of a SPICE deck (may be empty).
        devices: top-level elements, in order.
        ports: external nets of the circuit (e.g. from a topology dataset's ``PortN.txt``).
        subckts: subcircuit definitions in written order.
        models: ``.model`` cards.
        params: global ``.param`` assignments.
        analyses: analysis cards in order.
        options: ``.options`` assignments.
        includes: ``.include``/``.lib`` lines kept verbatim (only when the reader was asked not to
            follow them; by default their contents are read in place).
        extra: other control cards kept verbatim in order (``.save``, ``.ic``, ``.control`` blocks...),
            so that reading and writing loses nothing.
    """

    title: str = ""
    devices: list[Device] = field(default_factory=list)
    ports: tuple[str, ...] = ()
    subckts: list[Subckt] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)
    params: dict[str, ParamValue] = field(default_factory=dict)
    analyses: list[Analysis] = field(default_factory=list)
    options: dict[str, ParamValue] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def nets(self) -> list[str]:
        """Nets in first-use order (ports first)."""
        return _nets(self.devices, self.ports)

    def subckt(self, name: str) -> Subckt:
        key = name.lower()
        for s in self.subckts:
            if s.name.lower() == key:
                return s
        raise KeyError(name)

    def counts(self) -> dict[str, int]:
        """Device count per kind name (``mosfet``, ``resistor``...)."""
        out: dict[str, int] = {}
        for d in self.devices:
            k = DEVICE_KINDS[d.kind]
            out[k] = out.get(k, 0) + 1
        return out

    def add(self, device: Device) -> Device:
        self.devices.append(device)
        return device

    def without_sources(self) -> Circuit:
        """A copy without independent voltage and current sources (``V``/``I`` elements): the bare topology that
        a testbench, the sizer or a rule check supplies and biases itself (a deck's own sources would fight
        them). The other devices are shared, not copied."""
        return replace(self, devices=[d for d in self.devices if d.kind not in SOURCE_KINDS])


def _nets(devices: list[Device], ports: tuple[str, ...]) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(ports)
    for d in devices:
        for n in d.nodes:
            seen.setdefault(n, None)
    return list(seen)


#: Independent sources by element letter (:meth:`Circuit.without_sources` drops them).
SOURCE_KINDS = frozenset("VI")

#: Canonical ground names (SPICE node 0).
GROUND_NAMES = frozenset({"0", "gnd", "gnd!"})


def is_ground(net: str) -> bool:
    return net.lower() in GROUND_NAMES


def unique_names(devices: list[Device]) -> list[Device]:
    """``devices`` with repeated instance names made unique (case-insensitive, as SPICE compares them): the
    second ``M1`` becomes ``M1_2``, the third ``M1_3`` (a name already taken is skipped). Real data repeats
    them: 2,075 of the 3,012 public AnalogGenie circuits were flattened from subcircuits into one body, and
    ngspice rejects such a deck."""
    taken = {d.name.lower() for d in devices}
    seen: set[str] = set()
    out = []
    for d in devices:
        name, k = d.name, 1
        while name.lower() in seen or (k > 1 and name.lower() in taken):
            k += 1
            name = f"{d.name}_{k}"
        seen.add(name.lower())
        out.append(d if name == d.name else replace(d, name=name))
    return out
