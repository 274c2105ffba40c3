"""The one reader/writer pair for contest-style CSV maps.

Format (ICCAD'23 Problem C): one row per x (µm), one comma-separated column per y (µm), so the array
read back is ``map[x, y]``; plain decimal or exponent numbers, no header.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eda.errors import InputError

try:  # the compiled '%.9g' writer (eda/pdn/_fastwrite.c, built by make setup): same bytes, ~3x faster
    from eda.pdn import _fastwrite
except ImportError:
    _fastwrite = None

__all__ = ["read_map_csv", "write_map_csv", "parse_map_csv"]


def parse_map_csv(text: str, file: str | Path | None = None) -> np.ndarray:
    """Parse the text of a CSV map into a 2-D float array (``InputError`` with file:line on bad content).

    Vectorised: the whole text is split once and converted by one NumPy call; only on an error are the
    rows walked to name the line.
    """
    rows = text.strip().splitlines()
    if not rows or not rows[0].strip():
        raise InputError("empty map", file=file)
    width = rows[0].count(",") + 1
    counts = np.fromiter((r.count(",") for r in rows), dtype=np.int64, count=len(rows)) + 1
    if (counts != width).any():
        k = int(np.flatnonzero(counts != width)[0])
        raise InputError(f"row has {counts[k]} values, expected {width}", file=file, line=k + 1,
                         text=rows[k])
    try:
        vals = np.array(",".join(rows).split(","), dtype=np.float64)
    except ValueError:
        vals = None
    if vals is None or not np.isfinite(vals).all():
        for k, row in enumerate(rows):
            try:
                r = np.array(row.split(","), dtype=np.float64)
            except ValueError:
                r = None
            if r is None or not np.isfinite(r).all():
                raise InputError("expected comma-separated finite numbers", file=file, line=k + 1,
                                 text=row) from None
    return vals.reshape(len(rows), width)


def read_map_csv(path: str | Path) -> np.ndarray:
    """Read a contest-style CSV map (row ``i`` = x µm). Raises ``InputError`` on bad content."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise InputError(f"cannot read map: {e.strerror}", file=path) from None
    return parse_map_csv(text, file=path)


def side_by_side(first, second):
    """``(first(), second())`` with ``second`` run in a thread of its own while ``first`` runs here: two halves of
    work that release the GIL (the compiled formatter and map kernels, SciPy's evaluator). Returns once both end;
    an error of either is raised."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as ex:
        other = ex.submit(second)
        return first(), other.result()


#: map values from which the compiled writer formats the two halves of the rows in two threads
SPLIT_FORMAT_VALUES = 400_000


def write_map_csv(m: np.ndarray, path: str | Path) -> Path:
    """Write a map as contest-style CSV: row ``i`` is ``x = i`` µm, column ``j`` is ``y = j`` µm.

    Values keep 9 significant digits (``%.9g``); reading back gives the same array to 1e-9 relative. The
    compiled writer, when built, gives the same bytes as Python's ``'%.9g' % x`` (tests/test_pdn_fast.py).
    """
    m = np.asarray(m, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"a map is 2-D, got shape {m.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if _fastwrite is not None and m.size:
        m = np.ascontiguousarray(m)
        if m.size < SPLIT_FORMAT_VALUES or len(m) < 2:
            path.write_bytes(_fastwrite.format_g9(m, m.shape[1]))
            return path
        h = len(m) // 2  # the lower rows in a second thread (the formatter releases the GIL): the same bytes
        head, tail = side_by_side(lambda: _fastwrite.format_g9(m[:h], m.shape[1]),
                                  lambda: _fastwrite.format_g9(m[h:], m.shape[1]))
        with path.open("wb") as f:  # both formatted before the file is touched: an error writes nothing
            f.write(head)
            f.write(tail)
        return path
    fmt = ",".join(["%.9g"] * m.shape[1])
    path.write_text("\n".join([fmt % tuple(r) for r in m.tolist()]) + "\n")
    return path
