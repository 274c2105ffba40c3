"""The compiled PDN tokeniser (eda/pdn/_fastscan.c) against the line-by-line reader, which it must equal exactly:
same PDN (node order, names, values bit for bit, waveforms, notes), same typed errors with file:line, and decks it
does not handle handed on (never a silent difference)."""

from __future__ import annotations

import random
import shutil
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_path
from test_pdn_tokens import CONTEST, IBM, _same

from eda.errors import InputError
from eda.pdn import fast, mapcsv, maps
from eda.pdn.model import decode_names
from eda.pdn.parse import parse_pdn, read_pdn
from eda.pdn.write import write_voltages_csv
from eda.read.numbers import spice_number

needs_kernel = pytest.mark.skipif(not fast.available(), reason="the compiled tokeniser is not built (make setup)")


def test_the_kernel_is_built_where_a_compiler_is():
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if not shutil.which(cc) or not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        pytest.skip("no C compiler or Python headers: the Python readers take every deck")
    assert fast.available(), "make setup (pip install -e .) builds eda/pdn/_fastscan.c; it is missing"
    assert mapcsv._fastwrite is not None, "make setup builds eda/pdn/_fastwrite.c; it is missing"
    assert maps._fastmap is not None, "make setup builds eda/pdn/_fastmap.c; it is missing"


def _compiled_and_lines(text: str):
    a = parse_pdn(text, "d.sp")
    b = parse_pdn(text, "d.sp", byte_tokeniser=False)
    assert b.reader == "lines"
    return a, b


PULSE_DECK = """\
* IBM transient style: PULSE loads, decaps, package inductors, continuation lines
rA1 n0_100_200 n0_300_200 0.25
Rb n0_300_200 _X_n0_300_200 2.500000e-01
vpad1 _Y_n0_300_200 0 1.8
lpad1 _Y_n0_300_200 _X_n0_300_200 1e-9
c1 n0_100_200 0 1.5E-15
iB1 n0_100_200 0 2.18725e-5 pulse(2.18725e-05, 0.0546813, 2e-10,  1e-10,  1e-10,  1e-11,  3e-09)
iB2 0 n0_300_200 PULSE(0 1m 1n 2n)
iB3 n0_300_200 0 DC 3u pulse (0 2m
+ 1n 1n 1n 5n 10n)
iB4 n0_100_200 0 dc 1e-3
iW1 n0_100_200 0 DC 1m PWL(0 0 1n 1m 2n 0.5m)
iW2 0 n0_300_200 pwl(0, 1u,
+ 1n, 2u, 1n 3u)
.tran 1.0000000000000001e-11 1e-8
.opti nopage acct
.print tran v(n0_100_200)
+ v(n0_300_200)
.end
"""

ODD = ("* odd whitespace, cases, suffixes, ground names\r\n"
       "R1\tn1_m1_0_0   n1_m1_2000_0\t 3.2  \r\n"
       "   \r\n"
       "  R2 n1_m1_2000_0 n1_m4_2000_0 +.5e+1\r\n"
       "\t* indented comment\r\n"
       "$ dollar comment\r\n"
       "; semicolon comment\r\n"
       "r3 n1_m4_2000_0 n1_m4_2000_4000 2k\r\n"
       "R4 n1_m4_2000_4000 n1_m7_2000_4000 1MEG\r\n"
       "C1 n1_m1_0_0 gnd 10p\r\n"
       "C2 n1_m1_2000_0 GND 0\r\n"
       "L1 n1_m7_2000_4000 n1_m9_0_0 1e-12\r\n"
       "R5 n1_m9_0_0\r\n"
       "+ n1_m9_4000_0 0.0001\r\n"
       "V1 n1_m9_4000_0 0 1.1\r\n"
       "V2 n1_m9_0_0 n1_m9_4000_0 0\r\n"
       "I1 n1_m1_0_0 0 -0.0\r\n"
       "I2 n1_m1_2000_0 0 6.672751096049451e-06\r\n"
       "I3 n1_m4_2000_0 0 123456789012345678901234e-30\r\n"
       ".op\r\n.END\r\n")


