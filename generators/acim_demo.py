"""Demo stage of ACIM design-space exploration (``make demo``): a small exploration with its Pareto plot, a
preference pick and the ngspice check of the column model."""

from __future__ import annotations

from pathlib import Path


def design_line(title: str, d: dict) -> str:
    """One line describing a design of the front (parameters | metrics), as the CLI prints it."""
    p, m = d["params"], d["metrics"]
    return (f"{title:<22} #{d['index']:<4} L={p['local_array']:<3} adc={p['adc_bits']}b share={p['adc_share']} "
            f"vdd={p['vdd']:.2f}V f={p['f_clk_hz'] / 1e6:.0f}MHz | SNR {m['snr_db']:6.1f} dB  "
            f"{m['tops']:.4g} TOPS  {m['energy_per_op_fJ']:.1f} fJ/op  {m['area_mm2']:.4f} mm²  "
            f"{m['tops_per_w']:.1f} TOPS/W")


def demo(out: Path) -> dict:
    """Small exploration (128x64, 4b x 4b) with its Pareto plot, a preference pick, and the
    ngspice check of the column model on one configuration."""
    from eda.generators import acim_dse as dse
    from eda.generators.acim_model import load_cell_sizes
    from eda.generators.acim_sim import CHECK_CONFIGS, check_column

    out = Path(out) / "acim_dse"
    sizes = load_cell_sizes(None)
    spec = dse.ExploreSpec(rows=128, cols=64, pop=60, gens=40, seed=1)
    res = dse.explore(spec, sizes, progress=False)
    chosen = dse.pick(res.designs, ["snr_db>=20"], "min:area_mm2")
    paths = dse.write_pareto(res, out, chosen)
    print(f"128x64 exploration: {res.n_evals} designs in {res.seconds:.2f} s, {len(res.designs)} Pareto designs")
    for k, d in dse.best_per_objective(res.designs).items():
        print(design_line(f"best {k}", d))
    print(design_line("picked (SNR>=20, min area)", chosen))
    name = "mismatch N=16 b=4"
    chk = check_column(CHECK_CONFIGS[name], sizes, out=out)
    print(f"ngspice column check ({name}): ideal MAC transfer max error {chk['transfer_max_err_lsb']:.4f} "
               f"unit, SNR sim {chk['snr_sim_db']:.2f} dB vs model {chk['snr_model_db']:.2f} dB "
               f"({chk['n_samples']} conversions; netlist {chk['netlist']})")
    print(f"wrote {paths['png']}")
    return {"n_evals": res.n_evals, "n_pareto": len(res.designs), "explore_seconds": round(res.seconds, 2),
            "picked": chosen["params"], "picked_snr_db": round(chosen["metrics"]["snr_db"], 2),
            "picked_area_mm2": round(chosen["metrics"]["area_mm2"], 5),
            "sim_check_snr_db": [round(chk["snr_sim_db"], 2), round(chk["snr_model_db"], 2)]}
