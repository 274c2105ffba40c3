"""Analog topologies: a flat :class:`~eda.circuit.Circuit` with named ports and a type label, and
the one home of the port classes.

A port is an external net named ``<CLASS><index>`` (``VDD``, ``VIN1``, ``IOUT2``, ``VCONT3``).
Known classes carry a *role* (what the net is for) and a *drive* (how a test bench drives it:
a voltage source ``"v"``, a current source ``"i"``, or nothing for outputs). Any other name a
data set lists as a port (``PortN.txt``) is kept as a port of the ``generic`` role, driven like a
control voltage, so no real circuit is refused for an unusual port name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from eda.circuit import Circuit


@dataclass(frozen=True)
class PortClass:
    """A port class: ``name`` (token prefix), ``role``, ``drive`` and the vocabulary's default
    ``max_index`` (``0``: the class name alone, as ``VDD``)."""

    name: str
    role: str
    drive: str | None
    max_index: int


#: Port classes in display order. Roles: supply, input, output, bias, control, generic.
PORT_CLASSES: tuple[PortClass, ...] = (
    PortClass("VDD", "supply", "v", 0),
    PortClass("VSS", "supply", "v", 0),
    PortClass("VIN", "input", "v", 12),
    PortClass("VOUT", "output", None, 8),
    PortClass("VB", "bias", "v", 16),
    PortClass("IB", "bias", "i", 8),
    PortClass("VCLK", "control", "v", 8),
    PortClass("VREF", "bias", "v", 4),
    PortClass("VLO", "input", "v", 4),
    PortClass("VRF", "input", "v", 4),
    PortClass("VCM", "bias", "v", 2),
    PortClass("VCONT", "control", "v", 8),
    PortClass("IIN", "input", "i", 4),
    PortClass("IOUT", "output", None, 4),
    PortClass("IREF", "bias", "i", 4),
    PortClass("VIF", "output", None, 4),
    PortClass("VBB", "bias", "v", 4),
    PortClass("VTRACK", "control", "v", 2),
    PortClass("VLATCH", "control", "v", 2),
    PortClass("VHOLD", "control", "v", 2),
    PortClass("LOGIC", "control", "v", 0),  # LOGICA1, LOGICQB1, VLOGICA1 ...
)
_BY_NAME = {c.name: c for c in PORT_CLASSES}
#: The class of a port name no known class matches (kept by name).
GENERIC = PortClass("PORT", "generic", "v", 0)

#: Known port names: a class and an optional index (``VDD``, ``VIN1``, ``VB12``, ``LOGICQ2``).
PORT_RE = re.compile(r"^(" + "|".join(sorted((c.name for c in PORT_CLASSES if c.name != "LOGIC"), key=len,
                                             reverse=True)) + r"|V?LOGIC[A-Z]*)(\d*)$")
#: Any name usable as a port: upper-case letters, digits and ``_`` (``PortN.txt`` names).
PORT_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
#: Ports of these roles carry a signal (they must reach a transistor terminal).
SIGNAL_ROLES = ("input", "output")


def port_class(name: str) -> PortClass | None:
    """The known class of a port name (``VIN1`` → VIN; ``LOGICQ2`` → LOGIC), else None."""
    m = PORT_RE.match(name)
    if not m:
        return None
    cls = m.group(1)
    return _BY_NAME["LOGIC"] if "LOGIC" in cls else _BY_NAME[cls]


def class_of(name: str) -> PortClass:
    """Class of a port name, :data:`GENERIC` when no known class matches."""
    return port_class(name) or GENERIC


def is_port_name(name: str) -> bool:
    """Whether a net name is a port of a known class (used to find ports when none are listed)."""
    return bool(PORT_RE.match(name))


def port_prefix(name: str) -> str:
    """Token prefix of a port: the name without its trailing index (``VIN1`` → ``VIN``)."""
    return name.rstrip("0123456789") or name


def port_index(name: str) -> int:
    """Trailing index of a port name (0 when none)."""
    m = re.search(r"(\d+)$", name)
    return int(m.group(1)) if m else 0


def port_sort_key(name: str) -> tuple[int, str, int]:
    """Order of ports in a written circuit: by class (display order), then prefix and index."""
    first = name.split("=")[0]
    c = port_class(first)
    rank = PORT_CLASSES.index(c) if c else len(PORT_CLASSES)
    return (rank, port_prefix(first), port_index(first))


def is_driven(name: str) -> bool:
    """A voltage source drives this port in a test bench (supplies, inputs, biases, controls)."""
    return class_of(name).drive == "v"


def is_signal(name: str) -> bool:
    """The port carries a signal in or out (``VIN*``, ``VOUT*``, ``IIN*``, ``IOUT*``, ``VRF*``...)."""
    return class_of(name).role in SIGNAL_ROLES


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
