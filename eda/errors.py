"""Typed errors shared by every reader, solver and checker.

Every error that reports on user input says where: file, line (when there is one) and the text.
"""

from __future__ import annotations

from pathlib import Path


class EdaError(Exception):
    """Base class of all toolkit errors that the CLI prints without a traceback."""


class InputError(EdaError):
    """Bad user input at a known place.

    Args:
        message: what is wrong and what was expected.
        file: the file, when known.
        line: 1-based line number, when known.
        text: the offending text, shortened.
    """

    def __init__(self, message: str, file: str | Path | None = None, line: int | None = None,
                 text: str | None = None):
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.text = text[:200] if text is not None else None
        super().__init__(self.__str__())

    def where(self) -> str:
        """``file:line`` (what is known of it; empty when neither is)."""
        w = self.file or ""
        if self.line is not None:
            w += f":{self.line}" if w else f"line {self.line}"
        return w

    def __str__(self) -> str:
        where = self.where()
        s = f"{where}: {self.message}" if where else self.message
        if self.text:
            s += f"\n    {self.text.rstrip()}"
        return s

    def one_line(self) -> str:
        """The error on one line: ``file:line: message  [offending text]`` (what the CLI prints)."""
        where = self.where()
        s = f"{where}: {self.message}" if where else self.message
        if self.text and self.text.strip():
            s += f"  [{self.text.strip()[:80]}]"
        return " | ".join(x.strip() for x in s.splitlines() if x.strip())


def record_error(record: str, field: str, message: str, value: object) -> ValueError:
    """The error for a bad field of a hot-path record that is deliberately *not* an
    :class:`eda.params.Params` model (a plain dataclass created in bulk, such as
    :class:`eda.circuit.Device`), worded like a Params error: ``Device.kind: ..., got 'Z'``.
    A ``ValueError``: the readers that build such records turn it into an :class:`InputError`
    with the file and line."""
    return ValueError(f"{record}.{field}: {message}, got {value!r}")


class SpiceParseError(InputError):
    """A SPICE netlist could not be parsed; carries file, line and the offending text."""


class SimulationError(EdaError):
    """A simulation failed or did not converge; carries the simulator's message."""


class ConfigError(InputError):
    """A command-line option or parameter has a value the toolkit refuses; ``option`` names it."""

    def __init__(self, option: str, message: str):
        self.option = option
        super().__init__(f"{option}: {message}")
