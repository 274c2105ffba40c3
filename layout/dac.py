"""The column's capacitor DAC rule, shared by the layout and the architecture model.

A column holds ``N = rows / local`` compute capacitors; a ``b``-bit SAR ADC reuses them as an
exactly binary-weighted DAC, which needs ``2**b`` equal groups. The layout (``eda.layout.macro``)
and the model/explorer (``eda.generators.acim_model``, ``acim_dse``, ``acim_sim``) all call these
functions, so the layout accepts exactly the designs the explorer can emit.
"""

from __future__ import annotations

import numpy as np

from eda.errors import InputError


class ParamError(InputError):
    """An ACIM parameter is out of range or violates a constraint; ``field`` names it."""

    def __init__(self, field_name: str, message: str, where: str = "acim params"):
        self.field = field_name
        super().__init__(f"field '{field_name}': {message}", file=where)


def two_adic(n: int | np.ndarray) -> int | np.ndarray:
    """Exponent of 2 in ``n`` (``v2(48) = 4``): the most ADC bits ``N`` caps can hold, since a
    b-bit binary DAC needs ``2**b`` equal groups of unit caps."""
    n = np.asarray(n, dtype=np.int64)
    out = np.zeros(n.shape, dtype=np.int64)
    m = n.copy()
    while True:
        even = (m > 0) & (m % 2 == 0)
        if not even.any():
            break
        out += even
        m = np.where(even, m // 2, m)
    return out if out.ndim else int(out)


def check_dac_fit(rows: int, local: int, adc_bits: int, *, local_field: str = "local_array",
                  where: str = "acim params") -> int:
    """The one feasibility rule of the column's capacitor DAC (model and layout both call it).

    A column holds ``N = rows / local`` compute caps; a ``b``-bit binary DAC built from them needs
    ``2**b`` equal groups of ``Δ = N / 2**b`` caps, so ``2**b`` must divide ``N`` (which also
    gives ``N ≥ 2``).

    Args:
        rows, local, adc_bits: positive integers (H, L, b).
        local_field: how the caller names L in its params (``local_array`` here, ``local`` in
            the layout's ``MacroParams``), so the error names the caller's field.
        where: what the error's ``file`` says.

    Returns:
        N, the compute caps per column.

    Raises:
        ParamError: naming ``local_field`` (L does not divide H, or N < 2) or ``adc_bits``
            (``2**b`` does not divide N), with the constraint and the largest b that fits.
    """
    if rows % local:
        raise ParamError(local_field, f"rows={rows} must be divisible by {local_field}={local}", where)
    n = rows // local
    if n < 2:
        raise ParamError(local_field, f"rows/{local_field} = {n}: a column needs at least 2 compute capacitors",
                         where)
    if adc_bits > two_adic(n):
        raise ParamError("adc_bits", f"a {adc_bits}-bit DAC needs 2**{adc_bits} = {2 ** adc_bits} equal groups "
                         f"of the column's {n} compute caps (rows/{local_field} = {rows}/{local}), i.e. "
                         f"2**adc_bits must divide rows/{local_field}; at most {two_adic(n)} bits fit", where)
    return n


def dac_group_sizes(n_caps: int, adc_bits: int) -> list[int]:
    """Compute caps per DAC group: bit k (MSB first, k = 0..b−1) switches ``2**(b−1−k)·Δ`` caps,
    then the termination group of ``Δ`` caps held at the reference; ``Δ = N / 2**b``, so the
    groups sum to ``N`` exactly. Requires ``2**b | N`` (see :func:`check_dac_fit`)."""
    m = 2 ** adc_bits
    if adc_bits < 1 or n_caps < 2 or n_caps % m:
        raise ParamError("adc_bits", f"a {adc_bits}-bit DAC needs 2**adc_bits = {m} to divide the "
                         f"{n_caps} compute caps of a column")
    delta = n_caps // m
    return [2 ** (adc_bits - 1 - k) * delta for k in range(adc_bits)] + [delta]
