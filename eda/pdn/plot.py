"""PNG pictures of maps: heatmaps with a colour bar and units, golden/predicted/error side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_map", "plot_compare", "plot_waveforms"]

#: (scale, unit label) per map kind.
UNITS = {"V": (1e3, "mV"), "A": (1e3, "mA"), "um": (1.0, "µm"), "um/um2": (1.0, "µm/µm²")}


def _plt():
    from eda.plot import plt

    return plt


def _show(ax, m: np.ndarray, title: str, scale: float, unit: str, cmap: str, vmin=None, vmax=None):
    # map[x, y]: transpose so x runs left to right and y bottom to top
    im = ax.imshow(np.asarray(m).T * scale, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
                   interpolation="nearest", aspect="equal")
    ax.set_title(title)
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    cb = ax.figure.colorbar(im, ax=ax, shrink=0.85)
    cb.set_label(unit)


def _save(fig, path: str | Path) -> Path:
    """Lay out, write and close ``fig``; returns the path (folders are created)."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    _plt().close(fig)
    return path


def plot_map(m: np.ndarray, path: str | Path, title: str = "IR drop", unit: str = "V",
             cmap: str = "inferno") -> Path:
    """Heatmap of one map; ``unit`` is the map's unit (``V`` is drawn in mV, ``A`` in mA)."""
    plt = _plt()
    scale, label = UNITS.get(unit, (1.0, unit))
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)
    _show(ax, m, title, scale, label, cmap)
    return _save(fig, path)


def plot_compare(golden: np.ndarray, pred: np.ndarray, path: str | Path, title: str = "",
                 unit: str = "V") -> Path:
    """Golden, predicted (same colour scale) and signed error maps side by side, metrics in the title."""
    from eda.pdn.metrics import score

    plt = _plt()
    scale, label = UNITS.get(unit, (1.0, unit))
    s = score(pred, golden)
    lo = min(np.min(golden), np.min(pred)) * scale
    hi = max(np.max(golden), np.max(pred)) * scale
    err = np.asarray(pred) - np.asarray(golden)
    e = max(np.abs(err).max() * scale, 1e-30)
    fig, axs = plt.subplots(1, 3, figsize=(15, 4.5), dpi=100)
    _show(axs[0], golden, "golden", scale, label, "inferno", lo, hi)
    _show(axs[1], pred, "predicted", scale, label, "inferno", lo, hi)
    _show(axs[2], err, "predicted − golden", scale, label, "coolwarm", -e, e)
    fig.suptitle(f"{title}  MAE {s['mae'] * scale:.3g} {label}, max err {s['max_error'] * scale:.3g} {label}, "
                 f"CC {s['cc']:.3f}, hotspot F1 {s['hotspot_f1']:.3f}".strip())
    return _save(fig, path)


def plot_waveforms(times: np.ndarray, waves: dict[str, np.ndarray], path: str | Path,
                   title: str = "node voltages") -> Path:
    """Voltage waveforms (V) against time (ns)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for name, w in waves.items():
        ax.plot(np.asarray(times) * 1e9, w, label=name)
    ax.set_xlabel("time (ns)")
    ax.set_ylabel("voltage (V)")
    ax.set_title(title)
    if waves:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)
