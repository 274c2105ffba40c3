"""Demo stage of the SPICE pipeline (``make demo``): parse the shipped netlists, round-trip them through the
writer, simulate them in ngspice."""

from __future__ import annotations

from pathlib import Path


def demo(out: Path) -> dict:
    """Parse the shipped netlists, round-trip them through the writer, simulate them in ngspice."""
    import numpy as np

    from eda.export.to_spice import write_spice
    from eda.paths import PATHS
    from eda.read.from_spice import read_spice
    from eda.sim.ngspice import operating_point, transient

    out = Path(out) / "spice"
    out.mkdir(parents=True, exist_ok=True)
    res: dict = {}
    for f in sorted(PATHS.netlists.glob("*.sp")):
        c = read_spice(f)
        back = read_spice(write_spice(c, out / f.name))
        assert back.devices == c.devices, f"round trip changed {f.name}"
        res[f.name] = {"devices": len(c.devices), "nets": len(c.nets)}
        print(f"{f.name}: {len(c.devices)} devices, {len(c.nets)} nets, round trip identical")
    oa = read_spice(PATHS.netlists / "two_stage_opamp.sp")
    v = operating_point(oa)
    res["opamp_follower_vout"] = round(v["out"], 4)
    print(f"two-stage op-amp follower: VIN=0.9 V → VOUT={v['out']:.4f} V (ngspice .op)")
    rc = read_spice(PATHS.netlists / "rc_ladder.sp")
    t, w = transient(rc, 10e-9, 4e-6)
    from eda.plot import plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for n in ("in", "n1", "n2", "out"):
        ax.plot(t * 1e6, w[n], label=n)
    ax.set_xlabel("time (µs)")
    ax.set_ylabel("V")
    ax.set_title("RC ladder, ngspice transient")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "rc_ladder.png", dpi=100)
    plt.close(fig)
    res["rc_ladder_vout_max"] = round(float(np.max(w["out"])), 4)
    print(f"RC ladder transient: {len(t)} points → {out / 'rc_ladder.png'}")
    return res
