"""``benchmarks/train_opamp_self.copies``: how many copies of each own sample that met join the op-amp family in a
self-training round; with ``hold_mix`` every op-amp type keeps its share of the family (issue #17's bench draws the
types in the checkpoint's training proportions, so a shifted mix would move the met rate by itself)."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "train_opamp_self.py"


def _copies():
    spec = importlib.util.spec_from_file_location("train_opamp_self", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.copies


FAMILY = Counter(opamp1=120, opamp2=90, folded_cascode=45, telescopic=45)
MET = [("a", "opamp1"), ("b", "telescopic"), ("c", "telescopic"), ("d", "telescopic"), ("e", "opamp2")]


def test_repeat_without_hold_mix_copies_each_the_same():
    assert _copies()(MET, FAMILY, 20, False) == dict.fromkeys("abcde", 20)


def test_hold_mix_keeps_each_types_share_of_the_family():
    n = _copies()(MET, FAMILY, 20, True)
    added = Counter()
    for name, t in MET:
        added[t] += n[name]
    # the 100 copies go 120 : 90 : 45 to the three types that met (47.1, 35.3, 17.6), split evenly within a type
    assert added == Counter(opamp1=47, opamp2=35, telescopic=18)
    after = {t: FAMILY[t] + added[t] for t in added}
    for t in added:  # each type's share among the types that met is unchanged
        assert abs(after[t] / sum(after.values()) - FAMILY[t] / sum(FAMILY[u] for u in added)) < 0.01
    assert n["b"] == n["c"] == n["d"] == 6


def test_hold_mix_gives_every_circuit_at_least_one_copy():
    many = [(f"t{k}", "telescopic") for k in range(50)] + [("o", "opamp1")]
    n = _copies()(many, FAMILY, 1, True)
    assert min(n.values()) >= 1
