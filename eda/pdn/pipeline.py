"""Case-to-folder pipelines behind ``eda irdrop solve`` and ``eda irdrop maps``.

Both take a contest case folder (``testcaseN/``), a deck (a flat contest ``current_mapNN.sp`` with its
CSVs beside it, or any bare deck) — see :func:`eda.pdn.contest.read_case`. When the case has given maps,
ours take their shape and the database units per µm are fitted to them; ``summary.json`` records the
scale used and, when a golden ``ir_drop`` map is present, our map's scores against it.

:func:`start_ahead` lets the command line begin a case (read the deck, triangulate the map) before Typer has
parsed its options; either pipeline then takes that work for the same, unchanged case.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from eda.errors import InputError

__all__ = ["solve_to_dir", "maps_to_dir", "MAP_FILES", "load_case", "start_ahead"]

#: Contest file names of the four maps (folder layout).
MAP_FILES = {"current": "current_map.csv", "pdn_density": "pdn_density.csv", "eff_dist": "eff_dist_map.csv",
             "ir_drop": "ir_drop_map.csv"}
_UNITS = {"current": "A", "pdn_density": "um/um2", "eff_dist": "um", "ir_drop": "V"}
_TITLES = {"current": "current", "pdn_density": "PDN density", "eff_dist": "effective distance to pads",
           "ir_drop": "static IR drop"}


def load_case(path: str | Path, dbu_per_um: float | None = None):
    """``(case, pdn)`` for a case folder or deck; ``InputError`` for a maps-only case (nothing to solve)."""
    from eda.pdn.contest import read_case

    case = read_case(path, dbu_per_um=dbu_per_um)
    if case.deck is None:
        raise InputError(f"case {case.name} has no netlist ({', '.join(sorted(case.map_paths))} maps only): "
                         "nothing to solve", file=path)
    return case, case.pdn


def _grid(case, pdn) -> tuple[float, tuple[int, int]] | None:
    """(dbu per µm, map shape) of a case whose names carry coordinates, else ``None``."""
    from eda.pdn.maps import map_shape

    if not pdn.has_coordinates:
        return None
    dbu = case.dbu_per_um
    return dbu, (tuple(case.shape) if case.shape else map_shape(pdn, dbu))


def solve_to_dir(deck: str | Path, out: str | Path, mode: str = "static", probes: list[str] | None = None,
                 method: str = "auto", step: float | None = None, stop: float | None = None,
                 integration: str = "trap", progress: bool = True, pictures: bool = True,
                 dbu_per_um: float | None = None, map_method: str = "contest") -> dict:
    """Parse and solve a case; write voltages, the IR-drop map, a picture and a summary under ``out``.

    Files: ``voltages.csv`` (DC ``node,voltage``, every node), ``ir_drop_map.csv`` and ``ir_drop.png``
    (when names carry coordinates; dynamic mode maps the worst drop over time), ``summary.json``; in
    dynamic mode also ``worst_drop.csv`` (``node,worst_drop``), ``waveforms.csv`` and ``waveforms.png``.
    Dynamic probes default to the deck's ``.print`` nodes, else the worst static node.

    Returns:
        The summary dict.
    """
    from eda.pdn import maps as pm

    if mode not in ("static", "dynamic"):
        raise InputError(f"mode must be 'static' or 'dynamic', got {mode!r}")
    if map_method not in pm.MAP_METHODS:
        raise InputError(f"map method must be one of {', '.join(pm.MAP_METHODS)}, got {map_method!r}")
    out = Path(out)
    t0 = time.perf_counter()
    # a second thread loads scipy.spatial while the deck is parsed (the compiled reader releases the GIL) and
    # builds the map's triangulation (node positions only) as soon as the deck is read, while this thread loads
    # the solver's modules (and the interpolation's, without the compiled map evaluator) and solves; it then
    # evaluates the map while this thread writes the voltages (NumPy, Qhull, SuperLU and the interpolation
    # release the GIL). The triangulation is the longer of the two lanes: nothing else is queued before it.
    # a case read ahead (start_ahead: the command line's) comes with its triangulation started or done
    ahead = _take_ahead(deck, dbu_per_um, map_method)
    worker = ThreadPoolExecutor(max_workers=1)
    spatial = (worker.submit(_load_modules, "scipy.spatial")
               if ahead is None and _triangulator(map_method) == "scipy" else None)
    try:
        if ahead is not None:
            case, pdn, t_parse = ahead.case.result()
        else:
            case, pdn = load_case(deck, dbu_per_um)
            t_parse = time.perf_counter() - t0
        grid = _grid(case, pdn)  # fits the scale before any solve: a wrong --dbu-per-um fails fast
        # the triangulation needs node positions only: it starts before the network check and the solver's
        # imports
        geo = (None if not grid else ahead.geometry if ahead is not None
               else worker.submit(_timed, pm.map_geometry, pdn, grid[1], grid[0], map_method))
        from eda.pdn.check import check_pdn
        from eda.pdn.solve import solve_static, solve_transient
        from eda.pdn.write import write_map_csv, write_voltages_csv

        if geo is not None and (map_method == "griddata" or (map_method == "contest" and pm._fastmap is None)):
            # the map's interpolation module (0.1-0.2 s of imports, GIL-bound; the compiled evaluator of the contest
            # method needs none, the griddata method's nearest-node fill does) loads here, once the triangulation
            # runs (Qhull releases the GIL), not before it in the worker's queue
            if spatial is not None:
                spatial.result()
            _load_modules("scipy.interpolate")
        check_pdn(pdn)
        summary: dict = {"deck": str(case.deck), "case": case.name, "mode": mode, **pdn.summary(),
                         "reader": getattr(pdn, "reader", None)}
        if ahead is not None:  # read beside the command line's parsing: parse = the read's own time
            summary["read_ahead"] = True
        if pdn.notes:
            summary["notes"] = pdn.notes
        t1 = time.perf_counter()
        st = solve_static(pdn, method=method)
        t_static = time.perf_counter() - t1
        out.mkdir(parents=True, exist_ok=True)
        if mode == "static" and grid is not None:  # the map starts now, beside the voltage file
            map_job = worker.submit(_map_job, pdn, st.drop, grid, map_method, geo)
        t_w = time.perf_counter()
        write_voltages_csv(pdn.node_names, st.voltage, out / "voltages.csv")
        t_write = time.perf_counter() - t_w
        worst_node = int(np.argmax(st.drop))
        summary.update(unknowns=st.n_unknowns, solver=st.method, ordering=st.ordering,
                       worst_static_drop_V=float(st.drop.max()), worst_static_node=str(pdn.node_names[worst_node]),
                       seconds={"parse": round(t_parse, 4), "static_solve": round(t_static, 4)})
        drop = st.drop
        if mode == "dynamic":
            probes = list(probes or []) or list(pdn.print_nodes) or [str(pdn.node_names[worst_node])]
            t2 = time.perf_counter()
            tr = solve_transient(pdn, step, stop, integration=integration, probes=probes, method=method,
                                 progress=progress)
            summary["seconds"]["transient"] = round(time.perf_counter() - t2, 4)
            summary["seconds"]["per_step"] = tr.seconds["per_step"]
            drop = tr.worst_drop
            k = int(np.argmax(drop))
            summary.update(steps=len(tr.times) - 1, step_sizes=tr.factorizations, integration=integration,
                           worst_dynamic_drop_V=float(drop[k]), worst_dynamic_node=str(pdn.node_names[k]),
                           worst_dynamic_time_s=float(tr.worst_time[k]), probes=probes)
            t_w = time.perf_counter()
            write_voltages_csv(pdn.node_names, drop, out / "worst_drop.csv", header="node,worst_drop")
            cols = np.column_stack([tr.times] + [tr.probes[p] for p in probes])
            np.savetxt(out / "waveforms.csv", cols, delimiter=",", header=",".join(["time"] + probes), comments="",
                       fmt="%.12g")
            t_write += time.perf_counter() - t_w
            if pictures:
                from eda.pdn.plot import plot_waveforms

                plot_waveforms(tr.times, tr.probes, out / "waveforms.png")
        if grid is not None:
            if mode == "dynamic":
                map_job = worker.submit(_map_job, pdn, drop, grid, map_method, geo)
            t3 = time.perf_counter()
            m, t_geo, t_eval = map_job.result()
            summary["seconds"].update(map=round(t_geo + t_eval, 4), map_geometry=round(t_geo, 4),
                                      map_wait=round(time.perf_counter() - t3, 4))
            t_w = time.perf_counter()
            write_map_csv(m, out / "ir_drop_map.csv")
            t_write += time.perf_counter() - t_w
            summary.update(map_shape=list(m.shape), dbu_per_um=grid[0], map_method=map_method,
                           map_evaluator=_evaluator(map_method), map_triangulation=_triangulator(map_method))
            if mode == "static" and "ir_drop" in case.map_paths:
                from eda.pdn.metrics import score

                summary["vs_given_ir_drop_map"] = score(m, case.maps["ir_drop"])
            if pictures:
                from eda.pdn.plot import plot_map

                title = "worst dynamic IR drop" if mode == "dynamic" else "static IR drop"
                plot_map(m, out / "ir_drop.png", title=title, unit="V")
    finally:
        worker.shutdown(wait=True, cancel_futures=True)
    if ahead is not None:  # done by now (its geometry was used); an error does not wait for it
        ahead.thread.join()
    summary["seconds"]["write"] = round(t_write, 4)
    summary["seconds"]["total"] = round(time.perf_counter() - t0, 4)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False))
    return summary


def _evaluator(map_method: str) -> str:
    """Which code evaluates the IR-drop map's cubic: ``compiled`` (``eda/pdn/_fastmap.c``; the griddata method's
    nearest-node fill stays SciPy's), ``scipy`` (where it is not built), or ``tile-max`` (no cubic)."""
    from eda.pdn import maps as pm

    return map_method if map_method == "tile-max" else "compiled" if pm._fastmap is not None else "scipy"


