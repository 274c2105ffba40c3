"""ACIM macro assembly: placement/routing facts, DRC + LVS clean builds, CLI, pareto input."""

from __future__ import annotations

import json

import gdstk
import pytest
from typer.testing import CliRunner

from eda.cli import app
from eda.errors import InputError
from eda.layout.build import build, params_from_pareto
from eda.layout.dac import dac_group_sizes as dac_groups
from eda.layout.library import load_library
from eda.layout.macro import MacroParams, build_macro
from eda.verify.drc import run_drc
from eda.verify.lvs import run_lvs

LIB = load_library()


@pytest.mark.parametrize("n, b, expected", [
    (2, 1, [1, 1]), (4, 2, [2, 1, 1]), (16, 4, [8, 4, 2, 1, 1]), (16, 2, [8, 4, 4]),
    (48, 3, [24, 12, 6, 6]), (12, 2, [6, 3, 3]), (64, 6, [32, 16, 8, 4, 2, 1, 1]),
])
def test_dac_groups_exactly_binary_weighted(n, b, expected):
    g = dac_groups(n, b)
    assert g == expected
    delta = n // 2 ** b
    assert g[:b] == [2 ** (b - 1 - k) * delta for k in range(b)] and g[b] == delta and sum(g) == n


@pytest.mark.parametrize("n, b", [(3, 1), (12, 3), (9, 1), (16, 5), (1, 1)])
def test_dac_groups_infeasible(n, b):
    with pytest.raises(InputError, match="adc_bits"):
        dac_groups(n, b)


def test_macro_and_model_share_the_dac_rule():
    """The layout accepts exactly the (rows, local, bits) the architecture model accepts."""
    from eda.generators.acim_model import AcimParams

    max_bits = int(LIB.template["max_adc_bits"])
    for rows in (2, 4, 6, 8, 12, 16, 24, 32, 48):
        for local in (1, 2, 3, 4, 8):
            for b in range(1, max_bits + 1):
                try:
                    AcimParams(rows=rows, cols=4, local_array=local, adc_bits=b)
                    model_ok = True
                except InputError:
                    model_ok = False
                try:
                    MacroParams(rows, 4, local, b).validate(max_bits)
                    layout_ok = True
                except InputError:
                    layout_ok = False
                assert model_ok == layout_ok, (rows, local, b)


@pytest.mark.parametrize("kw, field", [
    (dict(rows=6, cols=2, local=4, adc_bits=1), "local"),
    (dict(rows=4, cols=0, local=2, adc_bits=1), "cols"),
    (dict(rows=4, cols=2, local=2, adc_bits=3), "adc_bits"),
    (dict(rows=64, cols=2, local=2, adc_bits=9), "adc_bits"),
    (dict(rows=4, cols=2, local=2, adc_bits=2), "adc_bits"),    # 2 caps: no 2-bit binary DAC
    (dict(rows=48, cols=2, local=4, adc_bits=3), "adc_bits"),   # 12 caps: 2**3 does not divide
    (dict(rows=2, cols=2, local=2, adc_bits=1), "local"),       # 1 cap per column
])
def test_bad_params_name_the_field(kw, field):
    with pytest.raises(InputError) as e:
        build_macro(MacroParams(**kw), LIB)
    assert f"field '{field}'" in str(e.value)
    if field == "adc_bits" and kw["adc_bits"] <= 4:
        assert "2**adc_bits must divide rows/local" in str(e.value)


