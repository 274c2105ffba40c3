"""Demo stage of ACIM layout synthesis (``make demo``): a 64x64 macro, DRC + LVS, pictures."""

from __future__ import annotations

from pathlib import Path


def demo(out: Path) -> dict:
    """ACIM layout synthesis stage of ``make demo``: a 64×64 macro, DRC + LVS, pictures."""
    from eda.layout.build import build
    from eda.layout.macro import MacroParams

    s = build(MacroParams(64, 64, 8, 3), Path(out) / "acim_layout")
    print(f"64x64 macro: {s['area_mm2']:.4f} mm², DRC clean={s['drc_clean']}, LVS clean={s['lvs_clean']}, "
               f"{s['total_s']:.1f} s → {Path(out) / 'acim_layout'}")
    if not (s["drc_clean"] and s["lvs_clean"]):
        raise RuntimeError("64x64 macro is not DRC/LVS clean")
    return {"area_mm2": s["area_mm2"], "um2_per_bit": s["um2_per_bit"], "drc_clean": s["drc_clean"],
            "lvs_clean": s["lvs_clean"], "total_s": s["total_s"]}
