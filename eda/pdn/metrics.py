"""The one metrics module for IR-drop maps (every evaluator imports it: ``eda.pdn.metrics``).

Definitions (``pred`` and ``golden`` are maps of the same shape, in volts):

- ``mae``: mean absolute error.
- ``max_error``: largest absolute error.
- ``nmae``: MAE divided by the golden map's largest absolute value (unitless); for an all-zero golden
  map, divided by the prediction's largest value instead (1.0 for any non-zero prediction), so every
  metric is a finite number and JSON reports never hold ``Infinity``.
- ``cc``: Pearson correlation coefficient of the flattened maps (0 when either map is constant).
- ``hotspot_f1``: the ICCAD'23 contest hotspot score: a tile is a hotspot when its IR drop exceeds
  ``0.9 ×`` the case's (golden) maximum IR drop; the same threshold classifies the predicted map;
  F1 of predicted vs golden hotspot tiles (0 when there are no true positives).
"""

from __future__ import annotations

import numpy as np

from eda.errors import InputError

__all__ = ["mae", "max_error", "nmae", "pearson_cc", "hotspot_f1", "score", "HOTSPOT_FRACTION", "KEYS"]

#: Hotspot threshold as a fraction of the golden maximum (contest definition).
HOTSPOT_FRACTION = 0.9

#: Keys returned by :func:`score`, in table order.
KEYS = ("mae", "max_error", "nmae", "cc", "hotspot_f1")


def _pair(pred, golden) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred.detach().cpu() if hasattr(pred, "detach") else pred, dtype=np.float64)
    g = np.asarray(golden.detach().cpu() if hasattr(golden, "detach") else golden, dtype=np.float64)
    if p.shape != g.shape:
        raise InputError(f"predicted map has shape {p.shape} but the golden map has {g.shape}")
    if p.size == 0:
        raise InputError("empty maps cannot be scored")
    if not (np.isfinite(p).all() and np.isfinite(g).all()):
        raise InputError("maps contain NaN or infinite values")
    return p.ravel(), g.ravel()


def mae(pred, golden) -> float:
    """Mean absolute error (same unit as the maps)."""
    p, g = _pair(pred, golden)
    return float(np.abs(p - g).mean())


def max_error(pred, golden) -> float:
    """Largest absolute error."""
    p, g = _pair(pred, golden)
    return float(np.abs(p - g).max())


def nmae(pred, golden) -> float:
    """MAE normalised by ``max |golden|`` (by ``max |pred|`` when the golden map is all zero; always finite)."""
    p, g = _pair(pred, golden)
    m = np.abs(p - g).mean()
    scale = np.abs(g).max()
    if scale == 0:
        scale = np.abs(p).max()
    return float(m / scale) if scale > 0 else 0.0


def pearson_cc(pred, golden) -> float:
    """Pearson correlation coefficient (0 when either map is constant)."""
    p, g = _pair(pred, golden)
    pc, gc = p - p.mean(), g - g.mean()
    den = np.sqrt((pc * pc).sum() * (gc * gc).sum())
    return float((pc * gc).sum() / den) if den > 0 else 0.0


def hotspot_f1(pred, golden, fraction: float = HOTSPOT_FRACTION) -> float:
    """F1 of hotspot tiles, both maps thresholded at ``fraction × max(golden)``."""
    p, g = _pair(pred, golden)
    thr = fraction * g.max()
    ph, gh = p > thr, g > thr
    tp = int((ph & gh).sum())
    if tp == 0:
        return 0.0
    precision = tp / int(ph.sum())
    recall = tp / int(gh.sum())
    return float(2 * precision * recall / (precision + recall))


def score(pred, golden) -> dict[str, float]:
    """All metrics of :data:`KEYS` as a dict of floats."""
    return {"mae": mae(pred, golden), "max_error": max_error(pred, golden), "nmae": nmae(pred, golden),
            "cc": pearson_cc(pred, golden), "hotspot_f1": hotspot_f1(pred, golden)}
