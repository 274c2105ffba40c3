"""gm/Id look-up tables of the sky130 1.8 V FETs, from ngspice sweeps (built once, cached).

For each polarity and channel length in :data:`LENGTHS` the gate is swept at |Vds| = 0.9 V,
Vsb = 0 on a W = 5 µm device; the table keeps, per gate voltage, the drain current per µm of width,
gm/Id, the intrinsic gain gm/gds and the transit frequency gm/(2π·Cgg). A designer's use:
pick a gm/Id (inversion level) and L, read the current density, get W = Id / (Id/W).

Cached as ``.npz`` under the user cache dir per corner, keyed by the model library file.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eda.export.to_sky130 import NFET, PFET
from eda.tech.sky130_models import lib_card, reduced_lib

LENGTHS = (0.15, 0.25, 0.5, 1.0, 2.0)
_W = 5.0
_VGS = np.round(np.arange(0.2, 1.8001, 0.02), 4)


@dataclass
class GmIdTable:
    """Per polarity: arrays of shape (len(lengths), len(vgs))."""

    corner: str
    lengths: np.ndarray
    vgs: np.ndarray
    id_w: dict[str, np.ndarray]
    gm_id: dict[str, np.ndarray]
    gm_gds: dict[str, np.ndarray]
    ft: dict[str, np.ndarray]

    def _row(self, pol: str, length: float) -> int:
        return int(np.argmin(np.abs(np.log(self.lengths / length))))

    def at(self, pol: str, length: float, gm_id: float) -> dict[str, float]:
        """Current density (A/µm), |Vgs|, gm/gds and fT at the given gm/Id (nearest tabulated L)."""
        r = self._row(pol, length)
        g = self.gm_id[pol][r]
        # gm/Id falls with Vgs above weak inversion: interpolate on the decreasing branch
        peak = int(np.argmax(g))
        gi, vi = g[peak:][::-1], self.vgs[peak:][::-1]
        vgs = float(np.interp(gm_id, gi, vi))
        return {"vgs": vgs, "id_w": float(np.interp(vgs, self.vgs, self.id_w[pol][r])),
                "gm_gds": float(np.interp(vgs, self.vgs, self.gm_gds[pol][r])),
                "ft": float(np.interp(vgs, self.vgs, self.ft[pol][r]))}

    def width_for(self, pol: str, length: float, gm_id: float, current: float) -> float:
        """W (µm) that carries ``current`` at ``gm_id``."""
        return current / self.at(pol, length, gm_id)["id_w"]


def _deck(pol: str, corner: str) -> str:
    model = NFET if pol == "n" else PFET
    sign = 1 if pol == "n" else -1
    lines = [f"* gm/Id sweep {pol}", lib_card(corner), f"Vd d 0 {0.9 * sign}", "Vg g 0 0"]
    for i, length in enumerate(LENGTHS):
        lines.append(f"X{i} d g 0 0 {model} W={_W} L={length}")
    saves = [f"@m.x{i}.m{model}[{p}]" for i in range(len(LENGTHS)) for p in ("id", "gm", "gds", "cgg")]
    lines += [".save " + " ".join(saves), ".end"]
    return "\n".join(lines)


def build_table(corner: str = "tt") -> GmIdTable:
    """Sweep both polarities in ngspice (a few seconds)."""
    from eda.sim.ngspice import run_deck

    out = {k: {} for k in ("id_w", "gm_id", "gm_gds", "ft")}
    for pol in ("n", "p"):
        model = NFET if pol == "n" else PFET
        sign = 1 if pol == "n" else -1
        start, stop = (0.2, 1.8) if pol == "n" else (-0.2, -1.8)
        (_, v), = run_deck(_deck(pol, corner), [f"dc vg {start} {stop} {0.02 * sign}"])
        rows = {k: [] for k in out}
        for i in range(len(LENGTHS)):
            idd, gm, gds, cgg = (np.abs(np.real(v[f"@m.x{i}.m{model}[{p}]"])) for p in ("id", "gm", "gds", "cgg"))
            rows["id_w"].append(idd / _W)
            rows["gm_id"].append(gm / np.maximum(idd, 1e-18))
            rows["gm_gds"].append(gm / np.maximum(gds, 1e-18))
            rows["ft"].append(gm / (2 * np.pi * np.maximum(cgg, 1e-21)))
        for k in out:
            out[k][pol] = np.array(rows[k])
    return GmIdTable(corner, np.array(LENGTHS), _VGS.copy(), **out)


def _cache_path(corner: str) -> Path:
    from eda.tech.sky130_models import cache_dir

    key = reduced_lib(corner).stem.split("_")[-1]  # changes with the library (path, mtimes)
    return cache_dir() / f"gmid_{corner}_{key}.npz"


def load_table(corner: str = "tt") -> GmIdTable:
    """The cached table of ``corner``, built on first use (and again when the cached file cannot be read)."""
    path = _cache_path(corner)
    if path.is_file():
        try:
            with np.load(path) as z:
                return GmIdTable(corner, z["lengths"], z["vgs"],
                                 **{k: {p: z[f"{k}_{p}"] for p in "np"} for k in ("id_w", "gm_id", "gm_gds", "ft")})
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # unreadable (a disk error, a foreign file): built again below and written over it
    t = build_table(corner)
    arrays = {f"{k}_{p}": getattr(t, k)[p] for k in ("id_w", "gm_id", "gm_gds", "ft") for p in "np"}
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, lengths=t.lengths, vgs=t.vgs, **arrays)
    tmp.replace(path)
    return t