@needs_kernel
@pytest.mark.parametrize("deck", [CONTEST, IBM, PULSE_DECK, ODD, ODD.replace("\r\n", "\n"),
                                  "R1 a b 1\nV1 a 0 1", "R0 n1_m1_0_0 n1_m1_1_0 1\nI0 n1_m1_1_0 0 1u\n"])
def test_compiled_equals_line_reader(deck):
    a, b = _compiled_and_lines(deck)
    assert a.reader == "compiled", fast.scan(deck.encode(), 1)
    _same(a, b)


@needs_kernel
@pytest.mark.parametrize("deck,why", [
    ("R1 a b 1 ; note\nV1 a 0 1\n", "inline comment"),
    ("R1 a b 1\nI1 a 0 pwl(0 0 1ns 1m)\n.tran 1n 2n\nV1 b 0 1\n", "PWL field"),
    ("R1 a b 10mil\nV1 a 0 1\n", "leaves to Python"),
    ("R1 a b 1\nI1 a 0 pulse(0 1m 1ns 1ns)\n.tran 1n 20n\nV1 b 0 1\n", "PULSE field"),
    ("R1 a b 1\nI1 a 0 pwl(0 0 1n 1m) dc 1\nV1 b 0 1\n", "fields after PWL"),
    ("R1 a b 1\n.control\nrun\n.endc\nV1 a 0 1\n", ".control"),
    ("R1 a b 1 m=2\nV1 a 0 1\n", "extra fields"),
    ("R1 a b 1\nI1 a 0 1 ac 1\nV1 a 0 1\n", "source field"),
    ("R1 a\u00e9 b 1\nV1 a\u00e9 0 1\n", "printable ASCII"),
    ("R1 a b 1\rR2 b c 1\nV1 a 0 1\n", "printable ASCII"),
    ("R1 a b 1e\nV1 a 0 1\n", "leaves to Python"),
    ("R1 a b 1_000\nV1 a 0 1\n", "leaves to Python"),
])
def test_decks_it_leaves_alone_are_handed_on_with_a_reason(deck, why):
    deck = "* title\n" + deck
    got = fast.scan(deck.encode("utf-8"), 1)
    assert isinstance(got, str) and why in got, got
    a, b = _compiled_and_lines(deck)
    assert a.reader != "compiled"
    _same(a, b)


BAD = [  # (deck, line of the error)
    ("R1 a b 1\nI1 a 0 pulse(0 0.05e6813 1n 1n)\n.tran 1n 2n\nV1 b 0 1\n", 2),  # overflow found by the fuzz test
    ("* t\nR1 a b 1\nR2 b c -3\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nR2 a b 0\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nR2 a b 1x2\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nR2 a\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nQ1 a b c\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\n.subckt x a b\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nV1 a a 1\n", 3),
    ("* t\nR1 a b 1\nV1 0 gnd 1\n", 3),
    ("* t\nR1 a b 1\nC1 a 0 -1p\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nL1 a b 0\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1e999\nV1 a 0 1\n", 2),
    ("* t\nR1 a b 1\nI1 a 0 1e999\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nI1 a 0 pulse(1)\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nV1 a 0 pulse(0 1 0 1n 1n 1n 2n)\n", 3),
    ("* t\nR1 a b 1\n.tran 0 1n\nV1 a 0 1\n", 3),
    ("* t\nR1 a b\n+ 1\nR2 a b\n+ oops\nV1 a 0 1\n", 4),
    ("* t\nR1 a b 1\nR2 b c\n+ -1\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nI1 a 0 sin(0 1 1meg)\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nI1 a 0 pwl(0 1 2n)\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nI1 a 0 pwl(0 1 2n 1 1n 0)\nV1 a 0 1\n", 3),
    ("* t\nR1 a b 1\nV1 a 0 pwl(0 1 2n 1)\n", 3),
]


