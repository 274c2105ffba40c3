"""Performance specs: ``"gain>=60dB, ugb>=10MHz, pm>=60, cl=1pF, power<=1mW"``.

Units use SI prefixes (``M`` mega, ``m`` milli, ``u``/``µ`` micro, ``n``, ``p``, ``f``, ``k``,
``G``); gain in dB, phase margin in degrees, power in W, slew in V/s (``V/us`` accepted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from eda.errors import InputError

_PREFIX = {"T": 1e12, "G": 1e9, "M": 1e6, "meg": 1e6, "k": 1e3, "K": 1e3, "": 1.0, "m": 1e-3, "u": 1e-6,
           "µ": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}
#: Spec keys: name -> (unit words accepted after the prefix, description).
KEYS = {"gain": ("db", "DC gain, dB"), "ugb": ("hz", "unity-gain bandwidth, Hz"),
        "pm": ("deg", "phase margin, degrees"), "power": ("w", "power, W"),
        "slew": ("v/s", "slew rate, V/s"), "swing": ("v", "output swing, V"),
        "offset": ("v", "systematic input offset |Vout − target| in the DC loop, V"),
        "cl": ("f", "load capacitance, F")}
_ITEM = re.compile(r"^\s*(\w+)\s*(>=|<=|=)\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([A-Za-zµ/]*)\s*$")


@dataclass
class Spec:
    """Bounds per metric (``min``: must be ≥, ``max``: must be ≤) and the load capacitance."""

    min: dict[str, float] = field(default_factory=dict)
    max: dict[str, float] = field(default_factory=dict)
    cl: float = 1e-12

    def violations(self, perf: dict[str, float | None]) -> dict[str, float]:
        """Relative shortfall per bound (0 when met; 1 when the metric is missing)."""
        out: dict[str, float] = {}
        for k, lo in self.min.items():
            v = perf.get(k)
            out[k] = 1.0 if v is None else max(0.0, (lo - v) / max(abs(lo), 1e-30))
        for k, hi in self.max.items():
            v = perf.get(k)
            out[k] = 1.0 if v is None else max(0.0, (v - hi) / max(abs(hi), 1e-30))
        return out

    def met(self, perf: dict[str, float | None]) -> bool:
        return all(v == 0 for v in self.violations(perf).values())

    def __str__(self) -> str:
        parts = [f"{k}>={v:g}" for k, v in self.min.items()] + [f"{k}<={v:g}" for k, v in self.max.items()]
        return ", ".join(parts + [f"cl={self.cl:g}"])


def _value(num: str, unit: str, key: str, item: str) -> float:
    want = KEYS[key][0]
    u = unit
    if key == "slew" and u.lower().endswith("/us"):
        return float(num) * 1e6 * _PREFIX.get(u[:-4], 1.0) if u[:-4] in _PREFIX else _bad(item)
    for p in sorted(_PREFIX, key=len, reverse=True):
        rest = u[len(p):] if u.startswith(p) else None
        if rest is not None and rest.lower() in (want, "") and not (key == "gain" and p):
            if key == "gain" and rest == "" and p == "":
                return float(num)
            return float(num) * _PREFIX[p]
    return _bad(item)


def _bad(item: str) -> float:
    raise InputError(f"spec item {item!r}: unknown unit; expected e.g. gain>=60dB, ugb>=10MHz, pm>=60, "
                     "power<=1mW, slew>=5V/us, cl=1pF")


def parse_spec(text: str) -> Spec:
    """Parse a comma-separated spec.

    Raises:
        InputError: an unknown metric, operator or unit (naming the item).
    """
    spec = Spec()
    for item in filter(None, (s.strip() for s in text.split(","))):
        m = _ITEM.match(item)
        if m is None or m.group(1).lower() not in KEYS:
            raise InputError(f"spec item {item!r}: expected METRIC>=VALUE with METRIC one of {', '.join(KEYS)}")
        key, op, num, unit = m.group(1).lower(), m.group(2), m.group(3), m.group(4)
        v = _value(num, unit, key, item)
        if key == "cl":
            if op != "=" or v <= 0:
                raise InputError(f"spec item {item!r}: the load is given as cl=VALUE (> 0)")
            spec.cl = v
        elif op == ">=":
            spec.min[key] = v
        elif op == "<=":
            spec.max[key] = v
        else:
            raise InputError(f"spec item {item!r}: use >= or <= for {key}")
    return spec
