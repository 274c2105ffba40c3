"""ACIM model + exploration benchmark.

Measures: model evaluation throughput; NSGA-II exploration time for several array sizes (the target
is 256x64 in < 30 s on 2 cores), front size and determinism; front quality (hypervolume) against a
4x longer run; the ngspice column check (simulated vs modelled SNR, ideal MAC transfer) over every
configuration of ``CHECK_CONFIGS``. Prints a summary and saves ``benchmarks/results/acim.json``
and figures under ``benchmarks/figures/``.

Run: ``.venv/bin/python benchmarks/bench_acim.py``
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from eda.generators.acim_dse import OBJECTIVES, ExploreSpec, explore, pick, plot_pareto
from eda.generators.acim_model import evaluate_batch, load_cell_sizes
from eda.generators.acim_sim import CHECK_CONFIGS, check_column

HERE = Path(__file__).resolve().parent


def _hypervolume(fronts: list[np.ndarray]) -> list[float]:
    """Hypervolume of each front (minimised objectives), normalised on the union's range."""
    from pymoo.indicators.hv import HV

    allf = np.concatenate(fronts)
    lo, hi = allf.min(0), allf.max(0)
    ind = HV(ref_point=np.full(allf.shape[1], 1.1))
    return [float(ind((f - lo) / np.maximum(hi - lo, 1e-30))) for f in fronts]


def _objectives(designs) -> np.ndarray:
    return np.array([[-d["metrics"][k] if s == "max" else d["metrics"][k] for k, s in OBJECTIVES]
                     for d in designs])


def main() -> dict:
    cells = load_cell_sizes()
    out: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "processor": platform.processor() or platform.machine()},
                 "cells": cells.source}

    # model throughput (no memo cache: every design computed)
    rng = np.random.default_rng(0)
    n = 2000
    L = rng.choice([1, 2, 4, 8, 16], n)
    b = rng.integers(1, 5, n)
    t0 = time.perf_counter()
    evaluate_batch(256, 64, L, b, 4, 4, rng.choice([1, 2, 4], n), rng.uniform(1.2, 1.8, n), 1e8, 2.0, cells)
    dt = time.perf_counter() - t0
    out["model_designs_per_s"] = round(n / dt)
    print(f"model: {n} designs (256x64) in {dt:.3f} s = {n / dt:,.0f} designs/s")

    # exploration times
    runs = {}
    for rows, cols in [(64, 64), (128, 64), (256, 64), (256, 256), (512, 128)]:
        spec = ExploreSpec(rows=rows, cols=cols, seed=1)
        t0 = time.perf_counter()
        res = explore(spec, cells, progress=False)
        wall = time.perf_counter() - t0
        runs[f"{rows}x{cols}"] = {"seconds": round(wall, 2), "n_evals": res.n_evals,
                                  "n_feasible": int(res.archive_feasible.sum()), "n_pareto": len(res.designs),
                                  "best_snr_db": round(res.designs[0]["metrics"]["snr_db"], 2)}
        print(f"explore {rows}x{cols} (pop {spec.pop}, gens {spec.gens}): {wall:.2f} s, {res.n_evals} evals, "
              f"{len(res.designs)} Pareto designs")
        if (rows, cols) == (256, 64):
            main_res = res
            again = explore(spec, cells, progress=False)
            runs["256x64"]["same_seed_same_front"] = again.designs == res.designs
            chosen = pick(res.designs, ["snr_db>=20"], "min:area_mm2")
            runs["256x64"]["picked"] = {"params": chosen["params"],
                                        "metrics": {k: round(chosen["metrics"][k], 5) for k, _ in OBJECTIVES}}
            fig = plot_pareto(res, HERE / "figures" / "acim_pareto.png", chosen, dpi=70)  # small README figure
            out["figure_pareto"] = str(fig.relative_to(HERE.parent))
    out["explore"] = runs

    # quality: the default run's front vs a 4x longer run (hypervolume on the union's range)
    long = explore(ExploreSpec(rows=256, cols=64, pop=200, gens=200, seed=2), cells, progress=False)
    hv = _hypervolume([_objectives(main_res.designs), _objectives(long.designs)])
    out["hypervolume_256x64"] = {"default_pop100_gens100": round(hv[0], 4), "pop200_gens200": round(hv[1], 4),
                                 "ratio": round(hv[0] / hv[1], 4)}
    print(f"hypervolume 256x64: default {hv[0]:.4f} vs 4x longer run {hv[1]:.4f} ({hv[0] / hv[1]:.1%})")

    # ngspice column check
    sims = {}
    for name, cfg in CHECK_CONFIGS.items():
        t0 = time.perf_counter()
        r = check_column(cfg, cells)
        sims[name] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()
                      if k not in ("ideal_transfer", "netlist")}
        sims[name]["seconds"] = round(time.perf_counter() - t0, 2)
        sims[name]["snr_diff_db"] = round(r["snr_sim_db"] - r["snr_model_db"], 3)
        sims[name]["_transfer"] = r["ideal_transfer"]
        print(f"ngspice check {name}: SNR sim {r['snr_sim_db']:.2f} dB, model {r['snr_model_db']:.2f} dB "
              f"(diff {r['snr_sim_db'] - r['snr_model_db']:+.2f}), ideal transfer max error "
              f"{r['transfer_max_err_lsb']:.4f} unit, {r['n_samples']} conversions, {sims[name]['seconds']} s")
    _plot_sim(sims, HERE / "figures" / "acim_sim_check.png")
    for s in sims.values():
        s.pop("_transfer")
    out["sim_check"] = sims
    out["sim_check_max_abs_diff_db"] = round(max(abs(s["snr_diff_db"]) for s in sims.values()), 3)
    res_path = HERE / "results" / "acim.json"
    res_path.parent.mkdir(parents=True, exist_ok=True)
    res_path.write_text(json.dumps(out, indent=1, default=str))
    print(f"wrote {res_path}")
    return out