def _caps_on_vb(m):
    """MIM capacitors per compute-cell bottom-plate net (VB) in the macro's schematic, flattened
    through the local-array blocks: {top-level net: count}."""
    compute = LIB.cell("compute").name
    caps_per_compute = sum(1 for d in m.circuit.subckt(compute).devices if d.model == "sky130_fd_pr__cap_mim_m3_1")
    assert caps_per_compute >= 1
    out: dict[str, int] = {}
    for inst in m.circuit.subckt(m.name).devices:
        if "_local_" not in (inst.model or ""):
            continue
        blk = m.circuit.subckt(inst.model)
        bind = dict(zip(blk.ports, inst.nodes, strict=True))
        cports = m.circuit.subckt(compute).ports
        for d in blk.devices:
            if d.model == compute:
                vb = dict(zip(cports, d.nodes, strict=True))["VB"]
                net = bind.get(vb, vb)
                out[net] = out.get(net, 0) + caps_per_compute
    return out


@pytest.mark.parametrize("h, w, l, b", [(32, 2, 2, 3), (16, 3, 1, 4), (8, 2, 4, 1), (24, 2, 3, 2)])
def test_dac_lines_carry_binary_cap_counts(h, w, l, b):
    m = build_macro(MacroParams(h, w, l, b), LIB)
    n = h // l
    delta = n // 2 ** b
    caps = _caps_on_vb(m)
    for j in range(w):
        for k in range(b):
            assert caps[f"DAC_{k}_{j}"] == 2 ** (b - 1 - k) * delta
    assert caps["VREFN"] == delta * w  # the termination group, held at the reference
    assert sum(caps.values()) == n * w
    assert m.groups == [2 ** (b - 1 - k) * delta for k in range(b)] + [delta]


def test_macro_structure_uses_array_references():
    m = build_macro(MacroParams(16, 4, 4, 2), LIB)
    top = next(c for c in m.library.cells if c.name == m.name)
    blocks = [r for r in top.references if "_local_" in r.cell.name]
    assert len(blocks) == 4  # four local arrays, each one array reference of W column blocks
    assert all(r.repetition.columns == 4 and r.repetition.rows == 1 for r in blocks)
    for b in {r.cell.name: r.cell for r in blocks}.values():
        tiles = [r for r in b.references if "bitcell_tile" in r.cell.name]
        # L bitcells (pair rows: L/2 cells of two bits) as one array reference
        assert len(tiles) == 1 and tiles[0].repetition.rows == 4 // m.extra["bits_per_row"]
    assert m.counts["bitcell2"] * 2 == 64 and m.counts["sar_bit"] == 8 and m.counts["sar_seq"] == 12
    # netlist hierarchy mirrors it: local-array subckts holding L bitcells and the compute cell
    top_sub = m.circuit.subckt(m.name)
    las = [d for d in top_sub.devices if "_local_" in (d.model or "")]
    assert len(las) == 16
    la = m.circuit.subckt(las[0].model)
    assert sum(1 for d in la.devices if d.model == "acim_bitcell8t_pair") * 2 == 4