def _triangulator(map_method: str) -> str | None:
    """Whose Qhull triangulates the map: ``libqhull_r`` (``eda/pdn/_qhull2d.c``, the system's), ``scipy`` (the
    triangulation then waits for ``scipy.spatial``'s import), or ``None`` (``tile-max``: no triangulation). The same
    triangles either way."""
    from eda.pdn import maps as pm

    return None if map_method == "tile-max" else "libqhull_r" if pm.system_qhull() else "scipy"


def _load_modules(*names: str) -> None:
    import importlib

    for name in names:
        importlib.import_module(name)


def _timed(fn, *args, **kw):
    """``(fn(*args, **kw), seconds)``."""
    t = time.perf_counter()
    got = fn(*args, **kw)
    return got, time.perf_counter() - t


def _map_job(pdn, drop: np.ndarray, grid, map_method: str, geo):
    """(IR-drop map, seconds of its geometry, seconds of its evaluation); runs in the worker thread after the
    geometry job ``geo``."""
    from eda.pdn.maps import ir_drop_map

    dbu, shape = grid
    geometry, t_geo = geo.result()
    m, t_eval = _timed(ir_drop_map, pdn, drop, shape, dbu_per_um=dbu, method=map_method, geometry=geometry)
    return m, t_geo, t_eval


