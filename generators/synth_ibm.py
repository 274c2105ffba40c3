"""Synthetic dynamic IR-drop samples in the regime of the IBM transient power-grid decks (``ibmpg*t``).

The design generator (:mod:`eda.generators.synth_design`) draws cells whose switching pulses are 20-80 ps
wide on a lightly decoupled contest-style grid; the published IBM transient decks are another regime:
VDD *and* GND nets, PULSE loads whose peak is ~2,500× their DC value (10 ps top, 100 ps edges, a 2-3 ns
period, a handful of delay groups), 80-270 pF of decap per load behind a 4 Ω series resistor, 1 nH
package inductors — their worst dynamic drop is ~300× the static one. This generator draws decks around
and well beyond that regime (every range below is log-uniform and contains ibmpg1t's value), written in
the IBM deck style the models meet there: ``n<k>_x_y`` names without layers (``k``: 0/1 bottom GND/VDD,
2/3 top GND/VDD), 0-V sources as vias (or small resistors), decaps behind an ``_Z_`` node, pads behind an
``_X_`` (R) and ``_Y_`` (L) node::

    top     n3 ═══●═══════●═══     pads: V — L — R to some top nodes (VDD at vdd, GND at 0 V)
            n2   ═══●═══════●═══   GND stripes interleaved with VDD, half a pitch away
    vias    0-V sources (or R) where a top stripe crosses a bottom stripe of its net
    bottom  n1  ║ ║ ║ ║ ║ ║        loads (PULSE) on bottom nodes, mirrored into the GND net;
            n0   ║ ║ ║ ║ ║ ║       decap C + ESR to ground at each load node

| quantity | range drawn | ibmpg1t |
|---|---|---|
| load peak / DC | 5 … 5,000 | 2,500 |
| pulse top width | 10 … 500 ps | 10 ps |
| rise / fall | 10 … 300 ps | 100 ps |
| period | 1 … 4 ns | 2-3 ns |
| decap per load | 1 pF … 500 pF | 79-269 pF |
| decap ESR | 0.3 … 10 Ω | 1.9-6.3 Ω |
| package L / R per pad | 0.1 … 3 nH / 0.02 … 1 Ω | 1 nH / 0.25 Ω |

Samples are written in the sample-folder format (:mod:`eda.dataset.irdrop`) at the scale such decks get
(1000 database units per map pixel); the labels are exact (:func:`eda.pdn.solve.solve_transient` on the
stored waveforms, 10 ps steps, which put every pulse corner on the time grid), the maps take the worst drop
per pixel (``tile-max``: a worst-drop map must not overshoot between nodes).
"""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path

import numpy as np

from eda.errors import InputError

__all__ = ["IBM_STYLE_VERSION", "IBM_DT", "make_ibm_style_pdn", "make_ibm_style_sample", "build_ibm_style_dataset",
           "ibm_style_maps"]

#: Version of this generator's sampling (part of a dataset's identity).
IBM_STYLE_VERSION = 1
#: Transient step (s): ibmpg1t's own.
IBM_DT = 10e-12
#: Map scale of IBM-style decks: database units per map pixel (the default of decks without layer names).
IBM_DBU = 1000.0
MAP_METHOD = "tile-max"


def _logu(rng: np.random.Generator, lo: float, hi: float, size=None):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size))


def _stripes(extent: float, pitch: float, offset: float) -> np.ndarray:
    return np.round(np.arange(offset, extent, pitch)).astype(np.int64)


def _draw_params(rng: np.random.Generator, seed: int, max_nodes: int, scale: int) -> dict:
    """The deck's parameters (see the module table), drawn in a fixed order from ``rng``."""
    W = float(rng.uniform(8000, 22000)) * scale
    H = W * float(rng.uniform(0.75, 1.33))
    n_bot = int(rng.integers(10, 26)) * scale  # bottom (vertical) stripes per net
    n_top = int(rng.integers(6, 16)) * scale  # top (horizontal) stripes per net
    tap = float(rng.uniform(250, 900))  # extra nodes along the bottom stripes
    while n_bot * (H / tap + n_top) * 2 + n_top * n_bot * 2 > max_nodes / 2 and tap < H:  # two nets
        tap *= 1.25  # (the stripes alone may exceed a small budget: then the taps just get sparse)
    p = {"seed": int(seed), "width": W, "height": H, "n_bottom_stripes": n_bot, "n_top_stripes": n_top, "tap": tap,
         "r_bottom_per_unit": float(_logu(rng, 3e-3, 5e-2)), "r_top_per_unit": float(_logu(rng, 1e-4, 3e-3)),
         "via": "short" if rng.random() < 0.6 else float(_logu(rng, 0.01, 0.5)),
         "pad_pitch": float(rng.uniform(0.18, 0.5)) * min(W, H), "r_pkg": float(_logu(rng, 0.02, 1.0)),
         "l_pkg": 0.0 if rng.random() < 0.1 else float(_logu(rng, 1e-10, 3e-9)),
         "load_fraction": float(rng.uniform(0.3, 1.0)), "peak_a": float(_logu(rng, 2e-3, 0.1)),
         "peak_over_dc": float(_logu(rng, 5, 5000)), "rise": IBM_DT * int(rng.integers(1, 31)),
         "fall": IBM_DT * int(rng.integers(1, 31)), "width_s": IBM_DT * int(_logu(rng, 1, 50.99)),
         "period": IBM_DT * int(round(float(_logu(rng, 1e-9, 4e-9)) / IBM_DT)), "delay_groups": int(rng.integers(1, 9)),
         "decap_f": float(_logu(rng, 1e-12, 5e-10)), "esr": float(_logu(rng, 0.3, 10.0)),
         "gnd": bool(rng.random() < 0.8), "vdd": 1.8, "hotspots": int(rng.integers(0, 4))}
    p["period"] = max(p["period"], p["rise"] + p["fall"] + p["width_s"] + 10 * IBM_DT)
    return p


