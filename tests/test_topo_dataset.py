"""Reader of the public topology-dataset layout (N/N.cir + PortN.txt) and subcircuit flattening."""

from __future__ import annotations

import pytest

from eda.errors import InputError
from eda.graphs.pin_graph import circuit_to_graph
from eda.read.topology_dataset import parse_topology, read_topology_dataset

CIR1 = """M26 (net62 VB5 net53 VDD) pmos4
R5 (net53 VB4 VDD VDD) pmos4
M0 (net62 VIN1 VSS VSS) nmos4
C3 (net53 VSS) resistor
M0 (VOUT1 net62 VSS VSS) nmos4
Q9 (VOUT1 net53) capacitor
"""


def _write(root, n, cir, ports=None, extra=()):
    d = root / str(n)
    d.mkdir()
    (d / f"{n}.cir").write_text(cir)
    if ports is not None:
        (d / f"Port{n}.txt").write_text(ports)
    for name, data in extra:
        (d / name).write_bytes(data)


def test_reads_layout_types_from_model_tokens(tmp_path):
    _write(tmp_path, 1, CIR1, "VDD VSS VIN1 VOUT1 VB4 VB5\n", [("Book1.png", b"\x89PNG\x00\x01"),
                                                              ("1_full.cir", b"subckt X a b\nends X\n")])
    _write(tmp_path, 10, "M0 (VOUT1 VIN1 VSS VSS) nmos4\nM1 (VOUT1 VOUT1 VDD VDD) pmos4\n")  # no PortN.txt
    (tmp_path / "README.md").write_text("not a circuit")
    (tmp_path / "misc").mkdir()
    tops = list(read_topology_dataset(tmp_path))
    assert [t.name for t in tops] == ["1", "10"]
    c = tops[0].circuit
    # the model token decides: R5 is a PMOS, C3 a resistor, Q9 a capacitor; repeated M0 kept twice
    assert [d.kind for d in c.devices] == ["M", "M", "M", "R", "M", "C"]
    assert [d.name for d in c.devices].count("M0") == 2
    assert tops[0].ports == ("VDD", "VSS", "VIN1", "VOUT1", "VB4", "VB5")
    g = circuit_to_graph(c, tops[0].ports)
    assert sum(1 for _, k in g.nodes(data="kind") if k == "device") == 6
    assert {"PM1", "PM2", "R1", "C1"} <= set(g)
    assert set(tops[1].ports) == {"VOUT1", "VIN1", "VSS", "VDD"}  # inferred from net names


def test_bad_netlist_raise_or_skip(tmp_path):
    _write(tmp_path, 1, CIR1, "VDD VSS VIN1 VOUT1 VB4 VB5")
    _write(tmp_path, 2, "M0 (a b c d nmos4\n")
    with pytest.raises(InputError, match=r"2\.cir:1"):
        list(read_topology_dataset(tmp_path))
    errors = []
    tops = list(read_topology_dataset(tmp_path, on_error="skip", errors=errors))
    assert [t.name for t in tops] == ["1"] and len(errors) == 1 and "2.cir" in str(errors[0][0])


def test_not_a_dataset(tmp_path):
    with pytest.raises(InputError, match="no N/N.cir"):
        list(read_topology_dataset(tmp_path))
    with pytest.raises(InputError, match="not a folder"):
        list(read_topology_dataset(tmp_path / "nope"))


def test_many_circuits_read_without_failure(tmp_path):
    """A folder of hundreds of composed circuits in the public layout reads back completely."""
    from eda.generators.topology_compose import compose

    n = 300
    for i in range(1, n + 1):
        t = compose(i)
        body = "\n".join(f"{d.name} ({' '.join(d.nodes)}) "
                         f"{ {'R': 'resistor', 'C': 'capacitor', 'L': 'inductor'}.get(d.kind, d.model)}"
                         for d in t.circuit.devices)
        _write(tmp_path, i, body + "\n", " ".join(t.ports))
    tops = list(read_topology_dataset(tmp_path))
    assert len(tops) == n
    assert all(len(t.circuit.devices) == len(compose(int(t.name)).circuit.devices) for t in tops[:20])


def test_flatten_subckt():
    text = """* with subcircuits
*.ports VDD VSS VIN1 VOUT1
.subckt INV a y vdd vss
M1 (y a vdd vdd) pmos4
M2 (y a vss vss) nmos4
.ends INV
X1 VIN1 mid VDD VSS INV
X2 mid VOUT1 VDD VSS INV
"""
    t = parse_topology(text)
    assert len(t.circuit.devices) == 4
    assert {n for d in t.circuit.devices for n in d.nodes} == {"VIN1", "mid", "VOUT1", "VDD", "VSS"}
    with pytest.raises(InputError, match="undefined subcircuit"):
        parse_topology(text.replace("X2 mid VOUT1 VDD VSS INV", "X2 mid VOUT1 VDD VSS BUF"))
