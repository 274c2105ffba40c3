"""Structural flags of a sized sample for ``bench_sizing.py`` and its sibling benches (issue #17): the reasons a
topology cannot be biased as an op-amp whatever its sizes, counted per run against the samples that met the spec."""

from __future__ import annotations


def structure_flags(circuit) -> dict[str, bool]:
    """Structural reasons a topology cannot be biased as an op-amp (independent of sizing): one input only, ports the
    amplifier testbench does not know (left floating), FET bodies on signal nets (a forward-biased junction in sky130's
    bulk), channels shorted drain to source, and inner nets that only reach gates or capacitors (no DC path: undefined
    voltage)."""
    from eda.generators.sizing.roles import find_roles, mos_polarity
    from eda.generators.sizing.testbench import _normalised

    c = _normalised(circuit)
    r = find_roles(c)
    known = {r.vdd, r.vss, *r.inputs, *r.outputs, *r.vbias, *r.ibias}
    rails = {r.vdd, r.vss}
    fets = [d for d in c.devices if mos_polarity(d)]
    dc: dict[str, int] = {}
    for d in c.devices:
        pins = [d.nodes[0], d.nodes[2]] if mos_polarity(d) else list(d.nodes[:2]) if d.kind in "RDL" else \
            [d.nodes[0], d.nodes[2]] if d.kind == "Q" else []
        for n in pins:
            dc[n] = dc.get(n, 0) + 1
    inner = [n for n in c.nets if n not in known and not n.upper().startswith(("VDD", "VSS", "GND"))]
    gates = {d.nodes[1] for d in c.devices if mos_polarity(d) or d.kind == "Q"}
    channel = {n for d in c.devices if mos_polarity(d) or d.kind == "Q" for n in (d.nodes[0], d.nodes[2])}
    live = [d for d in c.devices if (mos_polarity(d) or d.kind == "Q") and d.nodes[0] != d.nodes[2]]
    live_gates = {d.nodes[1] for d in live}
    live_channel = {n for d in live for n in (d.nodes[0], d.nodes[2])}
    passive = {n for d in c.devices if d.kind in "RL" for n in d.nodes[:2]}
    return {"one_input": len(r.inputs) < 2,
            "unknown_ports": any(n not in known for n in c.nets if n.upper().startswith(("VCLK", "VCONT", "VLATCH",
                                                                                       "VSEL", "VCTRL"))),
            "body_on_signal_net": any(len(d.nodes) > 3 and d.nodes[3] not in rails for d in fets),
            "shorted_channel": any(d.nodes[0] == d.nodes[2] for d in fets),
            "net_without_dc_path": any(dc.get(n, 0) == 0 for n in inner),
            # ports on the wrong terminals: an input that drives no gate/base, an output that no
            # transistor's drain/source/collector/emitter reaches (only R/C)
            "input_not_on_a_gate": any(n not in gates for n in r.inputs),
            "output_not_on_a_transistor": any(n not in channel for n in r.outputs),
            # ... or on terminals that do nothing: an input that gates only FETs whose drain is their
            # source (MOS capacitors: no transconductance), an output on such channels only
            "input_gates_only_shorted_fets": any(n in gates and n not in live_gates for n in r.inputs),
            "output_only_on_shorted_fets": any(n in channel and n not in live_channel for n in r.outputs),
            # inputs that are not high-impedance (a channel or an R/L on them), an output that is the
            # source/emitter of a device gated by an input (a follower of the input, gain ≤ 1)
            "input_on_a_channel_or_r": any(n in channel or n in passive for n in r.inputs),
            "output_follows_an_input": any(d.nodes[2] in r.outputs and d.nodes[1] in r.inputs for d in live)}


def structure_counts(rows: list[dict]) -> dict:
    """Per structural flag: how many samples have it, and how many of those meet the spec."""
    done = [r for r in rows if "structure" in r]
    keys = done[0]["structure"] if done else {}
    out = {k: {"samples": sum(r["structure"][k] for r in done),
               "met": sum(r["structure"][k] and r["met"] for r in done)} for k in keys}
    clean = [r for r in done if not any(r["structure"].values())]
    out["none_of_these"] = {"samples": len(clean), "met": sum(r["met"] for r in clean)}
    return out
