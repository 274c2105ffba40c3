"""The shipped sky130 ACIM cell library: manifest, sizes, DRC and LVS of every cell."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gdstk
import pytest

from eda.errors import InputError
from eda.layout.library import PAIR_ROLES, ROLES, load_library, write_library
from eda.verify.drc import run_drc
from eda.verify.lvs import run_lvs

LIB = load_library()
CELL_NAMES = sorted(LIB.cells)


def test_roles_complete():
    assert set(LIB.roles) == set(ROLES) | set(PAIR_ROLES)  # the pair bitcell row's cells are optional roles
    assert LIB.technology == "sky130"
    for role in ROLES:
        assert LIB.cell(role).name == LIB.roles[role]


@pytest.mark.parametrize("name", CELL_NAMES)
def test_manifest_size_is_gds_bbox(name):
    info = LIB.cell(name)
    lib = gdstk.read_gds(str(info.gds))
    cells = {c.name: c for c in lib.top_level()}
    assert name in cells
    (x0, y0), (x1, y1) = cells[name].bounding_box()
    assert (x0, y0) == pytest.approx((0, 0), abs=1e-6)
    assert info.width_um == pytest.approx(x1 - x0, abs=1e-6)
    assert info.height_um == pytest.approx(y1 - y0, abs=1e-6)


@pytest.mark.parametrize("name", CELL_NAMES)
def test_cell_drc_clean(name):
    res = run_drc(LIB.cell(name).gds)
    assert res.clean, [(v.rule, v.count, v.locations[:3]) for v in res.violations]
    assert len(res.rules_checked) > 60


@pytest.mark.parametrize("name", CELL_NAMES)
def test_cell_lvs_clean(name):
    info = LIB.cell(name)
    res = run_lvs(info.gds, info.spice)
    assert res.clean, (res.mismatches, res.extraction_errors)
    assert res.devices_layout == res.devices_reference


def test_pins_match_ports():
    for info in LIB.cells.values():
        from eda.read.from_spice import read_spice

        sub = read_spice(info.spice).subckts[0]
        assert {p.name for p in info.pins} == set(sub.ports), info.name


def test_shipped_library_is_regenerated_identically(tmp_path):
    out = write_library(tmp_path / "lib")
    a = json.loads((out / "manifest.json").read_text())
    b = json.loads((LIB.path / "manifest.json").read_text())
    assert a == b


def test_user_library_overrides_a_role(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    src = LIB.cell("tap")
    shutil.copy(src.gds, user / "my_tap.gds")
    gl = gdstk.read_gds(str(user / "my_tap.gds"))
    gl.top_level()[0].name = "my_tap"
    gl.write_gds(str(user / "my_tap.gds"))
    (user / "my_tap.spice").write_text(src.spice.read_text().replace("acim_tap", "my_tap"))
    man = {"technology": "sky130", "roles": {"tap": "my_tap"},
           "cells": {"my_tap": {"width_um": src.width_um, "height_um": src.height_um, "gds": "my_tap.gds",
                                "spice": "my_tap.spice",
                                "pins": [p.__dict__ for p in src.pins]}}}
    (user / "manifest.json").write_text(json.dumps(man))
    lib = load_library(user)
    assert lib.cell("tap").name == "my_tap"
    assert lib.cell("bitcell").name == LIB.cell("bitcell").name
    assert "tap" in lib.overrides


@pytest.mark.parametrize("mutate, field", [
    (lambda m: m["cells"]["x"].pop("width_um"), "width_um"),
    (lambda m: m["roles"].update({"nonsense": "x"}), "roles.nonsense"),
    (lambda m: m["roles"].update({"tap": "missing"}), "roles.tap"),
    (lambda m: m["cells"]["x"].update({"gds": "nope.gds"}), "gds"),
])
def test_bad_user_manifest_names_field(tmp_path, mutate, field):
    src = LIB.cell("tap")
    shutil.copy(src.gds, tmp_path / "x.gds")
    shutil.copy(src.spice, tmp_path / "x.spice")
    man = {"technology": "sky130", "roles": {},
           "cells": {"x": {"width_um": 1, "height_um": 1, "gds": "x.gds", "spice": "x.spice", "pins": []}}}
    mutate(man)
    (tmp_path / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(InputError) as e:
        load_library(tmp_path)
    assert field in str(e.value) and "manifest.json" in str(e.value)


def test_missing_folder(tmp_path):
    with pytest.raises(InputError):
        load_library(tmp_path / "nope")
    with pytest.raises(InputError):
        load_library(Path(tmp_path))


def test_macro_builds_clean_with_user_override(tmp_path):
    from eda.layout.macro import MacroParams, build_macro

    user = tmp_path / "user"
    user.mkdir()
    src = LIB.cell("tap")
    gl = gdstk.read_gds(str(src.gds))
    gl.top_level()[0].name = "my_tap"
    gl.write_gds(str(user / "my_tap.gds"))
    (user / "my_tap.spice").write_text(src.spice.read_text().replace("acim_tap", "my_tap"))
    man = {"technology": "sky130", "roles": {"tap": "my_tap"},
           "cells": {"my_tap": {"width_um": src.width_um, "height_um": src.height_um, "gds": "my_tap.gds",
                                "spice": "my_tap.spice", "pins": [p.__dict__ for p in src.pins]}}}
    (user / "manifest.json").write_text(json.dumps(man))
    m = build_macro(MacroParams(4, 1, 2, 1), load_library(user))
    gds = tmp_path / "m.gds"
    m.library.write_gds(str(gds))
    assert "my_tap" in {c.name for c in m.library.cells}
    assert run_drc(gds).clean
    assert run_lvs(gds, m.circuit).clean