def make_ibm_style_pdn(seed: int, max_nodes: int = 6000, scale: int = 1):
    """One IBM-style dynamic deck (:class:`~eda.pdn.model.PDN` with PULSE loads, decaps, package RL, ``.tran``).

    Args:
        seed: everything is drawn from it.
        max_nodes: node budget (the spacing of the extra bottom nodes grows until the deck fits).
        scale: die side and stripe counts times ``scale`` (same pitches; ``scale=9`` gives ~250k nodes for
            the speed benchmark).

    Returns:
        ``(pdn, params)``: the deck and the drawn parameters (JSON-able).
    """
    from scipy.spatial import cKDTree

    from eda.pdn.model import GROUND, PDN, WAVE_PULSE

    rng = np.random.default_rng(seed)
    p = _draw_params(rng, seed, max_nodes, scale)
    W, H, tap = p["width"], p["height"], p["tap"]
    pb, pt = W / p["n_bottom_stripes"], H / p["n_top_stripes"]

    names: list[np.ndarray] = []
    xs, ys = [], []
    count = [0]

    def add(prefix: str, x, y) -> np.ndarray:
        x, y = np.asarray(x, dtype=np.int64), np.asarray(y, dtype=np.int64)
        idx = count[0] + np.arange(len(x))
        count[0] += len(x)
        names.append(np.char.add(np.char.add(np.char.add(prefix, x.astype(str)), "_"), y.astype(str)))
        xs.append(x), ys.append(y)
        return idx

    res: list[tuple] = []
    vs: list[tuple] = []
    ind: list[tuple] = []
    nets = [(1, 3, 0.0, p["vdd"])] + ([(0, 2, 0.5, 0.0)] if p["gnd"] else [])
    bottoms = {}
    for kb, kt, shift, v in nets:
        bx = _stripes(W, pb, pb * (0.25 + shift))
        ty = _stripes(H, pt, pt * (0.25 + shift))
        along = np.unique(np.concatenate([_stripes(H, tap, tap * 0.5), ty]))
        BX, BY = np.meshgrid(bx, along, indexing="ij")  # bottom: vertical stripes
        bot = add(f"n{kb}_", BX.ravel(), BY.ravel()).reshape(BX.shape)
        TX, TY = np.meshgrid(bx, ty, indexing="ij")  # top: horizontal stripes, a node over each bottom stripe
        top = add(f"n{kt}_", TX.ravel(), TY.ravel()).reshape(TX.shape)
        dl = np.diff(along).astype(np.float64)
        res.append((bot[:, :-1].ravel(), bot[:, 1:].ravel(), np.tile(dl * p["r_bottom_per_unit"], len(bx))))
        res.append((top[:-1, :].ravel(), top[1:, :].ravel(),
                    np.repeat(np.diff(bx).astype(np.float64) * p["r_top_per_unit"], len(ty))))
        cross = bot[:, np.searchsorted(along, ty)]
        if p["via"] == "short":
            vs.append((cross.ravel(), top.ravel(), np.zeros(top.size)))
        else:
            res.append((cross.ravel(), top.ravel(), np.full(top.size, float(p["via"]))))
        # pads: the top nodes nearest a pad array (pitch pad_pitch, shifted for GND)
        pp = p["pad_pitch"]
        gx, gy = np.meshgrid(np.arange(pp * (0.5 + shift / 2), W, pp), np.arange(pp * (0.5 + shift / 2), H, pp))
        _, near = cKDTree(np.column_stack([TX.ravel(), TY.ravel()])).query(np.column_stack([gx.ravel(), gy.ravel()]))
        pads = np.unique(top.ravel()[near])
        px, py = np.concatenate(xs)[pads], np.concatenate(ys)[pads]
        xn = add(f"_X_n{kt}_", px, py)
        res.append((pads, xn, np.full(len(pads), p["r_pkg"])))
        if p["l_pkg"] > 0:
            yn = add(f"_Y_n{kt}_", px, py)
            ind.append((yn, xn, np.full(len(pads), p["l_pkg"])))
            vs.append((yn, np.full(len(pads), GROUND), np.full(len(pads), v)))
        else:
            vs.append((xn, np.full(len(pads), GROUND), np.full(len(pads), v)))
        bottoms[kb] = (bot, bx, along)

    # loads on VDD bottom nodes (mirrored onto the nearest GND bottom node), decaps at every load node
    bot, bx, along = bottoms[1]
    X = np.concatenate(xs)
    Y = np.concatenate(ys)
    cand = bot.ravel()
    sel = np.sort(rng.choice(cand, max(int(p["load_fraction"] * len(cand)), 1), replace=False))
    dens = np.ones(len(sel))
    for _ in range(p["hotspots"]):
        cx, cy, r = rng.uniform(0, W), rng.uniform(0, H), rng.uniform(0.1, 0.35) * min(W, H)
        dens += rng.uniform(1, 6) * np.exp(-((X[sel] - cx) ** 2 + (Y[sel] - cy) ** 2) / (2 * r * r))
    peak = p["peak_a"] * dens / dens.max() * rng.uniform(0.6, 1.0, len(sel))
    dc = peak / p["peak_over_dc"]
    groups = IBM_DT * rng.integers(0, int(0.7 * p["period"] / IBM_DT) + 1, p["delay_groups"])
    td = groups[rng.integers(0, len(groups), len(sel))]
    load_nodes = [sel]
    if p["gnd"]:
        gb = bottoms[0][0].ravel()
        _, nn = cKDTree(np.column_stack([X[gb], Y[gb]])).query(np.column_stack([X[sel], Y[sel]]))
        load_nodes.append(gb[nn])
    cap, isrc = [], []
    for k, ln in enumerate(load_nodes):
        # one decap per load; loads sharing a GND node share its decap node (k parallel branches: k·C, ESR/k)
        un, cnt = np.unique(ln, return_counts=True)
        zn = add(f"_Z_n{1 - k}_", X[un], Y[un])
        cap.append((un, zn, p["decap_f"] * cnt))
        res.append((zn, np.full(len(un), GROUND), p["esr"] / cnt))
        isrc.append((ln, np.full(len(ln), GROUND)) if k == 0 else (np.full(len(ln), GROUND), ln))
    n_i = sum(len(a) for a, _ in isrc)
    reps = len(isrc)
    pulse = np.column_stack([np.tile(dc, reps), np.tile(peak, reps), np.tile(td, reps),
                             np.full(n_i, p["rise"]), np.full(n_i, p["fall"]), np.full(n_i, p["width_s"]),
                             np.full(n_i, p["period"])])

    def cat(parts, i):
        return np.concatenate([q[i] for q in parts]) if parts else np.zeros(0)

    allnames = np.concatenate(names)
    pdn = PDN.from_names(
        allnames, res_a=cat(res, 0), res_b=cat(res, 1), res_value=cat(res, 2), cap_a=cat(cap, 0),
        cap_b=cat(cap, 1), cap_value=cat(cap, 2), ind_a=cat(ind, 0), ind_b=cat(ind, 1), ind_value=cat(ind, 2),
        vs_a=cat(vs, 0), vs_b=cat(vs, 1), vs_value=cat(vs, 2), vs_names=np.array([f"V{i}" for i in range(
            sum(len(q[0]) for q in vs))]), is_a=np.concatenate([a for a, _ in isrc]),
        is_b=np.concatenate([b for _, b in isrc]), is_value=np.tile(dc, reps),
        is_kind=np.full(n_i, WAVE_PULSE, dtype=np.int8), is_pulse=pulse)
    stop = IBM_DT * int(round(min(2.2 * p["period"], 6e-9) / IBM_DT))
    pdn.tran = (IBM_DT, max(stop, p["period"]))
    pdn.title = f"eda IBM-style dynamic PDN, seed {seed}"
    return pdn, p


