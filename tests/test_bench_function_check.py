"""``benchmarks/bench_function_check``'s tallies: kept/rejected against met/missed from the per-circuit records, with a
floor on the weaker input's gain, and per op-amp type (a library label, a sample's name, else the public ``opamp``)."""

from __future__ import annotations

import pytest
from conftest import bench_module


@pytest.fixture(scope="module")
def fc():
    return bench_module("bench_function_check")


# passed at 0 dB, met, weaker input (dB), slopes (older records have no slopes)
CIRCUITS = {"telescopic_se": [True, True, 64.8, {}], "diffamp_res": [True, False, 13.8],
            "gen000_opamp1": [True, True, 33.0, {}], "gen001_telescopic": [False, True, None, None],
            "gen002_telescopic": [True, False, 25.0, {}], "cmp004_folded_cascode_src267": [True, False, 5.0, {}],
            "1234": [False, False, 2.0, {}]}
LIBRARY = {"telescopic_se": "telescopic", "diffamp_res": "opamp1"}


def test_counts_with_and_without_a_floor(fc):
    assert fc.counts(CIRCUITS, 0.0) == {"kept_met": 2, "kept_missed": 3, "rejected_met": 1, "rejected_missed": 1}
    # at 20 dB the resistor-loaded pair and the weak completion are rejected; what met stays kept
    assert fc.counts(CIRCUITS, 20.0) == {"kept_met": 2, "kept_missed": 1, "rejected_met": 1, "rejected_missed": 3}


def test_types_and_per_type_counts(fc):
    types = fc.set_types(CIRCUITS, LIBRARY)
    assert types == {"telescopic_se": "telescopic", "diffamp_res": "opamp1", "gen000_opamp1": "opamp1",
                     "gen001_telescopic": "telescopic", "gen002_telescopic": "telescopic",
                     "cmp004_folded_cascode_src267": "folded_cascode", "1234": "opamp"}
    got = fc.by_type(CIRCUITS, types)
    assert list(got) == ["folded_cascode", "opamp", "opamp1", "telescopic"]
    assert got["telescopic"] == {"kept_met": 1, "kept_missed": 1, "rejected_met": 1, "rejected_missed": 0}
    assert got["opamp1"] == {"kept_met": 1, "kept_missed": 0, "rejected_met": 0, "rejected_missed": 1}
    assert sum(sum(c.values()) for c in got.values()) == len(CIRCUITS)
