"""Demo stage of the PDN IR-drop pipeline (``make demo``): generate a small grid, solve it statically and
dynamically, cross-check ngspice, write maps and pictures."""

from __future__ import annotations

from pathlib import Path


def demo(out: Path) -> dict:
    """Generate a small grid, solve it statically and dynamically, cross-check ngspice, write maps/pictures."""
    import numpy as np

    from eda.pdn.grid import GridParams, make_grid
    from eda.pdn.ngspice import have_ngspice, ngspice_op
    from eda.pdn.parse import read_pdn
    from eda.pdn.pipeline import maps_to_dir, solve_to_dir
    from eda.pdn.plot import plot_compare
    from eda.pdn.write import write_pdn

    out = Path(out) / "irdrop"
    out.mkdir(parents=True, exist_ok=True)
    params = GridParams(width_um=120, height_um=120, pad_pitch_um=60, load="hotspot", total_current=0.08,
                        decap=2e-13, pad_inductance=1e-11, pulse=(2e-10, 5e-11, 5e-11, 3e-10, 1e-9),
                        tran=(5e-12, 1e-9), seed=7)
    deck = write_pdn(make_grid(params), out / "grid.sp", analysis="tran")
    print(f"generated {deck} ({read_pdn(deck)})")
    st = solve_to_dir(deck, out / "static", mode="static", progress=False)
    print(f"static: worst IR drop {st['worst_static_drop_V'] * 1e3:.3f} mV at {st['worst_static_node']} "
               f"({st['unknowns']} unknowns, {st['seconds']['static_solve']:.3f} s)")
    dy = solve_to_dir(deck, out / "dynamic", mode="dynamic", progress=False)
    print(f"dynamic: worst IR drop {dy['worst_dynamic_drop_V'] * 1e3:.3f} mV at t="
               f"{dy['worst_dynamic_time_s'] * 1e9:.3f} ns ({dy['steps']} steps, one factorisation, "
               f"{dy['seconds']['per_step'] * 1e3:.2f} ms/step)")
    maps_to_dir(deck, out / "maps")
    res = {"nodes": st["nodes"], "worst_static_mV": round(st["worst_static_drop_V"] * 1e3, 4),
           "worst_dynamic_mV": round(dy["worst_dynamic_drop_V"] * 1e3, 4)}
    from eda.pdn.maps import read_map_csv

    plot_compare(read_map_csv(out / "dynamic" / "ir_drop_map.csv"), read_map_csv(out / "static" / "ir_drop_map.csv"),
                 out / "static_vs_dynamic.png", title="dynamic worst (golden) vs static (pred):")
    if have_ngspice():
        from eda.pdn.solve import solve_static

        pdn = read_pdn(deck)
        ref, secs = ngspice_op(pdn, timeout=120)
        err = float(np.nanmax(np.abs(solve_static(pdn).voltage - ref)))
        res["ngspice_op_max_diff_V"] = err
        print(f"ngspice .op agrees to {err:.2e} V ({secs:.2f} s in ngspice)")
    print(f"wrote {out}/ (static/, dynamic/, maps/, static_vs_dynamic.png)")
    return res
