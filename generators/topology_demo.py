"""Demo stage of analog topology generation (``make demo``): sample circuits with the shipped model, report
and gallery."""

from __future__ import annotations

from pathlib import Path


def demo(out: Path) -> dict:
    """Train-free generation with the shipped model: 64 circuits, report and gallery."""
    from eda.generators.topology_checkpoint import load_checkpoint
    from eda.generators.topology_report import GenerateParams
    from eda.generators.topology_report import generate as gen

    m, vocab, ck = load_checkpoint()
    dest = Path(out) / "topo"
    rep = gen(m, vocab, ck, GenerateParams(n=64, seed=0), dest)
    print(f"sampled {rep['n']} circuits: {rep['valid']:.0%} valid (ERC + ngspice), "
               f"{rep['unique']:.0%} unique, {rep['novel']:.0%} novel, largest {rep['max_devices']} devices, "
               f"{rep['circuits_per_s_sample_erc']:.1f} circuits/s -> {dest}")
    return {k: rep[k] for k in ("n", "valid", "unique", "novel", "max_devices", "circuits_per_s_sample_erc")}
