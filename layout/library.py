"""ACIM cell libraries: the manifest format, the loader and the writer of the default library.

A library is a folder with ``manifest.json``, one GDS and one SPICE file per cell::

    {"technology": "sky130",
     "roles": {"bitcell": "acim_bitcell8t", "compute": ..., "wl_driver": ..., "in_driver": ...,
               "comparator": ..., "sar_bit": ..., "sar_seq": ..., "dac_switch": ..., "tap": ...},
     "cells": {"acim_bitcell8t": {"width_um": 7.38, "height_um": 5.26,
                                  "gds": "acim_bitcell8t.gds", "spice": "acim_bitcell8t.spice",
                                  "pins": [{"name": "BL", "layer": "met2", "x_um": 4.11, "y_um": 3.765}, ...]}}}

Sizes are the bounding boxes of the drawn GDS cells (the writer measures them). A user folder
with the same form overrides any default role or cell (``--cells DIR``): its manifest may name
only the roles it replaces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from eda.errors import InputError
from eda.paths import PATHS

#: Roles every ACIM library provides.
ROLES: tuple[str, ...] = ("bitcell", "compute", "wl_driver", "in_driver", "comparator", "cmp_buf", "sar_bit",
                          "sar_seq", "dac_switch", "tap", "col_mux", "dac_sel", "dac_msb")

#: Optional roles: the pair bitcell row (two bits of one column per template row, 4 track slots) and
#: its row-end cells; a macro uses them when the library has them and the local array size is even.
PAIR_ROLES: tuple[str, ...] = ("bitcell2", "wl_driver2", "in_driver2", "tap2")

DEFAULT_LIBRARY = "sky130_acim"
#: the shared-ADC library (adc_share S >= 2): the column pitch is set by the per-column cells only
#: (bitcell, compute, dac_switch, col_mux); the per-ADC cells (``SHARED_ONLY_ROLES``) keep their
#: natural widths and, placed once per S columns, overhang into the next column's empty slot
SHARED_LIBRARY = "sky130_acim_shared"
SHARED_ONLY_ROLES: tuple[str, ...] = ("comparator", "cmp_buf", "sar_bit", "sar_seq")


@dataclass(frozen=True)
class Pin:
    """A pin abstract entry (µm, in the cell's coordinates)."""

    name: str
    layer: str
    x_um: float
    y_um: float
    kind: str = ""
    span_um: float = 0.0


@dataclass
class CellInfo:
    """One library cell: size, pins and the files holding its layout and netlist."""

    name: str
    width_um: float
    height_um: float
    pins: list[Pin]
    gds: Path
    spice: Path
    template: dict = field(default_factory=dict)

    def pin(self, name: str) -> Pin:
        for p in self.pins:
            if p.name == name:
                return p
        raise KeyError(f"cell {self.name} has no pin {name!r}")

    @property
    def area_um2(self) -> float:
        return self.width_um * self.height_um


@dataclass
class CellLibrary:
    """A loaded cell library: roles → cell names, cells by name, technology, template."""

    path: Path
    technology: str
    roles: dict[str, str]
    cells: dict[str, CellInfo]
    template: dict = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)

    def cell(self, role_or_name: str) -> CellInfo:
        """The cell playing ``role_or_name`` (a role such as ``bitcell``) or named so."""
        name = self.roles.get(role_or_name, role_or_name)
        try:
            return self.cells[name]
        except KeyError:
            raise InputError(f"no cell or role {role_or_name!r} (roles: {', '.join(sorted(self.roles))})",
                             file=self.path / "manifest.json") from None

    def sizes(self) -> dict[str, tuple[float, float]]:
        """(width_um, height_um) per role."""
        return {r: (self.cell(r).width_um, self.cell(r).height_um) for r in self.roles}


def default_library_path(shared: bool = False) -> Path:
    """The shipped library folder (``shared``: the one for adc_share >= 2)."""
    return PATHS.cells / (SHARED_LIBRARY if shared else DEFAULT_LIBRARY)


