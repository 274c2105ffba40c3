"""SPICE reader: syntax coverage, Cadence form, errors with file:line."""

import pytest

from eda.circuit import Device, Waveform
from eda.errors import SpiceParseError
from eda.read.from_spice import parse_number, parse_spice, read_spice


@pytest.mark.parametrize("tok,val", [("1k", 1e3), ("1K", 1e3), ("1meg", 1e6), ("1MEG", 1e6), ("20u", 2e-5),
                                     ("10pF", 1e-11), ("1e-3V", 1e-3), (".5", 0.5), ("-2.5n", -2.5e-9),
                                     ("3f", 3e-15), ("2g", 2e9), ("1t", 1e12), ("4m", 4e-3), ("7", 7.0)])
def test_numbers(tok, val):
    assert parse_number(tok) == pytest.approx(val, rel=1e-15)


def test_not_numbers():
    assert parse_number("abc") is None
    assert parse_number("1.2.3") is None


def test_full_syntax():
    c = parse_spice("""My Title
* comment
.PARAM wn=2u  lch = 1u
.model nch NMOS (level=1 vto=0.5)
.SUBCKT inv in out vdd vss params: w=1u
M1 out in vss vss nch W={w} L=1u
M2 out in vdd vdd pch w={2*w}
+ l=1u  ; inline comment
.ENDS inv
X1 a b vdd 0 inv w=3u
Q1 c b e npn1
Q2 c b e sub npn1 2
D1 a 0 dmod
R1 a b 1k $ dollar comment
C1 b 0 10p
L1 b c 1n
V1 vdd 0 DC 1.8
V2 a 0 PULSE(0 1.8 1n 0.1n 0.1n 5n 10n)
V3 q 0 dc 0 ac 1 pwl(0 0, 1n 1)
I1 vdd x 10u
.op
.tran 1n 100n
.save all
.end
R99 never read 1
""")
    assert c.title == "My Title"
    assert c.params == {"wn": 2e-6, "lch": 1e-6}
    assert c.models[0].name == "nch" and c.models[0].type == "nmos" and c.models[0].params == {
        "level": 1.0, "vto": 0.5}
    sub = c.subckt("INV")
    assert sub.ports == ("in", "out", "vdd", "vss") and sub.params == {"w": 1e-6}
    assert sub.devices[0] == Device("M1", "M", ("out", "in", "vss", "vss"), model="nch",
                                    params={"w": "{w}", "l": 1e-6})
    assert sub.devices[1].params == {"w": "{2*w}", "l": 1e-6}
    kinds = [d.kind for d in c.devices]
    assert kinds == ["X", "Q", "Q", "D", "R", "C", "L", "V", "V", "V", "I"]
    x1 = c.devices[0]
    assert x1.model == "inv" and x1.nodes == ("a", "b", "vdd", "0") and x1.params == {"w": 3e-6}
    assert c.devices[2].nodes == ("c", "b", "e", "sub") and c.devices[2].value == 2.0
    assert c.devices[4].value == 1e3 and c.devices[5].value == 1e-11 and c.devices[6].value == 1e-9
    assert c.devices[7].value == 1.8
    assert c.devices[8].waveform == Waveform("pulse", (0, 1.8, 1e-9, 1e-10, 1e-10, 5e-9, 1e-8))
    assert c.devices[9].ac == 1.0 and c.devices[9].waveform == Waveform("pwl", (0, 0, 1e-9, 1))
    assert [a.kind for a in c.analyses] == ["op", "tran"] and c.analyses[1].args == ("1n", "100n")
    assert c.extra == [".save all"]
    assert "never" not in c.nets  # after .end


def test_cadence_form_types_from_model_not_name():
    c = parse_spice("""M0 (net1 VIN1 VSS VSS) nmos4
M0 (net2 VIN2 VSS VSS) nmos4 w=1u l=180n
R5 (net1 VDD) resistor
M3 (VOUT1 net2) capacitor c=1p
C9 (VOUT1 VSS) diode
Q1 (a b c) pnp
""", title=False)
    kinds = [d.kind for d in c.devices]
    assert kinds == ["M", "M", "R", "C", "D", "Q"]
    assert [d.name for d in c.devices[:2]] == ["M0", "M0"]  # repeated names kept
    assert c.devices[1].params == {"w": 1e-6, "l": 1.8e-7}
    assert c.devices[3].value == 1e-12
    assert c.devices[2].model == "resistor"


def test_include_relative(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "models.inc").write_text(".model nch nmos (level=1)\nR7 x 0 5\n")
    (tmp_path / "top.sp").write_text("top\n.include sub/models.inc\nR1 a 0 1k\n.end\n")
    c = read_spice(tmp_path / "top.sp")
    assert c.models[0].name == "nch" and [d.name for d in c.devices] == ["R7", "R1"]


