"""Op-amp sub-type by structure (`generators.topology_subtype`) and `eda topo train --opamp-subtypes`."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import shared_path

from eda.generators.topology_subtype import SUBTYPES, opamp_subtype, read_as_asked
from eda.generators.topology_train import load_training_topologies
from eda.read.topology_dataset import (
    category_type,
    load_library,
    parse_topology,
    read_categories,
    read_netlist_topology,
)

OTA = """* 5T OTA
M1 (n1 VIN1 tail VSS) nmos4
M2 (VOUT1 VIN2 tail VSS) nmos4
M3 (n1 n1 VDD VDD) pmos4
M4 (VOUT1 n1 VDD VDD) pmos4
M5 (tail VB1 VSS VSS) nmos4
"""
TELESCOPIC = """* telescopic
M1 (n1 VIN1 tail VSS) nmos4
M2 (n2 VIN2 tail VSS) nmos4
M6 (x1 VB2 n1 VSS) nmos4
M7 (VOUT1 VB2 n2 VSS) nmos4
M3 (x1 x1 VDD VDD) pmos4
M4 (VOUT1 x1 VDD VDD) pmos4
M5 (tail VB1 VSS VSS) nmos4
"""
FOLDED = """* folded cascode
M1 (n1 VIN1 tail VDD) pmos4
M2 (n2 VIN2 tail VDD) pmos4
M5 (tail VB1 VDD VDD) pmos4
M8 (n1 VB3 VSS VSS) nmos4
M9 (n2 VB3 VSS VSS) nmos4
M6 (x1 VB2 n1 VSS) nmos4
M7 (VOUT1 VB2 n2 VSS) nmos4
M3 (x1 x1 VDD VDD) pmos4
M4 (VOUT1 x1 VDD VDD) pmos4
"""
TWO_STAGE = (OTA.replace("VOUT1", "n2") + "M6 (VOUT1 n2 VDD VDD) pmos4\nM7 (VOUT1 VB1 VSS VSS) nmos4\n"
             "C1 (n2 VOUT1) capacitor\n")
# first-stage nodes both diode-connected, mirrored to the output: one stage (the symmetric OTA)
SYMMETRIC = """* symmetric OTA
M1 (n1 VIN1 tail VSS) nmos4
M2 (n2 VIN2 tail VSS) nmos4
M3 (n1 n1 VDD VDD) pmos4
M4 (n2 n2 VDD VDD) pmos4
M6 (VOUT1 n2 VDD VDD) pmos4
M7 (x1 n1 VDD VDD) pmos4
M8 (x1 x1 VSS VSS) nmos4
M9 (VOUT1 x1 VSS VSS) nmos4
M5 (tail VB1 VSS VSS) nmos4
"""
SINGLE_INPUT = """* common source
M1 (VOUT1 VIN1 VSS VSS) nmos4
M2 (VOUT1 VB1 VDD VDD) pmos4
"""


def sub(text: str) -> str | None:
    return opamp_subtype(parse_topology(text, "t").circuit)


def test_each_structure_gets_its_sub_type():
    assert sub(OTA) == "opamp1"
    assert sub(TELESCOPIC) == "telescopic"
    assert sub(FOLDED) == "folded_cascode"
    assert sub(TWO_STAGE) == "opamp2"
    assert sub(SYMMETRIC) == "opamp1"
    assert sub(SINGLE_INPUT) is None


def test_mutations_change_the_reading():
    # the telescopic's cascodes removed (pair drains wired to the loads): a plain one-stage OTA
    plain = TELESCOPIC.replace("M6 (x1 VB2 n1 VSS) nmos4\n", "").replace("M7 (VOUT1 VB2 n2 VSS) nmos4\n", "")
    assert sub(plain.replace("(n1 VIN1", "(x1 VIN1").replace("(n2 VIN2", "(VOUT1 VIN2")) == "opamp1"
    # a second stage behind the telescopic: two stages, whatever the first
    assert sub(TELESCOPIC.replace("VOUT1", "y") + "M10 (VOUT1 y VDD VDD) pmos4\nM11 (VOUT1 VB1 VSS VSS) nmos4\n") \
        == "opamp2"
    # a second stage gated by a diode-connected node only mirrors it: the symmetric OTA with one load made a
    # current source is a gain stage again
    assert sub(SYMMETRIC.replace("M4 (n2 n2 VDD VDD)", "M4 (n2 VB2 VDD VDD)")) == "opamp2"
    # a diode-connected device on a pair drain makes a bias line, not a cascode
    assert sub(OTA + "M9 (VB3 VB3 n1 VSS) nmos4\n") == "opamp1"
    # the pair's two gates on one input: no differential pair
    assert sub(OTA.replace("VIN2", "VIN1")) is None


def test_the_library_op_amps_read_as_labelled():
    tops = [t for t in load_library() if t.ctype in SUBTYPES]
    assert Counter(t.ctype for t in tops) == {"opamp1": 16, "opamp2": 12, "folded_cascode": 6, "telescopic": 6}
    wrong = [(t.name, t.ctype, opamp_subtype(t.circuit)) for t in tops if opamp_subtype(t.circuit) != t.ctype]
    assert not wrong


def test_loader_relabels_plain_opamps_only(tmp_path):
    (tmp_path / "data_categorization.md").write_text("## 1. Book\n\n- 1-3: operational amplifiers\n"
                                                     "- 4: current mirror and bias\n")
    body = {1: TELESCOPIC, 2: TWO_STAGE, 3: SINGLE_INPUT.replace("VB1", "VB1"), 4: OTA}
    for n, text in body.items():
        (tmp_path / str(n)).mkdir()
        (tmp_path / str(n) / f"{n}.cir").write_text("\n".join(text.splitlines()[1:]) + "\n")
        ports = sorted({w for ln in text.splitlines()[1:] for w in ln.replace("(", " ").replace(")", " ").split()
                        if w[:2] in ("VD", "VS", "VI", "VO", "VB")})
        (tmp_path / str(n) / f"Port{n}.txt").write_text(" ".join(ports))
    plain = {t.name: t.ctype for t in load_training_topologies(tmp_path, library=False)}
    assert plain == {"1": "opamp", "2": "opamp", "3": "opamp", "4": "current_mirror"}
    got = {t.name: (t.ctype, t.meta.get("label")) for t in load_training_topologies(tmp_path, library=False,
                                                                                     opamp_subtypes=True)}
    # the single-input stage has no pair and keeps its label; the mirror chapter is not an op-amp chapter
    assert got == {"1": ("telescopic", "opamp"), "2": ("opamp2", "opamp"), "3": ("opamp", None),
                   "4": ("current_mirror", None)}


def test_public_op_amps_spread_over_the_sub_types(shared):
    root = shared_path(shared, "analoggenie/Dataset")
    ids = [n for n, chapter in read_categories(root / "data_categorization.md").items()
           if category_type(chapter) == "opamp" and (root / str(n) / f"{n}.cir").is_file()]
    tops = [t for t in (read_netlist_topology(root / str(n) / f"{n}.cir") for n in ids) if t.ctype == "opamp"]
    by_name = {t.name: opamp_subtype(t.circuit) for t in tops}
    # read by hand: 281 a fully differential telescopic, 309 a folded cascode with a CMFB pair, 299 a telescopic
    # first stage with common-source outputs, 282 a five-transistor OTA, 284 a single-input stage
    assert [by_name[n] for n in ("281", "309", "299", "282", "284")] == \
        ["telescopic", "folded_cascode", "opamp2", "opamp1", None]
    count = Counter(by_name.values())
    assert len(tops) == 515 and all(count[s] >= 8 for s in SUBTYPES), count


@pytest.mark.parametrize("text", [OTA, TELESCOPIC])
def test_ground_spelled_zero_reads_as_vss(text):
    assert sub(text.replace("VSS", "0")) == sub(text)


def test_bench_counts_samples_against_the_asked_type():
    from conftest import bench_module

    agreement = bench_module("bench_subtype").agreement
    ota, two, single = (parse_topology(t, "t").circuit for t in (OTA, TWO_STAGE, SINGLE_INPUT))
    got = agreement([("opamp2", ota), ("opamp2", two), ("opamp2", ota), ("telescopic", single)])
    assert got == {"opamp2": {"n": 3, "structure_as_asked": 1 / 3, "structure": {"opamp1": 2, "opamp2": 1}},
                   "telescopic": {"n": 1, "structure_as_asked": 0.0, "structure": {"none": 1}}}


def test_samples_read_against_the_asked_sub_type():
    circuits = [parse_topology(t, "t").circuit for t in (OTA, TWO_STAGE, TWO_STAGE, SINGLE_INPUT)]
    assert read_as_asked("opamp2", circuits) == {"structure": {"opamp2": 2, "opamp1": 1, "none": 1},
                                                 "structure_as_asked": 0.5}
    assert read_as_asked("telescopic", []) == {"structure": {}, "structure_as_asked": None}
    assert read_as_asked("ldo", circuits) == {} and read_as_asked(None, circuits) == {}  # not an op-amp sub-type