def _read_manifest(folder: Path) -> dict:
    mf = folder / "manifest.json"
    if not mf.is_file():
        raise InputError("cell library folder has no manifest.json", file=folder)
    try:
        data = json.loads(mf.read_text())
    except UnicodeDecodeError as e:
        raise InputError(f"manifest is not UTF-8 text (binary junk at byte {e.start})", file=mf) from None
    except json.JSONDecodeError as e:
        raise InputError(f"manifest is not valid JSON: {e.msg}", file=mf, line=e.lineno) from None
    if not isinstance(data, dict):
        raise InputError("manifest must be a JSON object", file=mf)
    return data


def _parse_cells(data: dict, folder: Path) -> dict[str, CellInfo]:
    mf = folder / "manifest.json"
    cells = data.get("cells", {})
    if not isinstance(cells, dict):
        raise InputError("field 'cells' must be an object {name: cell}", file=mf)
    out: dict[str, CellInfo] = {}
    for name, c in cells.items():
        where = f"cells.{name}"
        if not isinstance(c, dict):
            raise InputError(f"field {where} must be an object", file=mf)
        for key in ("width_um", "height_um", "gds", "spice", "pins"):
            if key not in c:
                raise InputError(f"field {where}.{key} is missing", file=mf)
        try:
            w, h = float(c["width_um"]), float(c["height_um"])
        except (TypeError, ValueError):
            raise InputError(f"field {where}.width_um/height_um must be numbers", file=mf) from None
        if w <= 0 or h <= 0:
            raise InputError(f"field {where}: width_um and height_um must be > 0", file=mf)
        pins = []
        for i, p in enumerate(c["pins"]):
            try:
                pins.append(Pin(str(p["name"]), str(p["layer"]), float(p["x_um"]), float(p["y_um"]),
                                str(p.get("kind", "")), float(p.get("span_um", 0.0))))
            except (KeyError, TypeError, ValueError):
                raise InputError(f"field {where}.pins[{i}] needs name, layer, x_um, y_um", file=mf) from None
        gds, spice = folder / c["gds"], folder / c["spice"]
        for f, key in ((gds, "gds"), (spice, "spice")):
            if not f.is_file():
                raise InputError(f"field {where}.{key}: file {f.name} not found", file=mf)
        out[name] = CellInfo(name, w, h, pins, gds, spice, dict(c.get("template", {})))
    return out


def load_library(path: Path | str | None = None, shared: bool = False) -> CellLibrary:
    """Load the default library, or a user folder whose cells/roles override the default's.

    Args:
        path: a library folder with ``manifest.json``; ``None`` → the shipped sky130 library.
        shared: start from the shipped shared-ADC library (narrower column pitch; its ADC cells
            fit only macros with adc_share >= 2) instead of the default one.

    Raises:
        InputError: a missing/invalid manifest, field or file, naming the manifest and field.
    """
    base_dir = default_library_path(shared)
    base = _read_manifest(base_dir)
    lib = CellLibrary(base_dir, str(base.get("technology", "sky130")), dict(base.get("roles", {})),
                      _parse_cells(base, base_dir), dict(base.get("template", {})))
    if path is not None and Path(path).resolve() != base_dir.resolve():
        folder = Path(path)
        if not folder.is_dir():
            raise InputError("cell library folder not found", file=folder)
        user = _read_manifest(folder)
        mf = folder / "manifest.json"
        tech = user.get("technology", lib.technology)
        if tech != lib.technology:
            raise InputError(f"field technology={tech!r}; this toolkit's cells are {lib.technology}", file=mf)
        ucells = _parse_cells(user, folder)
        lib.cells.update(ucells)
        roles = user.get("roles", {})
        if not isinstance(roles, dict):
            raise InputError("field 'roles' must be an object {role: cell_name}", file=mf)
        for role, name in roles.items():
            if role not in ROLES + PAIR_ROLES:
                raise InputError(f"field roles.{role}: unknown role; expected one of {', '.join(ROLES + PAIR_ROLES)}",
                                 file=mf)
            if name not in lib.cells:
                raise InputError(f"field roles.{role}: cell {name!r} is not in the manifest", file=mf)
            lib.roles[role] = name
            lib.overrides.append(role)
        # a user cell named like a default cell replaces it in its roles too
        lib.overrides += [r for r, n in lib.roles.items() if n in ucells and r not in lib.overrides]
        lib.path = folder
    missing = [r for r in ROLES if r not in lib.roles]
    if missing:
        raise InputError(f"library lacks roles {missing}", file=lib.path / "manifest.json")
    return lib


