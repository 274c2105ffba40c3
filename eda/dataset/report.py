"""Inspect built datasets: counts and size distribution, label verification, a picture of one sample."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import numpy as np

from eda.dataset.runner import dataset_status, load_dataset_json
from eda.errors import InputError

__all__ = ["dataset_info", "verify_dataset", "plot_sample", "import_callable"]


def import_callable(path: str):
    """``module:function`` → the function (``InputError`` when it cannot be imported)."""
    mod, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError) as e:
        raise InputError(f"cannot import {path!r}: {e}") from None


def _dist(values: list[float]) -> dict | None:
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if len(v) == 0:
        return None
    return {"min": float(v.min()), "p50": float(np.median(v)), "mean": float(v.mean()), "max": float(v.max())}


def dataset_info(out: str | Path) -> dict:
    """Counts, size distribution, timings and failures of a dataset directory; ``missing`` lists samples the
    manifest calls finished whose folder is gone, ``manifest_problems`` the malformed manifest rows."""
    out = Path(out)
    meta = load_dataset_json(out)
    st = dataset_status(out)
    rows = st["rows"]
    ok_rows = [rows[i] for i in st["ok"]]
    infos = [r.get("info") or {} for r in ok_rows]
    numeric = sorted({k for i in infos for k, v in i.items() if isinstance(v, int | float) and not isinstance(v, bool)})
    tmp = list((out / "raw").glob(".tmp-*")) if (out / "raw").exists() else []
    return {
        "directory": str(out), "kind": meta.get("kind"), "config": meta.get("config"), "seed": meta.get("seed"),
        "ok": len(st["ok"]), "failed": len(st["failed"]), "missing": st["missing"],
        "manifest_problems": st["problems"], "in_progress_or_stale": len(tmp),
        "bytes_total": int(sum(r.get("bytes") or 0 for r in ok_rows)),
        "bytes_per_sample": _dist([r.get("bytes") for r in ok_rows]),
        "seconds_per_sample": _dist([r.get("seconds") for r in ok_rows]),
        "peak_rss_mb": _dist([r.get("peak_rss_mb") for r in ok_rows]),
        "sizes": {k: _dist([i.get(k) for i in infos]) for k in numeric},
        "failures": {i: rows[i].get("error") for i in st["failed"]},
    }


def verify_dataset(out: str | Path, n: int = 3, seed: int = 0, **kw) -> dict:
    """Re-check a random subset of finished samples with the dataset's verifier.

    Args:
        out: dataset directory.
        n: number of samples (all when fewer exist).
        seed: seed of the random choice.
        **kw: passed to the verifier (e.g. ``dynamic=False``); options a dataset kind's verifier does not
            take (``dynamic`` for topologies) do not apply to it and are dropped.
    """
    out = Path(out)
    if n < 1:
        raise InputError(f"n must be at least 1, got {n}")
    meta = load_dataset_json(out)
    if not meta.get("verifier"):
        raise InputError(f"dataset kind {meta.get('kind')!r} has no verifier", file=out / "dataset.json")
    fn = import_callable(meta["verifier"])
    accepted = inspect.signature(fn).parameters
    kw = {k: v for k, v in kw.items() if k in accepted}
    ok_ids = dataset_status(out)["ok"]
    if not ok_ids:
        raise InputError("no finished samples to verify", file=out)
    pick = sorted(np.random.default_rng(seed).choice(ok_ids, size=min(n, len(ok_ids)), replace=False).tolist())
    from eda.dataset.runner import one_blas_thread
    from eda.dataset.schema import IrdropParams, check_sample_files, read_model

    for i in pick:  # junk companions are one clear error naming the file, not a crash inside the verifier
        check_sample_files(out / "raw" / i)
        if meta.get("kind") == "irdrop":  # the sample description every reader relies on
            read_model(out / "raw" / i / "params.json", IrdropParams, "params.json")
    with one_blas_thread():
        results = [fn(out / "raw" / i, **kw) for i in pick]
    return {"ok": all(r.get("ok") for r in results), "checked": pick, "results": results}


def plot_sample(sample_dir: str | Path, png: str | Path, dpi: int = 80) -> Path:
    """One PNG with a sample's maps: current, PDN density, effective distance, static and dynamic IR drop."""
    from eda.plot import plt

    d = Path(sample_dir)
    panels = [("current_map.csv", "current (mA/tile)", 1e3), ("pdn_density.csv", "PDN density", 1.0),
              ("eff_dist_map.csv", "effective distance (µm)", 1.0), ("ir_drop_map.csv", "static IR drop (mV)", 1e3),
              ("ir_drop_dynamic_map.csv", "dynamic IR drop (mV)", 1e3)]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.0 * len(panels), 3.6))
    for ax, (f, title, scale) in zip(axes, panels, strict=True):
        m = np.loadtxt(d / f, delimiter=",", ndmin=2) * scale
        # a few macro or hotspot tiles would wash out the current map: clip its scale at the 99.5th percentile
        vmax = float(np.percentile(m, 99.5)) if f == "current_map.csv" and np.percentile(m, 99.5) > 0 else None
        im = ax.imshow(m.T, origin="lower", cmap="inferno" if "drop" in f else "viridis", vmax=vmax)
        ax.set_title(f"{d.name}: {title}" if f == "current_map.csv" else title, fontsize=10)
        ax.set_xlabel("x (µm)")
        ax.set_ylabel("y (µm)")
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=dpi)
    plt.close(fig)
    return png
