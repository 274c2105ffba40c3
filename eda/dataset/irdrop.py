"""IR-drop dataset samples: a synthetic design, its PDN, contest-style features and exact labels.

One sample = one folder, readable by contest tooling and ``eda irdrop predict`` alike (the ICCAD'23
CAD Contest Problem C file names), plus our extras. **Sample folder format, version 1** (stable: new
files may be added, existing ones keep their name, shape, units and meaning)::

    <DIR>/raw/s000042/
      netlist.sp               static PDN deck, ICCAD'23 style: nodes ``n1_<layer>_<x>_<y>`` (layers m1 m4
                               m7 m8 m9, x/y in nm), ``R`` wires and vias, ``V`` bumps to ground at VDD,
                               ``I`` loads to ground = cycle-average currents (A), ``.op``
      current_map.csv          contest features (eda.pdn maps, 1 µm tiles, row i = x µm, column j = y µm):
      pdn_density.csv            current per tile (A), PDN density, effective distance to the bumps (µm)
      eff_dist_map.csv
      ir_drop_map.csv          static label: IR drop (V) of netlist.sp, exact solve (eda.pdn.solve)
      ir_drop_dynamic_map.csv  dynamic label: worst IR drop (V) over one clock period, exact transient of
                               netlist_dynamic.sp driven by load_currents.npy
      netlist_dynamic.sp       same network + decaps (C to ground on m1 nodes), package inductors from each
                               bump node to a ``_X_<bump>`` node carrying the V source, ``.tran step period``;
                               its I sources hold the cycle-average (DC) values
      load_times.npy           float64 (T+1,): time points over one period, 0 … period (s)
      load_currents.npy        float32 (T+1, n_loads): current of each I source of netlist_dynamic.sp (same
                               order as written, I0 I1 …) at each time point (A); pass both to
                               ``solve_transient(pdn, times=t, load_waveform=(t, i))``
      current_maps_t.npy       float32 (S, X, Y): mean current per tile over S equal time slices of the
                               period (A), same tiles as current_map.csv
      node_drop.csv            ``node,static_drop_v,dynamic_drop_v`` for every node of netlist.sp
      cells.csv                one row per placed cell: ``x_um,y_um,w_um,h_um,row,is_seq,leakage_w,
                               dynamic_w,activity,t_switch_s,t_width_s,avg_current_a,node_a,weight_a,
                               node_b,weight_b,internal_w,switching_w`` (lower-left corner; power in W,
                               dynamic = internal + switching; the cell draws weight_a of its current
                               from rail node node_a and weight_b from node_b: the cell-PDN relation)
      params.json              format version, seed, size, technology, design and PDN params, macros,
                               hotspots, summary (nodes, loads, pads, cells, total current, worst drops)

Every file is a pure function of (seed, size, steps, slices): the same seed gives byte-identical files
(timings go to the dataset manifest, never into the sample). Labels are exact solutions of the written
decks; ``eda dataset verify`` re-parses the decks, re-solves them and compares.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from eda.dataset.runner import one_blas_thread
from eda.errors import InputError

__all__ = ["SAMPLE_FORMAT", "GENERATOR_VERSION", "SIZE_DT", "make_irdrop_sample", "verify_sample",
           "build_irdrop_dataset", "STATIC_FILES", "IrdropSample", "read_sample", "with_pwl_loads"]

#: Version of the sample folder format documented above.
SAMPLE_FORMAT = 1

#: Version of the generators' sampling: part of a dataset's identity, so a resumed build never mixes
#: samples drawn by different generator code. Bump it whenever the same seed would give another sample.
GENERATOR_VERSION = 4

#: Target transient time step per size preset (s): the clock period is cut into ceil(period / dt) steps
#: (clipped to :data:`STEP_RANGE`). Labels are exact for the written deck and waveforms (load currents
#: averaged over each step); against a 0.5 ps reference the worst dynamic drop of small designs differs by
#: 0.1-5 % at 6 ps, 0.4-23 % at 12 ps, 2-41 % at 25 ps (``benchmarks/bench_dataset.py``), because cell pulses
#: are 20-80 ps wide and bump-fed blocks ring at GHz. Finer steps cost time and ``load_currents.npy`` size.
SIZE_DT = {"small": 5e-12, "medium": 8e-12, "large": 20e-12}
STEP_RANGE = (32, 600)

#: The ICCAD'23 contest files of a sample.
STATIC_FILES = ("netlist.sp", "current_map.csv", "pdn_density.csv", "eff_dist_map.csv", "ir_drop_map.csv")

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
        maps = _feature_maps(static, s_drop, d_drop, slice_cur)
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


def _feature_maps(static, s_drop: np.ndarray, d_drop: np.ndarray, slice_cur: np.ndarray) -> dict:
    """The four contest maps, the dynamic label map and time-sliced current maps, from ``eda.pdn.maps``."""
    from eda.pdn import maps as pm

    sm = pm.ir_drop_map(static, s_drop)
    shape = sm.shape
    return {
        "ir_drop_map": sm,
        "ir_drop_dynamic_map": pm.ir_drop_map(static, d_drop, shape=shape),
        "current_map": pm.current_map(static, shape=shape),
        "pdn_density": pm.pdn_density_map(static, shape=shape),
        "eff_dist_map": pm.effective_distance_map(static, shape=shape),
        "current_maps_t": np.stack([pm.current_map(static, shape=shape, currents=c) for c in slice_cur]),
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


def _read_map(path: Path) -> np.ndarray:
    try:
        return np.atleast_2d(np.loadtxt(path, delimiter=",", dtype=np.float64))
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read map: {e}", file=path) from None


def verify_sample(sample_dir: str | Path, dynamic: bool = True, rtol: float = 1e-6) -> dict:
    """Re-parse a sample's decks, re-solve them exactly and compare with its label maps.

    Args:
        sample_dir: the sample folder.
        dynamic: also re-run the transient (slower).
        rtol: tolerance relative to the worst drop (the CSV maps keep 9 significant digits).

    Returns:
        ``{"ok": bool, "static_max_err_v": ..., "dynamic_max_err_v": ..., ...}``.
    """
    d = Path(sample_dir)
    for f in STATIC_FILES:
        if not (d / f).exists():
            raise InputError(f"sample is missing {f}", file=d)
    with one_blas_thread():
        return _verify(d, dynamic, rtol)


def _verify(d: Path, dynamic: bool, rtol: float) -> dict:
    from eda.pdn import maps as pm
    from eda.pdn.parse import read_pdn
    from eda.pdn.solve import solve_static, solve_transient

    res: dict = {"sample": d.name}
    pdn = read_pdn(d / "netlist.sp")
    sres = solve_static(pdn)
    want = _read_map(d / "ir_drop_map.csv")
    got = pm.ir_drop_map(pdn, sres.drop)
    if got.shape != want.shape:
        raise InputError(f"ir_drop_map.csv has shape {want.shape}, the re-solve gives {got.shape}", file=d)
    scale = max(float(np.abs(want).max()), 1e-12)
    res["static_max_err_v"] = float(np.abs(got - want).max())
    res["static_worst_v"] = float(want.max())
    ok = res["static_max_err_v"] <= rtol * scale + 1e-12
    cur = pm.current_map(pdn, shape=want.shape)
    want_c = _read_map(d / "current_map.csv")
    res["current_max_err_a"] = float(np.abs(cur - want_c).max()) if cur.shape == want_c.shape else float("inf")
    ok &= res["current_max_err_a"] <= rtol * max(float(np.abs(want_c).max()), 1e-15) + 1e-15
    if dynamic:
        dpdn = read_pdn(d / "netlist_dynamic.sp")
        t = np.load(d / "load_times.npy")
        i = np.load(d / "load_currents.npy").astype(np.float64)
        dres = solve_transient(dpdn, times=t, load_waveform=(t, i))
        keep = ~np.char.startswith(dpdn.node_names.astype(str), "_X_")
        sub = _subset(dpdn, keep)
        gotd = pm.ir_drop_map(sub, dres.worst_drop[keep], shape=want.shape)
        wantd = _read_map(d / "ir_drop_dynamic_map.csv")
        res["dynamic_max_err_v"] = float(np.abs(gotd - wantd).max()) if gotd.shape == wantd.shape else float("inf")
        res["dynamic_worst_v"] = float(wantd.max())
        ok &= res["dynamic_max_err_v"] <= rtol * max(float(np.abs(wantd).max()), 1e-12) + 1e-12
    res["ok"] = bool(ok)
    return res


@dataclass
class IrdropSample:
    """A sample folder loaded into memory (see :func:`read_sample`).

    Attributes:
        path: the folder. params: ``params.json``.
        static: the static deck (``netlist.sp``).
        dynamic: the dynamic deck with each load turned into a PWL source from ``load_currents.npy``
            (``None`` when not asked for); ``dynamic.tran`` is ``(step, period)``.
        maps: ``current``, ``pdn_density``, ``eff_dist`` ``(X, Y)`` and ``current_t`` ``(S, X, Y)``.
        labels: ``static`` and ``dynamic`` IR-drop maps ``(X, Y)`` (V).
    """

    path: Path
    params: dict
    static: object
    dynamic: object | None
    maps: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)


def read_sample(sample_dir: str | Path, dynamic: bool = True) -> IrdropSample:
    """Load a sample folder: decks (the dynamic one with PWL loads attached), feature maps and labels.

    Raises:
        InputError: a missing file, or waveforms that do not match the dynamic deck.
    """
    from eda.pdn.parse import read_pdn

    d = Path(sample_dir)
    for f in (*STATIC_FILES, "params.json"):
        if not (d / f).exists():
            raise InputError(f"sample is missing {f}", file=d)
    params = json.loads((d / "params.json").read_text())
    static = read_pdn(d / "netlist.sp")
    maps = {"current": _read_map(d / "current_map.csv"), "pdn_density": _read_map(d / "pdn_density.csv"),
            "eff_dist": _read_map(d / "eff_dist_map.csv")}
    labels = {"static": _read_map(d / "ir_drop_map.csv")}
    if (d / "current_maps_t.npy").exists():
        maps["current_t"] = np.load(d / "current_maps_t.npy").astype(np.float64)
    if (d / "ir_drop_dynamic_map.csv").exists():
        labels["dynamic"] = _read_map(d / "ir_drop_dynamic_map.csv")
    dyn = None
    if dynamic:
        dyn = read_pdn(d / "netlist_dynamic.sp")
        t = np.load(d / "load_times.npy")
        cur = np.load(d / "load_currents.npy").astype(np.float64)
        ni = len(dyn.is_value)
        if cur.shape != (len(t), ni):
            raise InputError(f"load_currents.npy has shape {cur.shape}, expected ({len(t)}, {ni}) for the "
                             f"{ni} loads of netlist_dynamic.sp", file=d / "load_currents.npy")
        dyn = with_pwl_loads(dyn, t, cur)
    return IrdropSample(path=d, params=params, static=static, dynamic=dyn, maps=maps, labels=labels)


def with_pwl_loads(pdn, times: np.ndarray, currents: np.ndarray):
    """A copy of ``pdn`` whose current sources are PWL waveforms ``currents[:, k]`` over ``times``."""
    from dataclasses import replace

    from eda.pdn.model import WAVE_PWL

    ni = len(pdn.is_value)
    if currents.shape != (len(times), ni):
        raise InputError(f"currents must have shape ({len(times)}, {ni}), got {currents.shape}")
    return replace(pdn, is_kind=np.full(ni, WAVE_PWL, dtype=np.int8), is_pulse=np.full((ni, 7), np.nan),
                   pwl_start=np.arange(ni + 1, dtype=np.int64) * len(times), pwl_t=np.tile(times, ni),
                   pwl_v=np.ascontiguousarray(currents.T).ravel(), is_value=currents[0].copy())


def _subset(pdn, keep: np.ndarray):
    """The PDN's nodes where ``keep`` (coordinates only; elements dropped) for map rasterisation."""
    from eda.pdn.model import PDN

    sub = PDN(node_names=pdn.node_names[keep], node_net=pdn.node_net[keep], node_layer=pdn.node_layer[keep],
              node_x=pdn.node_x[keep], node_y=pdn.node_y[keep], layer_names=list(pdn.layer_names))
    return sub


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
    return build_dataset(out, n, fn, kind="irdrop", builder="eda.dataset.irdrop:make_irdrop_sample",
                         verifier="eda.dataset.irdrop:verify_sample", config=config, seed=seed, workers=workers,
                         scheduler=scheduler, progress=progress)
