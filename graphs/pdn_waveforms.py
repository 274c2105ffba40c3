"""Load-current waveforms of a PDN as the graph builder needs them: peak values and time-sliced means.

Sources are evaluated as ngspice does (PULSE; PWL linear between points and held outside; DC constant),
vectorised over sources and times: waveforms on one shared time grid (our dynamic decks) are interpolated
as one matrix.
"""

from __future__ import annotations

import numpy as np

from eda.pdn.model import PDN, WAVE_PULSE, WAVE_PWL
from eda.pdn.solve import pulse_values

__all__ = ["peak_currents", "slice_currents", "slice_window"]


def _pwl_sources(pdn: PDN) -> np.ndarray:
    """Indices of the PWL sources that have at least one point."""
    pwl = np.flatnonzero(pdn.is_kind == WAVE_PWL)
    return pwl[np.diff(pdn.pwl_start)[pwl] > 0]


def _pwl_points(pdn: PDN, pwl: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The points of PWL sources ``pwl`` back to back: ``(count per source, first index per source, t, v)``."""
    cnt = np.diff(pdn.pwl_start)[pwl]
    sel = _csr_ranges(pdn.pwl_start, pwl)
    return cnt, np.r_[0, np.cumsum(cnt)[:-1]], pdn.pwl_t[sel], pdn.pwl_v[sel]


def _pwl_at(pdn: PDN, pwl: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Values of PWL sources ``pwl`` at ``times`` as ngspice evaluates them (linear between points, held
    outside), ``(len(times), len(pwl))``, vectorised over sources and times."""
    cnt, first, t, v = _pwl_points(pdn, pwl)
    if (cnt == cnt[0]).all() and cnt[0] > 1:  # one shared time grid (waveforms sampled together): a matrix
        tt = t.reshape(len(pwl), cnt[0])
        if (tt == tt[0]).all() and (np.diff(tt[0]) > 0).all():
            g, vv = tt[0], v.reshape(len(pwl), cnt[0])
            e = np.clip(times, g[0], g[-1])
            j = np.clip(np.searchsorted(g, e, side="right") - 1, 0, len(g) - 2)
            w = (e - g[j]) / (g[j + 1] - g[j])
            return (vv[:, j] + w * (vv[:, j + 1] - vv[:, j])).T
    # general: one interpolation over all sources, the points of source k keyed k + (t - t0) / (2 span)
    span = max(float(t.max() - t.min()), float(np.max(times) - np.min(times)), 1e-30)
    t0 = min(float(t.min()), float(np.min(times)))
    key = np.repeat(np.arange(len(pwl)), cnt) + (t - t0) / (2.0 * span)
    last = first + cnt - 1
    tq = np.asarray(times, dtype=np.float64)[:, None]
    q = np.arange(len(pwl))[None, :] + (tq - t0) / (2.0 * span)
    val = np.interp(q.ravel(), key, v).reshape(q.shape)
    return np.where(tq <= t[first], v[first], np.where(tq >= t[last], v[last], val))


def waveforms_at(pdn: PDN, times: np.ndarray) -> np.ndarray:
    """Current of every source at ``times``, ``(len(times), n_sources)``: DC, PULSE and PWL as ngspice
    evaluates them (:func:`eda.pdn.solve.source_currents`), vectorised over sources and times."""
    return _sources_at(pdn, np.asarray(times, dtype=np.float64), lambda p, t: pulse_values(p, t[:, None]))


def _sources_at(pdn: PDN, times: np.ndarray, pulses) -> np.ndarray:
    """Current of every source at ``times`` (1-D), ``(len(times), n_sources)``, PULSE rows evaluated by
    ``pulses(rows, times)``."""
    out = np.repeat(pdn.is_value[None, :].astype(np.float64), len(times), axis=0)
    pm = np.flatnonzero(pdn.is_kind == WAVE_PULSE)
    if len(pm):
        out[:, pm] = pulses(pdn.is_pulse[pm], times)
    pwl = _pwl_sources(pdn)
    if len(pwl):
        out[:, pwl] = _pwl_at(pdn, pwl, times)
    return out


def summed_waveforms(pdn: PDN, times: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of the source currents of each group at ``times``, ``(len(times), n_groups)``.

    PULSE sources are summed per distinct timing (delay, edges, width, period): the sum of pulses that share
    a timing is ``Σ i1 + Σ (i2 - i1) · unit pulse``, so only one waveform per timing is evaluated (IBM decks:
    10,774 sources, ~15 timings). DC and PWL sources are evaluated one by one (:func:`waveforms_at`).
    """
    from scipy.sparse import coo_matrix

    t = np.asarray(times, dtype=np.float64)
    out = np.zeros((len(t), n_groups))
    pm = pdn.is_kind == WAVE_PULSE
    if pm.any():
        pu = pdn.is_pulse[pm]
        timing, ti = pulse_timings(pu)
        unit = np.column_stack([np.zeros(len(timing)), np.ones(len(timing)), timing])
        shape = pulse_values(unit, t[:, None])  # (T, timings), 0 → 1 pulses
        g = group[pm]
        out += np.bincount(g, pu[:, 0], minlength=n_groups)[None, :]
        amp = coo_matrix((pu[:, 1] - pu[:, 0], (ti, g)), shape=(len(timing), n_groups)).toarray()
        out += shape @ amp
    rest = np.flatnonzero(~pm)
    if len(rest):
        sub = coo_matrix((np.ones(len(rest)), (np.arange(len(rest)), group[rest])),
                         shape=(len(rest), n_groups)).tocsr()
        chunk = max(1, 2**19 // len(rest))
        for i in range(0, len(t), chunk):
            out[i:i + chunk] += np.asarray((sub.T @ waveforms_at(pdn, t[i:i + chunk])[:, rest].T).T)
    return out


def pulse_timings(pulse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct timings (``td tr tf pw per``, columns 2-6) of PULSE rows and each row's timing index: the
    rows of ``np.unique(pulse[:, 2:], axis=0, return_inverse=True)``, by one integer key built from the
    columns' own distinct values (a row-wise unique sorts 100k rows of floats: ~10x slower)."""
    cols = pulse[:, 2:]
    key = np.zeros(len(cols), dtype=np.int64)
    radix = 1
    for j in range(cols.shape[1]):
        _, inv = np.unique(cols[:, j], return_inverse=True)
        width = int(inv.max()) + 1 if len(inv) else 1
        if radix > (2**62) // width:  # too many combinations for one int64: the row-wise way
            timing, ti = np.unique(cols, axis=0, return_inverse=True)
            return timing, ti.ravel()
        key += inv.ravel().astype(np.int64) * radix
        radix *= width
    _, first, ti = np.unique(key, return_index=True, return_inverse=True)
    return cols[first], ti.ravel()


def peak_currents(pdn: PDN) -> np.ndarray:
    """Largest absolute current of every source over its waveform (DC: its value; PULSE: max of both levels)."""
    peak = np.abs(pdn.is_value).astype(np.float64)
    pm = pdn.is_kind == WAVE_PULSE
    if pm.any():
        peak[pm] = np.maximum(np.abs(pdn.is_pulse[pm, 0]), np.abs(pdn.is_pulse[pm, 1]))
    pwl = _pwl_sources(pdn)
    if len(pwl):
        _, first, _, v = _pwl_points(pdn, pwl)
        peak[pwl] = np.maximum.reduceat(np.abs(v), first)
    return peak


def _csr_ranges(start: np.ndarray, rows: np.ndarray) -> np.ndarray:
    cnt = start[rows + 1] - start[rows]
    offs = np.repeat(start[rows] - np.r_[0, np.cumsum(cnt)[:-1]], cnt)
    return np.arange(int(cnt.sum())) + offs


def slice_window(pdn: PDN) -> tuple[float, float]:
    if pdn.tran is not None:
        return 0.0, float(pdn.tran[1])
    stop = 0.0
    pm = pdn.is_kind == WAVE_PULSE
    if pm.any():
        _, _, td, tr, tf, pw, per = pdn.is_pulse[pm].T
        per = np.where(np.isfinite(per) & (per > 0), per, tr + pw + tf)
        stop = max(stop, float(np.max(td + per)))
    if (pdn.is_kind == WAVE_PWL).any():
        stop = max(stop, float(pdn.pwl_t.max()))
    return 0.0, stop


def slice_currents(pdn: PDN, n_slices: int, window: tuple[float, float] | None = None,
                   sub: int = 4) -> np.ndarray:
    """Mean current of every source over each of ``n_slices`` equal time slices, ``(n_sources, n_slices)``.

    Midpoint rule with ``sub`` samples per slice, each sample evaluated as ngspice does (PULSE, PWL linear
    between points and held outside; DC constant). Waveforms on one shared time grid (our dynamic decks)
    are interpolated as a matrix.

    Args:
        pdn: the network.
        n_slices: number of slices.
        window: ``(start, stop)`` in seconds; default the deck's ``.tran`` or one period of its sources.
        sub: samples per slice (midpoint rule).
    """
    if n_slices == 0:
        return np.zeros((len(pdn.is_value), 0))
    t_start, t_stop = window if window is not None else slice_window(pdn)
    if not t_stop > t_start:
        return np.repeat(pdn.is_value[:, None], n_slices, axis=1)
    edges = np.linspace(t_start, t_stop, n_slices + 1)
    frac = (np.arange(sub) + 0.5) / sub
    times = (edges[:-1, None] + frac[None, :] * np.diff(edges)[:, None]).ravel()
    out = np.repeat(pdn.is_value[:, None].astype(np.float64), n_slices, axis=1)  # DC: its value in every slice
    pm = np.flatnonzero(pdn.is_kind == WAVE_PULSE)
    if len(pm):  # slice means of one unit pulse per timing, then i1 + (i2 - i1) · mean (4x less than per sample)
        pulse = pdn.is_pulse[pm]
        timing, ti = pulse_timings(pulse)
        unit = np.column_stack([np.zeros(len(timing)), np.ones(len(timing)), timing])
        mean = pulse_values(unit, times[:, None]).reshape(n_slices, sub, -1).mean(axis=1)  # (slices, timings)
        out[pm] = pulse[:, :1] + (pulse[:, 1:2] - pulse[:, :1]) * mean[:, ti].T
    pwl = _pwl_sources(pdn)
    if len(pwl):
        out[pwl] = _pwl_at(pdn, pwl, times).reshape(n_slices, sub, -1).mean(axis=1).T
    return out