def maps_to_dir(deck: str | Path, out: str | Path, pictures: bool = True, dbu_per_um: float | None = None,
                map_method: str = "contest") -> dict[str, Path]:
    """Write the four contest maps of a case (three features + the static IR-drop label) as CSV and PNG.

    Also ``summary.json`` with the scale and shape used and, for a case with given maps, the error of
    each of our maps against the given one.
    """
    from eda.pdn import maps as pm
    from eda.pdn.check import check_pdn
    from eda.pdn.solve import solve_static
    from eda.pdn.write import write_map_csv

    ahead = _take_ahead(deck, dbu_per_um, map_method)
    case, pdn = ahead.case.result()[:2] if ahead is not None else load_case(deck, dbu_per_um)
    check_pdn(pdn)
    grid = _grid(case, pdn)
    if grid is None:
        pm.require_coords(pdn)
    dbu, shape = grid
    maps = pm.feature_maps(pdn, shape, dbu_per_um=dbu)
    drop = solve_static(pdn).drop
    geometry = ahead.geometry.result()[0] if ahead is not None else None
    maps["ir_drop"] = pm.ir_drop_map(pdn, drop, shape, dbu_per_um=dbu, method=map_method, geometry=geometry)
    if ahead is not None:
        ahead.thread.join()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for k, m in maps.items():
        written[k] = write_map_csv(m, out / MAP_FILES[k])
        if pictures:
            from eda.pdn.plot import plot_map

            plot_map(m, out / MAP_FILES[k].replace(".csv", ".png"), title=_TITLES[k], unit=_UNITS[k],
                     cmap="viridis" if k != "ir_drop" else "inferno")
    summary = {"deck": str(case.deck), "case": case.name, "dbu_per_um": dbu, "map_shape": list(shape),
               "map_method": map_method, "map_evaluator": _evaluator(map_method),
               "map_triangulation": _triangulator(map_method)}
    if case.map_paths:
        from eda.pdn.metrics import mae, pearson_cc

        summary["vs_given"] = {k: {"mae": mae(maps[k], g), "max_abs_given": float(np.abs(g).max()),
                                   "cc": pearson_cc(maps[k], g)} for k, g in case.maps.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False))
    return written


