"""``benchmarks/bench_sizing``: how many generated samples of each op-amp type a run draws (the checkpoint's training
proportions, or ``--mix`` shares), and that a run at other shares caches its samples under another key."""

from __future__ import annotations

import sys

import pytest
from conftest import bench_module


@pytest.fixture
def bs():
    return bench_module("bench_sizing", alias="bench_sizing_mix_under_test")  # a fresh copy: tests change its DRAW


def test_quota_follows_the_shares(bs):
    # the shipped specialist's training types (the library's 16/12/6/6) at the bench's 30 samples
    assert bs.type_quota(30, {"opamp1": 16, "opamp2": 12, "folded_cascode": 6, "telescopic": 6}) == \
        {"opamp1": 12, "opamp2": 9, "folded_cascode": 4, "telescopic": 4}
    # a checkpoint trained on the public op-amps by sub-type leans to opamp1; a rare type still gets one
    got = bs.type_quota(30, {"opamp1": 291, "opamp2": 119, "folded_cascode": 61, "telescopic": 1})
    assert got == {"opamp1": 18, "opamp2": 8, "folded_cascode": 4, "telescopic": 1}


def test_mix_enters_the_sample_cache_key(bs):
    plain = bs.sampling_tag()
    bs.DRAW["mix"] = {"opamp1": 16.0, "opamp2": 12.0, "folded_cascode": 6.0, "telescopic": 6.0}
    assert bs.sampling_tag() == plain + "_mix16-12-6-6"
    bs.DRAW["mix"] = {"opamp1": 1.0, "opamp2": 1.0, "folded_cascode": 1.0, "telescopic": 1.0}
    assert bs.sampling_tag() != plain + "_mix16-12-6-6"


def test_mix_needs_one_share_per_type(bs, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["bench_sizing.py", "--generated", "4", "--mix", "1,2,3"])
    with pytest.raises(SystemExit):
        bs.main()
    assert "expected one share per type of opamp1, opamp2, folded_cascode, telescopic" in capsys.readouterr().err
