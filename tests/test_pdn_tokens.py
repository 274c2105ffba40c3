"""The byte-level PDN tokeniser (eda.pdn.tokens) against the line-by-line reader, which it must equal exactly."""

from __future__ import annotations

import random

import numpy as np
import pytest

from eda.errors import InputError
from eda.pdn import model, tokens
from eda.pdn.parse import _Parser, parse_pdn

_FIELDS = ("node_names", "node_net", "node_layer", "node_x", "node_y", "res_a", "res_b", "res_value", "cap_a",
           "cap_b", "cap_value", "ind_a", "ind_b", "ind_value", "vs_a", "vs_b", "vs_value", "vs_names", "is_a",
           "is_b", "is_value", "is_names", "is_kind", "is_pulse", "pwl_start", "pwl_t", "pwl_v")


def _both(text: str):
    """(byte-tokeniser result or None, line-by-line result) of one deck."""
    return _Parser(text.encode(), "d.sp")._run_fast(), parse_pdn(text, "d.sp", byte_tokeniser=False)


def _same(a, b) -> None:
    for f in _FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype, f
        np.testing.assert_array_equal(x, y, err_msg=f)
    for f in ("layer_names", "title", "tran", "print_nodes", "notes"):
        assert getattr(a, f) == getattr(b, f), f


CONTEST = """\
R0 n1_m1_0_0 n1_m1_4000_0 4.463529\x20
R1 n1_m1_4800_0 n1_m1_4000_0 0.892706
* a comment
R2 n1_m1_4800_0 n1_m4_4800_0 1e-2
\t* an indented comment
I0 n1_m1_4000_0 0 2.140000e-08
I1 n1_m1_4800_0 0 -0.0
V0 n1_m4_4800_0 0 1.1
.print tran v(n1_m1_0_0)
.op
.end
"""

IBM = """\
* ibmpg-style
rA1 n0_100_200 n0_300_200 0.25\r
rA2 n0_300_200 _X_n0_300_200 2.500000e-01\r
vpad1 _X_n0_300_200 0 1.8\r
iB1 n0_100_200 gnd 0.002\r
c1 n0_100_200 0 1e-15\r
l1 _X_n0_300_200 n0_9_9 1e-12\r
.opti post\r
.end\r
"""


@pytest.mark.parametrize("deck", [CONTEST.replace("\t* an indented comment", "   "), IBM])
def test_byte_tokeniser_equals_line_reader(deck):
    fast, slow = _both(deck)
    assert fast is not None, "this deck has the common shape: the byte tokeniser must take it"
    _same(fast, slow)


@pytest.mark.parametrize("deck", [CONTEST.replace("\t* an indented comment", "   "), IBM])
def test_the_threaded_scan_equals_the_serial_one(monkeypatch, deck):
    """Big decks convert values in a second thread: same arrays; a bad value still falls back."""
    serial, _ = _both(deck)
    monkeypatch.setattr(tokens, "_THREAD_TOKENS", 0)
    threaded, slow = _both(deck)
    _same(threaded, serial)
    _same(threaded, slow)
    fast, slow = _both(deck.replace("0.892706", "0.89x").replace("2.500000e-01", "2.5q"))
    assert fast is None and slow.n_nodes > 0


def test_an_error_in_the_value_thread_reaches_the_caller(monkeypatch):
    def boom(*_):
        raise MemoryError("value thread")
    monkeypatch.setattr(tokens, "_THREAD_TOKENS", 0)
    monkeypatch.setattr(tokens, "_values", boom)
    with pytest.raises(MemoryError, match="value thread"):
        tokens.scan(IBM.encode(), first_line=1)