class _Ahead:
    """A case loaded, and its map's triangulation built, in a background thread (:func:`start_ahead`).

    ``case``: a future of ``(case, pdn, seconds)`` (or the reading's error); ``geometry``: of ``(MapGeometry or
    None, seconds)``, ``None`` where there is no map or the scale does not fit (the command then meets the same
    error itself); ``maps``: the identities of the case's given map files when the deck was read; ``prepared``: set
    once Qhull runs (or nothing more is to be done)."""

    def __init__(self, path: Path, deck: Path, dbu_per_um: float | None, map_method: str):
        self.key = (os.path.realpath(path), _identity(deck), dbu_per_um, map_method)
        self.maps: dict[Path, tuple | None] = {}
        self.case: Future = Future()
        self.geometry: Future = Future()
        self.prepared = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(path, dbu_per_um, map_method), name="eda-ahead",
                                       daemon=True)

    def _run(self, path: Path, dbu_per_um: float | None, map_method: str) -> None:
        try:
            self._work(path, dbu_per_um, map_method)
        finally:
            self.prepared.set()

    def _work(self, path: Path, dbu_per_um: float | None, map_method: str) -> None:
        try:
            t = time.perf_counter()
            case, pdn = load_case(path, dbu_per_um)
            self.maps = {p: _identity(p) for p in case.map_paths.values()}  # before they are read (lazily)
            self.case.set_result((case, pdn, time.perf_counter() - t))
        except BaseException as e:  # noqa: BLE001 - raised by the command that takes it
            self.case.set_exception(e)
            self.geometry.set_result((None, 0.0))
            return
        got = (None, 0.0)
        try:
            grid = _grid(case, pdn)
            if grid is not None and map_method != "tile-max":
                from eda.pdn import maps as pm

                got = _timed(pm.map_geometry, pdn, grid[1], grid[0], map_method, on_triangulate=self.prepared.set)
        except Exception:  # noqa: BLE001 - the command meets (and reports) it again
            got = (None, 0.0)
        self.geometry.set_result(got)


#: the case :func:`start_ahead` is working on (at most one)
_AHEAD: list[_Ahead] = []