def test_include_error_names_included_file(tmp_path):
    (tmp_path / "bad.inc").write_text("R1 a 0 1k\nM1 a b\n")
    (tmp_path / "top.sp").write_text("top\n.include bad.inc\n.end\n")
    with pytest.raises(SpiceParseError) as e:
        read_spice(tmp_path / "top.sp")
    assert e.value.file.endswith("bad.inc") and e.value.line == 2


def test_include_loop(tmp_path):
    (tmp_path / "a.sp").write_text("title\n.include b.inc\n")
    (tmp_path / "b.inc").write_text(".include b.inc\n")
    with pytest.raises(SpiceParseError, match="nested"):
        read_spice(tmp_path / "a.sp")


@pytest.mark.parametrize("text,line,match", [
    ("t\nR1 a b 1k\nM1 a b c\n", 3, "expected 4 nodes"),
    ("t\nR1 a b\n", 2, "missing value"),
    ("t\n.subckt foo a b\nR1 a b 1\n", 2, "never closed"),
    ("t\n.ends\n", 2, "without a matching"),
    ("t\nV1 a 0 pulse(0 1 2\n", 2, "unbalanced"),
    ("t\nR1 a b 1e999\n", 2, "out of range"),
    ("t\nJ1 a b c jmod\n", 2, "unsupported element"),
    ("t\n.subckt foo a b\nE1 a b a 0 2\n.ends\n", 3, "top level only"),
    ("t\n+ R1 a b 1\n", 2, "continuation"),
    ("t\nR1 a b 1k\n.foo% x\n", 3, "unknown control card"),
    ("t\nV1 a 0 pwl(0 1 2)\n", 2, "time/value pairs"),
    ("t\nR1 a b {x\n", 2, "unbalanced"),
    ("t\nM0 (a b c) nmos4\n", 2, "takes 4 nodes"),
])
def test_errors_have_line(text, line, match):
    with pytest.raises(SpiceParseError, match=match) as e:
        parse_spice(text, "deck.sp")
    assert e.value.line == line and e.value.file == "deck.sp"
    assert f"deck.sp:{line}" in str(e.value)


def test_non_utf8_line():
    with pytest.raises(SpiceParseError, match="UTF-8") as e:
        parse_spice(b"t\nR1 a b 1k\nR2 a \xff 1\n")
    assert e.value.line == 3


def test_missing_file(tmp_path):
    with pytest.raises(SpiceParseError, match="cannot read"):
        read_spice(tmp_path / "nope.sp")


def test_param_expressions_with_spaces_as_foundry_libraries_write_them():
    c = parse_spice("t\n.param sw = {0.0+f*0.0} + mc*AGAUSS(0, 1.5e-09, 1) b = 2 c={x}\nR1 a 0 1k\n.end\n")
    assert c.params == {"sw": "{0.0+f*0.0} + mc*AGAUSS(0, 1.5e-09, 1)", "b": 2.0, "c": "{x}"}
    with pytest.raises(SpiceParseError, match="expected"):
        parse_spice("t\n.param + 1\nR1 a 0 1k\n.end\n")


def test_lib_cards_are_kept_unless_asked(tmp_path):
    """`.lib FILE SECTION` loads device models (sky130's library is beyond a netlist reader): kept verbatim by
    default, so a deck on real devices reads; read in place, one section only, with follow_libs."""
    (tmp_path / "models.lib").write_text(".lib tt\n.model nch nmos level=1 vto=0.5\n.endl tt\n"
                                         ".lib ff\n.model nch nmos level=1 vto=0.4\n.endl ff\n"
                                         "this line would not parse\n")
    deck = tmp_path / "deck.sp"
    deck.write_text("t\n.lib models.lib tt\nM1 d g 0 0 nch\n.end\n")
    kept = read_spice(deck)
    assert kept.includes == [".lib models.lib tt"] and not kept.models
    read = read_spice(deck, follow_libs=True)
    assert [(m.name, m.params["vto"]) for m in read.models] == [("nch", 0.5)]


def test_controlled_and_behavioural_sources_are_kept_verbatim(tmp_path):
    """B/E/F/G/H lines (e.g. the ideal CMFB that `eda topo size` writes into NAME_tb.sp) are kept as written and
    written back, so such a deck reads and simulates; before, 'unexpected parenthesis in element line'."""
    from eda.export.to_spice import to_spice

    b = "BCMFB vb 0 v = 0.6 + 200*((v(o1)+v(o2))/2 - 1)"
    c = parse_spice(f"t\nR1 o1 0 1k\nR2 o2 0 1k\n{b}\nE1 o2 0 o1 0 2\n.op\n.end\n")
    assert [d.name for d in c.devices] == ["R1", "R2"] and c.extra == [b, "E1 o2 0 o1 0 2"]
    assert b in to_spice(c)
