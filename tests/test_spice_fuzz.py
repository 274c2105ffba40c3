"""Fuzz the reader with >= 1,000 mutated netlists: only SpiceParseError (with a line) may escape."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eda.errors import SpiceParseError
from eda.read.from_spice import parse_spice

SEEDS = [
    b"""opamp
.param w=1u
.model nch nmos (level=1 vto=0.5)
.subckt inv in out vdd vss
M1 out in vss vss nch w={w} l=1u
M2 out in vdd vdd pch w=2u l=1u
.ends inv
X1 a b vdd 0 inv
V1 vdd 0 dc 1.8
V2 a 0 pulse(0 1.8 1n 0.1n 0.1n 5n 10n)
I1 vdd x pwl(0 0 1n 1u)
R1 a b 1k
C1 b 0 10p
+ m=2
Q1 c b e npn
D1 a 0 dmod
.tran 1n 100n
.end
""",
    b"""M0 (net1 VIN1 VSS VSS) nmos4
M1 (VOUT1 net1 VDD VDD) pmos4 w=1u
R0 (net1 VDD) resistor r=1k
C0 (VOUT1 VSS) capacitor
""",
]

mutation = st.sampled_from(["truncate", "bytes", "paren", "drop_ends", "huge", "latin1", "dup", "swap",
                            "delete_char", "insert_char"])


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        m = draw(mutation)
        lines = bytes(data).split(b"\n")
        i = draw(st.integers(0, len(lines) - 1))
        if m == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]))))]
        elif m == "bytes":
            lines[i] += draw(st.binary(min_size=1, max_size=8))
        elif m == "paren":
            lines[i] += draw(st.sampled_from([b"(", b")", b"{", b"}", b"((", b"'", b"="]))
        elif m == "drop_ends":
            lines = [x for x in lines if not x.lower().startswith(b".ends")]
        elif m == "huge":
            lines[i] += b" " + draw(st.sampled_from([b"1e999", b"-1e400", b"9" * 400, b"1e308meg"]))
        elif m == "latin1":
            lines[i] += "é µ".encode("latin-1")
        elif m == "dup":
            lines.insert(i, lines[i])
        elif m == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif m == "delete_char" and lines[i]:
            k = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:k] + lines[i][k + 1:]
        elif m == "insert_char":
            k = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:k] + bytes([draw(st.integers(0, 255))]) + lines[i][k:]
        data = bytearray(b"\n".join(lines))
    return bytes(data)


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.booleans())
def test_fuzz_only_spice_parse_error(data, title):
    try:
        parse_spice(data, "fuzz.sp", title=title)
    except SpiceParseError as e:
        assert e.line is not None and e.line >= 1
        assert e.file == "fuzz.sp"