@pytest.mark.parametrize("deck", [
    CONTEST,  # an indented non-blank line
    "R1 a b 2k\nV1 a 0 1\n",  # a suffixed value
    "R1 a b\n+ 1\nV1 a 0 1\n",  # a continuation line
    "R1 a b 1 ; note\nV1 a 0 1\n",  # an inline comment
    "R1 a b 1\nI1 a 0 pulse(0 1m 0 1n 1n 5n 10n)\n.tran 1n 20n\nV1 b 0 1\n",  # a waveform
    "R1 a\u00e9 b 1\nV1 a\u00e9 0 1\n",  # non-ASCII
    "R1 a b 1\rR2 b c 1\nV1 a 0 1\n",  # a lone carriage return (a line break for str.splitlines)
])
def test_other_shapes_take_the_line_reader(deck):
    fast, slow = _both(deck)
    assert fast is None
    assert slow.n_nodes > 0


def test_errors_name_the_same_line_either_way():
    deck = "* t\nR1 a b 1\nR2 b c -3\nV1 a 0 1\n"
    assert tokens.scan(deck.encode(), first_line=1) is not None
    with pytest.raises(InputError) as e:
        parse_pdn(deck, file="bad.sp")
    assert (e.value.file, e.value.line) == ("bad.sp", 3) and "positive" in str(e.value)


def test_a_hash_collision_is_caught_and_falls_back(monkeypatch):
    """Every name hashed alike: the exact row check refuses to merge them and the line reader runs instead."""
    rows = np.zeros((4, 16), dtype=np.uint8)
    rows[:, 0] = [49, 50, 49, 51]
    rows[:, 9] = [0, 0, 0, 52]
    words = list(rows.view("<u8").T)
    ids, urows = tokens._intern(words, 16)
    assert ids.tolist() == [0, 1, 0, 2] and urows.tolist() == rows[[0, 1, 3]].tolist()
    deck = CONTEST.replace("\t* an indented comment\n", "")
    want = parse_pdn(deck)
    monkeypatch.setattr(tokens, "_HASH_MUL", 0)
    assert tokens._intern(words, 16) is None
    assert tokens.scan(deck.encode()) is None
    _same(parse_pdn(deck), want)


def test_parse_floats_equals_python_float():
    rng = random.Random(5)
    toks = []
    for _ in range(20000):
        r = rng.random()
        if r < 0.3:
            t = f"{rng.uniform(-1e3, 1e3):.{rng.randint(0, 9)}f}"
        elif r < 0.6:
            t = f"{rng.uniform(-10, 10) * 10 ** rng.randint(-30, 30):.{rng.randint(0, 8)}e}"
        elif r < 0.7:
            t = str(rng.randint(-10 ** 19, 10 ** 19))
        else:
            t = rng.choice(["1.", "-.5", ".5", "+3", "1e5", "1E+05", "2.5E-3", "0", "-0", "0.0001", "1e-300",
                            "1e308", "00012.500", "4.463529", "2.140000e-08"])
        toks.append(t)
    width = max(map(len, toks))
    m = np.zeros((len(toks), width), dtype=np.uint8)
    for i, t in enumerate(toks):
        m[i, :len(t)] = np.frombuffer(t.encode(), dtype=np.uint8)
    got = tokens.parse_floats(m)
    want = np.array([float(t) for t in toks])
    assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want))
    for junk in ("2k", "1e", "e5", "1..2", "--1", "1-2", "abc", "1e5.5"):
        row = np.zeros((1, 8), dtype=np.uint8)
        row[0, :len(junk)] = np.frombuffer(junk.encode(), dtype=np.uint8)
        assert tokens.parse_floats(row) is None, junk


