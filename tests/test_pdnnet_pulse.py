"""Dynamic PDNNet inputs on PULSE decks: the parser's vectorised PULSE path (same PDN as the line reader) and
the dynamic pattern channel (static drop at the loads' peaks, scaled to a largest value of 1)."""

from __future__ import annotations

import numpy as np
import pytest

from eda.pdn.parse import parse_pdn

GRID = """* tiny two-net grid
R1 n1_0_0 n1_1000_0 0.5
R2 n1_1000_0 n1_2000_0 0.5
R3 n1_2000_0 n1_2000_1000 0.5
R4 n0_0_0 n0_1000_0 0.5
R5 n0_1000_0 n0_2000_0 0.5
C1 n1_1000_0 _Z_n1_1000_0 1e-12
R6 _Z_n1_1000_0 0 2.5
V1 n1_0_0 0 1.8
V2 n0_0_0 0 0
"""
IBM = ("iB1_v n1_1000_0 0 2.18725e-5 pulse(2.18725e-05, 0.0546813, 2e-10,  1e-10,  1e-10,  1e-11,  3e-09)\n"
       "iB1_g 0 n0_1000_0 2.18725e-5 PULSE(2.18725e-05, 0.0546813, 1.5e-10,  1e-10,  1e-10,  1e-11,  3e-09)\n"
       "iB2_v n1_2000_1000 0 1e-5 pulse(1e-05 0.02 5e-11 1e-10 1e-10 1e-11 3e-09)\n")
OURS = ("I0 n1_1000_0 0 DC 1.0976791087910954e-05 PULSE(1.0976791087910954e-05 0.0011876 4.8e-10 1.5e-10 1.6e-10 "
        "8e-11 3.98e-09)\nI1 n1_2000_1000 0 dc 2e-05 Pulse(2e-05 0.003 1e-10 1.5e-10 1.6e-10 8e-11 3.98e-09)\n")
TAIL = ".tran 1e-11 3e-9\n.end\n"


def _same(a, b) -> None:
    for k, v in vars(a).items():
        if k == "reader":  # which reader ran (PDN.reader), not what it read
            continue
        w = getattr(b, k)
        if isinstance(v, np.ndarray):
            assert v.shape == w.shape, k
            if v.dtype.kind == "f":
                np.testing.assert_array_equal(v, w, err_msg=k)
            else:
                assert np.array_equal(v, w), k
        else:
            assert v == w, k


def _fast_used(text: str) -> bool:
    from eda.pdn.tokens import pulse_lines

    data = text.encode()
    return pulse_lines(data, np.frombuffer(data, dtype=np.uint8), first_line=1) is not None


@pytest.mark.parametrize("sources, fast", [
    (IBM, True),                                                     # IBM: value pulse(v1, v2, ...)
    (OURS, True),                                                    # ours: DC value PULSE(...)
    (IBM + "iD n1_2000_0 0 3e-5\n", True),                           # DC and PULSE sources mixed
    ("iN n1_2000_0 n9_5000_5000 1e-5 pulse(1e-5 2e-2 0 1e-10 1e-10 1e-11 3e-9)\n" + IBM, True),  # a new node
    ("iP n1_2000_0 0 1e-5 pulse(1e-5 2e-2)\n", True),               # two values: the rest from the .tran
    ("iS n1_2000_0 0 1e-5 pulse(1e-5 20m 0 100p 100p 10p 3n)\n", False),  # suffixed numbers: line reader
    (IBM + "iQ n1_2000_0 0 pulse(1e-5 2e-2 0 1e-10 1e-10 1e-11 3e-9)\n", False),  # shapes differ: line reader
])
def test_pulse_decks_read_as_the_line_reader_reads_them(sources, fast):
    text = GRID + sources + TAIL
    assert _fast_used(text) == fast
    a, b = parse_pdn(text), parse_pdn(text, byte_tokeniser=False)
    _same(a, b)
    assert (a.is_kind == 1).sum() == sources.lower().count("pulse")


def test_pulse_fields_are_the_numbers_written():
    from eda.pdn.model import WAVE_PULSE

    pdn = parse_pdn(GRID + IBM + TAIL)
    k = list(pdn.is_names).index("iB1_g")
    assert pdn.is_kind[k] == WAVE_PULSE and pdn.is_value[k] == pytest.approx(2.18725e-5)
    np.testing.assert_allclose(pdn.is_pulse[k], [2.18725e-05, 0.0546813, 1.5e-10, 1e-10, 1e-10, 1e-11, 3e-09])
    assert pdn.node_names[pdn.is_b[k]] == "n0_1000_0" and pdn.is_a[k] == -1
    two = parse_pdn(GRID + "iP n1_2000_0 0 1e-5 pulse(1e-5 2e-2)\n" + TAIL)
    np.testing.assert_allclose(two.is_pulse[0], [1e-5, 2e-2, 0.0, 1e-11, 1e-11, 3e-9, 3e-9])  # .tran defaults


def test_bad_pulse_line_still_names_its_line():
    from eda.errors import InputError

    with pytest.raises(InputError) as e:
        parse_pdn(GRID + "iB n1_2000_0 0 1e-5 pulse(1e-5)\n" + TAIL, file="deck.sp")
    assert e.value.line == 11 and "PULSE" in str(e.value)


