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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import ndtr
from scipy.stats import binom

from eda.errors import InputError

#: Boltzmann constant (J/K).
K_BOLTZMANN = 1.380649e-23

#: Cell-library roles the model reads (the layout issue's manifest roles).
ROLES: tuple[str, ...] = ("bitcell", "compute", "wl_driver", "in_driver", "comparator", "sar_bit",
                          "sar_seq", "dac_switch", "tap")


class ParamError(InputError):
    """An ACIM parameter is out of range or violates a constraint; ``field`` names it."""

    def __init__(self, field_name: str, message: str, where: str = "acim params"):
        self.field = field_name
        super().__init__(f"field '{field_name}': {message}", file=where)


# ----------------------------------------------------------------------------------------------
# cell sizes


@dataclass(frozen=True)
class CellSizes:
    """Sizes of the library cells the model needs, by role, in µm.

    Attributes:
        sizes: role → (width_um, height_um) for every role in :data:`ROLES`.
        cap_fF: the compute cell's capacitance if the library states it (manifest ``cap_fF``),
            else ``None`` (the model then uses :attr:`AcimParams.c_unit_fF`).
        technology: the library's technology name.
        source: where the sizes came from (library folder), for reports.
        max_adc_bits: the most ADC bits the library's column template can wire (manifest
            ``template.max_adc_bits``), else ``None`` (no limit).
    """

    sizes: Mapping[str, tuple[float, float]]
    cap_fF: float | None = None
    technology: str = ""
    source: str = ""
    max_adc_bits: int | None = None

    def __post_init__(self) -> None:
        for role in ROLES:
            if role not in self.sizes:
                raise ParamError(role, f"the cell library has no cell for role '{role}' "
                                 f"(needed roles: {', '.join(ROLES)})", where=self.source or "cell library")
            w, h = self.sizes[role]
            if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
                raise ParamError(role, f"cell size must be positive, got {w} x {h} µm",
                                 where=self.source or "cell library")
        if self.cap_fF is not None and not self.cap_fF > 0:
            raise ParamError("cap_fF", f"compute cell capacitance must be > 0 fF, got {self.cap_fF}",
                             where=self.source or "cell library")

    def w(self, role: str) -> float:
        return float(self.sizes[role][0])

    def h(self, role: str) -> float:
        return float(self.sizes[role][1])

    def area(self, role: str) -> float:
        """Cell area in µm²."""
        return self.w(role) * self.h(role)

    @classmethod
    def from_library(cls, lib: Any) -> CellSizes:
        """Take the sizes from an ``eda.layout.library.CellLibrary`` (or anything with
        ``.cell(role) -> CellInfo(width_um, height_um, ...)``)."""
        source = str(getattr(lib, "path", getattr(lib, "root", "")) or "")
        sizes = {}
        for role in ROLES:
            try:
                info = lib.cell(role)
            except (KeyError, LookupError) as e:
                raise ParamError(role, f"the cell library has no cell for role '{role}' ({e})",
                                 where=source or "cell library") from e
            sizes[role] = (float(info.width_um), float(info.height_um))
        template = getattr(lib, "template", None) or {}
        mab = template.get("max_adc_bits") if isinstance(template, Mapping) else None
        return cls(sizes=sizes, cap_fF=_compute_cap_fF(lib), source=source,
                   technology=str(getattr(lib, "technology", "") or ""),
                   max_adc_bits=int(mab) if mab is not None else None)


def _compute_cap_fF(lib: Any) -> float | None:
    """``cap_fF`` of the compute cell when the library states it (on the cell info, its template,
    or the cell's entry in the manifest of the folder it came from), else ``None``."""
    info = lib.cell("compute")
    for holder in (info, getattr(info, "template", None), getattr(info, "extra", None)):
        if holder is None:
            continue
        v = holder.get("cap_fF") if isinstance(holder, Mapping) else getattr(holder, "cap_fF", None)
        if v is not None:
            return float(v)
    gds = getattr(info, "gds", None)
    if gds:
        import json

        manifest = Path(gds).parent / "manifest.json"
        if manifest.is_file():
            try:
                entry = json.loads(manifest.read_text())["cells"][info.name]
            except (KeyError, ValueError, TypeError):
                return None
            if isinstance(entry, Mapping) and entry.get("cap_fF") is not None:
                return float(entry["cap_fF"])
    return None


