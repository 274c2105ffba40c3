"""PDN deck parsing: contest/IBM/BeGAN styles, round trip, file:line errors."""

from __future__ import annotations

import numpy as np
import pytest

from eda.errors import InputError
from eda.pdn.grid import make_grid
from eda.pdn.model import GROUND, WAVE_PULSE, WAVE_PWL, decode_names
from eda.pdn.parse import parse_pdn, read_pdn
from eda.pdn.write import to_spice
from eda.read.numbers import NumberError, parse_number, spice_number

ICCAD = """\
R0 n1_m1_0_0 n1_m1_4000_0 1.5
R1 n1_m1_4000_0 n1_m4_4000_0 0.5
R2 n1_m4_4000_0 n1_m4_4000_8000 2.0e-1
I0 n1_m1_0_0 0 1e-3
I1 n1_m1_4000_0 0 2.5e-3
V0 n1_m4_4000_8000 0 1.1
.op
.end
"""

IBM = """\
* ibmpg-style deck
* layer: M1,VDD net: 0
rA1 n0_100_200 n0_300_200 0.25
rA2 n0_300_200 n0_300_400 0.25
V1 n0_300_400 n0_300_401 0
r3 n0_300_401 _X_n0_300_401 0.1
vpad1 _X_n0_300_401 0 1.8
* GND net
rB1 n3_100_200 n3_300_200 0.25
vpad2 n3_300_200 0 0
iB1 n0_100_200 0 pulse(0 0.01 0 1n 1n 5n 10n)
iB2 0 n3_100_200 dc 0.002
iB3 n0_300_200 0 pwl(0 0 1n 1m 2n 1m)
l1 _X_n0_300_401 n0_300_401b 1p
r4 n0_300_401b n0_300_401 1k
c1 n0_100_200 0 10f
.tran 0.1n 10n
.end
"""


def test_iccad_deck_decodes_names_and_values():
    pdn = parse_pdn(ICCAD, file="case.sp")
    assert pdn.n_nodes == 4
    assert pdn.layer_names == ["m1", "m4"]
    i = pdn.node_index("n1_m4_4000_8000")
    assert pdn.node_net[i] == 1
    assert pdn.layer_names[pdn.node_layer[i]] == "m4"
    assert (pdn.node_x[i], pdn.node_y[i]) == (4000.0, 8000.0)
    np.testing.assert_allclose(pdn.res_value, [1.5, 0.5, 0.2])
    assert pdn.is_via.tolist() == [False, True, False]
    assert pdn.vs_b.tolist() == [GROUND] and pdn.vs_value.tolist() == [1.1]
    assert pdn.is_value.tolist() == [1e-3, 2.5e-3]
    assert pdn.title == ""  # the first line is an element, not a title


def test_ibm_deck_sources_nets_and_waveforms():
    pdn = parse_pdn(IBM)
    assert pdn.title == "ibmpg-style deck"
    assert pdn.tran == (1e-10, 1e-8)
    assert set(pdn.node_net.tolist()) == {-1, 0, 3}  # n0_300_401b encodes nothing
    assert len(pdn.ind_value) == 1 and pdn.ind_value[0] == pytest.approx(1e-12)
    assert pdn.cap_value[0] == pytest.approx(1e-14)
    assert pdn.res_value[-1] == pytest.approx(1e3)
    k = {n: j for j, n in enumerate(pdn.is_names.tolist())}
    assert pdn.is_kind[k["iB1"]] == WAVE_PULSE
    np.testing.assert_allclose(pdn.is_pulse[k["iB1"]], [0, 0.01, 0, 1e-9, 1e-9, 5e-9, 1e-8])
    assert pdn.is_a[k["iB2"]] == GROUND and pdn.is_value[k["iB2"]] == pytest.approx(0.002)
    assert pdn.is_kind[k["iB3"]] == WAVE_PWL
    s, e = pdn.pwl_start[k["iB3"]], pdn.pwl_start[k["iB3"] + 1]
    np.testing.assert_allclose(pdn.pwl_v[s:e], [0, 1e-3, 1e-3])
    # the _X_ pad node keeps its coordinates
    j = pdn.node_index("_X_n0_300_401")
    assert (pdn.node_net[j], pdn.node_x[j], pdn.node_y[j]) == (0, 300.0, 401.0)


