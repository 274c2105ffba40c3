"""Writers: PDN decks back to SPICE (ngspice-ready), contest-style CSV maps, node voltages."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eda.pdn.mapcsv import _fastwrite, write_map_csv
from eda.pdn.model import PDN, WAVE_PULSE, WAVE_PWL

__all__ = ["to_spice", "write_pdn", "write_map_csv", "write_voltages_csv"]


def _lines(prefix: str, names: list[str], a: np.ndarray, b: np.ndarray, v: np.ndarray, fmt) -> list[str]:
    return [f"{prefix}{i} {names[p]} {names[q]} {fmt(x)}"
            for i, (p, q, x) in enumerate(zip(a.tolist(), b.tolist(), v.tolist(), strict=True))]


def _number_format(digits: int | None):
    """``repr`` (the shortest string that reads back to the same double: exact round trip) or ``digits``
    significant digits, as published decks write them (IBM power-grid decks: 6-7)."""
    if digits is None:
        return repr
    if not 1 <= int(digits) <= 17:
        raise ValueError(f"digits must be 1..17 or None, got {digits!r}")
    return lambda x: f"{x:.{int(digits)}g}"


def to_spice(pdn: PDN, analysis: str | None = "op", control: str | None = None,
             digits: int | None = None) -> str:
    """The PDN as a SPICE deck that ngspice (and :func:`eda.pdn.parse.parse_pdn`) reads back exactly.

    Args:
        pdn: the network.
        analysis: ``op`` adds ``.op``; ``tran`` adds ``.tran`` from ``pdn.tran``; ``None`` adds neither.
        control: text of a ``.control`` block to append (without ``.control``/``.endc``).
        digits: significant digits of element values and waveforms (``None``: exact ``repr``); the
            ``.tran`` times are always exact.
    """
    fmt = _number_format(digits)
    names = pdn.node_names.tolist() + ["0"]  # index -1 (ground) picks "0"
    out = [f"* {pdn.title or 'PDN deck'} (written by eda.pdn)"]
    out += _lines("R", names, pdn.res_a, pdn.res_b, pdn.res_value, fmt)
    out += _lines("C", names, pdn.cap_a, pdn.cap_b, pdn.cap_value, fmt)
    out += _lines("L", names, pdn.ind_a, pdn.ind_b, pdn.ind_value, fmt)
    vnames = [n if n[:1] in "vV" else f"V{n}" for n in pdn.vs_names.tolist()]
    for nm, p, q, x in zip(vnames, pdn.vs_a.tolist(), pdn.vs_b.tolist(), pdn.vs_value.tolist(), strict=True):
        out.append(f"{nm} {names[p]} {names[q]} {fmt(x)}")
    inames = [n if n[:1] in "iI" else f"I{n}" for n in pdn.is_names.tolist()]
    for k, (nm, p, q, x) in enumerate(zip(inames, pdn.is_a.tolist(), pdn.is_b.tolist(), pdn.is_value.tolist(),
                                          strict=True)):
        kind = pdn.is_kind[k]
        if kind == WAVE_PULSE:
            args = " ".join(fmt(float(a)) for a in pdn.is_pulse[k])
            out.append(f"{nm} {names[p]} {names[q]} DC {fmt(x)} PULSE({args})")
        elif kind == WAVE_PWL:
            s, e = pdn.pwl_start[k], pdn.pwl_start[k + 1]
            pts = " ".join(f"{fmt(t)} {fmt(v)}" for t, v in zip(pdn.pwl_t[s:e].tolist(), pdn.pwl_v[s:e].tolist(),
                                                          strict=True))
            out.append(f"{nm} {names[p]} {names[q]} DC {fmt(x)} PWL({pts})")
        else:
            out.append(f"{nm} {names[p]} {names[q]} {fmt(x)}")
    if analysis == "op":
        out.append(".op")
    elif analysis == "tran":
        if pdn.tran is None:
            raise ValueError("analysis='tran' needs pdn.tran = (step, stop)")
        out.append(f".tran {pdn.tran[0]!r} {pdn.tran[1]!r}")
    elif analysis is not None:
        raise ValueError(f"analysis must be 'op', 'tran' or None, got {analysis!r}")
    if control:
        out += [".control", control.rstrip(), ".endc"]
    out.append(".end")
    return "\n".join(out) + "\n"


def write_pdn(pdn: PDN, path: str | Path, analysis: str | None = "op", control: str | None = None,
              digits: int | None = None) -> Path:
    """Write the PDN as a SPICE deck (see :func:`to_spice`); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_spice(pdn, analysis=analysis, control=control, digits=digits))
    return path


#: Rows formatted per call of the compiled writer.
_WRITE_BLOCK = 8192


def write_voltages_csv(names: np.ndarray, values: np.ndarray, path: str | Path,
                       header: str = "node,voltage") -> Path:
    """Write ``node,value`` rows for every node."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if (_fastwrite is not None and isinstance(names, np.ndarray) and names.dtype.kind == "U" and len(names)
            and isinstance(values, np.ndarray) and values.dtype in (np.float64, np.float32)
            and values.shape == names.shape == (len(names),) and header.isascii()):
        names = np.ascontiguousarray(names.astype(names.dtype.newbyteorder("="), copy=False))  # native UCS-4 rows
        values = np.ascontiguousarray(values, dtype=np.float64)
        # in blocks: the formatter holds the GIL, and between blocks a map evaluated beside it gets its turn
        parts = []
        for i in range(0, len(names), _WRITE_BLOCK):
            got = _fastwrite.format_named(names[i:i + _WRITE_BLOCK], names.dtype.itemsize // 4,  # repr, as below
                                          values[i:i + _WRITE_BLOCK], header if i == 0 else "")
            if got is None:
                break
            parts.append(got if i == 0 else memoryview(got)[1:])  # a later block: no header line
        else:
            path.write_bytes(b"".join(parts))
            return path
    body = "\n".join(f"{n},{v!r}" for n, v in zip(names.tolist(), values.tolist(), strict=True))
    path.write_text(header + "\n" + body + "\n")
    return path
