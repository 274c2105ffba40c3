"""Cross-check PDN solutions with ngspice, through the one driver :mod:`eda.sim.ngspice`.

Used by the tests, the benchmark and ``eda irdrop solve``. ngspice lower-cases node names; results
are keyed by the deck's node index.
"""

from __future__ import annotations

import time

import numpy as np

from eda.errors import SimulationError
from eda.pdn.model import PDN
from eda.pdn.write import to_spice

__all__ = ["have_ngspice", "ngspice_op", "ngspice_tran"]


def have_ngspice() -> bool:
    """True when libngspice can be loaded."""
    from eda.sim.ngspice import available

    return available()


def _run(pdn: PDN, cards: list[str], timeout: float | None) -> tuple[dict[str, np.ndarray], float]:
    from eda.sim.ngspice import run_deck

    deck = to_spice(pdn, analysis=None)
    deck = deck[: deck.rstrip().rfind(".end")] + "\n".join(cards) + "\n.end\n"
    t0 = time.perf_counter()
    (_, vecs), = run_deck(deck, ["run"], timeout=timeout, use_fast_models=False)
    return vecs, time.perf_counter() - t0


def ngspice_op(pdn: PDN, timeout: float | None = None) -> tuple[np.ndarray, float]:
    """DC operating point by ngspice: (voltage per node, nan where ngspice has none; seconds).

    Raises:
        TimeoutError: when ``timeout`` (s) is exceeded.
        SimulationError: ngspice missing or failed.
    """
    vecs, dt = _run(pdn, [".op"], timeout)
    v = np.full(pdn.n_nodes, np.nan)
    for i, n in enumerate(pdn.node_names.tolist()):
        x = vecs.get(n.lower())
        if x is not None:
            v[i] = float(np.real(x[0]))
    return v, dt


def ngspice_tran(pdn: PDN, step: float, stop: float, nodes: list[str], method: str = "trap",
                 timeout: float | None = None,
                 accurate: bool = True) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
    """Transient by ngspice with the step capped at ``step``: (times, node → waveform, seconds).

    ``method`` is ``trap`` or ``be`` (ngspice ``gear`` of order 1); ``accurate`` tightens ngspice's
    tolerances (reltol 1e-9) so that its adaptive steps track the exact waveform. Only ``nodes`` are
    saved.
    """
    opts = ".options method=trap" if method == "trap" else ".options method=gear maxord=1"
    cards = [opts]
    if accurate:
        cards.append(".options reltol=1e-9 abstol=1e-15 vntol=1e-12 chgtol=1e-20 trtol=1")
    cards += [".save " + " ".join(f"v({n})" for n in nodes), f".tran {step!r} {stop!r} 0 {step!r}"]
    vecs, dt = _run(pdn, cards, timeout)
    out = {}
    for n in nodes:
        x = vecs.get(n.lower())
        if x is None:
            raise SimulationError(f"ngspice returned no waveform for {n}")
        out[n] = np.real(x)
    return np.real(vecs["time"]), out, dt