def test_decode_names_columns_equal_the_regular_expression():
    rng = random.Random(7)
    names = ["".join(rng.choice("nN_m1-0X9Ma_") for _ in range(rng.randint(1, 14))) for _ in range(3000)]
    names += [f"n{rng.randint(0, 12)}_{rng.choice(['m1', 'M4', 'met2', 'li1', 'm10'])}_{rng.randint(-50, 10 ** 7)}_"
              f"{rng.randint(0, 10 ** 6)}" for _ in range(2000)]
    names += [f"n{rng.randint(0, 3)}_{rng.randint(0, 999)}_{rng.randint(0, 999)}" for _ in range(1000)]
    names += [f"_X_n{rng.randint(0, 3)}_{rng.randint(0, 999)}_{rng.randint(0, 999)}" for _ in range(200)]
    names += [f"{rng.choice(['_X_', '_x_', '_X__X_', 'X_', '_X'])}n{rng.randint(0, 3)}_m{rng.randint(1, 9)}_"
              f"{rng.randint(0, 999)}_{rng.randint(-9, 999)}" for _ in range(300)]
    names += ["_X_", "_X", "_X_n", "_X_n1_2_3_m4", "_X_n1_verylonglayername_1_2"]
    names += [f"n1_{rng.randint(0, 99)}_{rng.randint(0, 99)}_m{rng.randint(1, 9)}" for _ in range(500)]
    names += ["n1_verylonglayername_1_2", "n12345678901234567_1_2", "n1_m1_-5_6", "0", "vdd", "n1__3_4"]
    arr = np.array(names)
    got = model.decode_names(arr)
    net, lay, x, y = model._decode_regex(arr)
    order = sorted({t for t in lay if t}, key=lambda t: (model._metal_number(t), t))
    want_layer = np.array([order.index(t) if t else -1 for t in lay], dtype=np.int16)
    np.testing.assert_array_equal(got[0], net)
    np.testing.assert_array_equal(got[1], want_layer)
    np.testing.assert_array_equal(got[2], x)
    np.testing.assert_array_equal(got[3], y)
    assert got[4] == order


@pytest.mark.parametrize(("text", "found"), [
    (b"I1 a 0 PULSE(0 1m 0 1n 1n 5n 10n)", True), (b"i1 a 0 pUlSe 0 1", True), (b"R1 a b 1\nI1 a 0 Pulse(", True),
    (b"pulse", True), (b"xpuls", False), (b"PULS", False), (b"", False), (b"R1 p_ulse b 1", False),
])
def test_the_pulse_look_out_ignores_case_and_nothing_else(text, found):
    assert tokens._has_word(np.frombuffer(text, dtype=np.uint8), b"pulse") is found
    assert found is (b"pulse" in text.lower())


def _repeating_deck(bad: str = "") -> str:
    """A grid whose wire values and PULSE timings repeat (as a regular grid's and IBM loads' do)."""
    lines = ["* repeating values"]
    for k in range(60):
        lines.append(f"R{k} n1_{k}_0 n1_{k + 1}_0 {'1.5e-2' if k % 7 == 6 else '0.25'}")
    for k in range(30):
        lines.append(f"I{k} n1_{k}_0 0 {1e-5 * (k + 1):.6e} pulse({1e-5 * (k + 1):.6e} 2e-2 {k % 3}e-10 1e-10 "
                     f"1e-10 1e-11 3e-09)")
    lines += ["V0 n1_0_0 0 1.8", ".tran 1e-11 3e-9", ".end"]
    return "\n".join(lines).replace("R9 n1_9_0 n1_10_0 0.25", f"R9 n1_9_0 n1_10_0 0.25{bad}") + "\n"


def test_repeating_value_columns_converted_once_per_value_equal_the_line_reader(monkeypatch):
    """Columns that repeat go through one conversion per distinct token; the numbers stay the line reader's,
    and a bad token among the repeats still sends the deck to the line reader."""
    calls: list[int] = []
    real = tokens.parse_floats
    monkeypatch.setattr(tokens, "_DEDUP_PROBE", 4)
    monkeypatch.setattr(tokens, "parse_floats", lambda m, by_rows=True: calls.append(m.shape[1]) or real(m, by_rows))
    fast, slow = _both(_repeating_deck())
    assert fast is not None and fast.is_pulse.shape == (30, 7)
    _same(fast, slow)
    assert 2 in calls and 1 in calls  # the R values (2 distinct) and the constant PULSE timings (1 distinct)
    fast, slow = _both(_repeating_deck(bad="q"))
    assert fast is None and slow.res_value[9] == 0.25
