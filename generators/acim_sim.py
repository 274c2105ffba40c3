"""Check the ACIM column model against ngspice.

:func:`column_circuit` builds one or more compute columns as an :class:`eda.circuit.Circuit`:
``N`` compute capacitors ``C_u(1+ε_i)`` with Pelgrom-sampled mismatch ``ε_i ~ N(0, σ_ε²)``, each
bottom plate driven through its compute switch (``R_on``) by a piece-wise-linear source, the
shared top plate (compute line) with its parasitic ``C_par`` and a reset switch (sky130 nfet, L = 0.15 µm,
bootstrapped gate) to ``V_rst = VDD``, wide enough to absorb the bottom plates' kick to 0.05 unit before it
opens (:func:`reset_switch_w_um`, as the macro's MAC phase is sized for); its charge-injection pedestal is
measured on a k = 0 vector and removed (reported as ``pedestal_mV``). The unit caps are sky130 MIM capacitors
(``sky130_fd_pr__cap_mim_m3_1``) sized so the library's own equation gives each sampled value; the
compute switches are the model's ``R_on`` resistors. Device models: sky130 BSIM4 at
``SimConfig.corner``/``temp_c`` (``models="generic"``: the explicit level-1 fallback).
For every input vector the netlist samples the MAC
(bottom plates at ``VDD·x_i·w_i`` with the top plate held), opens the reset switch and returns
the bottom plates to 0 (top-plate sampling); the top plate then holds
``V_rst − VDD·Σ C_i x_i w_i / C_tot``. After the vectors, each DAC group is switched alone to
measure its step. The netlist is written with :func:`eda.export.to_spice.write_spice` and run
with :func:`eda.sim.ngspice.transient`.

:func:`check_column` then runs the SAR conversion on the simulated voltages (the DAC is linear,
so a code's top-plate voltage is the sampled MAC voltage plus the simulated steps of its groups),
with the noise an ngspice transient does not produce added as samples: kT/C on the sampled
voltage, comparator noise per decision and comparator offset per column. It reports the ideal
MAC transfer error and the simulated vs modelled SNR of one conversion.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, model_validator

from eda.circuit import Circuit, Device, Waveform
from eda.generators.acim_column import bind_models
from eda.generators.acim_model import (
    K_BOLTZMANN,
    AcimTech,
    CellSizes,
    column_height_um,
    dac_group_sizes,
    evaluate_batch,
    r_on,
    two_adic,
)
from eda.generators.acim_params import ParamsModel

#: Phase timing of one vector (s): reset on, bottoms to x·w, reset off, bottoms to 0, sample.
_T_RISE = 20e-12
_T_BOTTOM_ON = 0.1e-9
_T_RESET_OFF = 1.0e-9
_T_BOTTOM_OFF = 1.2e-9
_T_SAMPLE = 2.0e-9
_T_PERIOD = 2.4e-9

#: The reset switch must bring the top plate back to V_rst from the bottom plates' kick (up to N units, with
#: the previous vector's −k_prev units on top) to within 0.05 unit before it opens, as the macro's CL reset
#: does (its MAC phase is sized for that: :func:`eda.generators.acim_column.settle_timing`). Its effective
#: on-resistance in the sky130 BSIM4 model (gate at 2·VDD, V_rst = VDD), measured as the time a 0.85 V kick
#: takes to settle to 0.05/64 of itself over ln(64/0.05)·C_tot, follows R = ρ/(W − δ) at ss 125 °C (the slowest
#: case measured): 5.05 kΩ at W = 0.42 µm, 2.02 kΩ at 0.84, 729 Ω at 2.1, 340 Ω at 4.2, 168 Ω at 8.4 µm
#: (ρ = 1.38 kΩ·µm, δ = 0.147 µm; tt 27 °C is 1.4x faster). ρ below is rounded up by 5 %.
#: The minimum nfet used before (W = 0.42 µm: τ = 0.74 ns at tt 27 °C on N = 64's 264 fF) left 30-45 % of the
#: kick after the 0.9 ns window: an error of several units that depends on k and on the previous vector (tt 27 °C:
#: +2.4..+5.8 units at k = 16..64 in a sweep of 4-unit steps, +5.2..+11.7 in 16-unit steps; SNR −5.1 dB at
#: N = 64, b = 4; −15.6 dB for the L = 4 column), which the macro, whose reset settles, does not have.
RST_RHO_OHM_UM, RST_DELTA_UM, RST_L_UM, RST_W_MIN_UM = 1450.0, 0.15, 0.15, 0.42
#: settling target: 0.05 unit of the N-unit kick (as ``settle_timing``)
RESET_SETTLE_UNITS = 0.05


def reset_switch_w_um(n_caps: int, c_tot_F: float) -> float:
    """Width (µm, 0.01 µm steps, at least the minimum 0.42) of the reset switch that settles a kick of
    ``n_caps`` units to ``RESET_SETTLE_UNITS`` within the reset window (bottoms up to reset off, less one
    edge): ``R·C_tot·ln(N/0.05) ≤ t_window`` with ``R = ρ/(W − δ)``."""
    t_win = _T_RESET_OFF - _T_BOTTOM_ON - _T_RISE
    w = RST_DELTA_UM + RST_RHO_OHM_UM * c_tot_F * math.log(max(n_caps, 1) / RESET_SETTLE_UNITS) / t_win
    return max(RST_W_MIN_UM, math.ceil(w * 100 - 1e-6) / 100)


class SimConfig(ParamsModel):
    """One column configuration for the ngspice check (:class:`eda.params.Params` style; errors
    :class:`ParamError` ``field '...'`` in ``acim sim config``)."""

    where: ClassVar[str] = "acim sim config"
    n_caps: int = Field(16, ge=2, description="compute caps per column N (= rows / local_array); at least 2")
    adc_bits: int = Field(4, ge=1, description="SAR resolution (2**adc_bits must divide n_caps)")
    local_array: int = Field(1, ge=1, description="L (sets the column length, hence the compute-line parasitic)")
    vdd: float = Field(1.8, gt=0, description="supply (V)")
    c_unit_fF: float = Field(2.0, gt=0, description="unit cap when the library does not state it (fF)")
    n_columns: int = Field(16, ge=1, description="Monte-Carlo column instances (independent mismatch) in one "
                           "netlist")
    n_vectors: int = Field(64, ge=1, description="random input vectors per column")
    seed: int = Field(0, description="random seed (mismatch, inputs, noise)")
    tech: AcimTech = Field(AcimTech(), description="model coefficients (e.g. a larger Pelgrom coefficient to "
                           "stress mismatch)")
    models: str = Field("sky130", description='device models: "sky130" BSIM4 or the "generic" level-1 fallback')
    corner: str = Field("tt", description="process corner")
    temp_c: float = Field(27.0, description="temperature (°C)")

    @model_validator(mode="after")
    def _dac_fits(self) -> SimConfig:
        if self.adc_bits > two_adic(self.n_caps):
            raise self.param_error("adc_bits", f"2**{self.adc_bits} must divide n_caps={self.n_caps}")
        return self


def _pwl(levels: np.ndarray, t_on: float, t_off: float, tail: list[tuple[float, float]]) -> Waveform:
    """PWL source that, in vector j, goes to ``levels[j]`` at ``t_on`` and back to 0 at ``t_off``
    (relative to the vector start), then follows ``tail`` (absolute (t, v) points)."""
    pts: list[float] = [0.0, 0.0]
    for j, v in enumerate(levels):
        t0 = j * _T_PERIOD
        if v == 0:
            continue
        pts += [t0 + t_on, 0.0, t0 + t_on + _T_RISE, float(v), t0 + t_off, float(v),
                t0 + t_off + _T_RISE, 0.0]
    for t, v in tail:
        pts += [t, v]
    return Waveform("pwl", tuple(pts))


def dac_groups(n_caps: int, adc_bits: int) -> list[np.ndarray]:
    """Cap indices of each binary DAC group, MSB first: group g holds ``2**(b−1−g)·Δ`` caps;
    the last Δ caps (the termination group) are never switched by the SAR."""
    groups, start = [], 0
    for size in dac_group_sizes(n_caps, adc_bits)[:-1]:  # the layout and the model use the same sizes
        groups.append(np.arange(start, start + size))
        start += size
    return groups


def mim_side_um(c_F: float, models: str = "sky130") -> float:
    """Side (µm) of the square MIM capacitor of capacitance ``c_F``: the sky130 library's equation
    C = 2 fF/µm²·(W + 0.15 µm)(L + 0.15 µm) solved for W = L (the generic fallback: 2 fF/µm²·W·L)."""
    return round(math.sqrt(c_F / 2e-15) - (0.15 if models == "sky130" else 0.0), 6)


def column_circuit(products: np.ndarray, caps_F: np.ndarray, c_par_F: float, vdd: float, r_on_ohm: float,
                   groups: list[np.ndarray], models: str = "sky130") -> tuple[Circuit, dict[str, Any]]:
    """Netlist of ``C`` columns.

    Args:
        products: (C, V, N) 0/1 products x·w per column, vector and cap.
        caps_F: (C, N) capacitances (F) with mismatch.
        c_par_F: compute-line parasitic per column (F).
        vdd: supply (V); V_rst = VDD.
        r_on_ohm: compute switch resistance.
        groups: DAC groups (cap indices, MSB first).

    Returns:
        (circuit, timing) where timing has the MAC sample times, the DAC step times and the reset
        switch's width (``w_rst_um``, :func:`reset_switch_w_um` for the largest column's C_tot).
    """
    C, V, N = products.shape
    c = Circuit(title=f"ACIM compute columns: {C} x {N} caps, {V} vectors")
    w_rst = reset_switch_w_um(N, float(np.asarray(caps_F).sum(-1).max()) + c_par_F)
    t_dac0 = V * _T_PERIOD
    # DAC characterisation, one group per period: reset on, off, group up at 1.2 ns, down at 2.2 ns
    dac_on = [(t_dac0 + g * _T_PERIOD + _T_BOTTOM_OFF, t_dac0 + g * _T_PERIOD + 2.2e-9)
              for g in range(len(groups))]
    t_stop = t_dac0 + len(groups) * _T_PERIOD + 0.2e-9
    # reset gate: high (bootstrapped to 2·VDD) from 0 to 1 ns of every period
    gate = [0.0, 2 * vdd]
    for j in range(V + len(groups)):
        t0 = j * _T_PERIOD
        gate += [t0 + _T_RESET_OFF, 2 * vdd, t0 + _T_RESET_OFF + _T_RISE, 0.0,
                 t0 + _T_PERIOD - _T_RISE, 0.0, t0 + _T_PERIOD, 2 * vdd]
    c.add(Device("Vdd", "V", ("vrst", "0"), value=vdd))
    c.add(Device("Vrg", "V", ("rg", "0"), waveform=Waveform("pwl", tuple(gate))))
    group_of = np.full(N, -1)
    for g, idx in enumerate(groups):
        group_of[idx] = g
    for ci in range(C):
        top = f"top{ci}"
        c.add(Device(f"Xrst{ci}", "X", (top, "rg", "vrst", "0"), model="sky130_fd_pr__nfet_01v8",
                     params={"W": w_rst, "L": RST_L_UM}))
        c.add(Device(f"Cpar{ci}", "C", (top, "0"), value=float(c_par_F)))
        for i in range(N):
            tail: list[tuple[float, float]] = []
            if group_of[i] >= 0:
                ton, toff = dac_on[group_of[i]]
                tail = [(ton, 0.0), (ton + _T_RISE, vdd), (toff, vdd), (toff + _T_RISE, 0.0)]
            wf = _pwl(products[ci, :, i] * vdd, _T_BOTTOM_ON, _T_BOTTOM_OFF, tail)
            c.add(Device(f"Vb{ci}_{i}", "V", (f"d{ci}_{i}", "0"), waveform=wf))
            c.add(Device(f"Ron{ci}_{i}", "R", (f"d{ci}_{i}", f"b{ci}_{i}"), value=float(r_on_ohm)))
            side = mim_side_um(float(caps_F[ci, i]), models)
            c.add(Device(f"XCu{ci}_{i}", "X", (f"b{ci}_{i}", top), model="sky130_fd_pr__cap_mim_m3_1",
                         params={"W": side, "L": side}))
    timing = {"t_mac": np.arange(V) * _T_PERIOD + _T_SAMPLE,
              "t_dac_before": np.array([a for a, _ in dac_on]) - 0.05e-9,
              "t_dac_after": np.array([b for _, b in dac_on]) - 0.05e-9,
              "t_stop": t_stop, "w_rst_um": w_rst}
    return c, timing


def check_column(cfg: SimConfig, cells: CellSizes, out: str | Path | None = None) -> dict[str, Any]:
    """Simulate ``cfg`` in ngspice and compare with the model.

    Returns a dict with ``snr_sim_db``, ``snr_model_db`` (one conversion), ``snr_ideal_db`` (the same
    Monte-Carlo draws on an ideal circuit: separates the check's sampling error from the circuit's),
    ``w_rst_um`` (the reset switch's width), ``transfer_max_err_lsb`` (ideal column: simulated vs ideal
    MAC voltage, in unit steps), ``dac_max_err_lsb`` (ideal
    column: simulated vs ideal DAC group steps), ``mse_sim``, ``mse_model``, ``n_samples``, and
    the netlist path when ``out`` is given.
    """
    from eda.export.to_spice import write_spice
    from eda.sim.ngspice import transient

    tech = cfg.tech
    N, b = cfg.n_caps, cfg.adc_bits
    H = N * cfg.local_array
    cu_fF = float(cells.cap_fF) if cells.cap_fF is not None else cfg.c_unit_fF
    cu = cu_fF * 1e-15
    model = evaluate_batch(H, 1, cfg.local_array, b, 1, 1, 1, cfg.vdd, 1e6, cfg.c_unit_fF, cells, tech)
    c_par = float((tech.c_wire_fF_per_um * column_height_um(H, cfg.local_array, cells, tech)
                   + N * tech.c_top_junction_fF) * 1e-15)
    c_tot_nom = N * cu + c_par
    v_u = cfg.vdd * cu / c_tot_nom
    rng = np.random.default_rng(cfg.seed)
    sigma_eps = tech.cap_mismatch_pct / 100.0 / math.sqrt(cu_fF)
    # column 0 is ideal (no mismatch): it checks the transfer; the others are Monte-Carlo columns
    n_col = cfg.n_columns + 1
    eps = rng.normal(0.0, sigma_eps, size=(n_col, N))
    eps[0] = 0.0
    caps = cu * (1.0 + eps)
    p = tech.p_input * tech.p_weight
    x = rng.random((n_col, cfg.n_vectors, N)) < tech.p_input
    w = rng.random((n_col, 1, N)) < tech.p_weight  # weights stay in the array across vectors
    prod = (x & w).astype(float)
    # the ideal column sweeps k from 0 to N
    k_sweep = np.rint(np.arange(cfg.n_vectors) * N / max(cfg.n_vectors - 1, 1))
    prod[0] = k_sweep[:, None] > np.arange(N)[None, :]
    groups = dac_groups(N, b)
    circ, timing = column_circuit(prod, caps, c_par, cfg.vdd, float(r_on(tech.r_on_ohm, cfg.vdd, tech)), groups,
                                  cfg.models)
    netlist = None
    if out is not None:
        netlist = write_spice(circ, Path(out) / f"acim_column_N{N}_b{b}.sp")
    circ = bind_models(circ, cfg.models, cfg.corner, cfg.temp_c)
    t, wav = transient(circ, 10e-12, timing["t_stop"], max_step=50e-12)
    vx = np.stack([np.interp(timing["t_mac"], t, wav[f"top{ci}"]) for ci in range(n_col)]) - cfg.vdd
    # the reset switch's charge injection and gate feedthrough leave a pedestal on the sampled top
    # plate, the same for every vector (the switch opens at V_rst): measured on the ideal column's
    # k = 0 vector and removed, as the SAR reference trim would (the model has no pedestal)
    pedestal = float(vx[0, 0])
    vx = vx - pedestal
    before = np.stack([np.interp(timing["t_dac_before"], t, wav[f"top{ci}"]) for ci in range(n_col)])
    after = np.stack([np.interp(timing["t_dac_after"], t, wav[f"top{ci}"]) for ci in range(n_col)])
    steps = after - before  # (columns, groups): simulated DAC step of each group
    k = prod.sum(-1)  # ideal MAC count per (column, vector)
    # ideal transfer: the ideal column's sampled voltage vs −k·v_u, and its DAC steps vs size·v_u
    transfer_err = np.abs(vx[0] + k[0] * v_u).max() / v_u
    # the switch's own capacitance on the top plate (not in the model's C_par) scales the step:
    # a gain error; what is left after the best-fit line is the transfer's non-linearity
    gain, icpt = np.polyfit(k[0], vx[0], 1)
    nonlin = np.abs(vx[0] - (gain * k[0] + icpt)).max() / v_u
    dac_err = np.abs(steps[0] - np.array([len(g) for g in groups]) * v_u).max() / v_u
    # SAR conversion on the Monte-Carlo columns, with the noise the transient does not produce
    vmc, smc, kmc = vx[1:], steps[1:], k[1:]
    ktc = rng.normal(0.0, math.sqrt(K_BOLTZMANN * tech.temperature_K / c_tot_nom), vmc.shape)
    offset = rng.normal(0.0, tech.sigma_cmp_offset_V, (cfg.n_columns, 1))
    noise = rng.normal(0.0, tech.sigma_cmp_noise_V, (b, *vmc.shape))
    delta = N // 2 ** b
    signal = N * p * (1 - p)

    def conv_mse(v: np.ndarray, s: np.ndarray) -> tuple[float, float]:
        """MSE (unit²) and error rate of the SAR codes for sampled voltages ``v`` and DAC group steps ``s``."""
        code = np.zeros(v.shape, dtype=np.int64)
        dac_v = np.zeros(v.shape)
        for g in range(b):
            trial_v = dac_v + s[:, g:g + 1]
            keep = v + ktc + trial_v <= 0.5 * v_u + offset + noise[g]
            dac_v = np.where(keep, trial_v, dac_v)
            code = code + keep * 2 ** (b - 1 - g)
        err = code * delta + (delta - 1) / 2.0 - kmc
        return float((err ** 2).mean()), float((err != 0).mean())

    mse_sim, err_rate = conv_mse(vmc, smc)
    # the same Monte-Carlo draws (caps, inputs, noise) on an ideal circuit (charge sharing, no switch): what
    # these samples give without ngspice; SNR ideal − model is the check's sampling error, sim − ideal the circuit's
    c_col = caps[1:].sum(-1, keepdims=True) + c_par
    v_ideal = -cfg.vdd * (prod[1:] * caps[1:, None, :]).sum(-1) / c_col
    s_ideal = np.stack([cfg.vdd * caps[1:, g].sum(-1) for g in groups], -1) / c_col
    mse_ideal = conv_mse(v_ideal, s_ideal)[0]
    mse_model = float(model["mse_conv"][0] if np.ndim(model["mse_conv"]) else model["mse_conv"])
    res = {"n_caps": N, "adc_bits": b, "local_array": cfg.local_array, "vdd": cfg.vdd, "c_unit_fF": cu_fF,
           "c_par_fF": c_par * 1e15, "v_unit_mV": v_u * 1e3, "pedestal_mV": pedestal * 1e3, "sigma_mismatch": sigma_eps,
           "transfer_max_err_lsb": float(transfer_err), "dac_max_err_lsb": float(dac_err),
           "transfer_gain_error_pct": float((-gain / v_u - 1.0) * 100), "transfer_nonlinearity_lsb": float(nonlin),
           "mse_sim": mse_sim, "mse_model": mse_model,
           "snr_sim_db": 10 * math.log10(signal / max(mse_sim, 1e-300)),
           "snr_model_db": 10 * math.log10(signal / max(mse_model, 1e-300)),
           "snr_ideal_db": 10 * math.log10(signal / max(mse_ideal, 1e-300)),
           "n_samples": int(kmc.size), "code_error_rate": err_rate, "w_rst_um": timing["w_rst_um"],
           "netlist": str(netlist) if netlist else None,
           "ideal_transfer": {"k": k[0].tolist(), "v_mac_minus_vrst": vx[0].tolist()}}
    return res


#: Configurations of the full check (benchmark / slow test): each stresses one error source.
CHECK_CONFIGS: dict[str, SimConfig] = {
    # mismatch-dominated: a large Pelgrom coefficient puts the thresholds in the error regime
    "mismatch N=16 b=4": SimConfig(n_caps=16, adc_bits=4, c_unit_fF=1.0, n_columns=160, n_vectors=8,
                                   tech=AcimTech(cap_mismatch_pct=15.0), seed=1),
    # quantisation-dominated: 4 unit caps per LSB
    "quantisation N=64 b=4": SimConfig(n_caps=64, adc_bits=4, n_columns=24, n_vectors=48, seed=2),
    # comparator-noise-dominated (σ ≈ 0.4 unit)
    "noise N=32 b=5": SimConfig(n_caps=32, adc_bits=5, n_columns=32, n_vectors=40,
                                tech=AcimTech(sigma_cmp_noise_V=12e-3), seed=3),
    # everything at once, long column (L = 4 adds compute-line parasitic)
    "mixed N=64 b=6 L=4": SimConfig(n_caps=64, adc_bits=6, local_array=4, c_unit_fF=1.0, n_columns=48,
                                    n_vectors=24, tech=AcimTech(cap_mismatch_pct=6.0, sigma_cmp_offset_V=3e-3),
                                    seed=4),
}
