"""Analytical model of a charge-domain analog compute-in-memory (ACIM) macro.

The architecture is the synthesizable one of EasyACIM: an ``rows × cols`` array of 8T SRAM
bitcells; each column is cut into ``rows / local_array`` *local arrays* of ``local_array`` (L)
cells that share one compute cell (switches + a unit capacitor ``C_u``). In a MAC phase one row
of every local array is active: each compute cap's bottom plate is driven to ``VDD·x·w`` (1-bit
AND of an input bit and a weight bit) while its top plate is held at ``V_rst``; the top-plate
switch then opens (top-plate sampling). The same caps are reused as the binary-weighted capacitor
DAC of a per-column SAR ADC in the conversion phase: ``2**adc_bits`` groups of
``Δ = N / 2**adc_bits`` unit caps, ``N = rows / local_array`` caps per column. Multi-bit operands
are handled digitally: inputs bit-serially (``input_bits`` cycles), weights bit-sliced over
``weight_bits`` columns, partial sums shifted and added. ``adc_share`` (S) columns share one
comparator and its SAR logic and convert one after the other.

Notation used in every formula below (SI units unless a name says otherwise)::

    H = rows, W = cols, L = local_array, N = H / L            caps per column
    b = adc_bits, M = 2**b codes, Δ = N / M                   unit caps per DAC LSB
    Bx = input_bits, Bw = weight_bits, S = adc_share
    C_u  unit cap; C_par = c_wire·l_col + N·c_top_junction     top-plate (compute line) parasitic
    C_tot = N·C_u + C_par;  v_u = VDD·C_u / C_tot              top-plate step of one unit cap
    k = Σ_i x_i·w_i ∈ {0..N}                                  ideal 1-bit MAC of one conversion

Every number the model needs about the layout (cell widths and heights, compute-line length,
word-line length) comes from a cell library (:class:`CellSizes`, read from
``eda.layout.library.load_library``), never from constants here, so a different library changes
the answer. Process/circuit coefficients that a cell library does not carry (Pelgrom coefficient,
comparator noise, switch resistance...) are documented fields of :class:`AcimTech`.

All evaluation is vectorised over a population of designs (:func:`evaluate_batch`); the
single-design :func:`evaluate` is the batch of one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr
from scipy.stats import binom

from eda.generators.acim_params import ROLES, AcimParams, AcimTech, CellSizes, load_cell_sizes  # noqa: F401
from eda.layout.dac import ParamError, check_dac_fit, dac_group_sizes, two_adic  # noqa: F401 (re-exported)

#: Boltzmann constant (J/K).
K_BOLTZMANN = 1.380649e-23

# ----------------------------------------------------------------------------------------------
# formulas (each one vectorised; arguments broadcast)


def cell_counts(H, W, L, b, S, tech: AcimTech) -> dict[str, np.ndarray]:
    """Number of cells of each role in the macro.

    bitcell H·W; compute (H/L)·W; wl_driver H and in_driver H (one each per row); comparator W/S
    and its output stage cmp_buf W/S (balanced latch loads, compute-line reset); col_mux W when
    S > 1 (the column multiplexer in front of the shared ADC, with each column's CL reset);
    sar_bit b·W/S (one SAR result flip-flop per comparator per ADC bit); sar_seq (b+1)·W/S (the
    comparator's bit sequencer: one flip-flop stage per bit plus the end-of-conversion stage that
    clocks the LSB's result); dac_switch b·W (one
    driver per binary cap group and column; the termination group is tied to the reference and has
    none); tap 2·H (a row-end well-tap/power cell at both ends of every bitcell row, as the sky130
    macro template places them).
    """
    H, W, L, b, S = (np.asarray(v, dtype=np.int64) for v in (H, W, L, b, S))
    return {
        "bitcell": H * W,
        "compute": (H // L) * W,
        "wl_driver": H + 0 * W,
        "in_driver": H + 0 * W,
        "comparator": W // S,
        "cmp_buf": W // S,
        "col_mux": W * (S > 1),
        "sar_bit": b * (W // S),
        "sar_seq": (b + 1) * (W // S),
        "dac_switch": b * W,
        "tap": 2 * H + 0 * W + 0 * L,
    }


def area_um2(counts: Mapping[str, np.ndarray], cells: CellSizes, tech: AcimTech) -> np.ndarray:
    """Macro area (µm²) = Σ_role count·width·height / area_utilisation."""
    total = sum(np.asarray(c, dtype=float) * cells.area(role) for role, c in counts.items())
    return total / tech.area_utilisation


def column_height_um(H, L, cells: CellSizes, tech: AcimTech) -> np.ndarray:
    """Compute-line length (µm) = H·h_bitcell + (H/L)·h_compute (the column's cell stack)."""
    H = np.asarray(H, dtype=np.int64)
    return H * cells.h("bitcell") + (H // np.asarray(L)) * cells.h("compute")


def column_pitch_um(cells: CellSizes) -> float:
    """Column pitch (µm) = max(w_bitcell, w_compute): the array's widest per-column cell."""
    return max(cells.w("bitcell"), cells.w("compute"))


def r_on(r_ref: float, vdd, tech: AcimTech) -> np.ndarray:
    """Switch on-resistance R(VDD) = r_ref·(v_ref − v_th)/(VDD − v_th) (triode, long-channel)."""
    vov = np.maximum(np.asarray(vdd, dtype=float) - tech.v_th, 1e-3)
    return r_ref * (tech.v_ref - tech.v_th) / vov


def f_max_hz(N, b, vdd, c_unit_F, l_col_um, tech: AcimTech) -> np.ndarray:
    """Highest clock the column supports.

    Settling: a DAC step must settle to ``settle_lsb`` of one LSB (of the N-unit full scale) in
    half a clock period. A unit cap is driven through its compute switch (τ₁ = R_on·C_u) after
    the group control line, driven by a DAC switch, switches the gates of the N/2 MSB-group
    switches (τ₂ = R_dac·(N/2·c_gate + c_wire·l_col)); with τ = τ₁ + τ₂ the required time is
    τ·ln(M/settle_lsb) (error e^{-t/τ} of a full-scale step below settle_lsb/M):
    ``f_settle = 1 / (2·τ·ln(2**b/settle_lsb))``.

    Logic: the SAR logic limit follows the alpha-power law,
    ``f_logic = f_logic_ref·(VDD − v_th)^α/VDD / ((v_ref − v_th)^α/v_ref)``.

    ``f_max = min(f_settle, f_logic)``.
    """
    N = np.asarray(N, dtype=float)
    b = np.asarray(b, dtype=float)
    vdd = np.asarray(vdd, dtype=float)
    tau1 = r_on(tech.r_on_ohm, vdd, tech) * c_unit_F
    c_ctl = (N / 2 * tech.c_gate_fF + tech.c_wire_fF_per_um * np.asarray(l_col_um, dtype=float)) * 1e-15
    tau2 = r_on(tech.r_dac_ohm, vdd, tech) * c_ctl
    f_settle = 1.0 / (2.0 * (tau1 + tau2) * np.log(2.0 ** b / tech.settle_lsb))
    vov = np.maximum(vdd - tech.v_th, 1e-3)
    f_logic = tech.f_logic_ref_hz * (vov ** tech.alpha_power / vdd) / (
        (tech.v_ref - tech.v_th) ** tech.alpha_power / tech.v_ref)
    return np.minimum(f_settle, f_logic)


def conventional_sar_energy_units(b) -> np.ndarray:
    """Average CDAC switching energy of a conventional b-bit SAR, in units of C_lsb·V²
    (uniform input): Σ_{i=1..b} 2^{b+1−2i}·(2^i − 1) (Ginsburg & Chandrakasan, ISCAS 2005;
    Zhu et al., JSSC 2010: 1363.3 for b = 10)."""
    b = np.asarray(b, dtype=np.int64)
    i = np.arange(1, int(b.max(initial=1)) + 1)
    terms = 2.0 ** (b[..., None] + 1 - 2 * i) * (2.0 ** i - 1)
    return np.where(i <= b[..., None], terms, 0.0).sum(-1)


def conversion_mse(N, b, sigma_mm, var_other, p, cache: dict | None = None) -> np.ndarray:
    """Mean-square error (in unit caps²) of one MAC + SAR conversion, exact over the
    distribution of ``k``.

    ``k ~ Binomial(N, p)`` (p = p_input·p_weight). The SAR output is the code D ∈ {0..M−1} whose
    DAC threshold ``t_D = D·Δ − ½`` (a half-unit reference offset puts thresholds between
    integer MAC values) the MAC charge last exceeded. At threshold D the comparison of MAC charge
    ``Σ C_i x_i w_i`` with DAC charge ``Σ_{i∈D} C_i`` carries

    - capacitor mismatch: ``C_i = C_u(1 + ε_i)``, ``ε_i ~ N(0, σ_ε²)``; the difference has
      variance ``σ_ε²·|p ⊕ d_D|`` whose expected Hamming distance between the k active caps
      (random positions) and the D·Δ caps of code D is ``k + DΔ − 2k·DΔ/N``;
    - ``var_other``: kT/C sampling noise, comparator noise and comparator offset (all Gaussian).

    So ``P(out ≥ D | k) = Φ((k − DΔ + ½)/σ_D(k))``, made monotone in D; the digital
    reconstruction of code D is ``D·Δ + (Δ−1)/2`` (mid-point of the integers it covers), and
    ``MSE = Σ_k P(k)·Σ_D P(D|k)·(D·Δ + (Δ−1)/2 − k)²``.

    Args:
        N: caps per column (int array). b: ADC bits (int array, ``2**b | N``).
        sigma_mm: σ_ε (relative unit-cap mismatch). var_other: other noise variance in units².
        p: probability that one product bit is 1.
        cache: optional dict memoising results by their exact inputs (the DSE revisits designs).
    """
    N = np.atleast_1d(np.asarray(N, dtype=np.int64))
    b = np.broadcast_to(np.asarray(b, dtype=np.int64), N.shape)
    sigma_mm = np.broadcast_to(np.asarray(sigma_mm, dtype=float), N.shape)
    var_other = np.broadcast_to(np.asarray(var_other, dtype=float), N.shape)
    out = np.empty(N.shape, dtype=float)
    if cache is not None:
        keys = list(zip(N.tolist(), b.tolist(), sigma_mm.tolist(), var_other.tolist(), strict=True))
        todo = [i for i, key in enumerate(keys) if (key, p) not in cache]
        if todo:
            t = np.array(todo)
            vals = conversion_mse(N[t], b[t], sigma_mm[t], var_other[t], p)
            for i, v in zip(todo, vals.tolist(), strict=True):
                cache[(keys[i], p)] = v
        out[:] = [cache[(key, p)] for key in keys]
        return out
    # group designs by (N, b) so that the (k, D) grids have no padding
    keys = np.stack([N, b], -1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    for gi, (n, bb) in enumerate(uniq):
        idx = np.nonzero(inv == gi)[0]
        m = 2 ** int(bb)
        delta = n // m
        k = np.arange(n + 1, dtype=float)
        pmf = binom.pmf(k, n, p)
        keep = pmf > 1e-18 * pmf.max()
        k, pmf = k[keep], pmf[keep]
        dd = np.arange(1, m, dtype=float) * delta  # D·Δ for D = 1..M−1
        ham = k[:, None] + dd[None, :] - 2.0 * k[:, None] * dd[None, :] / n  # (K, M−1)
        var = sigma_mm[idx, None, None] ** 2 * ham[None] + var_other[idx, None, None]
        z = (k[None, :, None] - dd[None, None, :] + 0.5) / np.sqrt(np.maximum(var, 1e-300))
        ge = np.minimum.accumulate(ndtr(z), axis=-1)  # P(out >= D), non-increasing in D
        ones = np.ones(ge.shape[:-1] + (1,))
        zeros = np.zeros_like(ones)
        cdf = np.concatenate([ones, ge, zeros], -1)  # D = 0..M
        pd = cdf[..., :-1] - cdf[..., 1:]  # P(out = D), D = 0..M−1
        recon = np.arange(m, dtype=float) * delta + (delta - 1) / 2.0
        err2 = (recon[None, None, :] - k[None, :, None]) ** 2
        mse_k = (pd * err2).sum(-1)
        out[idx] = (mse_k * pmf).sum(-1)  # not a matmul: BLAS rounding would depend on the batch
    return out


def residue_ms(N, b, p) -> np.ndarray:
    """Mean square (unit caps²) of a conversion's final SAR residue ``r = D·Δ − k`` with ideal
    codes ``D = clip(⌊(k + ½)/Δ⌋, 0, M − 1)``, ``k ~ Binomial(N, p)``: what a shared ADC's
    multiplexer node carries from one column's conversion into the next one's."""
    N, b = np.broadcast_arrays(np.asarray(N, dtype=np.int64), np.asarray(b, dtype=np.int64))
    keys = np.stack([N.reshape(-1), b.reshape(-1)], -1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    flat = np.empty(len(keys), dtype=float)
    for gi, (n, bb) in enumerate(uniq):
        k = np.arange(n + 1, dtype=float)
        delta = max(n // 2 ** int(bb), 1)  # (infeasible designs, 2**b > N, get Δ = 1)
        d = np.clip(np.floor((k + 0.5) / delta), 0, 2 ** int(bb) - 1)
        flat[inv.reshape(-1) == gi] = float((binom.pmf(k, n, p) * (d * delta - k) ** 2).sum())
    return flat.reshape(N.shape)


def mvm_signal_variance(H, Bx, Bw, px, pw) -> np.ndarray:
    """Variance of the ideal multi-bit dot product ``Y = Σ_{i<H} X_i·W_i`` with independent bits
    (``X = Σ_a 2^a x_a``, ``x_a ~ Bernoulli(px)``; same for W):
    ``var(Y) = H·(E[X²]E[W²] − E[X]²E[W]²)``, ``E[X] = px(2^Bx − 1)``,
    ``var(X) = px(1 − px)(4^Bx − 1)/3``."""
    H, Bx, Bw = (np.asarray(v, dtype=float) for v in (H, Bx, Bw))
    ex = px * (2 ** Bx - 1)
    ew = pw * (2 ** Bw - 1)
    ex2 = px * (1 - px) * (4 ** Bx - 1) / 3 + ex ** 2
    ew2 = pw * (1 - pw) * (4 ** Bw - 1) / 3 + ew ** 2
    return H * (ex2 * ew2 - ex ** 2 * ew ** 2)


def mvm_error_gain(L, Bx, Bw) -> np.ndarray:
    """How the per-conversion MSE adds up in Y: Y = Σ_l Σ_a Σ_b 2^{a+b}·k_{l,a,b} over L local-array
    rows, Bx input bits and Bw weight bits, with independent conversion errors:
    ``MSE_Y = MSE_conv · L·(4^Bx − 1)(4^Bw − 1)/9``."""
    L, Bx, Bw = (np.asarray(v, dtype=float) for v in (L, Bx, Bw))
    return L * (4 ** Bx - 1) * (4 ** Bw - 1) / 9.0


# ----------------------------------------------------------------------------------------------
# evaluation

#: Metric names, units and direction ("max"/"min"/"") written to pareto files.
METRICS: dict[str, tuple[str, str]] = {
    "snr_db": ("dB", "max"),
    "tops": ("TOPS", "max"),
    "energy_per_op_fJ": ("fJ/op", "min"),
    "area_mm2": ("mm²", "min"),
    "tops_per_w": ("TOPS/W", "max"),
    "tops_per_mm2": ("TOPS/mm²", "max"),
    "tops_1b": ("TOPS (1b-normalised)", "max"),
    "f2_per_bit": ("F²/bit", "min"),
    "snr_conv_db": ("dB", "max"),
    "energy_mvm_pJ": ("pJ", "min"),
    "e_mac_col_fJ": ("fJ", ""),
    "e_conv_col_fJ": ("fJ", ""),
    "t_mvm_ns": ("ns", "min"),
    "f_max_hz": ("Hz", ""),
    "c_unit_fF": ("fF", ""),
    "c_total_fF": ("fF", ""),
    "v_unit_mV": ("mV", ""),
    "mse_conv": ("unit²", ""),
    "var_mismatch": ("unit²", ""),
    "var_thermal": ("unit²", ""),
    "var_comparator": ("unit²", ""),
    "var_quant_ideal": ("unit²", ""),
    "var_share": ("unit²", ""),
    "alpha_mux": ("", ""),
    "cl_overshoot_V": ("V", ""),
}
#: metrics added after pareto files were first written: a file without them still reads.
ADDED_METRICS = ("var_share", "alpha_mux", "cl_overshoot_V")


def evaluate_batch(H: int, W: int, L, b, Bx: int, Bw: int, S, vdd, f_clk_hz, c_unit_fF: float,
                   cells: CellSizes, tech: AcimTech | None = None,
                   cache: dict | None = None) -> dict[str, np.ndarray]:
    """All metrics of a population of designs (arrays broadcast; H, W, Bx, Bw shared).

    No validation here (the DSE enforces constraints as constraints); use :func:`evaluate` for
    one checked design. ``c_unit_fF`` is overridden by ``cells.cap_fF`` when the library gives it.
    ``cache`` memoises the conversion MSE across calls (see :func:`conversion_mse`).

    Formulas (per design; see the module docstring for notation):

    - area: :func:`area_um2` of :func:`cell_counts`; F²/bit = area/(H·W)/F².
    - noise, in unit caps: σ_ε = A_C/√(C_u/fF); thermal kT/C_tot/v_u²; comparator
      (σ_noise² + σ_offset²)/(v_u·(1 − α))²; shared ADC (S > 1) charge sharing with the
      multiplexer node C_mux: α = C_mux/(C_tot + C_mux), the unit step at the comparator shrinks by
      (1 − α) and column c ≥ 1 starts shifted by α·r of the previous column's residue r:
      var_share = α²·:func:`residue_ms`·(S − 1)/S; conversion MSE by :func:`conversion_mse`.
      ``cl_overshoot_V`` = N·v_u − VDD/2: how far a compute line waiting for its turn swings
      beyond a rail while the other columns convert (S > 1; its select and reset gates conduct
      beyond about v_th); 0 when the library's DAC switches are select-gated
      (``cells.held_waiting_lines``: the waiting line holds VCM + (N/2 − k)·v_u, inside the rails).
    - SNR of one conversion: N·p(1−p)/MSE_conv, p = p_input·p_weight; SNR of the full-precision
      dot product: :func:`mvm_signal_variance` / (MSE_conv·:func:`mvm_error_gain`).
    - timing: t_cycle = (n_mac_cycles + S·(b + n_conv_extra_cycles))/f_clk (MAC phase in all
      columns at once, then S conversions per comparator); t_mvm = L·Bx·t_cycle;
      ops per MVM = 2·H·W/Bw (multiply + add of Bx×Bw-bit operands); TOPS = ops/t_mvm/1e12;
      1b-normalised TOPS = TOPS·Bx·Bw.
    - energy per column per conversion: MAC e_mac = p·N·C_u·VDD² (bottom plates charged from
      VDD while the top plate is held); CDAC :func:`conventional_sar_energy_units`·(N·C_u/M)·VDD²;
      comparator b·e_cmp and logic b·e_sar_bit (both ∝ VDD²).
      Input lines per active row per cycle: p_input·(c_wire·W·pitch + W·c_gate)·VDD², H/L rows
      active. Leakage H·W·p_leak·(VDD/v_ref)·t_mvm.
      E_mvm = L·Bx·(W·e_col + (H/L)·e_row) + E_leak; energy/op = E_mvm/ops; TOPS/W = ops/E_mvm/1e12.
    """
    tech = tech or AcimTech()
    L = np.asarray(L, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    S = np.asarray(S, dtype=np.int64)
    vdd = np.asarray(vdd, dtype=float)
    f_clk = np.asarray(f_clk_hz, dtype=float)
    L, b, S, vdd, f_clk = np.broadcast_arrays(L, b, S, vdd, f_clk)
    cu_fF = float(cells.cap_fF) if cells.cap_fF is not None else float(c_unit_fF)
    cu = cu_fF * 1e-15
    N = H // L
    M = 2 ** b
    counts = cell_counts(H, W, L, b, S, tech)
    area = area_um2(counts, cells, tech)
    l_col = column_height_um(H, L, cells, tech)
    c_par = (tech.c_wire_fF_per_um * l_col + N * tech.c_top_junction_fF) * 1e-15
    c_tot = N * cu + c_par
    v_u = vdd * cu / c_tot

    # noise, in unit caps
    sigma_mm = tech.cap_mismatch_pct / 100.0 / math.sqrt(cu_fF)
    var_th = K_BOLTZMANN * tech.temperature_K / c_tot / v_u ** 2
    # shared ADC (S > 1): the selected compute line shares its charge with the multiplexer node (with
    # the layout's hold capacitor from 4 bits on, eda.layout.macro_hold), which still holds the
    # previous column's final residue
    from eda.layout.macro_hold import hold_fF

    c_mux = (tech.c_mux_fF + hold_fF(N, b)) * 1e-15
    alpha = np.where(S > 1, c_mux / (c_tot + c_mux), 0.0)
    var_cmp = (tech.sigma_cmp_noise_V ** 2 + tech.sigma_cmp_offset_V ** 2) / (v_u * (1 - alpha)) ** 2
    p = tech.p_input * tech.p_weight
    var_share = alpha ** 2 * residue_ms(N, b, p) * (S - 1) / S
    var_other = np.broadcast_to(var_th + var_cmp + var_share, N.shape)
    mse = conversion_mse(N, b, np.full(N.shape, sigma_mm), var_other, p, cache=cache)
    mse = np.maximum(mse, 1e-300)
    delta = N / M
    var_q = (delta ** 2 - 1) / 12.0
    snr_conv = N * p * (1 - p) / mse
    snr = mvm_signal_variance(H, Bx, Bw, tech.p_input, tech.p_weight) / (mse * mvm_error_gain(L, Bx, Bw))

    # timing
    fmax = f_max_hz(N, b, vdd, cu, l_col, tech)
    t_cycle = (tech.n_mac_cycles + S * (b + tech.n_conv_extra_cycles)) / f_clk
    t_mvm = L * Bx * t_cycle
    ops = 2.0 * H * W / Bw
    tops = ops / t_mvm / 1e12

    # energy
    v2 = vdd ** 2
    scale = v2 / tech.v_ref ** 2
    e_mac = p * N * cu * v2
    e_dac = conventional_sar_energy_units(b) * (N * cu / M) * v2
    e_cmp = b * tech.e_cmp_fJ * 1e-15 * scale
    e_logic = b * tech.e_sar_bit_fJ * 1e-15 * scale
    e_col = e_mac + e_dac + e_cmp + e_logic
    c_row = (tech.c_wire_fF_per_um * W * column_pitch_um(cells) + W * tech.c_gate_fF) * 1e-15
    e_row = tech.p_input * c_row * v2
    e_leak = H * W * tech.p_leak_bitcell_W * (vdd / tech.v_ref) * t_mvm
    e_mvm = L * Bx * (W * e_col + N * e_row) + e_leak
    area_mm2 = area * 1e-6
    return {
        "snr_db": 10 * np.log10(snr),
        "tops": tops,
        "energy_per_op_fJ": e_mvm / ops * 1e15,
        "area_mm2": area_mm2,
        "tops_per_w": ops / e_mvm / 1e12,
        "tops_per_mm2": tops / area_mm2,
        "tops_1b": tops * Bx * Bw,
        "f2_per_bit": area / (H * W) / tech.feature_um ** 2,
        "snr_conv_db": 10 * np.log10(snr_conv),
        "energy_mvm_pJ": e_mvm * 1e12,
        "e_mac_col_fJ": e_mac * 1e15,
        "e_conv_col_fJ": (e_dac + e_cmp + e_logic) * 1e15,
        "t_mvm_ns": t_mvm * 1e9,
        "f_max_hz": fmax,
        "c_unit_fF": np.full(L.shape, cu_fF),
        "c_total_fF": c_tot * 1e15,
        "v_unit_mV": v_u * 1e3,
        "mse_conv": mse,
        "var_mismatch": sigma_mm ** 2 * 2 * N * p * (1 - p),  # at k = Np, code D·Δ = k
        "var_thermal": var_th,
        "var_comparator": var_cmp,
        "var_share": var_share,
        "alpha_mux": alpha,
        "cl_overshoot_V": np.where((S > 1) & (not cells.held_waiting_lines), N * v_u - vdd / 2, 0.0),
        "var_quant_ideal": var_q,
        "_counts": counts,
    }


@dataclass(frozen=True)
class AcimResult:
    """Metrics of one design (see :data:`METRICS` for units) plus its cell counts."""

    params: AcimParams
    metrics: dict[str, float]
    counts: dict[str, int] = field(default_factory=dict)


def check_design(params: AcimParams, cells: CellSizes, tech: AcimTech | None = None) -> None:
    """Raise :class:`ParamError` if the library cannot wire the ADC bits or the clock exceeds the
    settling / logic limit."""
    if cells.max_adc_bits is not None and params.adc_bits > cells.max_adc_bits:
        raise ParamError("adc_bits", f"{params.adc_bits} bits exceed the cell library's column template "
                         f"(max_adc_bits={cells.max_adc_bits}, {cells.source or 'cell library'})")
    r = evaluate(params, cells, tech, check=False)
    fmax = r.metrics["f_max_hz"]
    if params.f_clk_hz > fmax * (1 + 1e-9):
        raise ParamError("f_clk_hz", f"{params.f_clk_hz:.4g} Hz exceeds the column's limit "
                         f"{fmax:.4g} Hz (DAC settling to {tech.settle_lsb if tech else 0.5} LSB "
                         f"at {params.adc_bits} bits, or SAR logic at vdd={params.vdd} V)")


def evaluate(params: AcimParams, cells: CellSizes, tech: AcimTech | None = None,
             check: bool = True) -> AcimResult:
    """Metrics of one design; ``check`` also enforces the clock limit."""
    tech = tech or AcimTech()
    if check:
        check_design(params, cells, tech)
    p = params
    m = evaluate_batch(p.rows, p.cols, p.local_array, p.adc_bits, p.input_bits, p.weight_bits,
                       p.adc_share, p.vdd, p.f_clk_hz, p.c_unit_fF, cells, tech)
    counts = {k: int(np.asarray(v).reshape(-1)[0]) for k, v in m.pop("_counts").items()}
    metrics = {k: float(np.asarray(v).reshape(-1)[0]) for k, v in m.items()}
    return AcimResult(params=p, metrics=metrics, counts=counts)
