"""Demo stage of the dataset pipeline (``make demo``): build a few small IR-drop samples, verify one, draw
one sample's maps."""

from __future__ import annotations

import json
from pathlib import Path


def demo(out: Path) -> dict:
    """Build a few small samples, verify one, and draw one sample's maps (``out/dataset/``)."""
    from eda.dataset.report import plot_sample, verify_dataset
    from eda.generators.irdrop_sample import build_irdrop_dataset

    d = Path(out) / "dataset"
    rep = build_irdrop_dataset(d, 4, size="small", seed=7, workers=1, progress=False)
    ver = verify_dataset(d, n=1, seed=0, dynamic=True)
    png = plot_sample(d / "raw" / "s000000", d / "sample_maps.png")
    first = json.loads((d / "raw" / "s000000" / "params.json").read_text())["summary"]
    print(f"built {rep.built} samples ({rep.skipped} already there) in {rep.seconds:.1f} s under {d}; "
               f"sample 0: {first['nodes']} nodes, worst static {first['worst_static_drop_v'] * 1e3:.2f} mV, "
               f"dynamic {first['worst_dynamic_drop_v'] * 1e3:.2f} mV; verify ok={ver['ok']}; picture {png}")
    if not ver["ok"]:
        raise RuntimeError(f"dataset verify failed: {ver}")
    return {"samples": rep.built + rep.skipped, "failed": rep.failed, "nodes_sample0": first["nodes"],
            "worst_static_mv": round(first["worst_static_drop_v"] * 1e3, 3),
            "worst_dynamic_mv": round(first["worst_dynamic_drop_v"] * 1e3, 3), "verify_ok": ver["ok"],
            "picture": str(png)}
