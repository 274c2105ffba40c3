"""Tiny PDNs, maps and sample folders for the PDNGraph / PDNNet tests (no dataset generator needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from eda.pdn.grid import make_grid
from eda.pdn.model import GROUND, PDN, WAVE_PWL
from eda.pdn.solve import solve_static, solve_transient


def tiny_pdn() -> PDN:
    """A 2-layer PDN: m1 nodes (0..3) along x at 0.5, 1.5, 2.5, 3.5 µm, y = 0.5 µm; m4 nodes above 0 and 3.

    m1 wires 1 Ω, vias 0.5 Ω, m4 wire 0.25 Ω, a pad on m4 node 4; loads on m1 nodes 1 and 2; a decap on 3.
    """
    names = ["n1_m1_1000_1000", "n1_m1_3000_1000", "n1_m1_5000_1000", "n1_m1_7000_1000",
             "n1_m4_1000_1000", "n1_m4_7000_1000"]  # contest units: 2000 per µm
    return PDN.from_names(
        names,
        res_a=[0, 1, 2, 0, 3, 4], res_b=[1, 2, 3, 4, 5, 5], res_value=[1.0, 1.0, 1.0, 0.5, 0.5, 0.25],
        vs_a=[4], vs_b=[GROUND], vs_value=[1.0],
        is_a=[1, 2], is_b=[GROUND, GROUND], is_value=[1e-3, 2e-3],
        cap_a=[3], cap_b=[GROUND], cap_value=[1e-12],
    )


def rasterise_label(pdn: PDN, drop: np.ndarray, shape, dbu: float = 2000.0) -> np.ndarray:
    """Test-only label map: each tile takes the drop of its nearest bottom-layer node."""
    b = pdn.node_layer == 0
    gx, gy = np.meshgrid(np.arange(shape[0]) + 0.5, np.arange(shape[1]) + 0.5, indexing="ij")
    _, j = cKDTree(np.c_[pdn.node_x[b] / dbu, pdn.node_y[b] / dbu]).query(np.c_[gx.ravel(), gy.ravel()])
    return drop[b][j].reshape(shape)


def current_map(pdn: PDN, shape, currents=None, dbu: float = 2000.0) -> np.ndarray:
    cur = pdn.is_value if currents is None else currents
    m = np.zeros(shape)
    n = np.where(pdn.is_b == GROUND, pdn.is_a, pdn.is_b)
    np.add.at(m, (np.floor(pdn.node_x[n] / dbu).astype(int), np.floor(pdn.node_y[n] / dbu).astype(int)), cur)
    return m


def grid_case(seed: int, w: float = 30.0, h: float = 24.0, **kw):
    """A small grid PDN with hotspot loads, its maps and its exact static label."""
    from eda.graphs.pdn_graph import map_shape_for

    rng = np.random.default_rng(seed)
    pdn = make_grid(width_um=w, height_um=h, seed=seed, load="hotspot", pad_pitch_um=float(rng.uniform(12, 24)),
                    via_r=float(rng.uniform(0.2, 2.0)), **kw)
    shape = map_shape_for(pdn)
    gx, gy = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    maps = {"current": current_map(pdn, shape), "pdn_density": np.ones(shape) + 0.1 * (gx % 4 == 0),
            "eff_dist": np.hypot(gx - shape[0] / 2, gy - shape[1] / 2)}
    label = rasterise_label(pdn, solve_static(pdn).drop, shape)
    return pdn, maps, label


def write_sample(d: Path, seed: int, n_slices: int = 4) -> Path:
    """A sample folder in the dataset's format (static + dynamic), labels from exact solves."""
    from eda.pdn.write import write_map_csv, write_pdn

    d.mkdir(parents=True, exist_ok=True)
    pdn, maps, label = grid_case(seed)
    shape = label.shape
    dyn = make_grid(width_um=30.0, height_um=24.0, seed=seed, load="hotspot",
                    pad_pitch_um=float(np.random.default_rng(seed).uniform(12, 24)),
                    via_r=float(np.random.default_rng(seed).uniform(0.2, 2.0)), decap=2e-14, pad_inductance=1e-11)
    times = np.linspace(0, 1e-9, 41)
    rng = np.random.default_rng(seed + 1)
    phase = rng.uniform(0, 1e-9, len(dyn.is_value))
    cur = dyn.is_value[None, :] * (1 + 2 * np.exp(-(((times[:, None] - phase[None, :]) / 5e-11) ** 2)))
    cur = cur.astype(np.float32).astype(np.float64)
    tr = solve_transient(dyn, times=times, load_waveform=(times, cur))
    keep = ~np.char.startswith(dyn.node_names.astype(str), "_X_")
    sub = PDN.from_names(dyn.node_names[keep])
    dlabel = rasterise_label(sub, tr.worst_drop[keep], shape)
    edges = np.linspace(0, 1e-9, n_slices + 1)
    ct = np.stack([current_map(dyn, shape, cur[(times >= a) & (times <= b)].mean(0)) for a, b in
                   zip(edges[:-1], edges[1:], strict=True)])
    write_pdn(pdn, d / "netlist.sp", analysis="op")
    dyn.tran = (2.5e-11, 1e-9)
    write_pdn(dyn, d / "netlist_dynamic.sp", analysis="tran")
    for name, m in (("current_map", maps["current"]), ("pdn_density", maps["pdn_density"]),
                    ("eff_dist_map", maps["eff_dist"]), ("ir_drop_map", label), ("ir_drop_dynamic_map", dlabel)):
        write_map_csv(m, d / f"{name}.csv")
    np.save(d / "load_times.npy", times)
    np.save(d / "load_currents.npy", cur.astype(np.float32))
    np.save(d / "current_maps_t.npy", ct.astype(np.float32))
    (d / "params.json").write_text(json.dumps({"format": 1, "kind": "irdrop", "seed": seed}))
    return d


def pwl_pdn() -> PDN:
    """tiny_pdn with its two loads as PWL sources (for slice tests)."""
    from dataclasses import replace

    p = tiny_pdn()
    t = np.array([0.0, 1e-9, 2e-9, 4e-9, 0.0, 3e-9])
    v = np.array([0.0, 2e-3, 0.0, 0.0, 1e-3, 4e-3])
    return replace(p, is_kind=np.full(2, WAVE_PWL, dtype=np.int8), pwl_start=np.array([0, 4, 6]), pwl_t=t,
                   pwl_v=v, is_pulse=np.full((2, 7), np.nan), tran=(1e-10, 4e-9))