def uses_pair_rows(p, lib: CellLibrary) -> bool:
    """Whether macro ``p`` (:class:`~eda.layout.macro.MacroParams`) can use ``lib``'s pair bitcell
    rows: ``p.pair_rows``, ``p.local`` even, ``lib`` has the four pair roles and no user row cell
    replaces one of their one-bit versions alone (``build_macro`` then keeps them where the macro
    comes out smaller: their double row-end drivers are wider, which narrow macros do not win back)."""
    own = any(r[:-1] in lib.overrides and r not in lib.overrides for r in PAIR_ROLES)  # a user's row cell
    return p.pair_rows and p.local % 2 == 0 and all(r in lib.roles for r in PAIR_ROLES) and not own


def min_compute_pitch() -> int:
    """The narrowest column pitch (nm, 10 nm steps) whose compute cell keeps the MIM bottom-plate
    keep-out (capm.2b_a) from the last DAC line on its left and the next column's RBL."""
    from eda.layout import cells as C

    half = C.MIM_SIDE // 2 + C.PLATE_GROW + C.PLATE_KEEP + C.M3W // 2
    pitch = C.X_DAC[-1] - C.X_RBL + 2 * half
    while True:
        try:
            x = C.x_cl(pitch)
        except ValueError:
            x = -1
        if x - half >= C.X_DAC[-1] and x + half <= pitch + C.X_RBL:
            return pitch
        pitch += 10


def build_default_cells(shared: bool = False):
    """Generate the default library's cells; returns (role → CellResult, template dict).

    ``shared``: the shared-ADC library: the pitch is the widest of the per-column cells (bitcell,
    dac_switch, col_mux, the compute cell's MIM keep-out), the ``SHARED_ONLY_ROLES`` cells keep
    their pins on that pitch's template but their natural widths."""
    from eda.layout import cells as C
    from eda.layout.bitcell8t_pair import pair_bitcell
    from eda.layout.devices import row_cell

    per_col = (C.bitcell(), C.dac_switch(), C.col_mux(), C.dac_sel(), C.dac_msb())
    nat = {f.name: row_cell(f) for f in per_col + (() if shared else (C.comparator(), C.cmp_buf(), C.sar_bit(),
                                                                      C.sar_seq()))}
    pitch = max(max(r.width_nm for r in nat.values()), min_compute_pitch() if shared else 6720)
    pitch = (pitch + 9) // 10 * 10
    bit = row_cell(C.bitcell(pitch))
    slots = (bit.height_nm - 760 - 420 - 285 * 2 - 420 - 790) // 460 + 1
    res = {
        "bitcell": bit,
        "compute": row_cell(C.compute(pitch)),
        "wl_driver": row_cell(C.wl_driver(slots)),
        "in_driver": row_cell(C.in_driver(slots)),
        "comparator": row_cell(C.comparator(pitch)),
        "cmp_buf": row_cell(C.cmp_buf(pitch)),
        "col_mux": row_cell(C.col_mux(pitch)),
        "sar_bit": row_cell(C.sar_bit(pitch)),
        "sar_seq": row_cell(C.sar_seq(pitch)),
        "dac_switch": row_cell(C.dac_switch(pitch)),
        "dac_sel": row_cell(C.dac_sel(pitch)),  # shared ADCs (S > 1): bits k >= 1, gated by the column's SEL
        "dac_msb": row_cell(C.dac_msb(pitch)),  # shared ADCs: bit 0
        "tap": row_cell(C.tap(slots)),
        "bitcell2": pair_bitcell(pitch),
        "wl_driver2": row_cell(C.wl_driver2()),
        "in_driver2": row_cell(C.in_driver2()),
        "tap2": row_cell(C.tap(4, "acim_tap2")),
    }
    for role, b in (("wl_driver", bit), ("in_driver", bit), ("tap", bit), ("wl_driver2", res["bitcell2"]),
                    ("in_driver2", res["bitcell2"]), ("tap2", res["bitcell2"])):
        if res[role].height_nm != b.height_nm:
            raise RuntimeError(f"{role} height {res[role].height_nm} ≠ bitcell row {b.height_nm}")
    template = {"column_pitch_um": pitch / 1000, "x_cl_um": C.x_cl(pitch) / 1000,
                "x_dac_um": [x / 1000 for x in C.X_DAC],
                "x_seq_um": [x / 1000 for x in C.X_T], "max_adc_bits": C.MAX_ADC_BITS,
                "met3_pitch_um": 0.63, "mim_side_um": C.MIM_SIDE / 1000,
                "max_adc_share": 8}
    if shared:
        template.update(min_adc_share=2, shared_only_roles=list(SHARED_ONLY_ROLES))
    return res, template


