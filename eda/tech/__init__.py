"""Technologies behind one lookup: :func:`get_technology` (``sky130`` for layout and verification,
``generic45`` for the synthetic design and PDN generators). A technology object holds every process number
its users need; nothing else does."""

from __future__ import annotations

__all__ = ["TECHNOLOGIES", "get_technology"]

#: Known technology names.
TECHNOLOGIES = ("sky130", "generic45")


def get_technology(name: str = "sky130"):
    """The technology object called ``name`` (case-insensitive).

    Returns:
        :class:`eda.tech.sky130.Technology` for ``sky130``, :class:`eda.tech.generic45.PdnTech` for
        ``generic45``.

    Raises:
        InputError: an unknown name (the message lists the known ones).
    """
    from eda.errors import InputError

    key = str(name).lower()
    if key == "sky130":
        from eda.tech.sky130 import sky130

        return sky130()
    if key == "generic45":
        from eda.tech.generic45 import GENERIC45

        return GENERIC45
    raise InputError(f"unknown technology {name!r}; expected one of: {', '.join(TECHNOLOGIES)}", file="--tech")
