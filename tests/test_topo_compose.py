"""Composer of topology families and the per-sample dataset function."""

from __future__ import annotations

import json

import pytest

from eda.errors import InputError
from eda.generators.topology_check import GraphSet, check_circuit
from eda.generators.topology_compose import (
    ComposeParams,
    compose,
    compose_family,
    make_topology_sample,
    verify_topology_sample,
)
from eda.graphs.pin_graph import circuit_to_graph
from eda.read.topology_dataset import read_topology


def test_compose_deterministic():
    a, b = compose(42), compose(42)
    assert [d.nodes for d in a.circuit.devices] == [d.nodes for d in b.circuit.devices]


def test_family_distinct_and_valid():
    fam = compose_family(40, seed=5)
    seen = GraphSet()
    assert all(seen.add(circuit_to_graph(t.circuit)) for t in fam)  # pairwise non-isomorphic
    for t in fam[::8]:
        assert check_circuit(t.circuit).valid
    assert len({t.ctype for t in compose_family(60, seed=1, params=ComposeParams(simulate=False))}) >= 5


def test_params_validation():
    with pytest.raises(InputError, match="families"):
        ComposeParams(families=("nope",))
    with pytest.raises(InputError, match="max_devices"):
        ComposeParams(max_devices=1)


def test_make_sample_and_verify(tmp_path):
    info = make_topology_sample(7, tmp_path)
    assert info["devices"] >= 2
    rec = json.loads((tmp_path / "sample.json").read_text())
    assert rec["valid"] and rec["deck"] == "deck.sp"
    t = read_topology(tmp_path / "topology.cir")
    assert t.ctype == info["type"] and len(t.circuit.devices) == info["devices"]
    assert verify_topology_sample(tmp_path)["ok"]
    # a corrupted sample (one terminal moved to a fresh net) fails verification with the reason
    lines = (tmp_path / "topology.cir").read_text().splitlines()
    k = next(i for i, ln in enumerate(lines) if not ln.startswith("*"))
    name, rest = lines[k].split(" (", 1)
    nodes, model = rest.split(") ")
    lines[k] = f"{name} ({' '.join(['floating9'] + nodes.split()[1:])}) {model}"
    (tmp_path / "topology.cir").write_text("\n".join(lines) + "\n")
    res = verify_topology_sample(tmp_path)
    assert not res["ok"] and any("floating9 has only 1 pin" in r for r in res["reasons"])


def test_build_dataset_with_shared_runner(tmp_path):
    from eda.dataset.report import verify_dataset
    from eda.generators.topology_compose import build_topology_dataset

    rep = build_topology_dataset(tmp_path / "ds", 3, seed=1, progress=False)
    assert rep.built == 3 and rep.failed == 0
    assert verify_dataset(tmp_path / "ds", n=3)["ok"]


def test_device_level_gallery(tmp_path):
    """Device drawings: one node per device, ports named, nets as wires; bad calls raise."""
    from eda.generators.topology_draw import device_graph, draw_gallery
    from eda.paths import PATHS

    t = read_topology(sorted(PATHS.topologies.glob("*/*.cir"))[0])
    g = device_graph(t.circuit)
    kinds = [k for _, k in g.nodes(data="kind")]
    assert kinds.count("device") == len(t.circuit.devices)
    assert {lab for _, lab in g.nodes(data="label") if lab in t.ports} == set(t.ports) & {
        n for d in t.circuit.devices for n in d.nodes}
    png = draw_gallery([t.circuit, t.circuit], tmp_path / "g.png", ["a", "b"])
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(InputError, match="no circuits"):
        draw_gallery([], tmp_path / "x.png")
    with pytest.raises(InputError, match="titles"):
        draw_gallery([t.circuit], tmp_path / "x.png", ["a", "b"])
