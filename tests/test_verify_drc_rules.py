"""DRC engine: synthetic layouts violating one rule each (and their clean twins); CLI; reports."""

from __future__ import annotations

import json

import gdstk
import klayout.rdb as rdb
import pytest
from typer.testing import CliRunner

from eda.cli import app
from eda.errors import InputError
from eda.layout.library import load_library
from eda.tech.sky130 import sky130
from eda.verify.drc import run_drc
from eda.verify.lvs import run_lvs

T = sky130()


def _gds(tmp_path, rects, name="t"):
    """rects: (layer name, x0, y0, x1, y1) in µm → a one-cell GDS."""
    c = gdstk.Cell(name)
    for ln, x0, y0, x1, y1 in rects:
        lay = T.layer(ln)
        c.add(gdstk.rectangle((x0, y0), (x1, y1), layer=lay.layer, datatype=lay.datatype))
    lib = gdstk.Library(unit=1e-6, precision=1e-9)
    lib.add(c)
    path = tmp_path / f"{name}.gds"
    lib.write_gds(str(path))
    return path


# (rule, violating shapes, clean shapes)
CASES = [
    ("m1.1", [("met1", 0, 0, 0.13, 2)], [("met1", 0, 0, 0.14, 2)]),
    ("m1.2", [("met1", 0, 0, 1, 1), ("met1", 1.13, 0, 2, 1)], [("met1", 0, 0, 1, 1), ("met1", 1.14, 0, 2, 1)]),
    ("m1.6", [("met1", 0, 0, 0.2, 0.4)], [("met1", 0, 0, 0.2, 0.42)]),
    ("m2.2", [("met2", 0, 0, 1, 1), ("met2", 0, 1.1, 1, 2)], [("met2", 0, 0, 1, 1), ("met2", 0, 1.14, 1, 2)]),
    ("m3.1", [("met3", 0, 0, 0.29, 3)], [("met3", 0, 0, 0.3, 3)]),
    ("via.1a", [("met1", 0, 0, 1, 1), ("met2", 0, 0, 1, 1), ("via", 0.4, 0.4, 0.56, 0.55)],
     [("met1", 0, 0, 1, 1), ("met2", 0, 0, 1, 1), ("via", 0.4, 0.4, 0.55, 0.55)]),
    ("via.4a", [("met1", 0.41, 0, 1, 1), ("met2", 0, 0, 1, 1), ("via", 0.4, 0.4, 0.55, 0.55)],
     [("met1", 0.345, 0, 1, 1), ("met2", 0, 0, 1, 1), ("via", 0.4, 0.4, 0.55, 0.55)]),
    ("ct.4", [("li", 0, 0, 0.3, 1), ("mcon", 0.2, 0.3, 0.37, 0.47), ("met1", 0, 0, 1, 1)],
     [("li", 0, 0, 0.4, 1), ("mcon", 0.2, 0.3, 0.37, 0.47), ("met1", 0, 0, 1, 1)]),
    ("nwell.2a", [("nwell", 0, 0, 1, 1), ("nwell", 2.2, 0, 3.2, 1)],
     [("nwell", 0, 0, 1, 1), ("nwell", 2.27, 0, 3.27, 1)]),
    ("poly.8", [("diff", 0, 0, 1, 0.5), ("nsdm", -0.2, -0.2, 1.2, 0.7), ("poly", 0.4, -0.1, 0.55, 0.6)],
     [("diff", 0, 0, 1, 0.5), ("nsdm", -0.2, -0.2, 1.2, 0.7), ("poly", 0.4, -0.13, 0.55, 0.63)]),
    ("poly.7", [("diff", 0, 0, 0.8, 0.5), ("nsdm", -0.2, -0.2, 1.2, 0.7), ("poly", 0.6, -0.13, 0.75, 0.63)],
     [("diff", 0, 0, 1, 0.5), ("nsdm", -0.2, -0.2, 1.2, 0.7), ("poly", 0.6, -0.13, 0.75, 0.63)]),
    ("difftap.2", [("diff", 0, 0, 1, 0.4), ("nsdm", -0.2, -0.2, 1.2, 0.7), ("poly", 0.4, -0.13, 0.55, 0.53)],
     [("diff", 0, 0, 1, 0.42), ("nsdm", -0.2, -0.2, 1.2, 0.7), ("poly", 0.4, -0.13, 0.55, 0.55)]),
    ("difftap.sdm", [("diff", 0, 0, 1, 0.5)], [("diff", 0, 0, 1, 0.5), ("nsdm", -0.2, -0.2, 1.2, 0.7)]),
    ("nsd.10", [("nsdm", 0, 0, 1, 1), ("psdm", 0.5, 0, 1.5, 1)], [("nsdm", 0, 0, 1, 1), ("psdm", 1, 0, 2, 1)]),
    ("capm.3", [("met3", 0, 0, 1.2, 1.2), ("capm", 0.1, 0.1, 1.1, 1.1)],
     [("met3", 0, 0, 1.28, 1.28), ("capm", 0.14, 0.14, 1.14, 1.14)]),
]