def write_library(out: Path | str | None = None, shared: bool = False) -> Path:
    """Draw the default library (``shared``: the shared-ADC one) and write GDS, SPICE and
    ``manifest.json`` to ``out`` (default: its shipped folder).

    Sizes in the manifest are measured from the written GDS cells' bounding boxes.
    """
    import datetime

    import gdstk

    from eda.circuit import Circuit
    from eda.export.to_spice import write_spice

    out = Path(out) if out is not None else default_library_path(shared)
    out.mkdir(parents=True, exist_ok=True)
    res, template = build_default_cells(shared)
    manifest: dict = {"technology": "sky130", "roles": {}, "cells": {}, "template": template}
    for role, r in res.items():
        manifest["roles"][role] = r.name
        lib = gdstk.Library(name=r.name, unit=1e-6, precision=1e-9)
        lib.add(r.gds.copy(r.name))
        gpath = out / f"{r.name}.gds"
        lib.write_gds(str(gpath), timestamp=datetime.datetime(2026, 1, 1))  # reproducible bytes
        (x0, y0), (x1, y1) = gdstk.read_gds(str(gpath)).top_level()[0].bounding_box()
        write_spice(Circuit(title=f"* {r.name}: sky130 ACIM {role} (eda-ml)", subckts=[r.subckt]),
                    out / f"{r.name}.spice")
        pins = [p.as_dict() for p in r.pins]
        entry_extra = {}
        if role == "compute":
            from eda.tech.sky130 import MIM_CAP_F_PER_UM2

            caps = [d for d in r.subckt.devices if d.model == "sky130_fd_pr__cap_mim_m3_1"]
            entry_extra["cap_fF"] = round(sum(float(d.params["W"]) * float(d.params["L"]) for d in caps)
                                          * MIM_CAP_F_PER_UM2 * 1e15, 4)
        manifest["cells"][r.name] = {
            "width_um": round(x1 - x0, 3), "height_um": round(y1 - y0, 3),
            "gds": gpath.name, "spice": f"{r.name}.spice", "pins": pins,
            "ports": list(r.subckt.ports), "slots": {k: v / 1000 for k, v in r.slot_y.items()},
            **entry_extra,
        }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out


if __name__ == "__main__":  # python -m eda.layout.library: regenerate the shipped libraries
    print(write_library())
    print(write_library(shared=True))