def load_cell_sizes(path: str | Path | None = None) -> CellSizes:
    """Cell sizes of a cell library folder (``None``: the default sky130 library)."""
    from eda.layout.library import load_library

    lib = load_library(path)
    sizes = CellSizes.from_library(lib)
    if not sizes.source and path is not None:
        sizes = CellSizes(sizes.sizes, sizes.cap_fF, sizes.technology, str(path))
    return sizes


# ----------------------------------------------------------------------------------------------
# parameters


@dataclass(frozen=True)
class AcimTech:
    """Process and circuit coefficients the cell library does not carry (sky130-like defaults).

    Attributes:
        temperature_K: temperature for kT/C noise.
        cap_mismatch_pct: Pelgrom coefficient of the unit capacitor, σ(ΔC/C) = A_C/√(C/1 fF), in
            % for a 1 fF capacitor (metal-finger / MIM caps: about 0.5-1 %·√fF).
        c_wire_fF_per_um: wire capacitance per µm of compute line / word line.
        c_top_junction_fF: switch junction capacitance each compute cell adds to the compute line.
        c_gate_fF: gate load each bitcell adds to its read word line (input line).
        sigma_cmp_noise_V: comparator input-referred noise (rms, per decision).
        sigma_cmp_offset_V: comparator input offset spread across columns (static, uncalibrated).
        e_cmp_fJ: comparator energy per decision at ``v_ref``; scales with VDD².
        e_sar_bit_fJ: SAR logic energy per bit cycle at ``v_ref``; scales with VDD².
        p_leak_bitcell_W: leakage of one bitcell at ``v_ref``; scales with VDD.
        r_on_ohm: on-resistance of the compute-cell switch at ``v_ref``.
        r_dac_ohm: output resistance of a DAC-switch (group control) driver at ``v_ref``.
        v_ref: reference supply of the coefficients above.
        v_th: switch threshold voltage (R_on ∝ 1/(VDD − v_th)).
        f_logic_ref_hz: SAR-logic clock limit at ``v_ref``; alpha-power law in VDD.
        alpha_power: velocity-saturation exponent of the alpha-power law.
        settle_lsb: settle to within this fraction of one ADC LSB (0.5 = half an LSB).
        n_mac_cycles: clock cycles of the MAC phase (drive bottom plates, sample).
        n_conv_extra_cycles: extra cycles per conversion (reset / sample) besides the b decisions.
        p_input: probability that an input bit is 1 (signal statistics for SNR and energy).
        p_weight: probability that a weight bit is 1.
        feature_um: feature size F for F²/bit (sky130: 130 nm node).
        area_utilisation: fraction of macro area covered by cells (the rest: routing spines,
            empty row ends). The sky130 macro template measures 0.92-0.98 (cells / bounding box).
    """

    temperature_K: float = 300.0
    cap_mismatch_pct: float = 1.0
    c_wire_fF_per_um: float = 0.2
    c_top_junction_fF: float = 0.3
    c_gate_fF: float = 0.4
    sigma_cmp_noise_V: float = 0.5e-3
    sigma_cmp_offset_V: float = 2.0e-3
    e_cmp_fJ: float = 30.0
    e_sar_bit_fJ: float = 15.0
    p_leak_bitcell_W: float = 10e-12
    r_on_ohm: float = 2000.0
    r_dac_ohm: float = 2000.0
    v_ref: float = 1.8
    v_th: float = 0.45
    f_logic_ref_hz: float = 200e6
    alpha_power: float = 1.3
    settle_lsb: float = 0.5
    n_mac_cycles: int = 2
    n_conv_extra_cycles: int = 1
    p_input: float = 0.5
    p_weight: float = 0.5
    feature_um: float = 0.13
    area_utilisation: float = 0.95

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not (isinstance(v, (int, float)) and math.isfinite(v)):
                raise ParamError(f.name, f"must be a finite number, got {v!r}", where="acim tech")
        positive = [f.name for f in fields(self) if f.name not in ("n_conv_extra_cycles",)]
        for name in positive:
            if not getattr(self, name) > 0:
                raise ParamError(name, f"must be > 0, got {getattr(self, name)}", where="acim tech")
        if self.n_conv_extra_cycles < 0:
            raise ParamError("n_conv_extra_cycles", "must be >= 0", where="acim tech")
        for name in ("p_input", "p_weight", "area_utilisation"):
            if not getattr(self, name) <= 1:
                raise ParamError(name, f"must be in (0, 1], got {getattr(self, name)}", where="acim tech")
        if self.v_th >= self.v_ref:
            raise ParamError("v_th", f"must be below v_ref={self.v_ref}", where="acim tech")


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


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


