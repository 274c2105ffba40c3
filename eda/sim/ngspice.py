"""Run a :class:`~eda.circuit.Circuit` in ngspice through PySpice's shared-library binding.

The circuit is written with :func:`eda.export.to_spice.to_spice` (no second netlister), its own
analysis cards are replaced by the one requested, and results come back as NumPy arrays keyed
by the circuit's own net names. Failures raise :class:`~eda.errors.SimulationError` carrying
ngspice's messages.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import replace

import numpy as np

from eda.circuit import Analysis, Circuit, is_ground
from eda.errors import SimulationError
from eda.export.to_spice import fmt_number, to_spice

_LOCK = threading.Lock()  # libngspice is one global simulator per process
_ENGINE = None


def _engine():
    global _ENGINE
    if _ENGINE is None:
        logging.getLogger("PySpice").setLevel(logging.CRITICAL)
        try:
            from PySpice.Spice.NgSpice.Shared import NgSpiceShared

            _ENGINE = NgSpiceShared.new_instance()
        except Exception as e:  # noqa: BLE001 - any load failure means the same thing to the user
            raise SimulationError(
                f"cannot load libngspice ({e}); install it with: apt-get install ngspice libngspice0-dev"
            ) from e
    return _ENGINE


def _messages(ns) -> str:
    """ngspice's failure lines first, then its last messages."""
    lines = [s for s in ns._stderr + ns._stdout if s.strip()]
    bad = [s for s in lines if _FAILURE.search(s)]
    return "\n".join(dict.fromkeys(bad[:10] + lines[-10:]))


_FAILURE = re.compile(r"^\s*error|no convergence|timestep too small|singular matrix|circuit not parsed",
                      re.IGNORECASE | re.MULTILINE)


def _failed(ns) -> bool:
    # PySpice counts every stderr "Note:" as an error; judge ngspice's messages ourselves
    return any(_FAILURE.search(s) for s in ns._stderr + ns._stdout)


def run(circuit: Circuit, analysis: Analysis) -> tuple[str, dict[str, np.ndarray]]:
    """Simulate ``circuit`` with one analysis card; returns (plot name, vectors by name).

    Vector names are the circuit's net names for node voltages (ground excluded) and
    ``<source>#branch`` (lower case) for source currents; time is ``time`` for transients.
    """
    from PySpice.Spice.NgSpice.Shared import NgSpiceCircuitError, NgSpiceCommandError

    deck = to_spice(replace(circuit, analyses=[analysis]))
    nets = {n.lower(): n for n in circuit.nets}
    with _LOCK:
        ns = _engine()
        ns._stdout.clear()
        ns._stderr.clear()
        ns.exec_command("destroy all")
        try:
            ns.load_circuit(deck)
        except (NgSpiceCircuitError, NgSpiceCommandError):
            pass  # ngspice's own messages are checked below
        if _failed(ns):
            msgs = _messages(ns)
            _cleanup(ns)
            raise SimulationError(f"ngspice rejected the netlist:\n{msgs}")
        ns._stdout.clear()
        ns._stderr.clear()
        ns._ngspice_shared.ngSpice_Command(b"run")
        plot_name = ns.last_plot
        if _failed(ns) or not plot_name.lower().startswith(analysis.kind.lower()):
            msgs = _messages(ns)
            _cleanup(ns)
            raise SimulationError(f"ngspice {analysis.kind} produced no results (no convergence?):\n{msgs}")
        plot = ns.plot(simulation=None, plot_name=plot_name)
        out: dict[str, np.ndarray] = {}
        for key, vec in plot.items():
            name = nets.get(key.lower(), key.lower())
            out[name] = np.array(np.real(vec._data), dtype=float)
        _cleanup(ns)
    return plot_name, out


def _cleanup(ns) -> None:
    try:
        ns.exec_command("destroy all")
        ns.remove_circuit()
    except Exception:  # noqa: BLE001, S110 - nothing loaded is fine
        pass


def operating_point(circuit: Circuit) -> dict[str, float]:
    """DC operating point: node voltage by net name (ground nets are 0 and included), plus
    source currents as ``<source>#branch``."""
    _, vecs = run(circuit, Analysis("op"))
    out = {k: float(v[0]) for k, v in vecs.items()}
    for n in circuit.nets:
        if is_ground(n):
            out[n] = 0.0
    return out


def transient(circuit: Circuit, step: float, stop: float,
              max_step: float | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Transient analysis: (time, waveforms by net name / ``<source>#branch``)."""
    if not (step > 0 and stop > step):
        raise SimulationError(f"transient needs 0 < step < stop, got step={step}, stop={stop}")
    args = [fmt_number(step), fmt_number(stop)]
    if max_step is not None:
        args += ["0", fmt_number(max_step)]
    _, vecs = run(circuit, Analysis("tran", tuple(args)))
    t = vecs.pop("time")
    return t, vecs
