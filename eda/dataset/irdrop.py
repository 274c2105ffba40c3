"""IR-drop dataset samples: a synthetic design, its PDN, contest-style features and exact labels.

One sample = one folder, readable by contest tooling and ``eda irdrop predict`` alike (the ICCAD'23
CAD Contest Problem C file names), plus our extras. **Sample folder format, version 3** (stable: new
files may be added, existing ones keep their name, shape, units and meaning)::

    <DIR>/raw/s000042/
      netlist.sp               static PDN deck, ICCAD'23 style: nodes ``n1_<layer>_<x>_<y>`` (layers m1 m4
                               m7 m8 m9, x/y in database units, 2000 per µm as in the contest), ``R`` wires
                               and vias, ``V`` bumps to ground at VDD, ``I`` loads to ground = cycle-average
                               currents (A), ``.op``
      current_map.csv          contest features (eda.pdn.maps, contest method, 1 µm grid, row i = x µm, column
      pdn_density.csv            j = y µm): current (A), PDN density, effective distance to the bumps (µm)
      eff_dist_map.csv
      ir_drop_map.csv          static label: IR drop (V) of netlist.sp, exact solve (eda.pdn.solve), m1 nodes
                               interpolated as the contest does (cubic griddata at integer µm points)
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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eda.dataset.runner import one_blas_thread
from eda.errors import InputError

__all__ = ["SAMPLE_FORMAT", "verify_sample", "STATIC_FILES", "IrdropSample", "read_sample", "with_pwl_loads",
           "sample_grid"]

#: Version of the sample folder format documented above (3: contest conventions, 2000 dbu/µm and the
#: contest generator's IR-drop map method; 2: the same with the earlier contest-style interpolation, map
#: method ``griddata``; 1: 1000 dbu/µm, per-tile maximum IR-drop map, per-tile current sums).
SAMPLE_FORMAT = 3

#: The ICCAD'23 contest files of a sample.
STATIC_FILES = ("netlist.sp", "current_map.csv", "pdn_density.csv", "eff_dist_map.csv", "ir_drop_map.csv")

def _read_map(path: Path) -> np.ndarray:
    from eda.pdn.mapcsv import read_map_csv

    return read_map_csv(path)


def sample_grid(params: dict) -> dict:
    """Map conventions of a sample from its ``params.json``: ``dbu_per_um``, ``method`` (IR-drop map) and
    ``current_method`` — format 3 follows the contest, older samples keep the conventions they were built
    with (so ``eda dataset verify`` still checks them)."""
    fmt = int(params.get("format", SAMPLE_FORMAT))
    if fmt >= 2:
        return {"dbu_per_um": 2000.0, "method": "contest" if fmt >= 3 else "griddata", "current_method": "contest"}
    return {"dbu_per_um": 1000.0, "method": "tile-max", "current_method": "tile-sum"}


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
    pf = d / "params.json"
    grid = sample_grid(json.loads(pf.read_text()) if pf.exists() else {})
    dbu, method = grid["dbu_per_um"], grid["method"]
    pdn = read_pdn(d / "netlist.sp")
    sres = solve_static(pdn)
    want = _read_map(d / "ir_drop_map.csv")
    got = pm.ir_drop_map(pdn, sres.drop, want.shape, dbu_per_um=dbu, method=method)
    if got.shape != want.shape:
        raise InputError(f"ir_drop_map.csv has shape {want.shape}, the re-solve gives {got.shape}", file=d)
    scale = max(float(np.abs(want).max()), 1e-12)
    res["static_max_err_v"] = float(np.abs(got - want).max())
    res["static_worst_v"] = float(want.max())
    ok = res["static_max_err_v"] <= rtol * scale + 1e-12
    cur = pm.current_map(pdn, shape=want.shape, dbu_per_um=dbu, method=grid["current_method"])
    want_c = _read_map(d / "current_map.csv")
    if cur.shape != want_c.shape:
        raise InputError(f"current_map.csv has shape {want_c.shape}, expected {cur.shape}", file=d)
    res["current_max_err_a"] = float(np.abs(cur - want_c).max())
    ok &= res["current_max_err_a"] <= rtol * max(float(np.abs(want_c).max()), 1e-15) + 1e-15
    if dynamic:
        dpdn = read_pdn(d / "netlist_dynamic.sp")
        t = np.load(d / "load_times.npy")
        i = np.load(d / "load_currents.npy").astype(np.float64)
        dres = solve_transient(dpdn, times=t, load_waveform=(t, i))
        keep = ~np.char.startswith(dpdn.node_names.astype(str), "_X_")
        sub = _subset(dpdn, keep)
        gotd = pm.ir_drop_map(sub, dres.worst_drop[keep], shape=want.shape, dbu_per_um=dbu, method=method)
        wantd = _read_map(d / "ir_drop_dynamic_map.csv")
        if gotd.shape != wantd.shape:
            raise InputError(f"ir_drop_dynamic_map.csv has shape {wantd.shape}, expected {gotd.shape}", file=d)
        res["dynamic_max_err_v"] = float(np.abs(gotd - wantd).max())
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