@pytest.mark.parametrize("deck,line", BAD)
def test_errors_are_the_line_readers_with_file_and_line(deck, line):
    with pytest.raises(InputError) as want:
        parse_pdn(deck, "bad.sp", byte_tokeniser=False)
    with pytest.raises(InputError) as got:
        parse_pdn(deck, "bad.sp")
    assert str(got.value) == str(want.value)
    assert (got.value.file, got.value.line) == ("bad.sp", line)


@needs_kernel
def test_numbers_are_the_doubles_float_gives():
    """Plain, scientific, 17-digit, long and suffixed values (fast and slow conversion paths), bit for bit."""
    rng = random.Random(7)
    toks = []
    for _ in range(3000):
        x = 10 ** rng.uniform(-30, 30) * rng.random()
        form = rng.randrange(7)
        if form == 0:
            toks.append(repr(x))
        elif form == 1:
            toks.append(f"{x:.6e}")
        elif form == 2:
            toks.append(f"{x:.{rng.randrange(1, 25)}g}")
        elif form == 3:
            toks.append(f"{rng.randrange(1, 10 ** rng.randrange(1, 30))}e{rng.randrange(-40, 40)}")
        elif form == 4:
            toks.append(f"{rng.random() * 1000:.{rng.randrange(0, 8)}f}{rng.choice('tgkmunpfaTGKMUNPFA')}")
        elif form == 5:
            toks.append(f"{rng.randrange(1, 999)}{rng.choice(['meg', 'MEG', 'Meg'])}")
        else:
            toks.append("0." + "0" * rng.randrange(0, 25) + str(rng.randrange(1, 10 ** 20)))
    deck = "".join(f"R{i} a{i} b{i} {t}\n" for i, t in enumerate(toks)) + "V1 a0 0 1\n"
    pdn = parse_pdn(deck)
    assert pdn.reader == "compiled"
    want = np.array([spice_number(t) for t in toks])
    assert np.array_equal(pdn.res_value.view(np.int64), want.view(np.int64))


@needs_kernel
def test_node_names_decode_as_decode_names_does():
    """Contest, BeGAN, IBM, pad-prefixed, long-number, both-side-layer and unmatched names: same net, layer, x, y."""
    rng = random.Random(3)
    names = []
    for _ in range(4000):
        x, y, net = rng.randrange(-10 ** 6, 10 ** 6), rng.randrange(0, 10 ** rng.randrange(1, 18)), rng.randrange(4)
        lay = rng.choice(["m1", "M4", "metal7", "m10", "via12", "layer_long_name9"[: rng.randrange(1, 16)]])
        names.append(rng.choice([
            f"n{net}_{lay}_{x}_{y}", f"n{net}_{x}_{y}_{lay}", f"n{net}_{x}_{y}", f"_X_n{net}_{x}_{y}",
            f"N{net}_{lay}_{x}_{y}", f"n{net}_{lay}_{x}_{y}_{lay}", f"_Z_n{net}_{x}_{y}", f"n{net}_{x}",
            f"n{rng.randrange(10 ** 12)}_{x}_{y}", f"node{x}", f"n{net}__{x}_{y}", f"n{net}_{x}_-{y}",
            f"n{net}_{lay}_{x}_{y}x", f"n-{net}_{x}_{y}", f"_X__X_n{net}_{x}_{y}"]))
    deck = "".join(f"R{i} {a} {b} 1\n" for i, (a, b) in enumerate(zip(names[::2], names[1::2], strict=True)))
    a, b = _compiled_and_lines(deck + "V1 node1 0 1\n")
    assert a.reader == "compiled"
    _same(a, b)
    net, layer, x, y, layers = decode_names(a.node_names)
    assert layers == a.layer_names and np.array_equal(layer, a.node_layer) and np.array_equal(net, a.node_net)
    assert np.array_equal(x, a.node_x, equal_nan=True) and np.array_equal(y, a.node_y, equal_nan=True)


