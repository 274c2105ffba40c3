"""Deck-to-folder pipelines behind ``eda irdrop solve`` and ``eda irdrop maps``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from eda.errors import InputError

__all__ = ["solve_to_dir", "maps_to_dir", "MAP_FILES"]

#: Contest file names of the four maps.
MAP_FILES = {"current": "current_map.csv", "pdn_density": "pdn_density.csv", "eff_dist": "eff_dist_map.csv",
             "ir_drop": "ir_drop_map.csv"}


def solve_to_dir(deck: str | Path, out: str | Path, mode: str = "static", probes: list[str] | None = None,
                 method: str = "auto", step: float | None = None, stop: float | None = None,
                 integration: str = "trap", progress: bool = True, pictures: bool = True) -> dict:
    """Parse and solve a deck; write voltages, the IR-drop map, a picture and a summary under ``out``.

    Files: ``voltages.csv`` (DC ``node,voltage``, every node), ``ir_drop_map.csv`` and ``ir_drop.png``
    (when names carry coordinates; dynamic mode maps the worst drop over time), ``summary.json``; in
    dynamic mode also ``worst_drop.csv`` (``node,worst_drop``), ``waveforms.csv`` and ``waveforms.png``.

    Returns:
        The summary dict.
    """
    from eda.pdn import maps as pm
    from eda.pdn.parse import read_pdn
    from eda.pdn.solve import solve_static, solve_transient
    from eda.pdn.write import write_map_csv, write_voltages_csv

    if mode not in ("static", "dynamic"):
        raise InputError(f"mode must be 'static' or 'dynamic', got {mode!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pdn = read_pdn(deck)
    t_parse = time.perf_counter() - t0
    summary: dict = {"deck": str(deck), "mode": mode, **pdn.summary()}
    t1 = time.perf_counter()
    st = solve_static(pdn, method=method)
    t_static = time.perf_counter() - t1
    write_voltages_csv(pdn.node_names, st.voltage, out / "voltages.csv")
    worst_node = int(np.argmax(st.drop))
    summary.update(unknowns=st.n_unknowns, solver=st.method, ordering=st.ordering,
                   worst_static_drop_V=float(st.drop.max()), worst_static_node=str(pdn.node_names[worst_node]),
                   seconds={"parse": round(t_parse, 4), "static_solve": round(t_static, 4)})
    drop = st.drop
    if mode == "dynamic":
        probes = list(probes or [])
        if not probes:
            probes = [str(pdn.node_names[worst_node])]
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
        write_voltages_csv(pdn.node_names, drop, out / "worst_drop.csv", header="node,worst_drop")
        cols = np.column_stack([tr.times] + [tr.probes[p] for p in probes])
        np.savetxt(out / "waveforms.csv", cols, delimiter=",", header=",".join(["time"] + probes), comments="",
                   fmt="%.12g")
        if pictures:
            from eda.pdn.plot import plot_waveforms

            plot_waveforms(tr.times, tr.probes, out / "waveforms.png")
    if pdn.has_coordinates:
        m = pm.ir_drop_map(pdn, drop)
        write_map_csv(m, out / "ir_drop_map.csv")
        summary["map_shape"] = list(m.shape)
        if pictures:
            from eda.pdn.plot import plot_map

            title = "worst dynamic IR drop" if mode == "dynamic" else "static IR drop"
            plot_map(m, out / "ir_drop.png", title=title, unit="V")
    summary["seconds"]["total"] = round(time.perf_counter() - t0, 4)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def maps_to_dir(deck: str | Path, out: str | Path, pictures: bool = True) -> dict[str, Path]:
    """Write the four contest maps of a deck (three features + the static IR-drop label) as CSV and PNG."""
    from eda.pdn import maps as pm
    from eda.pdn.parse import read_pdn
    from eda.pdn.solve import solve_static
    from eda.pdn.write import write_map_csv

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pdn = read_pdn(deck)
    shape = pm.map_shape(pdn)
    maps = pm.feature_maps(pdn, shape)
    maps["ir_drop"] = pm.ir_drop_map(pdn, solve_static(pdn).drop, shape)
    units = {"current": "A", "pdn_density": "um/um2", "eff_dist": "um", "ir_drop": "V"}
    titles = {"current": "current", "pdn_density": "PDN density", "eff_dist": "effective distance to pads",
              "ir_drop": "static IR drop"}
    written = {}
    for k, m in maps.items():
        written[k] = write_map_csv(m, out / MAP_FILES[k])
        if pictures:
            from eda.pdn.plot import plot_map

            plot_map(m, out / MAP_FILES[k].replace(".csv", ".png"), title=titles[k], unit=units[k],
                     cmap="viridis" if k != "ir_drop" else "inferno")
    return written
