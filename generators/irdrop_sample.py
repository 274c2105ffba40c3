"""The IR-drop sample builder: a synthetic design and its PDN, solved exactly, written as one sample folder.

It sits beside the generators it drives (:mod:`eda.generators.synth_design`, :mod:`eda.generators.synth_pdn`);
the sample folder format, its reader and its verifier are in the core (:mod:`eda.dataset.irdrop`). Decks and
maps follow the ICCAD'23 contest conventions exactly (2000 dbu/µm, the contest's map method), so contest
cases and synthetic samples mix in one training set.
"""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path

import numpy as np

from eda.dataset.irdrop import SAMPLE_FORMAT
from eda.dataset.runner import one_blas_thread
from eda.errors import InputError

__all__ = ["GENERATOR_VERSION", "SIZE_DT", "make_irdrop_sample", "build_irdrop_dataset"]

#: Version of the generators' sampling: part of a dataset's identity, so a resumed build never mixes
#: samples drawn by different generator code. Bump it whenever the same seed would give another sample.
GENERATOR_VERSION = 5

#: Target transient time step per size preset (s): the clock period is cut into ceil(period / dt) steps
#: (clipped to :data:`STEP_RANGE`). Labels are exact for the written deck and waveforms (load currents
#: averaged over each step); against a 0.5 ps reference the worst dynamic drop of small designs differs by
#: 0.1-5 % at 6 ps, 0.4-23 % at 12 ps, 2-41 % at 25 ps (``benchmarks/bench_dataset.py``), because cell pulses
#: are 20-80 ps wide and bump-fed blocks ring at GHz. Finer steps cost time and ``load_currents.npy`` size.
SIZE_DT = {"small": 5e-12, "medium": 8e-12, "large": 20e-12, "contest": 8e-12}
STEP_RANGE = (32, 600)

_CELL_COLUMNS = ("x_um", "y_um", "w_um", "h_um", "row", "is_seq", "leakage_w", "dynamic_w", "activity",
                 "t_switch_s", "t_width_s", "avg_current_a")
_CELL_EXTRA = ("internal_w", "switching_w")  # appended after the node columns (format 1 readers use names)


