"""Issue #17: ``benchmarks/screen_opamp_check.py`` (a checkpoint's op-amp-type samples screened by the function check)
and ``train_opamp_self.py --checked`` (a self-training round on the samples that passed it)."""

from __future__ import annotations

import json

import pytest
from conftest import bench_module

OTA = """* a five-transistor OTA (in the specialist's training set)
*.type opamp1
*.ports VDD VSS VIN1 VIN2 VOUT1 VB1
MN1 (X VIN1 T VSS) nmos4
MN2 (VOUT1 VIN2 T VSS) nmos4
MP3 (X X VDD VDD) pmos4
MP4 (VOUT1 X VDD VDD) pmos4
MN5 (T VB1 VSS VSS) nmos4
"""
#: a drawn sample (rule-clean, amplifier ports) that no training circuit repeats
DRAWN = """* generated opamp1
*.type opamp1
*.ports VDD VSS VIN1 VIN2 VOUT1 VOUT2 VB1
MN1 (VOUT2 net1 VSS VSS) nmos4
MP1 (VOUT2 VIN2 net2 VDD) pmos4
MP2 (VOUT1 VIN1 net2 VDD) pmos4
MP3 (net2 VB1 VDD VDD) pmos4
R1 (VSS VOUT2) resistor
R2 (VSS net1) resistor
R3 (VOUT2 VOUT1) resistor
C1 (VOUT2 VOUT1) capacitor
"""


def test_draws_are_read_per_type_and_bad_ones_refused():
    parse = bench_module("screen_opamp_check").parse_draws
    assert parse("opamp1=24000, telescopic=100") == {"opamp1": 24000, "telescopic": 100}
    for bad in ("opamp3=10", "opamp1=", "opamp1=-5", "opamp1=ten", ""):
        with pytest.raises(SystemExit):
            parse(bad)


def test_judging_seeds_are_never_screened():
    seeds = bench_module("screen_opamp_check").JUDGING_SEEDS
    assert all(s in seeds for s in (123, 321, 999, 1000, 1001)) and 5000 not in seeds and 6100 not in seeds


def test_checked_positives_are_the_new_samples_that_passed(tmp_path, monkeypatch):
    """Only rows that passed the check become positives, each read back from its netlist with its type; a sample
    identical to a training circuit of the checkpoint that drew it is left out (it would teach nothing new)."""
    from eda.generators.topology_checkpoint import checkpoint_for
    from eda.graphs.canon import canonical_form
    from eda.graphs.pin_graph import circuit_to_graph
    from eda.read.topology_dataset import parse_topology

    monkeypatch.syspath_prepend(str(bench_module("bench_sizing").ROOT))
    ckpt = checkpoint_for("opamp1")
    rows = [{"name": "gen0000_opamp1", "type": "opamp1", "passed": True, "netlist": OTA},
            {"name": "gen0001_telescopic", "type": "telescopic", "passed": True, "netlist": DRAWN},
            {"name": "gen0002_opamp1", "type": "opamp1", "passed": False}]
    path = tmp_path / "checked.json"
    path.write_text(json.dumps({"k": {"model": {"file": str(ckpt)}, "rows": rows}}))
    got = bench_module("train_opamp_self").checked_positives("k", path)
    assert [(n, t) for n, t, _ in got] == [("k_gen0001_telescopic", "telescopic")]
    want = parse_topology(DRAWN, "x").circuit
    assert canonical_form(circuit_to_graph(got[0][2])) == canonical_form(circuit_to_graph(want))
    # the same sample failing the check: no positive at all
    rows[1]["passed"] = False
    path.write_text(json.dumps({"k": {"model": {"file": str(ckpt)}, "rows": rows}}))
    assert bench_module("train_opamp_self").checked_positives("k", path) == []


def test_a_drawn_sample_is_kept_only_as_a_rule_clean_amplifier():
    """What the bench and the screen keep of a decoded sample: the circuit when it has amplifier ports and passes the
    validity rules; None without an output port or with a floating gate."""
    from types import SimpleNamespace

    from eda.graphs.pin_graph import circuit_to_graph
    from eda.read.topology_dataset import parse_topology

    keep = bench_module("bench_sizing").amplifier_sample

    def drawn(text: str):
        return SimpleNamespace(graph=circuit_to_graph(parse_topology(text, "x").circuit))

    c = keep(drawn(OTA), "opamp1")
    assert c is not None and c.title == "generated opamp1" and len(c.devices) == 5
    assert keep(drawn(OTA.replace("VOUT1", "Y").replace(" VOUT1", "")), "opamp1") is None  # no output port
    assert keep(drawn(OTA.replace("MN5 (T VB1 VSS VSS)", "MN5 (T fl VSS VSS)")), "opamp1") is None  # floating gate


def test_passed_samples_are_exported_for_the_sizing_bench(tmp_path):
    """``--export-passed``: the run's passed samples, as (name, circuit) pairs, the form ``--samples-file`` reads."""
    import pickle

    rows = [{"name": "gen0000_opamp1", "type": "opamp1", "passed": True, "netlist": OTA},
            {"name": "gen0001_opamp1", "type": "opamp1", "passed": False}]
    results = tmp_path / "checked.json"
    results.write_text(json.dumps({"k": {"rows": rows}}))
    out = tmp_path / "passed.pkl"
    assert bench_module("screen_opamp_check").export_passed("k", out, results) == 1
    (name, c), = pickle.loads(out.read_bytes())
    assert name == "gen0000_opamp1" and sorted(d.name for d in c.devices) == ["MN1", "MN2", "MN5", "MP3", "MP4"]
