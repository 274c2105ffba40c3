"""Run any KLayout DRC deck (``.drc``/``.lydrc``) through the ``klayout`` binary, report like
:func:`eda.verify.drc.run_drc`.

The sky130 precheck deck (``sky130A_mr.drc``, open_pdks) is the one tape-out shuttles use; it
reads the variables ``input`` and ``report`` and switches rule sections with ``feol``, ``beol``,
``offgrid`` (all on by default here). The binary runs the deck in batch mode::

    klayout -b -r DECK -rd input=GDS -rd report=OUT.lyrdb -rd feol=true -rd beol=true -rd offgrid=true

and the marker database it writes is read back into a :class:`~eda.verify.drc.DrcResult`
(per-category counts, up to ``max_locations`` marker boxes, the deck's own rule descriptions).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from eda.errors import EdaError, InputError
from eda.verify.drc import DrcResult, DrcViolation

#: Defines passed when the caller gives none: every precheck section on.
PRECHECK_DEFINES = {"feol": "true", "beol": "true", "offgrid": "true"}

INSTALL_HINT = ("the klayout binary is not on PATH; install it with `apt-get install klayout` "
                "(Debian/Ubuntu; `make setup` does this when run as root) or from https://www.klayout.de")


class ToolMissingError(EdaError):
    """An external tool the command needs is not installed; the message says how to install it."""


def klayout_binary() -> str:
    """Path of the ``klayout`` executable.

    Raises:
        ToolMissingError: when it is not on ``PATH`` (with the install command).
    """
    exe = shutil.which("klayout")
    if exe is None:
        raise ToolMissingError(INSTALL_HINT)
    return exe


def _box_of(value) -> tuple[float, float, float, float] | None:
    for kind in ("box", "polygon", "edge_pair", "edge"):
        if getattr(value, f"is_{kind}")():
            b = getattr(value, kind)().bbox()
            return (b.left, b.bottom, b.right, b.top)
    return None


def read_lyrdb(path: str | Path, max_locations: int = 50) -> tuple[str, list[DrcViolation], list[str]]:
    """Violations per category of a KLayout marker database: (top cell name, violations, every
    category the deck wrote, i.e. the rules it checked)."""
    import klayout.rdb as rdb

    r = rdb.ReportDatabase("")
    try:
        r.load(str(path))
    except RuntimeError as e:
        raise InputError(f"cannot read the marker database: {e}", file=path) from None
    counts: dict[str, int] = defaultdict(int)
    locs: dict[str, list] = defaultdict(list)
    texts: dict[str, str] = {}
    for item in r.each_item():
        cat = r.category_by_id(item.category_id())
        name = cat.name()
        texts[name] = cat.description
        counts[name] += 1
        if len(locs[name]) < max_locations:
            for v in item.each_value():
                b = _box_of(v)
                if b is not None:
                    locs[name].append(b)
                    break
    cats = sorted(c.name() for c in r.each_category())
    return r.top_cell_name, [DrcViolation(n, texts[n], c, locs[n]) for n, c in sorted(counts.items())], cats


def run_deck(gds: str | Path, deck: str | Path, report: str | Path | None = None,
             defines: dict[str, str] | None = None, timeout_s: float | None = None,
             max_locations: int = 50) -> DrcResult:
    """Run the KLayout DRC ``deck`` on ``gds`` with the klayout binary.

    Args:
        gds: the layout (GDS/OASIS).
        deck: a KLayout DRC script reading ``$input`` and writing ``$report``.
        report: where the ``.lyrdb`` goes (default: a temporary file, removed afterwards).
        defines: ``-rd`` variables; ``None`` → :data:`PRECHECK_DEFINES`.
        timeout_s: kill the run after this many seconds (``EdaError``).

    Raises:
        ToolMissingError: no klayout binary.
        InputError: a missing layout or deck.
        EdaError: the binary failed (its last output lines), or wrote no report.
    """
    gds, deck = Path(gds), Path(deck)
    for f, what in ((gds, "layout"), (deck, "DRC deck")):
        if not f.is_file():
            raise InputError(f"{what} not found", file=f)
    exe = klayout_binary()
    defs = dict(PRECHECK_DEFINES if defines is None else defines)
    with tempfile.TemporaryDirectory(prefix="eda_deck_") as tmp:
        out = Path(report).resolve() if report is not None else Path(tmp) / "deck.lyrdb"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)
        # absolute paths: the deck resolves a relative report path against the layout's folder
        cmd = [exe, "-b", "-r", str(deck.resolve()), "-rd", f"input={gds.resolve()}", "-rd", f"report={out}"]
        for k, v in defs.items():
            cmd += ["-rd", f"{k}={v}"]
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise EdaError(f"{deck}: klayout DRC ran past {timeout_s} s on {gds}") from None
        seconds = time.perf_counter() - t0
        if p.returncode != 0 or not out.is_file():
            tail = "\n".join((p.stdout + p.stderr).strip().splitlines()[-8:])
            raise EdaError(f"{deck}: klayout exited with status {p.returncode} and "
                           f"{'no report' if not out.is_file() else 'a report'}:\n{tail}")
        top, violations, rules = read_lyrdb(out, max_locations)
    return DrcResult(str(gds), top, not violations, violations, rules, seconds)