@needs_kernel
def test_node_numbering_follows_the_line_readers_kind_order():
    """Lines of every kind interleaved: ids by first appearance over R, C, L, V, I, each a before b."""
    rng = random.Random(11)
    lines = []
    for i in range(600):
        kind = rng.choice("RCLVI")
        a, b = f"n{rng.randrange(60)}", rng.choice(["0", "gnd", f"n{rng.randrange(60)}"])
        if kind == "V" and a == b:
            continue
        lines.append(f"{kind}{i} {a} {b} {rng.choice(['1', '2.5', '1e-3'])}")
    a, b = _compiled_and_lines("\n".join(lines) + "\n")
    assert a.reader == "compiled"
    _same(a, b)


@needs_kernel
def test_a_corrupted_token_in_a_generated_grid_names_its_line(tmp_path):
    from eda.pdn.grid import grid_for_nodes, make_grid
    from eda.pdn.write import write_pdn

    deck = write_pdn(make_grid(grid_for_nodes(3000, pad_pitch_um=100, total_current=0.5, seed=2)), tmp_path / "g.sp")
    lines = deck.read_text().splitlines()
    assert read_pdn(deck).reader == "compiled"
    rng = random.Random(1)
    for bad in ("3.2.1", "-1", "abc", "1e999"):
        k = rng.randrange(1, len(lines))
        toks = lines[k].split()
        toks[3] = bad if lines[k][0] in "RrCcLl" or bad != "-1" else "x"
        (tmp_path / "b.sp").write_text("\n".join(lines[:k] + [" ".join(toks)] + lines[k + 1:]) + "\n")
        with pytest.raises(InputError) as e:
            read_pdn(tmp_path / "b.sp")
        assert e.value.line == k + 1 and e.value.file == str(tmp_path / "b.sp"), (bad, str(e.value))


@needs_kernel
@pytest.mark.parametrize("rel", ["ibmpg/ibmpg1.spice", "ibmpg/ibmpg1t.spice", "iccad23/real/testcase1/netlist.sp",
                                 "iccad23/fake/current_map11.sp"])
def test_real_decks_read_alike(shared, rel):
    path = shared_path(shared, rel)
    a, b = read_pdn(path), read_pdn(path, byte_tokeniser=False)
    assert a.reader == "compiled"
    _same(a, b)