def ibm_style_maps(pdn, n_slices: int, window: tuple[float, float]) -> dict:
    """Input maps of an IBM-style deck as the PDNGraph builder computes them for a bare deck."""
    from eda.graphs.pdn_graph import _maps_from_pdn, slice_currents, with_inherited_coords
    from eda.pdn import maps as pm

    full = with_inherited_coords(pdn)
    shape = pm.map_shape(full, IBM_DBU)
    cur_t = slice_currents(full, n_slices, window) if n_slices else None
    out = {}
    _maps_from_pdn(out, full, shape, n_slices, cur_t, IBM_DBU)
    return out


def make_ibm_style_sample(seed: int, out_dir: str | Path, n_slices: int = 8, max_nodes: int = 6000,
                          max_drop_frac: float = 0.3) -> dict:
    """Generate one IBM-style sample folder (format of :mod:`eda.dataset.irdrop`, dynamic label exact).

    Loads are scaled down (drops are linear in them) when the worst dynamic drop would pass
    ``max_drop_frac`` of the supply.
    """
    from dataclasses import replace

    from eda.dataset.irdrop import SAMPLE_FORMAT
    from eda.pdn import maps as pm
    from eda.pdn.mapcsv import write_map_csv
    from eda.pdn.model import WAVE_DC
    from eda.pdn.solve import solve_static, solve_transient, source_currents
    from eda.pdn.write import write_pdn

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    pdn, params = make_ibm_style_pdn(seed, max_nodes)
    times = np.arange(int(round(pdn.tran[1] / IBM_DT)) + 1) * IBM_DT
    cur = np.stack([source_currents(pdn, float(t)) for t in times])
    tr = solve_transient(pdn, times=times, load_waveform=(times, cur))
    worst = float(tr.worst_drop.max())
    scale = min(1.0, max_drop_frac * params["vdd"] / max(worst, 1e-30))
    if scale < 1.0:  # drops are linear in the loads: scale both
        pdn = replace(pdn, is_value=pdn.is_value * scale, is_pulse=pdn.is_pulse * np.array([scale, scale, 1, 1, 1,
                                                                                               1, 1]))
        cur = cur * scale
    d_drop = tr.worst_drop * scale
    static = replace(pdn, cap_a=pdn.cap_a[:0], cap_b=pdn.cap_b[:0], cap_value=pdn.cap_value[:0],
                     is_value=cur.mean(axis=0), is_kind=np.full(len(pdn.is_value), WAVE_DC, dtype=np.int8),
                     is_pulse=np.full((len(pdn.is_value), 7), np.nan), tran=None)
    s_drop = solve_static(static).drop
    full = pdn  # names decode coordinates except the _Z_ decap nodes, which the maps leave out
    shape = pm.map_shape(full, IBM_DBU)
    maps = ibm_style_maps(pdn, n_slices, (0.0, float(times[-1])))
    write_pdn(static, out / "netlist.sp", analysis="op")
    write_pdn(pdn, out / "netlist_dynamic.sp", analysis="tran")
    write_map_csv(maps["current"], out / "current_map.csv")
    write_map_csv(maps["pdn_density"], out / "pdn_density.csv")
    write_map_csv(maps["eff_dist"], out / "eff_dist_map.csv")
    write_map_csv(pm.ir_drop_map(full, s_drop, shape, IBM_DBU, method=MAP_METHOD), out / "ir_drop_map.csv")
    write_map_csv(pm.ir_drop_map(full, d_drop, shape, IBM_DBU, method=MAP_METHOD), out / "ir_drop_dynamic_map.csv")
    np.save(out / "load_times.npy", times)
    np.save(out / "load_currents.npy", cur.astype(np.float32))
    if n_slices:
        np.save(out / "current_maps_t.npy", maps["current_t"].astype(np.float32))
    summary = {"nodes": int(pdn.n_nodes), "loads": int(len(pdn.is_value)), "steps": int(len(times) - 1),
               "worst_static_drop_v": float(s_drop.max()), "worst_dynamic_drop_v": float(d_drop.max()),
               "load_scale": scale, "map_shape": list(shape), "seconds": time.perf_counter() - t0}
    meta = {"format": SAMPLE_FORMAT, "kind": "irdrop", "style": "ibm", "generator": IBM_STYLE_VERSION,
            "seed": int(seed), "dbu_per_um": IBM_DBU, "map_method": MAP_METHOD, "pdn": params, "summary": summary}
    (out / "params.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return summary


def build_ibm_style_dataset(out: str | Path, n: int, *, seed: int = 0, workers: int = 1, n_slices: int = 8,
                            max_nodes: int = 6000, progress: bool = True):
    """Build (or resume) ``n`` IBM-style samples under ``out/raw`` (:func:`eda.dataset.runner.build_dataset`)."""
    from eda.dataset.runner import build_dataset

    if n_slices < 1:
        raise InputError(f"n_slices must be at least 1, got {n_slices}")
    config = {"style": "ibm", "n_slices": int(n_slices), "max_nodes": int(max_nodes), "generator": IBM_STYLE_VERSION}
    fn = partial(make_ibm_style_sample, n_slices=n_slices, max_nodes=max_nodes)
    return build_dataset(out, n, fn, kind="irdrop", builder="eda.generators.synth_ibm:make_ibm_style_sample",
                         config=config, seed=seed, workers=workers, progress=progress)