def test_began_and_unknown_names():
    net, layer, x, y, names = decode_names(np.array(["n1_1200_800_m2", "n2_0_0_M1", "VDD", "n1_m3_5_6"]))
    assert names == ["m1", "m2", "m3"]
    assert net.tolist() == [1, 2, -1, 1]
    assert [names[i] if i >= 0 else None for i in layer] == ["m2", "m1", None, "m3"]
    assert np.isnan(x[2]) and x[0] == 1200 and y[0] == 800


@pytest.mark.parametrize("tok", ["nan", "inf", "-inf", "NaN", "1e999", "1e400k", "abc", "1.2.3", "", "k1", "0x10"])
def test_spice_number_refuses_non_finite_and_garbage(tok):
    with pytest.raises(NumberError) as e:
        spice_number(tok)
    assert isinstance(e.value, ValueError) and repr(tok) in str(e.value)
    assert parse_number(tok) is None or parse_number(tok) == float("inf")


def test_one_number_parser_for_both_readers():
    from eda.read import from_spice

    assert from_spice.parse_number is parse_number  # the SPICE reader uses the same parser
    assert spice_number("20u") == 2e-05 and spice_number("3a") == 3e-18 and spice_number("1F") == 1e-15
    with pytest.raises(InputError, match="finite"):
        parse_pdn("R1 a 0 1e999\nV1 a 0 1\n")


def test_spice_numbers_continuations_and_comments():
    assert spice_number("2k") == 2000 and spice_number("10MEG") == 1e7 and spice_number("3m") == 3e-3
    assert spice_number("1.5u") == pytest.approx(1.5e-6) and spice_number("4mil") == pytest.approx(1.016e-4)
    deck = "title\nR1 a b 1k ; inline\n  * indented comment\nR2 b 0\n+ 2k\nV1 a 0 1\n.options gmin=1e-12\n"
    pdn = parse_pdn(deck)
    np.testing.assert_allclose(pdn.res_value, [1000, 2000])
    assert pdn.res_b[1] == GROUND


def test_round_trip_generated_grid(tmp_path):
    src = make_grid(width_um=40, height_um=40, pad_pitch_um=20, decap=1e-15, pad_inductance=1e-12,
                    pulse=(1e-10, 1e-11, 1e-11, 5e-11, 2e-10), tran=(1e-12, 1e-10))
    path = tmp_path / "g.sp"
    path.write_text(to_spice(src, analysis="tran"))
    back = read_pdn(path)
    assert back.tran == src.tran
    for kind in ("res", "cap", "ind", "vs", "is"):
        def canon(p, kind=kind):
            names = p.node_names.tolist() + ["0"]
            return sorted(zip((names[i] for i in getattr(p, f"{kind}_a")), (names[i] for i in getattr(p, f"{kind}_b")),
                              getattr(p, f"{kind}_value").tolist(), strict=True))
        assert canon(back) == canon(src), kind
    np.testing.assert_array_equal(back.is_pulse, src.is_pulse)
    assert back.layer_names == src.layer_names


def test_deck_written_with_fewer_digits_reads_back_to_them(tmp_path):
    src = make_grid(width_um=40, height_um=40, pad_pitch_um=20, decap=1e-15, pad_inductance=1e-12,
                    pulse=(1e-10, 1e-11, 1e-11, 5e-11, 2e-10), tran=(1e-12, 1e-10))
    full, short = to_spice(src, analysis="tran"), to_spice(src, analysis="tran", digits=7)
    assert len(short) < len(full)
    (tmp_path / "g.sp").write_text(short)
    back = read_pdn(tmp_path / "g.sp")
    assert back.tran == src.tran  # times exact whatever the digits
    rounded = []
    for kind in ("res", "cap", "vs", "is"):
        a, b = np.sort(getattr(back, f"{kind}_value")), np.sort(getattr(src, f"{kind}_value"))
        np.testing.assert_allclose(a, b, rtol=5e-7)
        rounded.append(not np.array_equal(a, b))
    assert any(rounded)  # the load currents are not 7-digit numbers: they were really rounded
    np.testing.assert_allclose(back.is_pulse, src.is_pulse, rtol=5e-7)
    with pytest.raises(ValueError, match="digits"):
        to_spice(src, digits=0)