def test_small_macro_is_drc_and_lvs_clean(tmp_path):
    s = build(MacroParams(8, 2, 2, 2), tmp_path, render=True, progress=False)
    assert s["drc_clean"] and s["lvs_clean"]
    for f in ("macro.gds", "macro.spice", "drc.json", "drc.lyrdb", "lvs.json", "lvs.lvsdb", "macro.png",
              "macro_tile.png", "summary.json"):
        assert (tmp_path / f).is_file(), f
    lib = gdstk.read_gds(str(tmp_path / "macro.gds"))
    (x0, y0), (x1, y1) = next(c for c in lib.top_level() if c.name == "acim_macro").bounding_box()
    assert s["width_um"] == pytest.approx(x1 - x0, abs=1e-3)
    assert s["height_um"] == pytest.approx(y1 - y0, abs=1e-3)
    assert s["um2_per_bit"] == pytest.approx(s["area_um2"] / 16, rel=1e-3)
    parts = s["area_breakdown_um2_per_bit"]  # regions add up to the total; bitcells = the cell's area
    assert sum(parts.values()) == pytest.approx(s["um2_per_bit"], abs=5e-3)
    assert parts["bitcells"] == pytest.approx(s["bitcell_um2"], abs=1e-3) and min(parts.values()) > 0
    assert s["dac_groups_local_arrays"] == [2, 1, 1]
    assert json.loads((tmp_path / "lvs.json").read_text())["clean"]
    # the written SPICE is a full reference too
    assert run_lvs(tmp_path / "macro.gds", tmp_path / "macro.spice").clean
    # the layout really ties the termination group to VREFN: a schematic that switches it with
    # the MSB (DAC_0) instead must fail LVS
    from eda.read.from_spice import read_spice

    c = read_spice(tmp_path / "macro.spice")
    top = c.subckt("acim_macro")
    term = [d for d in top.devices if "_local_" in (d.model or "") and "VREFN" in d.nodes]
    assert len(term) == 2  # Δ = 1 local array per column
    d = term[0]
    d.nodes = tuple("DAC_0_0" if x == "VREFN" else x for x in d.nodes)
    assert not run_lvs(tmp_path / "macro.gds", c).clean
    # the SAR register is wired as drawn: a result flip-flop clocked by its own sequencer stage
    # (V_0 instead of V_1), or a sequencer stage 0 not tied high, fails LVS
    for name, old, new in (("XSAR_0_0", "V_1_0", "V_0_0"), ("XSEQ_0_1", "VDD", "SCLK")):
        c = read_spice(tmp_path / "macro.spice")
        d = next(x for x in c.subckt("acim_macro").devices if x.name == name)
        assert old in d.nodes
        i = d.nodes.index(old)
        d.nodes = d.nodes[:i] + (new,) + d.nodes[i + 1:]
        assert not run_lvs(tmp_path / "macro.gds", c).clean, name


def test_cli_build_and_exit_status(tmp_path):
    r = CliRunner().invoke(app, ["acim", "build", "--rows", "4", "--cols", "1", "--local", "2",
                                 "--adc-bits", "1", "--out", str(tmp_path / "o"), "--no-render"])
    assert r.exit_code == 0, r.output
    assert "DRC clean, LVS clean" in r.output
    r = CliRunner().invoke(app, ["acim", "build", "--rows", "4", "--local", "3", "--adc-bits", "1",
                                 "--out", str(tmp_path / "o2")])
    assert r.exit_code != 0 and "local" in r.output + str(r.exception)


def test_cli_build_without_local_and_bits_builds_the_explored_pick(tmp_path):
    r = CliRunner().invoke(app, ["acim", "build", "--rows", "8", "--cols", "4", "--out", str(tmp_path / "o"),
                                 "--no-check", "--no-render"])
    assert r.exit_code == 0, r.output
    assert "default design" in r.output
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    p = s["params"]
    assert (p["rows"], p["cols"]) == (8, 4) and 2 ** p["adc_bits"] <= 8 // p["local"]


@pytest.mark.parametrize("args", [["--rows", "8", "--cols", "100000", "--local", "2", "--adc-bits", "2"],
                                  ["--rows", "131072", "--cols", "131072"]])
def test_cli_build_refuses_beyond_the_size_limit_with_numbers(tmp_path, args):
    import time

    t = time.perf_counter()
    r = CliRunner().invoke(app, ["acim", "build", *args, "--out", str(tmp_path / "o")])
    assert r.exit_code == 1
    msg = r.output + str(r.exception)
    assert "estimated at" in msg and "MiB" in msg and "--force" in msg, msg
    assert time.perf_counter() - t < 10 and not (tmp_path / "o").exists()


def test_estimate_grows_with_the_design():
    from eda.layout.build import LIMIT_SECONDS, estimate

    small, big = estimate(MacroParams(64, 64, 8, 3)), estimate(MacroParams(256, 256, 16, 4))
    assert small["seconds"] < big["seconds"] < LIMIT_SECONDS and small["memory_mib"] < big["memory_mib"]
    assert estimate(MacroParams(64, 64, 8, 3), check=False)["seconds"] < small["seconds"]