def _plot_sim(sims: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for name, s in sims.items():
        k = np.array(s["_transfer"]["k"])
        v = np.array(s["_transfer"]["v_mac_minus_vrst"]) * 1e3
        a.plot(k / s["n_caps"], v, "o", ms=3, label=f"{name} (ngspice)")
        a.plot([0, 1], [0, -s["n_caps"] * s["v_unit_mV"]], "k-", lw=0.6)
    a.set_xlabel("k / N (fraction of active products)")
    a.set_ylabel("V_top − V_rst [mV]")
    a.set_title("ideal MAC transfer: ngspice (dots) vs −k·VDD·C_u/C_tot (lines)")
    a.legend(fontsize=7)
    names = list(sims)
    x = np.arange(len(names))
    b.bar(x - 0.2, [sims[n]["snr_sim_db"] for n in names], 0.4, label="ngspice + SAR")
    b.bar(x + 0.2, [sims[n]["snr_model_db"] for n in names], 0.4, label="model")
    b.set_xticks(x, [n.replace(" ", "\n", 1) for n in names], fontsize=8)
    b.set_ylabel("SNR of one conversion [dB]")
    b.set_title("modelled vs simulated SNR")
    b.legend(fontsize=8)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def column_corners(jobs: int = 2, configs: tuple | None = None) -> dict:
    """Closed-loop ngspice column conversions (sky130 BSIM4) at every corner/temperature of
    ``CORNER_CONFIGS``: INL, DNL, SNR against the model; ``results/acim_column.json`` and
    ``figures/acim_column_transfer.png``."""
    from eda.generators.acim_column import CORNER_CONFIGS, corner_table

    t0 = time.perf_counter()
    path = HERE / "results" / "acim_column.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial: list[dict] = []

    def save_partial(row: dict) -> None:  # a long run keeps what it has finished
        partial.append(row)
        path.write_text(json.dumps({"rows": partial, "partial": True}, indent=1))
        print(f"done {row['corner']} {row['temp_c']:.0f} C: SNR {row['snr_sim_db']:.2f} dB, "
              f"INL {row['max_inl_lsb']:.2f}, DNL {row['max_dnl_lsb']:.2f} LSB, {row['seconds']:.0f} s", flush=True)

    rows = corner_table(configs or CORNER_CONFIGS, jobs=jobs, on_row=save_partial)
    print(f"{'corner':>7} {'T[C]':>5} {'SNR sim':>8} {'model(q)':>8} {'model':>7} {'INL':>6} {'DNL':>6} "
          f"{'wrong':>5} {'v_u sim/model [mV]':>19} {'s':>6}")
    for r in rows:
        print(f"{r['corner']:>7} {r['temp_c']:5.0f} {r['snr_sim_db']:8.2f} {r['snr_model_quant_db']:8.2f} "
              f"{r['snr_model_db']:7.2f} {r['max_inl_lsb']:6.2f} {r['max_dnl_lsb']:6.2f} {r['codes_wrong']:5d} "
              f"{r['v_unit_sim_mV']:9.1f}/{r['v_unit_model_mV']:<9.1f} {r['seconds']:6.0f}")
    out = {"rows": rows, "seconds": round(time.perf_counter() - t0, 1), "jobs": jobs,
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    path.write_text(json.dumps(out, indent=1))
    _plot_column(rows, HERE / "figures" / "acim_column_transfer.png")
    print(f"wrote {path}")
    return out


def column_extracted() -> dict:
    """The LVS-extracted 8x1 column (devices and connectivity of the GDS) converts k = 0..8 in the
    same testbench as the schematic: codes and sampled compute-line voltages side by side, saved
    as ``results/acim_column_extracted.json``."""
    from eda.generators.acim_column import ColumnBench, extracted_netlist, run_conversions

    bench = ColumnBench(adc_bits=3)
    ks = np.arange(bench.caps + 1)
    inputs = (np.arange(bench.caps)[None, :] < ks[:, None]).astype(int)
    schem = run_conversions(bench, inputs)
    ext = run_conversions(bench, inputs, netlist=extracted_netlist(bench))
    out = {"k": ks.tolist(), "codes_schematic": schem["codes"].tolist(), "codes_extracted": ext["codes"].tolist(),
           "v_cl_schematic": np.round(schem["v_cl"], 4).tolist(), "v_cl_extracted": np.round(ext["v_cl"], 4).tolist(),
           "same_codes": bool((schem["codes"] == ext["codes"]).all()),
           "max_v_cl_diff_mV": float(np.abs(schem["v_cl"] - ext["v_cl"]).max() * 1e3),
           "seconds": round(schem["seconds"] + ext["seconds"], 1)}
    path = HERE / "results" / "acim_column_extracted.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"extracted column: codes {out['codes_extracted']} (schematic {out['codes_schematic']}), "
          f"max |ΔV_CL| {out['max_v_cl_diff_mV']:.2f} mV → {path}")
    return out


def column_codes(bits: int, ks: list[int], corner: str = "tt", temp_c: float = 27.0, max_step: float = 100e-12,
                 t_sclk: float | None = None, t_mac_extra: float | None = None, tag: str = "",
                 gmin: float | None = None) -> dict:
    """A subset of MAC values ``ks`` through one ``bits``-bit column (N = 2^B caps) in one ngspice run,
    with the MAC phase and SAR clock of :func:`~eda.generators.acim_column.settle_timing` (or the given
    ones): the codes against the ideal ones and the sampled compute line; for the resolutions whose
    full sweep takes hours here. ``results/acim_column/b{bits}_{corner}[_T..]_{len(ks)}codes{tag}.json``."""
    from eda.generators.acim_column import ColumnBench, run_conversions

    bench = ColumnBench(adc_bits=bits, corner=corner, temp_c=temp_c, max_step=max_step, gmin=gmin).settled()
    if t_sclk is not None or t_mac_extra is not None:
        bench = bench.replace(t_sclk=t_sclk or bench.t_sclk,
                              t_mac_extra=bench.t_mac_extra if t_mac_extra is None else t_mac_extra)
    n = bench.caps
    ks_a = np.asarray(ks, dtype=int)
    r = run_conversions(bench, (np.arange(n)[None, :] < ks_a[:, None]).astype(int))
    ideal = np.clip(np.floor((ks_a + 0.5) / (n // 2 ** bits)), 0, 2 ** bits - 1).astype(int)
    fit = np.polyfit(ks_a, r["v_cl"], 1) if len(ks_a) > 1 else np.array([np.nan, np.nan])
    out = {"adc_bits": bits, "n_caps": n, "corner": corner, "temp_c": temp_c, "k": ks_a.tolist(),
           "codes": r["codes"].tolist(), "ideal": ideal.tolist(), "codes_wrong": int((r["codes"] != ideal).sum()),
           "code_error_lsb": (r["codes"] - ideal).tolist(), "v_cl": np.round(r["v_cl"], 5).tolist(),
           "v_unit_mV": float(-fit[0] * 1e3),
           "v_cl_fit_residual_mV": np.round((r["v_cl"] - np.polyval(fit, ks_a)) * 1e3, 3).tolist(),
           "t_sclk": bench.t_sclk, "t_mac_extra": bench.t_mac_extra, "max_step": max_step, "gmin": gmin,
           "seconds": round(r["seconds"], 1), "load_1min": os.getloadavg()[0]}
    d = HERE / "results" / "acim_column"
    d.mkdir(parents=True, exist_ok=True)
    temp = f"_T{temp_c:g}" if temp_c != 27.0 else ""
    path = d / f"b{bits}_{corner}{temp}_{len(ks)}codes{tag}.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"{path.name}: k {out['k']} -> codes {out['codes']} ({out['codes_wrong']} wrong), "
          f"T_sclk {bench.t_sclk * 1e9:.1f} ns, MAC +{bench.t_mac_extra * 1e9:.1f} ns, {out['seconds']:.0f} s")
    return out


def column_probe(bits: int, k: int, max_step: float) -> dict:
    """One conversion probed decision by decision (:func:`eda.generators.acim_probe.probe_decisions`);
    ``results/acim_column/probe_b{bits}_k{k}_ms{max_step}.json``."""
    from eda.generators.acim_column import ColumnBench
    from eda.generators.acim_probe import probe_decisions

    out = probe_decisions(ColumnBench(adc_bits=bits, max_step=max_step).settled(), k)
    path = HERE / "results" / "acim_column" / f"probe_b{bits}_k{k}_ms{max_step:g}.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"{path.name}: code {out['code']}, CL - INN before each decision {out['cl_minus_inn_mV']} mV")
    return out


def subset_report() -> list[dict]:
    """The 5-8-bit subset runs: ``results/acim_column/b*.json`` (one column) and the 5-bit group files of
    ``results/acim_shared/`` (frames of k_0): per run the codes against the ideal ones, printed and drawn
    as the code error (LSB) against k/N in ``figures/acim_subset_codes.png``."""
    from eda.plot import figure, save

    runs = []
    for p in sorted((HERE / "results" / "acim_column").glob("b*.json")):
        r = json.loads(p.read_text())
        runs.append({"name": f"column, {r['adc_bits']} bits, {r['corner']} {r['temp_c']:g} °C, "
                             f"max step {r['max_step'] * 1e9:g} ns", "file": p.name,
                     "n": r["n_caps"], "k": r["k"], "err": r["code_error_lsb"]})
    for p in sorted(SHARED_DIR.glob("b5_*.json")):
        r = json.loads(p.read_text())
        how = (f"C_hold {r['mux_fix_fF']:g} fF, no MUX reset" if r.get("mux_fix_fF") is not None
               else f"INN trim {r['inn_trim_V'] * 1e3:.1f} mV" if r.get("inn_trim_V") else "as drawn")
        k = [x for c in r["columns"] for x in c["k"]]
        err = [code - min(x, r["n_caps"] - 1) for c in r["columns"] for x, code in zip(c["k"], c["codes"], strict=True)]
        runs.append({"name": f"S = 2 group, 5 bits, {r['corner']} {r['temp_c']:g} °C, {how}", "file": p.name,
                     "n": r["n_caps"], "k": k, "err": err})
    for r in runs:
        print(f"{r['file']:>44}: k {r['k']} -> code error {r['err']} LSB ({sum(e != 0 for e in r['err'])} off)")
    if runs:
        fig, ax = figure(1, 1, figsize=(7.5, 3.6))
        for i, r in enumerate(runs):
            ax.plot(np.array(r["k"]) / r["n"], np.array(r["err"]) + 0.06 * (i - len(runs) / 2), "o", ms=4,
                    label=r["name"])
        ax.set_xlabel("MAC value k / N")
        ax.set_ylabel("code − ideal code [LSB]")
        ax.set_title("ngspice sky130 conversions at 5-8 bits (subsets of k; points offset vertically)", fontsize=9)
        ax.set_ylim(-1.5, 1.5)
        ax.legend(fontsize=6, loc="lower right")
        save(fig, HERE / "figures" / "acim_subset_codes.png", dpi=80)
    return runs


def _plot_column(rows: list[dict], path: Path) -> None:
    from eda.plot import figure, save

    fig, (a, b) = figure(1, 2, figsize=(11, 4))
    for r in rows:
        u, c = np.array(r["u"]), np.array(r["codes"])
        order = np.argsort(u)
        # a transition lies between two simulated inputs: draw it at their midpoint (steps-mid)
        a.plot(u[order], c[order], drawstyle="steps-mid", marker="o", ms=3, lw=1,
               label=f"{r['corner']} {r['temp_c']:.0f} °C")
    n, bits = rows[0]["n_caps"], rows[0]["adc_bits"]
    uu = np.linspace(-0.5, n + 0.5, 400)
    a.plot(uu, np.clip(np.floor((uu + 0.5) / (n // 2 ** bits)), 0, 2 ** bits - 1), "k:", lw=1, label="ideal")
    a.set_xlabel("MAC input k (+ sub-unit shift) [unit caps]")
    a.set_ylabel("SAR output code")
    a.set_title(f"one column, N={n}, {bits}-bit SAR: ngspice + sky130 BSIM4")
    a.legend(fontsize=7)
    r0 = rows[0]
    k, v = np.array(r0["k"]), np.array(r0["v_cl"])
    b.plot(k, v, "o", ms=4, label=f"sampled CL ({r0['corner']} {r0['temp_c']:.0f} °C)")
    b.set_xlabel("MAC value k")
    b.set_ylabel("compute line after sampling [V]")
    b.set_title(f"unit step {r0['v_unit_sim_mV']:.1f} mV (model {r0['v_unit_model_mV']:.1f} mV)")
    b.legend(fontsize=7)
    save(fig, path, dpi=80)


SHARED_DIR = HERE / "results" / "acim_shared"


def shared_group(bits: int, share: int, corner: str, n_delta: int = 1, wire: bool = False,
                 t_mac_extra: float = 0.0, temp_c: float = 27.0, ungated: bool = False,
                 ks: list[int] | None = None, t_sclk: float = 2e-9, inn_trim: float = 0.0,
                 mux_fix: float | None = None, extracted: bool = False) -> dict:
    """A shared-ADC group (``share`` columns → column multiplexer → one ``bits``-bit SAR, sky130
    ``corner`` at ``temp_c``) converts every column over k = 0..N (or the frames of k_0 in ``ks``)
    in ngspice (:func:`eda.generators.acim_shared.group_check`); ``wire``: with the model's
    compute-line wiring capacitor on each CL (:func:`~eda.generators.acim_shared.model_wire_fF`),
    else as drawn; ``ungated``: the DAC switches before the select gating (the old layout).
    Writes ``results/acim_shared/b{bits}_s{share}_{corner}[_T{temp}][_wire][_mac..][_ungated].json``."""
    from eda.generators.acim_shared import SharedBench, group_check, model_wire_fF, shared_netlist
    from eda.generators.acim_shared import ungated as ungate

    bench = SharedBench(adc_bits=bits, adc_share=share, corner=corner, t_mac_extra=t_mac_extra, temp_c=temp_c,
                        t_sclk=t_sclk, inn_trim_V=inn_trim)
    if wire:
        bench = bench.replace(c_wire_fF=model_wire_fF(bench))
    from eda.generators.acim_shared import mux_fixed, unfixed

    net = ungate(shared_netlist(bench)) if ungated else None
    if extracted:  # the netlist the LVS run extracts from the group's GDS (as drawn, with its hold capacitor)
        net = shared_netlist(bench, extracted=True)
    if mux_fix is not None:  # the fix as prototyped in the netlist: C_hold of mux_fix fF on MUX_0, its reset off
        net = mux_fixed(unfixed(net or shared_netlist(bench)), c_hold_fF=mux_fix)
        bench = bench.replace(c_par_fF=4.0 + mux_fix)  # INN half a (smaller) unit above VCM
    r = group_check(bench, n_delta=n_delta, ks=None if ks is None else np.asarray(ks), netlist=net)
    r["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "load_1min": os.getloadavg()[0]}
    r["ungated"], r["t_sclk"], r["inn_trim_V"], r["mux_fix_fF"] = ungated, t_sclk, inn_trim, mux_fix
    r["extracted"], r["c_par_fF"] = extracted, bench.c_mux_fF()
    SHARED_DIR.mkdir(parents=True, exist_ok=True)
    mac = f"_mac{t_mac_extra * 1e9:g}ns" if t_mac_extra else ""
    temp = f"_T{temp_c:g}" if temp_c != 27.0 else ""
    more = ("_ungated" if ungated else "") + (f"_sclk{t_sclk * 1e9:g}ns" if t_sclk != 2e-9 else "")
    more += f"_{len(ks)}frames" if ks is not None else ""
    more += f"_trim{inn_trim * 1e3:g}mV" if inn_trim else ""
    more += f"_muxfix{mux_fix:g}fF" if mux_fix is not None else ""
    more += "_extracted" if extracted else ""
    path = SHARED_DIR / f"b{bits}_s{share}_{corner}{temp}{'_wire' if wire else ''}{mac}{more}.json"
    path.write_text(json.dumps(r, indent=1, default=float))
    snr = [None if c["snr_sim_db"] is None else round(c["snr_sim_db"], 2) for c in r["columns"]]
    print(f"{path.name}: codes wrong {r['codes_wrong']}, SNR sim {snr} "
          f"model {r['snr_model_quant_db']:.2f} dB, {r['seconds']:.0f} s")
    return r


def shared_extracted(bits: int = 2, share: int = 2) -> dict:
    """The LVS-extracted group (devices and connectivity of its GDS) in the same testbench as the
    schematic, every frame of the transfer sweep; ``results/acim_shared/extracted_b{bits}_s{share}.json``."""
    from eda.generators.acim_shared import SharedBench, run_frames, schedule, shared_netlist

    bench = SharedBench(adc_bits=bits, adc_share=share)
    ks = schedule(bench.caps, share)
    schem = run_frames(bench, ks)
    ext = run_frames(bench, ks, netlist=shared_netlist(bench, extracted=True))
    out = {"k": ks.tolist(), "codes_schematic": schem["codes"].tolist(), "codes_extracted": ext["codes"].tolist(),
           "same_codes": bool((schem["codes"] == ext["codes"]).all()),
           "max_v_cl_diff_mV": float(np.abs(schem["v_cl"] - ext["v_cl"]).max() * 1e3),
           "seconds": round(schem["seconds"] + ext["seconds"], 1)}
    SHARED_DIR.mkdir(parents=True, exist_ok=True)
    (SHARED_DIR / f"extracted_b{bits}_s{share}.json").write_text(json.dumps(out, indent=1))
    print(f"extracted group: codes {out['codes_extracted']} (schematic {out['codes_schematic']}), "
          f"max |ΔV_CL| {out['max_v_cl_diff_mV']:.2f} mV")
    return out


def shared_probe(bits: int = 5, k0: int = 20, k1: int = 12, t_sclk: float = 2e-9, t_mac_extra: float = 0.0) -> dict:
    """One frame of a gated, as-drawn group with its internal nodes probed: the compute lines at the
    sample (CLR release) against VCM, the CLR-release and EN-release steps, and the time constants of
    the compute-line reset (during the MAC phase) and of DAC line 0 (after RST closes), from
    exponential fits; ``results/acim_shared/probe_b{bits}.json``."""
    from eda.generators.acim_column import _T_ENOFF, _T_RSTON, _T_SMP, bind_models
    from eda.generators.acim_shared import SharedBench, shared_netlist, testbench
    from eda.sim.ngspice import transient

    b = SharedBench(adc_bits=bits, adc_share=2, t_sclk=t_sclk, t_mac_extra=t_mac_extra)
    n, vcm = b.caps, b.v_cm()
    sub, leaf = shared_netlist(b)
    w = (np.arange(n)[None, :, None] < np.array([[k0, k1]])[:, None, :]).astype(int)
    circ, tm = testbench(b, sub, leaf, w, np.zeros(1))
    t0 = time.perf_counter()
    t, wav = transient(bind_models(circ, b.models, b.corner, b.temp_c), 20e-12, tm["t_stop"], max_step=100e-12)
    wav = {k.lower(): v for k, v in wav.items()}
    clr = wav["clr"]
    ts = float(t[np.nonzero((clr[:-1] > b.vdd / 2) & (clr[1:] <= b.vdd / 2))[0][0]])
    t_mac0 = ts - _T_SMP - t_mac_extra
    t_rst = t_mac0 + t_mac_extra + _T_RSTON

    def at(net: str, tt: float) -> float:
        return float(np.interp(tt, t, wav[net]))

    def tau(y: np.ndarray, m: np.ndarray) -> float:
        return float(-1.0 / np.polyfit(t[m], np.log(np.abs(y[m]) + 1e-12), 1)[0])

    cl0, dac0 = wav["cl_0"] - vcm, b.vdd - wav["xgrp.dac_0_0"]
    out = {"adc_bits": bits, "k": [k0, k1], "t_sclk": t_sclk, "t_mac_extra": t_mac_extra,
           "cl_minus_vcm_at_sample_V": [at("cl_0", ts - 0.05e-9) - vcm, at("cl_1", ts - 0.05e-9) - vcm],
           "clr_release_step_V": at("cl_0", ts + 0.08e-9) - at("cl_0", ts - 0.05e-9),
           "en_release_step_V": at("cl_0", t_mac0 + t_mac_extra + _T_ENOFF + 0.08e-9) - at("cl_0", ts + 0.08e-9),
           "tau_reset_s": tau(cl0, (t > ts - 0.8e-9) & (t < ts - 0.05e-9)),
           "dac0_droop_V": float(dac0[(t > t_rst) & (t < t_rst + 0.5e-9)].max()),
           "tau_dac0_s": tau(dac0, (t > t_rst + 0.3e-9) & (t < t_rst + 1.6e-9)),
           "v_unit_mV": b.v_unit() * 1e3, "seconds": round(time.perf_counter() - t0, 1)}
    SHARED_DIR.mkdir(parents=True, exist_ok=True)
    (SHARED_DIR / f"probe_b{bits}.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    return out


def kick_decisions(t: np.ndarray, wav: dict, bits: int, vdd: float = 1.8) -> list[dict]:
    """Per SAR decision of a group transient (lower-case waveforms ``clk``, ``mux_0``, ``inn``,
    ``sel_*``): which column, the comparator input above the reference just before CLK rises
    (MUX_0 − INN, mV) and MUX_0's drop in the 60 ps after (the comparator's kickback)."""
    up = np.nonzero((wav["clk"][:-1] < vdd / 2) & (wav["clk"][1:] >= vdd / 2))[0]
    out = []
    for i, idx in enumerate(up):
        tc = float(t[idx])
        col = next((j for j in range(8) if f"sel_{j}" in wav and np.interp(tc, t, wav[f"sel_{j}"]) > vdd / 2), -1)
        before = float(np.interp(tc - 0.02e-9, t, wav["mux_0"]))
        after = float(wav["mux_0"][(t > tc) & (t < tc + 0.06e-9)].min())
        out.append({"column": col, "trial": i % bits, "t_ns": round(tc * 1e9, 3),
                    "mux_minus_inn_mV": round((before - float(np.interp(tc, t, wav["inn"]))) * 1e3, 2),
                    "kick_mV": round((before - after) * 1e3, 2)})
    return out


def shared_kick(bits: int = 5, k0: int = 7, k1: int = 25, variant: str = "drawn", t_sclk: float = 4e-9,
                t_mac_extra: float = 4e-9, c_hold_fF: float = 20.0) -> dict:
    """One group frame with the comparator input probed at every decision (:func:`kick_decisions`):
    ``variant`` "drawn" (the layout's netlist), "noreset" (MUX_0's reset gate off) or "fixed"
    (:func:`~eda.generators.acim_shared.mux_fixed`: reset off and ``c_hold_fF`` on MUX_0);
    ``results/acim_shared/kick_b{bits}_{variant}.json``."""
    from eda.generators.acim_column import bind_models, saving
    from eda.generators.acim_shared import SharedBench, mux_fixed, shared_netlist, testbench
    from eda.sim.ngspice import transient

    c_hold = {"drawn": None, "noreset": 0.0, "fixed": c_hold_fF}[variant]
    b = SharedBench(adc_bits=bits, adc_share=2, t_sclk=t_sclk, t_mac_extra=t_mac_extra,
                    c_par_fF=4.0 + (c_hold or 0.0))
    net = shared_netlist(b)
    sub, leaf = net if c_hold is None else mux_fixed(net, c_hold_fF=c_hold)
    w = (np.arange(b.caps)[None, :, None] < np.array([[k0, k1]])[:, None, :]).astype(int)
    circ, tm = testbench(b, sub, leaf, w, np.zeros(1))
    nets = ["CLK", "MUX_0", "INN", "SEL_0", "SEL_1", *(f"BIT_{q}_0" for q in range(bits))]
    t0 = time.perf_counter()
    t, wav = transient(saving(bind_models(circ, b.models, b.corner, b.temp_c), nets), 20e-12, tm["t_stop"],
                       max_step=b.max_step)
    wav = {k.lower(): v for k, v in wav.items()}
    codes = [int(sum((np.interp(tm["t_read"][0, j], t, wav[f"bit_{q}_0"]) > b.vdd / 2) << (bits - 1 - q)
                     for q in range(bits))) for j in range(2)]
    out = {"variant": variant, "adc_bits": bits, "k": [k0, k1], "codes": codes, "t_sclk": t_sclk,
           "t_mac_extra": t_mac_extra, "c_hold_fF": c_hold, "v_unit_mV": b.v_unit() * 1e3,
           "decisions": kick_decisions(t, wav, bits, b.vdd), "seconds": round(time.perf_counter() - t0, 1)}
    SHARED_DIR.mkdir(parents=True, exist_ok=True)
    (SHARED_DIR / f"kick_b{bits}_{variant}.json").write_text(json.dumps(out, indent=1))
    kicks = [d["kick_mV"] for d in out["decisions"]]
    print(f"{variant}: k {out['k']} -> codes {codes}; kick on MUX_0 {min(kicks):.1f}..{max(kicks):.1f} mV")
    return out


def shared_report() -> list[dict]:
    """Table of every ``results/acim_shared/b*.json`` and ``figures/acim_shared_transfer.png``."""
    rows = [json.loads(p.read_text()) for p in sorted(SHARED_DIR.glob("b*.json"))]
    print(f"{'B':>2} {'S':>2} {'corner':>6} {'C_w fF':>6} {'col':>3} {'wrong':>5} {'INL':>5} {'DNL':>5} {'SNR sim':>8} "
          f"{'model(q)':>8} {'+share':>7} {'alpha sim':>9} {'model':>6} {'v_u mV':>7} {'CL min/max V':>13}")
    for r in rows:
        for c in r["columns"]:
            print(f"{r['adc_bits']:>2} {r['adc_share']:>2} {r['corner']:>6} {r['c_wire_fF']:6.1f} {c['column']:>3} "
                  f"{c['codes_wrong']:>5} "
                  f"{c['max_inl_lsb']:5.2f} {c['max_dnl_lsb']:5.2f} {c['snr_sim_db'] or float('nan'):8.2f} "
                  f"{r['snr_model_quant_db']:8.2f} {r['snr_share_db']:7.2f} {c['alpha_sim']:9.3f} "
                  f"{r.get('alpha_model', float('nan')):6.3f} {c['v_unit_sim_mV']:7.1f} "
                  f"{r['v_cl_min']:6.2f}/{r['v_cl_max']:.2f}")
    if rows:
        _plot_shared(rows, HERE / "figures" / "acim_shared_transfer.png")
    return rows


def _plot_shared(rows: list[dict], path: Path) -> None:
    from eda.plot import figure, save

    # the gated, as-drawn full sweeps (files written since the select gating carry "ungated": False)
    main_rows = [r for r in rows if r.get("ungated") is False and not r["c_wire_fF"]
                 and all(c["snr_sim_db"] is not None for c in r["columns"])] or rows
    fig, axes = figure(1, len(main_rows), figsize=(4.6 * len(main_rows), 3.8))
    for a, r in zip(np.atleast_1d(axes), main_rows, strict=False):
        n, bits = r["n_caps"], r["adc_bits"]
        for c in r["columns"]:
            u, code = np.array(c["u"]), np.array(c["codes"])
            order = np.argsort(u)
            a.plot(u[order], code[order], drawstyle="steps-mid", marker="o", ms=3, lw=1,
                   label=f"column {c['column']}" + (" (converted first)" if c["column"] == 0 else ""))
        uu = np.linspace(-0.5, n + 0.5, 400)
        a.plot(uu, np.clip(np.floor((uu + 0.5) / (n // 2 ** bits)), 0, 2 ** bits - 1), "k:", lw=1, label="ideal")
        a.set_xlabel("MAC input k (+ sub-unit shift) [unit caps]")
        a.set_ylabel("SAR output code")
        wire = f"+{r['c_wire_fF']:.1f} fF wire/CL" if r["c_wire_fF"] else "as drawn"
        a.set_title(f"{r['adc_share']} cols → mux → {bits}-bit SAR, N={n}, {r['corner']} {r['temp_c']:g} °C, {wire}",
                    fontsize=8)
        a.legend(fontsize=7)
    save(fig, path, dpi=80)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--column", action="store_true", help="only the closed-loop column corner table")
    ap.add_argument("--extracted", action="store_true", help="only the LVS-extracted column vs the schematic; "
                    "with --shared: the group's LVS-extracted netlist")
    ap.add_argument("--jobs", type=int, default=2, help="processes for the corner table")
    ap.add_argument("--shared", nargs=3, metavar=("BITS", "S", "CORNER"),
                    help="one shared-ADC group transfer sweep (results/acim_shared/), e.g. --shared 3 2 tt")
    ap.add_argument("--n-delta", type=int, default=1, help="sub-unit input shifts per k for --shared (odd)")
    ap.add_argument("--wire", action="store_true", help="--shared with the model's compute-line wiring capacitor")
    ap.add_argument("--t-mac-extra", type=float, default=0.0, help="--shared: extra MAC-phase time before the "
                    "sample (s)")
    ap.add_argument("--temp", type=float, default=27.0, help="--shared: temperature (°C)")
    ap.add_argument("--ungated", action="store_true", help="--shared: the DAC switches before the select gating")
    ap.add_argument("--frames", type=int, nargs="+", help="--shared: only the frames with these k_0 (schedule)")
    ap.add_argument("--t-sclk", type=float, default=2e-9, help="--shared: SAR clock period (s)")
    ap.add_argument("--mux-fix", type=float, help="--shared: the prototyped circuit fix (acim_shared.mux_fixed): "
                    "a MIM cap of this many fF on MUX_0, its reset gate off")
    ap.add_argument("--inn-trim", type=float, default=0.0, help="--shared: comparator offset trim (V) subtracted from "
                    "INN (the kickback offset: acim_shared.KICK_OFFSET_V)")
    ap.add_argument("--shared-probe", nargs=3, type=int, metavar=("BITS", "K0", "K1"),
                    help="one gated group frame with internal nodes probed (settling time constants)")
    ap.add_argument("--shared-kick", choices=("drawn", "noreset", "fixed"),
                    help="one 5-bit frame (k = 7, 25) with the comparator input probed at every decision")
    ap.add_argument("--shared-extracted", action="store_true", help="the LVS-extracted 2-bit group vs the schematic")
    ap.add_argument("--shared-report", action="store_true", help="table + figure of results/acim_shared/")
    ap.add_argument("--column-codes", nargs=2, metavar=("BITS", "CORNER"),
                    help="a subset of MAC values (--ks) through one column with the settled timing")
    ap.add_argument("--ks", type=int, nargs="+", help="--column-codes: the MAC values")
    ap.add_argument("--comparator-probe", action="store_true", help="the StrongARM at +-0.5..3 mV after +200 mV, "
                    "8-bit clock, at --max-step (acim_probe.comparator_small_overdrive)")
    ap.add_argument("--column-probe", nargs=2, type=int, metavar=("BITS", "K"),
                    help="one column conversion probed decision by decision (CL and INN); with --max-step")
    ap.add_argument("--max-step", type=float, default=100e-12, help="--column-codes: ngspice max time step (s)")
    ap.add_argument("--tag", default="", help="--column-codes: suffix of the result file")
    ap.add_argument("--gmin", type=float, help="--column-codes: ngspice gmin (S)")
    ap.add_argument("--subset-report", action="store_true", help="table + figure of the 5-8-bit subset runs")
    args = ap.parse_args()
    if args.shared_kick:
        shared_kick(variant=args.shared_kick)
    elif args.subset_report:
        subset_report()
    elif args.comparator_probe:
        from eda.generators.acim_probe import comparator_small_overdrive

        out = comparator_small_overdrive(args.max_step)
        (HERE / "results" / "acim_column" / f"comparator_overdrive_ms{args.max_step:g}.json").write_text(
            json.dumps(out, indent=1))
        print(out)
    elif args.column_probe:
        column_probe(*args.column_probe, max_step=args.max_step)
    elif args.column_codes:
        column_codes(int(args.column_codes[0]), args.ks, args.column_codes[1], args.temp, args.max_step, tag=args.tag,
                     gmin=args.gmin)
    elif args.shared_probe:
        shared_probe(*args.shared_probe, t_sclk=args.t_sclk, t_mac_extra=args.t_mac_extra)
    elif args.shared or args.shared_extracted or args.shared_report:
        if args.shared:
            shared_group(int(args.shared[0]), int(args.shared[1]), args.shared[2], args.n_delta, args.wire,
                         args.t_mac_extra, args.temp, args.ungated, args.frames, args.t_sclk, args.inn_trim,
                         args.mux_fix, args.extracted)
        if args.shared_extracted:
            shared_extracted()
        shared_report()
    elif args.extracted:
        column_extracted()
    else:
        if not args.column:
            main()
        column_corners(jobs=args.jobs)