@pytest.mark.parametrize("deck,line,needle", [
    ("R1 a b 1\nR2 a\nV1 a 0 1\n", 2, "fields"),
    ("R1 a b 1\nM1 d g s b nmos\n", 2, "unknown element"),
    ("R1 a b 1\nR2 a b -3\nV1 a 0 1\n", 2, "positive"),
    ("R1 a b 1\nR2 a b 0\nV1 a 0 1\n", 2, "0-V source"),
    ("R1 a b 1\nR2 a b 1x2\n", 2, "bad value"),
    ("R1 a b 1\n.subckt foo a b\n", 2, "unsupported"),
    ("R1 a b 1\nI1 a 0 sin(0 1 1meg)\n", 2, "SIN"),
    ("R1 a b 1\nV1 a 0 pulse(0 1 0 1n 1n 1n 2n)\n", 2, "time-varying"),
    ("R1 a b 1\nC1 a 0 -1p\n", 2, "non-negative"),
    ("R1 a b 1\n.tran 0 1n\n", 2, ".tran"),
])
def test_bad_lines_name_file_and_line(deck, line, needle):
    with pytest.raises(InputError) as e:
        parse_pdn(deck, file="bad.sp")
    assert e.value.file == "bad.sp" and e.value.line == line
    assert needle in str(e.value)


def test_continuation_keeps_original_line_numbers():
    deck = "* t\nR1 a b\n+ 1\nR2 a b\n+ oops\n"
    with pytest.raises(InputError) as e:
        parse_pdn(deck)
    assert e.value.line == 4


def test_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError):
        read_pdn(tmp_path / "nope.sp")


def _include_tree(tmp_path, bad: str = ""):
    """top.sp includes sub/loads.sp (by a relative name), which includes more.sp (quoted, relative to sub/)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "top.sp").write_text("* top\nV1 n1_m1_0_0 0 1.1\n.include sub/loads.sp\n"
                                     "R1 n1_m1_0_0 n1_m1_1000_0 0.5\n.op\n.end\n")
    (tmp_path / "sub" / "loads.sp").write_text("* loads\nI1 n1_m1_1000_0 0 1e-3\n.INC \"more.sp\"\n")
    (tmp_path / "sub" / "more.sp").write_text("R2 n1_m1_1000_0\n+ n1_m1_2000_0 1\nI2 n1_m1_2000_0 0 2e-3\n" + bad)
    return tmp_path / "top.sp"


@pytest.mark.parametrize("byte_tokeniser,compiled", [(True, True), (True, False), (False, False)])
def test_include_reads_the_files_in_place(tmp_path, byte_tokeniser, compiled):
    pdn = read_pdn(_include_tree(tmp_path), byte_tokeniser=byte_tokeniser, compiled=compiled)
    flat = parse_pdn("* top\nV1 n1_m1_0_0 0 1.1\nI1 n1_m1_1000_0 0 1e-3\nR2 n1_m1_1000_0 n1_m1_2000_0 1\n"
                     "I2 n1_m1_2000_0 0 2e-3\nR1 n1_m1_0_0 n1_m1_1000_0 0.5\n.op\n.end\n")
    assert list(pdn.node_names) == list(flat.node_names) and pdn.n_nodes == 3 and pdn.title == "top"
    for f in ("res_a", "res_b", "res_value", "is_a", "is_value", "is_names", "vs_value"):
        assert np.array_equal(getattr(pdn, f), getattr(flat, f)), f
    assert not any("include" in n.lower() for n in pdn.notes)


def test_include_errors_name_the_included_file_and_line(tmp_path):
    top = _include_tree(tmp_path, bad="R3 n1_m1_2000_0 n1_m1_3000_0 xyz\n")
    with pytest.raises(InputError) as e:
        read_pdn(top)
    assert e.value.file == str(tmp_path / "sub" / "more.sp") and e.value.line == 4 and "bad value" in str(e.value)
    (tmp_path / "sub" / "more.sp").write_text(".include nothere.sp\n")
    with pytest.raises(InputError) as e:
        read_pdn(top)
    assert e.value.file == str(tmp_path / "sub" / "more.sp") and e.value.line == 1 and "nothere.sp" in str(e.value)
    (tmp_path / "sub" / "more.sp").write_text(".include ../top.sp\n")  # a loop
    with pytest.raises(InputError, match="nested more than"):
        read_pdn(top)


def test_binary_file_is_refused_at_its_line(tmp_path):
    deck = tmp_path / "bin.sp"
    deck.write_bytes(b"* title\nR1 a b 1\n\x7fELF\x00\x01\n")
    with pytest.raises(InputError, match="binary file") as e:
        read_pdn(deck)
    assert e.value.file == str(deck) and e.value.line == 3
    (tmp_path / "top.sp").write_text("* t\nV1 a 0 1\n.include bin.sp\n")
    with pytest.raises(InputError, match="binary file") as e:
        read_pdn(tmp_path / "top.sp")
    assert e.value.file == str(tmp_path / "top.sp") and e.value.line == 3