def _identity(path: Path) -> tuple | None:
    """What says a file is the same file, unchanged: real path, device, inode, size, modification time."""
    try:
        st = path.stat()
    except OSError:
        return None
    return os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _deck_of(path: str | Path) -> Path:
    from eda.pdn.contest import FOLDER_DECK

    p = Path(path)
    return p / FOLDER_DECK if p.is_dir() else p


#: the longest the command line waits for a read-ahead case's map points to be prepared (seconds)
PREPARE_WAIT_S = 0.5


def start_ahead(path: str | Path, dbu_per_um: float | None = None, map_method: str = "contest") -> bool:
    """Start loading the case ``path`` (its deck, its given maps) and building its map's triangulation in a
    background thread; the next :func:`solve_to_dir` or :func:`maps_to_dir` of the same case (the same path,
    its deck and given maps unchanged since) with the same scale and map method takes them (or raises the
    reading's error) instead of doing the work again.

    For the command line (:func:`eda.cli.irdrop.read_ahead`): the compiled deck reader and Qhull release the
    GIL, so both run while Typer builds and parses the command line (0.1-0.3 s of Python). Anything not taken
    is dropped by the next call and ends with the process (a daemon thread). ``False`` when there is no deck.
    """
    from eda.pdn.maps import MAP_METHODS

    if map_method not in MAP_METHODS:
        return False
    deck = _deck_of(path)
    if not deck.is_file():
        return False
    _AHEAD.clear()
    ahead = _Ahead(Path(path), deck, dbu_per_um, map_method)
    _AHEAD.append(ahead)
    ahead.thread.start()
    # what the triangulation waits for is imported here, first, while the deck is read (the reader releases the
    # GIL): the solver's sparse matrices, then, unless Qhull runs through the system's library, Qhull's module (a deck
    # without coordinates has no map and does not need it: 0.05-0.15 s). Typer's parsing, the rest of the imports and
    # the solve then run beside Qhull
    defer_numpy_tooling()
    _load_modules("scipy.sparse")
    if _triangulator(map_method) == "scipy":
        _load_modules("scipy.spatial")
    if ahead.case.done():
        # the deck is read and its map points are being prepared (GIL-bound, ~0.05 s): Qhull starts before Typer
        # takes the GIL (a deck still being read is not waited for: the reader leaves the GIL to Typer)
        ahead.prepared.wait(PREPARE_WAIT_S)
    return True


#: NumPy submodules that SciPy's array-API layer imports (``from numpy import *``: NumPy's ``__all__`` names them)
#: and a solve never uses: ~0.1 s of imports on the way to Qhull
DEFERRED_NUMPY = ("numpy.testing", "numpy.f2py")


def defer_numpy_tooling() -> list[str]:
    """Register :data:`DEFERRED_NUMPY` as lazy modules (``importlib.util.LazyLoader``: executed on their first
    attribute access, so whoever uses them gets the real module) unless already imported; the names deferred.

    For the command line's read-ahead only: the background thread never touches them, so no two threads race for
    a lazy module's first use (Python 3.11's lazy modules take no lock)."""
    import importlib.util
    import sys

    done = []
    for name in DEFERRED_NUMPY:
        parent, _, child = name.rpartition(".")
        if name in sys.modules or parent not in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            continue
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        setattr(sys.modules[parent], child, module)  # `from numpy import *` then finds it without importing it
        done.append(name)
    return done


def _take_ahead(path: str | Path, dbu_per_um: float | None, map_method: str) -> _Ahead | None:
    """The read-ahead of this very case (same path and scale and method; deck and maps unchanged since it
    started), taken once; ``None`` when there is none (one for another case is dropped)."""
    if not _AHEAD:
        return None
    ahead = _AHEAD.pop()
    deck = _deck_of(path)
    if ahead.key != (os.path.realpath(path), _identity(deck), dbu_per_um, map_method):
        return None
    ahead.case.exception()  # wait for the reading: files changed during it are read again
    if _identity(deck) != ahead.key[1] or any(_identity(p) != i for p, i in ahead.maps.items()):
        return None
    return ahead