def make_irdrop_sample(seed: int, out_dir: str | Path, size: str = "small", n_steps: int | None = None,
                       n_slices: int = 8, pad_pattern: str | None = None) -> dict:
    """Generate one IR-drop sample into ``out_dir`` (see the module docstring for the files).

    Args:
        seed: the sample's seed (everything is drawn from it).
        out_dir: folder to write (created).
        size: ``small``, ``medium`` or ``large`` (die size and rail resolution; ``large`` ≥ 250k nodes).
        n_steps: transient steps per clock period (default: from :data:`SIZE_DT` and the sample's clock).
        n_slices: time slices of ``current_maps_t.npy``.
        pad_pattern: force ``ring``, ``array`` or ``sparse`` bumps (default: drawn).

    Returns:
        Summary numbers and per-phase timings (for the manifest).
    """
    from eda.generators.synth_design import SIZES, make_design, sample_design_params
    from eda.generators.synth_pdn import make_pdn, sample_pdn_params
    from eda.pdn.solve import solve_static, solve_transient
    from eda.pdn.write import write_map_csv, write_pdn

    if size not in SIZES:
        raise InputError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    if n_steps is not None and n_steps < 2:
        raise InputError(f"n_steps must be at least 2, got {n_steps}")
    if n_slices < 1:
        raise InputError(f"n_slices must be at least 1, got {n_slices}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tm: dict[str, float] = {}
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    dparams = sample_design_params(rng, size, seed=int(rng.integers(0, 2**31 - 1)))
    design = make_design(dparams)
    pparams = sample_pdn_params(design, rng, size, pad_pattern=pad_pattern)
    net = make_pdn(design, pparams)
    static = net.static_pdn()
    steps = int(n_steps) if n_steps is not None else int(np.clip(np.ceil(design.period / SIZE_DT[size]), *STEP_RANGE))
    dynamic, (times, currents) = net.dynamic_pdn(steps)
    # The waveforms are stored as float32: solve with exactly what is stored.
    currents = currents.astype(np.float32).astype(np.float64)
    tm["generate"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    sres = solve_static(static)
    tm["static_solve"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    dres = solve_transient(dynamic, times=times, load_waveform=(times, currents))
    tm["dynamic_solve"] = time.perf_counter() - t1
    n = net.n_nodes
    s_drop = sres.drop[:n]
    d_drop = dres.worst_drop[:n]

    t1 = time.perf_counter()
    T = design.period
    edges = np.linspace(0.0, T, n_slices + 1)
    slice_cur = net.window_currents(edges[:-1], edges[1:])
    with one_blas_thread():  # the map interpolation is BLAS-bound in tiny calls: threads only spin
        maps = _feature_maps(static, s_drop, d_drop, slice_cur, float(design.tech.dbu_per_um))
    tm["maps"] = time.perf_counter() - t1

    t1 = time.perf_counter()
    write_pdn(static, out / "netlist.sp", analysis="op")
    write_pdn(dynamic, out / "netlist_dynamic.sp", analysis="tran")
    for name in ("current_map", "pdn_density", "eff_dist_map", "ir_drop_map", "ir_drop_dynamic_map"):
        write_map_csv(maps[name], out / f"{name}.csv")
    np.save(out / "load_times.npy", times.astype(np.float64))
    np.save(out / "load_currents.npy", currents.astype(np.float32))
    np.save(out / "current_maps_t.npy", maps["current_maps_t"].astype(np.float32))
    _write_node_drop(out / "node_drop.csv", net.names, s_drop, d_drop)
    _write_cells(out / "cells.csv", net)
    summary = {
        "nodes": int(n), "resistors": int(len(net.res_value)), "vias": int(net.is_via.sum()),
        "loads": int(net.n_loads), "pads": int(len(net.pads)), "decaps": int(len(net.cap_node)),
        "cells": int(design.n_cells), "macros": int(len(design.macros)),
        "total_current_a": float(static.is_value.sum()), "vdd": float(design.vdd),
        "worst_static_drop_v": float(s_drop.max()), "worst_dynamic_drop_v": float(d_drop.max()),
        "map_shape": list(maps["ir_drop_map"].shape), "n_steps": steps, "n_slices": int(n_slices),
    }
    params = {
        "format": SAMPLE_FORMAT, "generator": GENERATOR_VERSION, "kind": "irdrop", "seed": int(seed), "size": size,
        "tech": design.tech.name, "design": dparams.model_dump(), "pdn": pparams.model_dump(),
        "macros_um": design.macros.round(4).tolist(), "macro_power_w": design.macro_power.tolist(),
        "hotspots": [dict(zip(("x_um", "y_um", "sigma_um", "activity_gain"), map(float, h), strict=True))
                     for h in design.hotspots],
        "clock_period_s": T, "summary": summary,
    }
    (out / "params.json").write_text(json.dumps(params, indent=2, sort_keys=True) + "\n")
    tm["write"] = time.perf_counter() - t1
    return {**summary, "timings": {k: round(v, 4) for k, v in tm.items()}}


def _feature_maps(static, s_drop: np.ndarray, d_drop: np.ndarray, slice_cur: np.ndarray, dbu: float) -> dict:
    """The four contest maps, the dynamic label map and time-sliced current maps (contest conventions)."""
    from eda.dataset.irdrop import sample_grid
    from eda.pdn import maps as pm

    grid = sample_grid({"format": SAMPLE_FORMAT})
    if dbu != grid["dbu_per_um"]:
        raise InputError(f"the technology writes {dbu:g} dbu/um; sample format {SAMPLE_FORMAT} needs "
                         f"{grid['dbu_per_um']:g}")
    shape = pm.map_shape(static, dbu)
    m = grid["method"]
    return {
        "ir_drop_map": pm.ir_drop_map(static, s_drop, shape, dbu_per_um=dbu, method=m),
        "ir_drop_dynamic_map": pm.ir_drop_map(static, d_drop, shape, dbu_per_um=dbu, method=m),
        "current_map": pm.current_map(static, shape, dbu_per_um=dbu, method=grid["current_method"]),
        "pdn_density": pm.pdn_density_map(static, shape, dbu_per_um=dbu),
        "eff_dist_map": pm.effective_distance_map(static, shape, dbu_per_um=dbu),
        "current_maps_t": pm.current_map(static, shape, np.asarray(slice_cur).T, dbu_per_um=dbu,
                                         method=grid["current_method"]),
    }


def _fmt(a: np.ndarray, fmt: str) -> list[str]:
    return [fmt % v for v in a.tolist()]


def _write_node_drop(path: Path, names: np.ndarray, s: np.ndarray, d: np.ndarray) -> None:
    lines = [f"{a},{b!r},{c!r}" for a, b, c in zip(names.tolist(), s.tolist(), d.tolist(), strict=True)]
    path.write_text("node,static_drop_v,dynamic_drop_v\n" + "\n".join(lines) + "\n")


def _write_cells(path: Path, net) -> None:
    cols = net.design.cell_table()
    fmts = {"row": "%d", "is_seq": "%d"}
    data = [_fmt(np.asarray(cols[c]), fmts.get(c, "%.6g")) for c in _CELL_COLUMNS]
    na = net.names[net.load_nodes[net.cell_load[0]]].tolist()
    nb = net.names[net.load_nodes[net.cell_load[1]]].tolist()
    data += [na, _fmt(net.cell_weight[0], "%.6g"), nb, _fmt(net.cell_weight[1], "%.6g")]
    data += [_fmt(np.asarray(cols[c]), "%.6g") for c in _CELL_EXTRA]
    header = ",".join((*_CELL_COLUMNS, "node_a", "weight_a", "node_b", "weight_b", *_CELL_EXTRA))
    path.write_text(header + "\n" + "\n".join(",".join(r) for r in zip(*data, strict=True)) + "\n")


def build_irdrop_dataset(out: str | Path, n: int, *, size: str = "small", seed: int = 0, workers: int = 1,
                         scheduler=None, n_steps: int | None = None, n_slices: int = 8,
                         pad_pattern: str | None = None, progress: bool = True):
    """Build (or resume) an IR-drop dataset of ``n`` samples under ``out/raw`` (see :mod:`eda.dataset.runner`).

    Returns:
        The :class:`~eda.dataset.runner.BuildReport`.
    """
    from eda.dataset.runner import build_dataset
    from eda.generators.synth_design import SIZES

    if size not in SIZES:
        raise InputError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    config = {"size": size, "n_steps": n_steps, "n_slices": int(n_slices), "pad_pattern": pad_pattern,
              "sample_format": SAMPLE_FORMAT, "generator": GENERATOR_VERSION}
    fn = partial(make_irdrop_sample, size=size, n_steps=n_steps, n_slices=n_slices, pad_pattern=pad_pattern)
    return build_dataset(out, n, fn, kind="irdrop", builder="eda.generators.irdrop_sample:make_irdrop_sample",
                         verifier="eda.dataset.irdrop:verify_sample", config=config, seed=seed, workers=workers,
                         scheduler=scheduler, progress=progress)