@needs_kernel
def test_a_corrupted_real_deck_names_the_line(shared, tmp_path):
    path = shared_path(shared, "ibmpg/ibmpg1t.spice")
    lines = path.read_bytes().split(b"\n")
    k = next(i for i in range(len(lines) // 2, len(lines)) if lines[i][:1] == b"i" and b"pulse" in lines[i])
    bad = tmp_path / "bad.spice"
    toks = lines[k].split(b" ")
    toks[3] = b"2.1.5"  # the DC value
    bad.write_bytes(b"\n".join(lines[:k] + [b" ".join(toks)] + lines[k + 1:]))
    with pytest.raises(InputError) as e:
        read_pdn(bad)
    assert e.value.line == k + 1 and "bad number" in str(e.value)


needs_writer = pytest.mark.skipif(mapcsv._fastwrite is None, reason="the compiled map writer is not built")


@needs_writer
@pytest.mark.parametrize("two_threads", [False, True])
def test_compiled_map_writer_gives_pythons_bytes(tmp_path, monkeypatch, two_threads):
    """'%.9g' of every magnitude, exact ties (half to even), rounding into the next power of ten, zeros, non-finite;
    also with the rows formatted in two threads (values CPython formats, with the GIL taken back, in both halves)."""
    if two_threads:
        monkeypatch.setattr(mapcsv, "SPLIT_FORMAT_VALUES", 1)
    rng = np.random.default_rng(0)
    v = np.concatenate([rng.normal(size=60000) * 10.0 ** rng.uniform(-20, 12, size=60000),
                        np.abs(rng.normal(size=20000)) * 1e-3, np.arange(1e8, 1e8 + 500) + 0.5,
                        np.arange(500) * 0.5, 10.0 ** np.arange(-30, 30),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e-14, 999999999.5, 999999999.4, 9.9999999995,
                         0.00009999999995, 99999999.95, 1e9, 1e-4, 123456789.0, 2.5]])
    m = v[: len(v) // 6 * 6].reshape(-1, 6)
    fast_path = mapcsv.write_map_csv(m, tmp_path / "fast.csv")
    monkeypatch.setattr(mapcsv, "_fastwrite", None)
    slow_path = mapcsv.write_map_csv(m, tmp_path / "slow.csv")
    assert fast_path.read_bytes() == slow_path.read_bytes()
    assert mapcsv._fastwrite is None and fast_path.read_bytes().count(b"\n") == m.shape[0]


@needs_writer
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_voltage_writer_gives_pythons_bytes(tmp_path, monkeypatch, dtype):
    rng = np.random.default_rng(1)
    names = np.array([f"n1_m1_{i}_{2 * i}" for i in range(3000)] + ["_X_n0_5_5", "gnd2", "a"])
    v = np.concatenate([rng.normal(size=2990) * 10.0 ** rng.uniform(-20, 20, size=2990),
                        [0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, 0.1, 1e16, 1e-5, 123456789.0, 5e-324, 1.1, 0.0]])
    v = v.astype(dtype)
    odd = np.array(["n\u00e9", "b"]), np.array([1.0, 2.0])  # a non-ASCII name: Python writes it
    late = np.concatenate([names[:2500], ["n\u00e9"]]), v[:2501].astype(np.float64)  # ... in a later block
    monkeypatch.setattr("eda.pdn.write._WRITE_BLOCK", 1000)  # block boundaries inside the file
    outs = [write_voltages_csv(names, v, tmp_path / "fast.csv"),
            write_voltages_csv(names[::-1].copy()[::-1], v, tmp_path / "fast2.csv"),  # a strided view
            write_voltages_csv(*odd, tmp_path / "odd_fast.csv", header="node,worst_drop"),
            write_voltages_csv(*late, tmp_path / "late_fast.csv")]
    monkeypatch.setattr("eda.pdn.write._fastwrite", None)
    slow = [write_voltages_csv(names, v, tmp_path / "slow.csv"),
            write_voltages_csv(*odd, tmp_path / "odd_slow.csv", header="node,worst_drop"),
            write_voltages_csv(*late, tmp_path / "late_slow.csv")]
    assert outs[0].read_bytes() == outs[1].read_bytes() == slow[0].read_bytes()
    assert outs[2].read_bytes() == slow[1].read_bytes()
    assert outs[3].read_bytes() == slow[2].read_bytes()
    assert slow[0].read_bytes().count(b"\n") == len(names) + 1
    assert slow[0].read_text().splitlines()[1] == f"{names[0]},{float(v[0])!r}"


@needs_kernel
def test_names_that_share_a_hash_stay_apart():
    """All names of one length forced onto one hash: the byte comparison alone keeps them apart (same ids)."""
    deck = "".join(f"R{i} n1_m1_{100 + i}_{200 + i} n1_m1_{101 + i}_{200 + i} 1\n" for i in range(300))
    deck = (deck + "R900 n1_m1_a_b n1_m1_b_a 2\nV1 n1_m1_100_200 0 1\n").encode()
    weak, strong = fast.scan(deck, 0, weak_hash=True), fast.scan(deck, 0)
    want = parse_pdn(deck.decode(), byte_tokeniser=False)
    assert len(weak.names) == len(strong.names) == want.n_nodes == 602
    assert np.array_equal(weak.names, strong.names) and np.array_equal(weak.names, want.node_names)
    for k in "rv":
        assert np.array_equal(weak.a[k], strong.a[k]) and np.array_equal(weak.b[k], strong.b[k])
    _same(parse_pdn(deck.decode()), want)


@needs_kernel
def test_long_numbers_in_every_place_are_converted_after_the_pass():
    """17+ digit numbers (converted after the GIL-free pass) as R values, DC values, PULSE fields, PWL times and
    values, and a PWL whose times decrease only in their 17th digit (the line reader's error, same line)."""
    x = "1.2345678901234567e-05"
    deck = (f"* t\nR1 a b {x}\nR2 b c 0.10000000000000001\nI1 a 0 DC {x} PULSE(0 {x} 1n 1n 1n 5n 10n)\n"
            f"I2 b 0 PULSE({x} 2e-3)\nI3 c 0 PWL(0 {x} 1.0000000000000005e-9 2e-3 3e-9 {x})\nI4 a 0 {x}\n"
            f".tran 1n 20n\nV1 c 0 1.1000000000000000888\n")
    a, b = _compiled_and_lines(deck)
    assert a.reader == "compiled"
    _same(a, b)
    assert a.is_value[2] == float(x) and a.is_pulse[1, 0] == float(x) and a.pwl_v[-1] == float(x)
    bad = deck.replace("3e-9", "1.0000000000000000e-9")
    assert fast.scan(bad.encode(), 1) == "PWL times that decrease"
    with pytest.raises(InputError) as got:
        parse_pdn(bad, "bad.sp")
    with pytest.raises(InputError) as want:
        parse_pdn(bad, "bad.sp", byte_tokeniser=False)
    assert str(got.value) == str(want.value) and got.value.line == 6


def _mutate(data: bytes, rng: random.Random, n: int) -> bytes:
    """``n`` random byte edits (replace / insert / delete), biased to the bytes a deck is made of."""
    alphabet = b"0123456789.eE+-_,() \t\r\n*;$=abcdefmnuvxyzRCLIV\x00\x7f\xc3\xa9"
    buf = bytearray(data)
    for _ in range(n):
        op, k = rng.randrange(3), rng.randrange(len(buf) + 1)
        c = alphabet[rng.randrange(len(alphabet))] if rng.random() < 0.9 else rng.randrange(256)
        if op == 0 and k < len(buf):
            buf[k] = c
        elif op == 1:
            buf.insert(k, c)
        elif k < len(buf):
            del buf[k]
    return bytes(buf)


def _outcome(text: str, **kw):
    try:
        return parse_pdn(text, "f.sp", **kw), None
    except InputError as e:
        return None, (str(e), e.file, e.line)


@needs_kernel
def test_byte_mutations_never_crash_and_read_as_the_line_reader():
    """Fuzz: 600 decks with 1-4 random byte edits each (NUL, DEL, non-ASCII, stray parentheses, split numbers,
    lost newlines). The compiled path must never crash the interpreter and must give exactly what the line
    reader gives: the same PDN or the same typed error at the same file:line."""
    rng = random.Random(2026)
    bases = [CONTEST, IBM, PULSE_DECK, ODD]
    compiled = errors = 0
    for i in range(600):
        text = _mutate(bases[i % len(bases)].encode(), rng, 1 + i % 4).decode("latin-1")
        got, got_err = _outcome(text)
        want, want_err = _outcome(text, byte_tokeniser=False)
        assert got_err == want_err, (i, text)
        if want is not None:
            _same(got, want)
            compiled += got.reader == "compiled"
        errors += want_err is not None
    # the mutations must exercise both sides: decks the kernel reads and decks refused with an error
    print(f"{compiled} read by the kernel, {errors} refused")
    assert compiled > 100 and errors > 100, (compiled, errors)
