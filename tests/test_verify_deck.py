"""The sky130 precheck deck (klayout binary) and the in-process DRC agree: clean layouts are clean
under both, and each mutation (off-grid vertex, met3 near a MIM bottom plate, short two-edge via
enclosures) is flagged by both at the mutated spot. Deck runs skip with a message when the klayout
binary or ../shared/decks is absent; the in-process half always runs."""

from __future__ import annotations

import shutil

import klayout.db as db
import pytest
from conftest import shared_path
from typer.testing import CliRunner

from eda.cli import app
from eda.layout.library import load_library
from eda.layout.macro import MacroParams, build_macro
from eda.tech.sky130 import sky130
from eda.verify.deck import ToolMissingError, run_deck
from eda.verify.drc import run_drc

LIB = load_library()
T = sky130()


@pytest.fixture(scope="module")
def deck(shared):
    if shutil.which("klayout") is None:
        pytest.skip("the klayout binary is not installed (apt-get install klayout)")
    return shared_path(shared, "decks/sky130A_mr.drc")


def _um(v: float) -> int:
    return int(round(v * 1000))


def _box(top: db.Cell, ly: db.Layout, layer: str, x0: float, y0: float, x1: float, y1: float) -> None:
    lay = T.layer(layer)
    top.shapes(ly.layer(lay.layer, lay.datatype)).insert(db.Box(_um(x0), _um(y0), _um(x1), _um(y1)))


#: mutation → (rule name in the in-process table, rule name in the deck, marker centre µm)
MUTATIONS = {
    "off-grid vertex": ("x.1b", "m2_OFFGRID", (-6.0, 1.0)),
    "met3 0.8 µm from the MIM bottom plate": ("capm.2b_a", "capm.2b_a", None),
    "via2 with 0.04 µm met2 on two adjacent edges": ("via2.5", "via2.5", (-10.0, 1.0)),
    "via3 with 0.065 µm met3 on two adjacent edges": ("via3.5", "via3.5", (-14.0, 1.0)),
    "via with 0.055 µm met1 on two adjacent edges": ("via.5a", "via.5a", (-18.0, 1.0)),
}


def _mutate(src, dst) -> None:
    ly = db.Layout()
    ly.read(str(src))
    top = ly.top_cells()[0]
    # an off-grid vertex: a met2 box 1 nm off the 5 nm grid
    b = db.Box(_um(-6.5), _um(0.5), _um(-5.5) + 1, _um(1.5))
    top.shapes(ly.layer(*T.layer("met2").spec)).insert(b)
    # met3 0.8 µm right of the compute cell's MIM bottom plate (capm grown by 0.14)
    cl = LIB.cell("compute").pin("CL")
    plate_right = cl.x_um + 0.5 + 0.14
    _box(top, ly, "met3", plate_right + 0.8, cl.y_um - 0.4, plate_right + 1.13, cl.y_um + 0.4)
    # via2 (0.2) in met2 with 0.04 on the left and bottom edges (0.12 elsewhere); met3 generous
    _box(top, ly, "via2", -10.1, 0.9, -9.9, 1.1)
    _box(top, ly, "met2", -10.14, 0.86, -9.78, 1.22)
    _box(top, ly, "met3", -10.3, 0.7, -9.7, 1.3)
    # via3 (0.2) in met3 with 0.065 on the left and bottom edges; met4 generous
    _box(top, ly, "via3", -14.1, 0.9, -13.9, 1.1)
    _box(top, ly, "met3", -14.165, 0.835, -13.8, 1.3)
    _box(top, ly, "met4", -14.3, 0.7, -13.7, 1.3)
    # via (0.15) in met1 with 0.055 on the left and bottom edges; met2 generous
    _box(top, ly, "via", -18.075, 0.925, -17.925, 1.075)
    _box(top, ly, "met1", -18.13, 0.87, -17.8, 1.2)
    _box(top, ly, "met2", -18.3, 0.7, -17.7, 1.3)
    ly.write(str(dst))


def _flagged_at(result, rule: str, where) -> bool:
    v = next((v for v in result.violations if v.rule == rule), None)
    if v is None:
        return False
    if where is None:
        return True
    x, y = where
    return any(b[0] - 0.6 <= x <= b[2] + 0.6 and b[1] - 0.6 <= y <= b[3] + 0.6 for b in v.locations)


def test_inprocess_drc_flags_each_mutation(tmp_path):
    src = LIB.cell("compute").gds
    assert run_drc(src).clean
    _mutate(src, tmp_path / "mut.gds")
    r = run_drc(tmp_path / "mut.gds")
    for what, (ours, _, where) in MUTATIONS.items():
        assert _flagged_at(r, ours, where), (what, [(v.rule, v.locations[:2]) for v in r.violations])


def test_deck_flags_each_mutation_through_the_cli(tmp_path, deck):
    """One deck run: `eda verify drc --deck` exits 1, writes JSON + .lyrdb, and the deck flags
    every mutation at its spot (the unmutated cells are deck-clean: test_small_macro_*)."""
    import json

    from eda.verify.drc import DrcResult, DrcViolation

    _mutate(LIB.cell("compute").gds, tmp_path / "mut.gds")
    r = CliRunner().invoke(app, ["verify", "drc", str(tmp_path / "mut.gds"), "--deck", str(deck),
                                 "--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "r.lyrdb")])
    assert r.exit_code == 1, r.output
    assert "capm.2b_a" in r.output and (tmp_path / "r.lyrdb").is_file()
    d = json.loads((tmp_path / "r.json").read_text())
    assert len(d["rules_checked"]) > 100  # the deck's categories
    res = DrcResult(d["gds"], d["top"], d["clean"], [DrcViolation(**v) for v in d["violations"]], [], 0)
    for what, (_, theirs, where) in MUTATIONS.items():
        assert _flagged_at(res, theirs, where), (what, [(v.rule, v.locations[:2]) for v in res.violations])


def test_small_macro_is_precheck_clean(tmp_path, deck):
    """The acceptance check in the fast suite: a 4x1 macro (every cell role, MIM, SAR, spines)."""
    m = build_macro(MacroParams(4, 1, 2, 1), LIB)
    gds = tmp_path / "m.gds"
    m.library.write_gds(str(gds))
    r = run_deck(gds, deck)
    assert r.clean, [(v.rule, v.count, v.locations[:2]) for v in r.violations]
    assert run_drc(gds).clean


def test_cli_deck_bad_define():
    src = LIB.cell("tap").gds
    r = CliRunner().invoke(app, ["verify", "drc", str(src), "--deck", str(src), "-D", "bogus"])
    assert r.exit_code != 0 and "NAME=VALUE" in str(r.output) + str(r.exception)


def test_missing_binary_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError, match="apt-get install klayout"):
        run_deck(LIB.cell("tap").gds, LIB.cell("tap").gds)