@dataclass(frozen=True)
class AcimParams:
    """One ACIM macro design.

    Attributes:
        rows: H, word lines (inputs per column); given by the workload.
        cols: W, bit lines (columns); given by the workload.
        local_array: L, bitcells sharing one compute cell; must divide ``rows``.
        adc_bits: b, SAR ADC resolution; ``2**b`` must divide ``rows/local_array`` (the DAC is
            built from the column's compute caps).
        input_bits: Bx, input precision (applied bit-serially).
        weight_bits: Bw, weight precision (bit-sliced over Bw columns); must divide ``cols``.
        adc_share: S, columns sharing one comparator + SAR logic; must divide ``cols``.
        vdd: supply voltage (V).
        f_clk_hz: clock frequency (Hz); must not exceed the settling/logic limit (checked by
            :func:`check_design`, reported as ``f_max_hz``).
        c_unit_fF: unit compute capacitance (fF); used only when the cell library does not state
            the compute cell's ``cap_fF``.
    """

    rows: int
    cols: int
    local_array: int
    adc_bits: int
    input_bits: int = 4
    weight_bits: int = 4
    adc_share: int = 1
    vdd: float = 1.8
    f_clk_hz: float = 100e6
    c_unit_fF: float = 2.0

    def __post_init__(self) -> None:
        for name in ("rows", "cols", "local_array", "adc_bits", "input_bits", "weight_bits", "adc_share"):
            v = getattr(self, name)
            if not _is_int(v):
                raise ParamError(name, f"must be an integer, got {v!r}")
            if v < 1:
                raise ParamError(name, f"must be >= 1, got {v}")
        for name in ("vdd", "f_clk_hz", "c_unit_fF"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ParamError(name, f"must be a positive number, got {v!r}")
        check_dac_fit(self.rows, self.local_array, self.adc_bits)
        if self.cols % self.weight_bits:
            raise ParamError("weight_bits", f"cols={self.cols} must be divisible by weight_bits="
                             f"{self.weight_bits} (bit-sliced weights)")
        if self.cols % self.adc_share:
            raise ParamError("adc_share", f"cols={self.cols} must be divisible by adc_share="
                             f"{self.adc_share}")
        if self.input_bits > 16 or self.weight_bits > 16:
            raise ParamError("input_bits" if self.input_bits > 16 else "weight_bits", "must be <= 16")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "acim params") -> AcimParams:
        """Build from a mapping (e.g. a ``pareto.json`` entry's ``params``), naming bad fields."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ParamError(unknown[0], f"unknown parameter (expected one of {sorted(known)})", where)
        kw = {}
        for f in fields(cls):
            if f.name not in d:
                continue
            v = d[f.name]
            if f.type == "int" and isinstance(v, float) and v.is_integer():
                v = int(v)
            kw[f.name] = v
        try:
            return cls(**kw)
        except TypeError as e:
            raise ParamError("params", f"{e}", where) from e


# ----------------------------------------------------------------------------------------------
# formulas (each one vectorised; arguments broadcast)


def cell_counts(H, W, L, b, S, tech: AcimTech) -> dict[str, np.ndarray]:
    """Number of cells of each role in the macro.

    bitcell H·W; compute (H/L)·W; wl_driver H and in_driver H (one each per row); comparator W/S;
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
}


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
      (σ_noise² + σ_offset²)/v_u²; conversion MSE by :func:`conversion_mse`.
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
    var_cmp = (tech.sigma_cmp_noise_V ** 2 + tech.sigma_cmp_offset_V ** 2) / v_u ** 2
    p = tech.p_input * tech.p_weight
    var_other = np.broadcast_to(var_th + var_cmp, N.shape)
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
