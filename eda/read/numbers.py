"""The one SPICE number parser (netlists and PDN decks alike).

A SPICE number is a decimal mantissa with an optional exponent, an optional scale suffix and optional
unit letters: ``1k`` → 1e3, ``1meg`` → 1e6, ``10pF`` → 1e-11, ``1e-3V`` → 1e-3, ``25mil`` → 635e-6.
Suffixes (case-insensitive, ngspice's): t g meg k m u n p f a, and mil. Scaling is done on the decimal
exponent in text, so ``20u`` is exactly the double nearest 2e-05 (not ``20 * 1e-6``). ``nan``, ``inf`` and
anything else that is not a number are refused: :func:`parse_number` says ``None``, :func:`spice_number`
raises :class:`NumberError`.
"""

from __future__ import annotations

import math
import re

from eda.errors import InputError

__all__ = ["SUFFIX_EXP", "NUMBER_RE", "NUMBER_LIKE", "NumberError", "parse_number", "spice_number"]

#: Scale suffix → power of ten (``mil`` is handled apart: 25.4e-6).
SUFFIX_EXP = {"t": 12, "g": 9, "meg": 6, "k": 3, "m": -3, "u": -6, "n": -9, "p": -12, "f": -15, "a": -18}
_MIL = 25.4e-6

#: A whole token that is a SPICE number: mantissa (group 1), scale (group 2), unit letters (group 3).
NUMBER_RE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(meg|mil|[tgkmunpfa])?([a-z]*)$", re.IGNORECASE)

#: A token that a reader takes for a number (then parses or refuses) where a value or a model name may stand:
#: a digit, a point and a digit, or ``nan``/``inf`` first. Writers refuse model names it matches.
NUMBER_LIKE = re.compile(r"^[+-]?(\d|\.\d|nan|inf)", re.IGNORECASE)


class NumberError(InputError, ValueError):
    """A token that should be a finite SPICE number is not one (also a ``ValueError``)."""


def parse_number(token: str) -> float | None:
    """The value of a SPICE number token, ``None`` when the token is not one.

    A syntactically valid number too large for a double (``1e999``) gives ``inf``; callers that need a
    finite value use :func:`spice_number`.
    """
    m = NUMBER_RE.match(token)
    if m is None:
        return None
    mant, scale = m.group(1), m.group(2)
    if not scale:
        return float(mant)
    scale = scale.lower()
    if scale == "mil":
        return float(mant) * _MIL
    base, _, exp = mant.lower().partition("e")
    return float(f"{base}e{int(exp or 0) + SUFFIX_EXP[scale]}")


def spice_number(token: str, what: str = "value") -> float:
    """A finite SPICE number, or :class:`NumberError` (``nan``, ``inf``, overflow, garbage)."""
    x = parse_number(token)
    if x is None:
        raise NumberError(f"bad {what} {token!r} (expected a number such as 0.5, 1e-3, 2k, 10meg)")
    if not math.isfinite(x):
        raise NumberError(f"{what} {token!r} is out of range (not a finite number)")
    return x
