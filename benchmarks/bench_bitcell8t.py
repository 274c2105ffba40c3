"""Density of the hand-drawn 8T bitcells and of the macros built with them.

``python benchmarks/bench_bitcell8t.py [--deck]`` measures

* the compact mirrored cell (layout/bitcell8t.py): area, F², in-process DRC and LVS on the cell and
  on 2x2 and 8x8 arrays (``--deck``: the sky130 precheck deck too);
* the template-compatible cell (layout/bitcell8t_template.py) at the library's column pitch;
* the whole macro (µm²/bit and F²/bit, DRC + LVS) for the 12-configuration sweep and 64x64 with
  two libraries that differ only in the bitcell: the row-cell generator's (``rowcell``) and the
  hand-drawn one (``hand``), both written from the current cell code into temporary folders.

Writes benchmarks/results/bitcell8t.json; timings carry the 1-minute load average.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SWEEP = [(4, 1, 2, 1), (8, 2, 2, 2), (16, 3, 2, 3), (32, 4, 2, 4), (16, 5, 4, 2), (32, 2, 4, 3),
         (64, 4, 4, 4), (24, 3, 3, 3), (48, 2, 3, 4), (12, 6, 3, 2), (64, 8, 16, 2), (32, 16, 8, 2),
         (64, 64, 8, 3)]
F_UM = 0.15


def _deck() -> Path | None:
    import shutil

    deck = Path(os.environ.get("EDA_SHARED", ROOT.parent / "shared")) / "decks" / "sky130A_mr.drc"
    return deck if deck.is_file() and shutil.which("klayout") else None


def _check(gds: Path, circuit, deck: Path | None) -> dict:
    from eda.verify.deck import run_deck
    from eda.verify.drc import run_drc
    from eda.verify.lvs import run_lvs

    t = time.perf_counter()
    drc = run_drc(gds)
    lvs = run_lvs(gds, circuit)
    out = {"drc_clean": drc.clean, "lvs_clean": lvs.clean, "drc_lvs_s": round(time.perf_counter() - t, 2)}
    if deck is not None:
        r = run_deck(gds, deck)
        out.update(precheck_violations=r.count, precheck_s=round(r.seconds, 1))
    return out


def cells(tmp: Path, deck: Path | None) -> dict:
    import gdstk

    from eda.circuit import Circuit
    from eda.layout import bitcell8t as B

    cc = B.compact_bitcell()
    area = cc.pitch_x * cc.pitch_y / 1e6
    res = {"compact": {"width_um": cc.pitch_x / 1000, "height_um": cc.pitch_y / 1000, "area_um2": round(area, 4),
                       "F2": round(area / F_UM**2, 1)}}
    lib = gdstk.Library(name="c", unit=1e-6, precision=1e-9)
    lib.add(cc.result.gds)
    lib.write_gds(str(tmp / "cell.gds"))
    sub = cc.result.subckt
    res["compact"]["cell"] = _check(tmp / "cell.gds", Circuit(title="c", devices=list(sub.devices),
                                                              ports=list(sub.ports)), deck)
    for n in (2, 8):
        alib, circ = B.array(n, n)
        alib.write_gds(str(tmp / f"arr{n}.gds"))
        res["compact"][f"array_{n}x{n}"] = _check(tmp / f"arr{n}.gds", circ, deck)
    return res


def _library(folder: Path, variant: str) -> Path:
    """Write the default library with the ``variant`` bitcell (cells.bitcell swapped in-process)."""
    from eda.layout import cells as C
    from eda.layout.devices import RowCellParams
    from eda.layout.library import write_library

    orig = C.bitcell
    generated = getattr(C, "bitcell_generated", orig)

    def hand(pitch: int = 0, slots: int = 0) -> RowCellParams:
        return RowCellParams("acim_bitcell8t", ports=generated(pitch, slots).ports, min_width=pitch,
                             hand="bitcell8t")

    C.bitcell = hand if variant == "hand" else generated
    try:
        return write_library(folder)
    finally:
        C.bitcell = orig


def macros(tmp: Path) -> list[dict]:
    from eda.layout.library import load_library
    from eda.layout.macro import MacroParams, build_macro
    from eda.verify.drc import run_drc
    from eda.verify.lvs import run_lvs

    libs = {v: load_library(_library(tmp / f"lib_{v}", v)) for v in ("rowcell", "hand")}
    rows = []
    for h, w, loc, b in SWEEP:
        row = {"rows": h, "cols": w, "local": loc, "adc_bits": b}
        for v, lib in libs.items():
            t = time.perf_counter()
            m = build_macro(MacroParams(h, w, loc, b), lib)
            gds = tmp / f"m_{v}.gds"
            m.library.write_gds(str(gds))
            upb = m.width_um * m.height_um / (h * w)
            row[v] = {"um2_per_bit": round(upb, 2), "F2_per_bit": round(upb / F_UM**2),
                      "pitch_um": lib.template["column_pitch_um"], "row_height_um": lib.cell("bitcell").height_um}
            if v == "hand":
                row[v]["drc_clean"] = run_drc(gds).clean
                row[v]["lvs_clean"] = run_lvs(gds, m.circuit).clean
            row[v]["s"] = round(time.perf_counter() - t, 2)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    deck = _deck() if "--deck" in sys.argv else None
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        out = {"load_avg_1min": round(os.getloadavg()[0], 2), "cells": cells(tmp, deck)}
        print(json.dumps(out["cells"]), flush=True)
        out["macros"] = macros(tmp)
    path = ROOT / "benchmarks" / "results" / "bitcell8t.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(path)


if __name__ == "__main__":
    main()
