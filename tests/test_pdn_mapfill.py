"""The fill outside the contest map's hull: the offset scan gives the k-d tree's answer, ties included."""

import numpy as np

from eda.pdn import mapfill


def _masks(rng, w, h):
    yield rng.random((w, h)) < rng.uniform(0.05, 0.95)  # scattered
    rim = np.zeros((w, h), bool)
    r = rng.integers(1, 4)
    rim[:r] = rim[:, :r] = rim[-1] = True  # the contest's shape: a rim left and below, one column right
    yield rim
    block = np.zeros((w, h), bool)
    x0, y0 = rng.integers(0, w), rng.integers(0, h)
    block[x0:x0 + rng.integers(1, 30), y0:y0 + rng.integers(1, 30)] = True  # a hole, often beyond the scan's reach
    yield block


def test_offset_scan_is_the_exact_nearest_fill():
    rng = np.random.default_rng(4)
    for _ in range(120):
        w, h = (int(v) for v in rng.integers(3, 50, 2))
        for mask in _masks(rng, w, h):
            m = rng.integers(0, 5, (w, h)).astype(float)  # few distinct values: a wrong tie shows
            m[mask] = np.nan
            got = mapfill.nearest_valid_fill(m)
            np.testing.assert_array_equal(got, mapfill.nearest_valid_fill(m, radius=0))  # the k-d tree alone
            if not mask.all():
                assert not np.isnan(got).any()
                np.testing.assert_array_equal(got[~mask], m[~mask])
    # brute force on one small case, ties by row-major order spelled out
    m = np.array([[np.nan, 1.0, np.nan], [2.0, np.nan, 3.0], [np.nan, 4.0, np.nan]])
    np.testing.assert_array_equal(mapfill.nearest_valid_fill(m), [[1, 1, 1], [2, 1, 3], [2, 4, 3]])


def test_offsets_come_nearest_first_then_row_major():
    d = mapfill._offsets(3)
    d2 = (d**2).sum(1)
    assert (np.diff(d2) >= 0).all() and d2.max() == 9 and len(d) == 28
    for k in np.flatnonzero(np.diff(d2) == 0):
        assert tuple(d[k]) < tuple(d[k + 1])


def test_nothing_to_fill_and_nothing_to_fill_from():
    m = np.arange(6.0).reshape(2, 3)
    assert mapfill.nearest_valid_fill(m) is m
    nan = np.full((2, 3), np.nan)
    assert np.isnan(mapfill.nearest_valid_fill(nan)).all()