@pytest.mark.parametrize("rule, bad, good", CASES, ids=[c[0] for c in CASES])
def test_rule_violation_and_clean_twin(tmp_path, rule, bad, good):
    r = run_drc(_gds(tmp_path, bad, "bad"))
    assert rule in {v.rule for v in r.violations}, [v.rule for v in r.violations]
    v = next(v for v in r.violations if v.rule == rule)
    assert v.count >= 1 and v.locations
    r2 = run_drc(_gds(tmp_path, good, "good"))
    assert rule not in {v.rule for v in r2.violations}, [(v.rule, v.locations) for v in r2.violations]


def test_every_rule_is_checked(tmp_path):
    r = run_drc(_gds(tmp_path, [("met1", 0, 0, 1, 1)]))
    assert r.rules_checked == [x.name for x in T.rules]


def test_reports_are_klayout_readable(tmp_path):
    g = _gds(tmp_path, [("met1", 0, 0, 0.1, 2), ("met1", 0.2, 0, 0.4, 2)])
    r = run_drc(g, report=tmp_path / "r.lyrdb")
    db_ = rdb.ReportDatabase("x")
    db_.load(str(tmp_path / "r.lyrdb"))
    cats = {c.name() for c in db_.each_category()}
    assert {"m1.1", "m1.2"} <= cats
    assert db_.num_items() == r.count
    d = r.as_dict()
    assert d["clean"] is False and d["count"] == r.count
    json.dumps(d)


def test_missing_and_bad_inputs(tmp_path):
    with pytest.raises(InputError):
        run_drc(tmp_path / "nope.gds")
    (tmp_path / "junk.gds").write_bytes(b"not a gds")
    with pytest.raises(InputError):
        run_drc(tmp_path / "junk.gds")
    with pytest.raises(InputError):
        run_drc(_gds(tmp_path, [("met1", 0, 0, 1, 1)]), tech="gf180")
    with pytest.raises(InputError):
        run_drc(_gds(tmp_path, [("met1", 0, 0, 1, 1)]), top="nocell")


def test_cli_verify_exit_codes(tmp_path):
    info = load_library().cell("bitcell")
    r = CliRunner().invoke(app, ["verify", "drc", str(info.gds), "--json", str(tmp_path / "d.json")])
    assert r.exit_code == 0 and "DRC clean" in r.output
    assert json.loads((tmp_path / "d.json").read_text())["clean"] is True
    bad = _gds(tmp_path, [("met1", 0, 0, 0.1, 2)])
    r = CliRunner().invoke(app, ["verify", "drc", str(bad)])
    assert r.exit_code == 1 and "m1.1" in r.output
    r = CliRunner().invoke(app, ["verify", "lvs", str(info.gds), str(info.spice), "--report",
                                 str(tmp_path / "x.lvsdb")])
    assert r.exit_code == 0 and "LVS clean" in r.output
    assert (tmp_path / "x.lvsdb").stat().st_size > 0
    other = load_library().cell("tap").spice
    r = CliRunner().invoke(app, ["verify", "lvs", str(info.gds), str(other)])
    assert r.exit_code == 1


def test_lvs_bad_reference_is_typed_error(tmp_path):
    info = load_library().cell("bitcell")
    s = tmp_path / "bad.spice"
    s.write_text(".subckt acim_bitcell8t A B\nXM1 A B A B weird_device W=1 L=1\n.ends\n")
    with pytest.raises(InputError):
        run_lvs(info.gds, s)
