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

    def __str__(self) -> str:
        where = self.file or "<string>"
        if self.line is not None:
            where += f":{self.line}"
        s = f"{where}: {self.message}"
        if self.text:
            s += f"\n    {self.text.rstrip()}"
        return s


class SpiceParseError(InputError):
    """A SPICE netlist could not be parsed; carries file, line and the offending text."""


class SimulationError(EdaError):
    """A simulation failed or did not converge; carries the simulator's message."""