def test_cli_build_fails_with_status_1_on_dirty_library(tmp_path):
    """A user bitcell with a DRC error makes `acim build` exit 1."""
    import shutil

    import klayout.db as db

    src = LIB.cell("bitcell")
    user = tmp_path / "lib"
    user.mkdir()
    ly = db.Layout()
    ly.read(str(src.gds))
    ly.top_cells()[0].shapes(ly.find_layer(68, 20)).insert(db.Box(0, 1000, 100, 1300))  # met1 sliver
    ly.write(str(user / "acim_bitcell8t.gds"))
    shutil.copy(src.spice, user / "acim_bitcell8t.spice")
    man = {"technology": "sky130", "cells": {"acim_bitcell8t": {
        "width_um": src.width_um, "height_um": src.height_um, "gds": "acim_bitcell8t.gds",
        "spice": "acim_bitcell8t.spice", "pins": [p.__dict__ for p in src.pins]}}}
    (user / "manifest.json").write_text(json.dumps(man))
    r = CliRunner().invoke(app, ["acim", "build", "--rows", "4", "--cols", "1", "--local", "2", "--adc-bits",
                                 "1", "--cells", str(user), "--out", str(tmp_path / "o"), "--no-render"])
    assert r.exit_code == 1, r.output
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["drc_clean"] is False


def test_from_pareto(tmp_path):
    designs = [{"index": 0, "params": {"rows": 8, "cols": 2, "local_array": 4, "adc_bits": 2, "adc_share": 2}},
               {"index": 1, "params": {"rows": 8, "cols": 2, "local_array": 2, "adc_bits": 2, "adc_share": 1}}]
    f = tmp_path / "pareto.json"
    f.write_text(json.dumps(designs))
    p = params_from_pareto(f, 1)
    assert (p.rows, p.cols, p.local, p.adc_bits, p.adc_share) == (8, 2, 2, 2, 1)
    assert params_from_pareto(f, 0).adc_share == 2  # shared designs build (tests/test_layout_macro_share.py)
    with pytest.raises(InputError, match="out of range"):
        params_from_pareto(f, 5)
    r = CliRunner().invoke(app, ["acim", "build", "--from-pareto", str(f), "--pick", "1", "--rows", "16",
                                 "--out", str(tmp_path / "o")])
    assert r.exit_code != 0 and "contradicts" in r.output + str(r.exception)


# every (H, L, B) with 2**B | H/L (the DAC rule); different H, W, L and ADC bits
SWEEP = [(4, 1, 2, 1), (8, 2, 2, 2), (16, 3, 2, 3), (32, 4, 2, 4), (16, 5, 4, 2), (32, 2, 4, 3),
         (64, 4, 4, 4), (24, 3, 3, 3), (48, 2, 3, 4), (12, 6, 3, 2), (64, 8, 16, 2), (32, 16, 8, 2)]


@pytest.mark.slow
@pytest.mark.parametrize("h, w, l, b", SWEEP)
def test_sweep_configurations_clean(tmp_path, h, w, l, b):
    """In-process DRC and LVS clean; precheck-deck clean when the klayout binary and the deck exist."""
    import shutil

    from conftest import shared_root

    from eda.verify.deck import run_deck

    m = build_macro(MacroParams(h, w, l, b), LIB)
    gds = tmp_path / "m.gds"
    m.library.write_gds(str(gds))
    d = run_drc(gds)
    assert d.clean, [(v.rule, v.count, v.locations[:2]) for v in d.violations]
    r = run_lvs(gds, m.circuit)
    assert r.clean, (r.mismatches[:5], r.extraction_errors[:5])
    deck = shared_root() / "decks" / "sky130A_mr.drc"
    if shutil.which("klayout") and deck.is_file():
        p = run_deck(gds, deck)
        assert p.clean, [(v.rule, v.count, v.locations[:2]) for v in p.violations]
