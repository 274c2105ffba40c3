"""Case-to-folder pipelines behind ``eda irdrop solve`` and ``eda irdrop maps``.

Both take a contest case folder (``testcaseN/``), a deck (a flat contest ``current_mapNN.sp`` with its
CSVs beside it, or any bare deck) — see :func:`eda.pdn.contest.read_case`. When the case has given maps,
ours take their shape and the database units per µm are fitted to them; ``summary.json`` records the
scale used and, when a golden ``ir_drop`` map is present, our map's scores against it.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from eda.errors import InputError

__all__ = ["solve_to_dir", "maps_to_dir", "MAP_FILES", "load_case"]

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
    # the solver's and the interpolation's modules and solves; it then evaluates the map while this thread writes
    # the voltages (NumPy, Qhull, SuperLU and the interpolation release the GIL). The triangulation is the longer
    # of the two lanes: nothing else is queued before it.
    worker = ThreadPoolExecutor(max_workers=1)
    spatial = worker.submit(_load_modules, "scipy.spatial")
    try:
        case, pdn = load_case(deck, dbu_per_um)
        t_parse = time.perf_counter() - t0
        grid = _grid(case, pdn)  # fits the scale before any solve: a wrong --dbu-per-um fails fast
        # the triangulation needs node positions only: it starts before the network check and the solver's
        # imports
        geo = worker.submit(_timed, pm.map_geometry, pdn, grid[1], grid[0], map_method) if grid else None
        from eda.pdn.check import check_pdn
        from eda.pdn.solve import solve_static, solve_transient
        from eda.pdn.write import write_map_csv, write_voltages_csv

        if geo is not None and map_method != "tile-max":
            # the map's interpolation module (0.1-0.2 s of imports, GIL-bound) loads here, once the triangulation
            # runs (Qhull releases the GIL), not before it in the worker's queue
            spatial.result()
            _load_modules("scipy.interpolate")
        check_pdn(pdn)
        summary: dict = {"deck": str(case.deck), "case": case.name, "mode": mode, **pdn.summary(),
                         "reader": getattr(pdn, "reader", None)}
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
            summary.update(map_shape=list(m.shape), dbu_per_um=grid[0], map_method=map_method)
            if mode == "static" and "ir_drop" in case.map_paths:
                from eda.pdn.metrics import score

                summary["vs_given_ir_drop_map"] = score(m, case.maps["ir_drop"])
            if pictures:
                from eda.pdn.plot import plot_map

                title = "worst dynamic IR drop" if mode == "dynamic" else "static IR drop"
                plot_map(m, out / "ir_drop.png", title=title, unit="V")
    finally:
        worker.shutdown(wait=True, cancel_futures=True)
    summary["seconds"]["write"] = round(t_write, 4)
    summary["seconds"]["total"] = round(time.perf_counter() - t0, 4)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False))
    return summary


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

    case, pdn = load_case(deck, dbu_per_um)
    check_pdn(pdn)
    grid = _grid(case, pdn)
    if grid is None:
        pm.require_coords(pdn)
    dbu, shape = grid
    maps = pm.feature_maps(pdn, shape, dbu_per_um=dbu)
    maps["ir_drop"] = pm.ir_drop_map(pdn, solve_static(pdn).drop, shape, dbu_per_um=dbu, method=map_method)
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
               "map_method": map_method}
    if case.map_paths:
        from eda.pdn.metrics import mae, pearson_cc

        summary["vs_given"] = {k: {"mae": mae(maps[k], g), "max_abs_given": float(np.abs(g).max()),
                                   "cc": pearson_cc(maps[k], g)} for k, g in case.maps.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False))
    return written
