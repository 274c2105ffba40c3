"""Cross-check PDN solutions with ngspice (``ngspice -b`` on the written deck).

Used by the tests and the benchmark. ngspice lower-cases node names; results are keyed by the deck's
node index.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from eda.errors import SimulationError
from eda.pdn.model import PDN
from eda.pdn.write import write_pdn

__all__ = ["have_ngspice", "ngspice_op", "ngspice_tran", "read_ascii_raw"]


def have_ngspice() -> bool:
    return shutil.which("ngspice") is not None


def read_ascii_raw(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Read an ngspice ASCII raw file: (variable names, values of shape (points, variables))."""
    lines = Path(path).read_text().splitlines()
    nvar = npts = None
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("No. Variables:"):
            nvar = int(ln.split(":")[1])
        elif ln.startswith("No. Points:"):
            npts = int(ln.split(":")[1])
        elif ln.startswith("Variables:"):
            break
        i += 1
    if nvar is None or npts is None:
        raise SimulationError(f"not an ngspice ASCII raw file: {path}")
    names = [lines[i + 1 + k].split()[1] for k in range(nvar)]
    i += 1 + nvar
    if not lines[i].startswith("Values:"):
        raise SimulationError(f"unexpected raw file layout in {path}")
    toks = " ".join(lines[i + 1:]).split()
    # each point: index, then nvar values
    vals = np.array(toks, dtype=object).reshape(npts, nvar + 1)[:, 1:].astype(np.float64)
    return names, vals


def _run(pdn: PDN, analysis: str, cmd: str, save: str, timeout: float | None) -> tuple[list[str], np.ndarray,
                                                                                         float]:
    if not have_ngspice():
        raise SimulationError("ngspice is not installed (apt-get install ngspice)")
    with tempfile.TemporaryDirectory(prefix="eda_pdn_ngspice_") as d:
        deck = Path(d) / "deck.sp"
        raw = Path(d) / "out.raw"
        control = f"set filetype=ascii\n{cmd}\nwrite {raw} {save}\nquit"
        write_pdn(pdn, deck, analysis=None, control=control)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(["ngspice", "-b", str(deck)], capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"ngspice {analysis} exceeded {timeout} s") from None
        dt = time.perf_counter() - t0
        if not raw.exists():
            tail = (proc.stdout + proc.stderr)[-2000:]
            raise SimulationError(f"ngspice {analysis} failed (exit {proc.returncode}):\n{tail}")
        names, vals = read_ascii_raw(raw)
    return names, vals, dt


def _node_map(pdn: PDN, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(column of each raw variable that is a node voltage, its node index)."""
    idx = {n.lower(): i for i, n in enumerate(pdn.node_names.tolist())}
    cols, nodes = [], []
    for c, nm in enumerate(names):
        key = nm.lower()
        if key.startswith("v(") and key.endswith(")"):
            key = key[2:-1]
        j = idx.get(key)
        if j is not None:
            cols.append(c)
            nodes.append(j)
    return np.array(cols, dtype=np.int64), np.array(nodes, dtype=np.int64)


def ngspice_op(pdn: PDN, timeout: float | None = None) -> tuple[np.ndarray, float]:
    """DC operating point by ngspice: (voltage per node, nan where ngspice has none; seconds).

    Raises:
        TimeoutError: when ``timeout`` (s) is exceeded.
        SimulationError: ngspice missing or failed.
    """
    names, vals, dt = _run(pdn, "op", "op", "all", timeout)
    cols, nodes = _node_map(pdn, names)
    v = np.full(pdn.n_nodes, np.nan)
    v[nodes] = vals[0, cols]
    return v, dt


def ngspice_tran(pdn: PDN, step: float, stop: float, nodes: list[str], method: str = "trap",
                 timeout: float | None = None,
                 accurate: bool = True) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
    """Transient by ngspice with the step capped at ``step``: (times, node → waveform, seconds).

    ``method`` is ``trap`` or ``be`` (ngspice ``gear`` of order 1); ``accurate`` tightens ngspice's
    tolerances (reltol 1e-9) so that its adaptive steps track the exact waveform.
    """
    opts = "option method=trap" if method == "trap" else "option method=gear maxord=1"
    tight = "option reltol=1e-9 abstol=1e-15 vntol=1e-12 chgtol=1e-20 trtol=1\n" if accurate else ""
    cmd = f"{tight}{opts}\ntran {step!r} {stop!r} 0 {step!r}"
    save = " ".join(f"v({n})" for n in nodes)
    names, vals, dt = _run(pdn, "tran", cmd, save, timeout)
    t = vals[:, 0]
    out = {}
    low = [n.lower() for n in names]
    for n in nodes:
        key = f"v({n.lower()})"
        if key not in low:
            raise SimulationError(f"ngspice returned no waveform for {n}")
        out[n] = vals[:, low.index(key)]
    return t, out, dt
