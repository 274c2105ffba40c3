"""How close the synthetic IR-drop designs are to the ICCAD'23 contest cases: statistics and distances.

One statistics record per case (:func:`case_stats`), from its deck and maps only, so contest cases and our
samples are measured by the same code:

* die: map size (µm), PDN nodes;
* PDN: stripe pitch of every layer (median spacing of the stripe coordinates across the stripe direction,
  µm), the layer names;
* pads: count and the median distance from a pad to its nearest other pad (µm; the die diagonal for one);
* current map: total (A), density (A/mm²), coefficient of variation of the per-pixel current, the
  correlation length of its texture (lag in µm where the autocorrelation of the map, mean removed, first
  falls below 1/e), and the per-pixel current over its mean (for histograms);
* drop: worst and mean static drop (mV) of the golden map.

:func:`distances` compares two groups of records: for each scalar the ratio of medians and a normalised
1-D Wasserstein distance (``W1 / median of the reference``); for the per-pixel histograms the W1 distance of
the pooled normalised values.
"""

from __future__ import annotations

import numpy as np

__all__ = ["case_stats", "distances", "SCALARS"]

#: Scalar statistics compared by :func:`distances`.
SCALARS = ("die_um", "nodes", "pitch_m1", "pitch_m4", "pitch_m7", "pitch_m8", "pitch_m9", "pads", "pad_nn_um",
           "current_a", "density_a_mm2", "current_cv", "corr_len_um", "worst_mv", "mean_mv")


def _corr_len(m: np.ndarray) -> float:
    """Lag (pixels) where the autocorrelation of ``m`` (mean removed, x and y averaged) falls below 1/e."""
    a = m - m.mean()
    v = float((a * a).mean())
    if v <= 0:
        return 0.0
    for lag in range(1, min(m.shape) // 2):
        c = 0.5 * (float((a[lag:] * a[:-lag]).mean()) + float((a[:, lag:] * a[:, :-lag]).mean())) / v
        if c < np.exp(-1):
            return float(lag)
    return float(min(m.shape) // 2)


def case_stats(pdn, maps: dict, dbu_per_um: float, name: str = "") -> dict:
    """Statistics of one case (see the module docstring). ``maps`` needs ``current`` and ``ir_drop``."""
    from scipy.spatial import cKDTree

    cur, drop = np.asarray(maps["current"], float), np.asarray(maps["ir_drop"], float)
    nx, ny = cur.shape
    r: dict = {"case": name, "die_um": float(np.sqrt(nx * ny)), "nodes": int(pdn.n_nodes),
               "layers": list(pdn.layer_names)}
    for li, ln in enumerate(pdn.layer_names):
        s = pdn.node_layer == li
        spans = []
        for c in (pdn.node_x[s], pdn.node_y[s]):
            u = np.unique(c)
            spans.append(float(np.median(np.diff(u))) / dbu_per_um if len(u) > 1 else np.inf)
        r[f"pitch_{ln}"] = float(max(spans))  # across the stripes: the larger of the two spacings
    pads = np.unique(np.where(pdn.vs_a[pdn.pad_mask] >= 0, pdn.vs_a[pdn.pad_mask], pdn.vs_b[pdn.pad_mask]))
    r["pads"] = int(len(pads))
    if len(pads) > 1:
        xy = np.column_stack([pdn.node_x[pads], pdn.node_y[pads]]) / dbu_per_um
        d, _ = cKDTree(xy).query(xy, k=2)
        r["pad_nn_um"] = float(np.median(d[:, 1]))
    else:
        r["pad_nn_um"] = float(np.hypot(nx, ny))
    tot = float(cur.sum())
    r.update(current_a=tot, density_a_mm2=tot / (nx * ny * 1e-6),
             current_cv=float(cur.std() / max(cur.mean(), 1e-30)), corr_len_um=_corr_len(cur),
             worst_mv=float(drop.max() * 1e3), mean_mv=float(drop.mean() * 1e3))
    r["current_norm"] = (cur / max(cur.mean(), 1e-30)).ravel()[:: max(1, cur.size // 2000)].tolist()
    r["drop_norm"] = (drop / max(drop.max(), 1e-30)).ravel()[:: max(1, drop.size // 2000)].tolist()
    return r


def distances(group: list[dict], reference: list[dict]) -> dict:
    """Per statistic: medians of both groups, their ratio and ``W1 / median(reference)``; pooled histograms."""
    from scipy.stats import wasserstein_distance

    out: dict = {}
    for k in SCALARS:
        a = np.array([r[k] for r in group if np.isfinite(r.get(k, np.nan))])
        b = np.array([r[k] for r in reference if np.isfinite(r.get(k, np.nan))])
        if not len(a) or not len(b):
            continue
        mb = float(np.median(b))
        out[k] = {"median": float(np.median(a)), "median_ref": mb, "ratio": float(np.median(a)) / mb if mb else np.nan,
                  "w1_rel": float(wasserstein_distance(a, b)) / abs(mb) if mb else np.nan}
    for k in ("current_norm", "drop_norm"):
        a = np.concatenate([r[k] for r in group])
        b = np.concatenate([r[k] for r in reference])
        out[k] = {"w1": float(wasserstein_distance(a, b))}
    return out