def test_pattern_channel_follows_the_static_drop_at_the_peaks():
    from dataclasses import replace

    from eda.graphs.pdn_graph import PATTERN_CHANNEL, GraphParams, build_pdn_graph
    from eda.graphs.pdn_physics import dynamic_pattern, signed_peaks
    from eda.pdn import maps as pm
    from eda.pdn.parse import read_pdn
    from eda.pdn.solve import solve_static

    pdn = read_pdn("data/pdn/ibm_style_tiny.sp")
    shape = pm.map_shape(pdn, 1000.0)
    pat = dynamic_pattern(pdn, shape, 1000.0, iterations=20)
    exact = pm.ir_drop_map(pdn, solve_static(replace(pdn, is_value=signed_peaks(pdn))).drop, shape, 1000.0,
                           method="tile-max")
    assert pat.max() == pytest.approx(1.0) and pat.min() >= 0
    np.testing.assert_allclose(pat, exact / exact.max(), atol=1e-6)
    dc = pm.ir_drop_map(pdn, solve_static(pdn).drop, shape, 1000.0, method="tile-max")
    assert np.abs(dc / dc.max() - pat).max() > 0.05  # the peaks, not the DC values, set it (this deck differs)
    g = build_pdn_graph(pdn, {}, GraphParams(n_slices=2, pattern_iters=20, dbu_per_um=1000.0))
    nx, ny = (int(v) for v in g.map_shape)
    assert g.fine_channels[-1] == PATTERN_CHANNEL and PATTERN_CHANNEL in g.channels
    np.testing.assert_allclose(g.image_fine[-1, :nx, :ny].numpy(), pat, atol=1e-6)
    assert PATTERN_CHANNEL not in build_pdn_graph(pdn, {}, GraphParams(n_slices=2, dbu_per_um=1000.0)).channels


@pytest.mark.slow
def test_median_ensemble_on_the_pattern_base_round_trips(tmp_path, one_torch_thread):
    """Three tiny members on one split: the pattern is the models' base, the checkpoint holds all three
    (weights only) and predicts their per-pixel median."""
    import torch

    from eda.generators.synth_ibm import make_ibm_style_sample
    from eda.graphs.dataset import sample_graph
    from eda.predictors.checkpoint import MedianEnsemble, load_checkpoint, save_checkpoint
    from eda.predictors.evaluate import predict_graph
    from eda.predictors.normalize import prepare
    from eda.predictors.train import TrainParams, train_model

    for i in range(3):
        make_ibm_style_sample(40 + i, tmp_path / f"s{i}", max_nodes=500)
    gs = [sample_graph(tmp_path / f"s{i}", "dynamic", pattern_iters=4) for i in range(3)]
    tiny = {"hidden": 8, "layers": 2, "base": 4, "depth": 2}
    fits = [train_model(gs[:2], gs[2:], TrainParams(target="dynamic", epochs=2, patience=2, ema=0.0, hparams=tiny,
                                                    seed=s), progress=False) for s in range(3)]
    norm = fits[0][1]
    assert norm.pattern_base and norm.pattern_iters == 4
    p = prepare(gs[2], norm)  # the base is the pattern at the lumped droop's level
    pat = gs[2].image_fine[-1, : p.shape[0], : p.shape[1]].double()
    np.testing.assert_allclose(p.base.double().numpy() * p.s_i * norm.y_scale,
                               (pat * float(gs[2].lumped_v)).numpy(), rtol=1e-5)
    ck = tmp_path / "ens.pt"
    save_checkpoint(ck, MedianEnsemble([f[0] for f in fits]), norm, {})
    model, norm2, _ = load_checkpoint(ck, expect_target="dynamic")
    assert isinstance(model, MedianEnsemble) and len(model.members) == 3 and norm2.pattern_base
    pred, _ = predict_graph(model, norm2, gs[2])
    each = np.stack([predict_graph(f[0], norm, gs[2])[0] for f in fits])
    np.testing.assert_allclose(pred, np.median(each, axis=0), rtol=1e-5, atol=1e-9)
    assert np.abs(each - pred).max() > 0  # the members differ: the median is not any one member everywhere
    assert torch.load(ck, weights_only=True)["members"] == 3


def test_pulse_timings_group_rows_like_a_row_wise_unique():
    from eda.graphs.pdn_waveforms import pulse_timings

    rng = np.random.default_rng(0)
    levels = np.array([1e-11, 1e-10, 2e-10, 3e-9])
    pulse = np.column_stack([rng.random((500, 2)), levels[rng.integers(0, 4, (500, 5))]])
    pulse[::7, 6] = np.nan  # no period
    timing, ti = pulse_timings(pulse)
    np.testing.assert_array_equal(timing[ti], pulse[:, 2:])  # every row's timing, NaN where NaN
    ref = np.unique(np.nan_to_num(pulse[:, 2:], nan=-1.0), axis=0)
    assert len(timing) == len(ref) and len(np.unique(ti)) == len(timing)
    pulse[3, 4] += 1e-15  # one row's edge differs in the last digits: its own timing
    assert len(pulse_timings(pulse)[0]) == len(ref) + 1
