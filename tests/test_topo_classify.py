"""Circuit-type classifier of the type-conditioning benchmark: motif features, grouped
cross-validation, save/load and the shipped classifier."""

from __future__ import annotations

import numpy as np
import pytest

from eda.errors import InputError
from eda.generators.topology_classify import LinearTypeClassifier, features, near_duplicate_groups
from eda.generators.topology_motifs import motif_features, motif_means
from eda.graphs.pin_graph import circuit_to_graph
from eda.paths import PATHS
from eda.read.topology_dataset import load_library, parse_topology

OTA = """* five-transistor OTA
*.ports VDD VSS VIN1 VIN2 VB1 VOUT1
M1 (n1 VIN1 tail VSS) nmos4
M2 (VOUT1 VIN2 tail VSS) nmos4
M3 (n1 n1 VDD VDD) pmos4
M4 (VOUT1 n1 VDD VDD) pmos4
M5 (tail VB1 VSS VSS) nmos4
C1 (VOUT1 VSS) capacitor
"""


def _graph(text: str):
    return circuit_to_graph(parse_topology(text).circuit)


def test_motifs_of_a_five_transistor_ota():
    f = motif_features(_graph(OTA))
    assert f["NM_diffpair"] == 1 and f["diffpair_in"] == 1
    assert f["PM_mirror"] == 1 and f["PM_diode"] == 1
    assert f["dev_NM"] == 3 and f["dev_PM"] == 2 and f["dev_C"] == 1
    assert f["NM_cascode"] == 2  # M1/M2 on the tail's drain
    assert f["C_rails1"] == 1 and f["C_out"] == 1
    # mutated: the pair's sources apart, the mirror's diode removed -> both motifs vanish
    broken = OTA.replace("M2 (VOUT1 VIN2 tail VSS)", "M2 (VOUT1 VIN2 VSS VSS)").replace(
        "M3 (n1 n1 VDD VDD)", "M3 (n1 VB1 VDD VDD)")
    g = motif_features(_graph(broken))
    assert g.get("NM_diffpair", 0) == 0 and g.get("PM_mirror", 0) == 0
    means = motif_means([_graph(OTA), _graph(broken)])
    assert means["PM_mirror"] == 0.5 and means["dev_NM"] == 3 and means["dev_L"] == 0


def test_motifs_of_an_lc_tank_and_cross_coupled_pair():
    vco = """* cross-coupled LC VCO
*.ports VDD VSS VOUT1 VOUT2 VB1
M1 (VOUT1 VOUT2 tail VSS) nmos4
M2 (VOUT2 VOUT1 tail VSS) nmos4
M3 (tail VB1 VSS VSS) nmos4
L1 (VDD VOUT1) inductor
L2 (VDD VOUT2) inductor
L3 (VOUT1 VOUT2) inductor
C1 (VOUT1 VOUT2) capacitor
"""
    f = motif_features(_graph(vco))
    assert f["NM_crosscoupled"] == 1 and f["LC_parallel"] == 1 and f["L_rail"] == 2


def test_near_duplicates_share_a_group():
    a, b = _graph(OTA), _graph(OTA.replace("M5 (tail VB1 VSS VSS)", "M5 (tail VB1 VSS VSS)"))
    c = _graph(OTA.replace("C1 (VOUT1 VSS) capacitor", "L1 (VOUT1 VDD) inductor\nR1 (n1 VSS) resistor"))
    lib = [circuit_to_graph(t.circuit) for t in load_library()[:20]]
    groups = near_duplicate_groups([w for w, _ in features([a, b, c] + lib)])
    assert groups[0] == groups[1]
    assert len(set(groups)) > 10


@pytest.fixture(scope="module")
def library():
    lib = load_library()
    return [circuit_to_graph(t.circuit) for t in lib], [t.ctype for t in lib]


def test_grouped_cross_validation_learns_and_fails_on_shuffled_labels(library):
    graphs, types = library
    rep = LinearTypeClassifier.cross_validate_report(graphs, types, folds=3, min_type=5)
    shuffled = list(np.random.default_rng(0).permutation(types))
    bad = LinearTypeClassifier.cross_validate(graphs, shuffled, folds=3)
    assert rep["accuracy"] > 0.5 and bad < rep["accuracy"] - 0.2, (rep["accuracy"], bad)
    assert sum(sum(v.values()) for v in rep["confusion"].values()) == len(graphs)
    assert set(rep["per_type"]) == set(types) and rep["groups"] <= len(graphs)
    pred, groups = LinearTypeClassifier.cross_validate_predict(graphs, types, folds=3)
    assert len(pred) == len(groups) == len(graphs)  # one held-out prediction per circuit, as the report counts
    assert np.mean(pred == np.asarray(types)) == pytest.approx(rep["accuracy"])


def test_save_load_round_trip(library, tmp_path):
    graphs, types = library
    clf = LinearTypeClassifier(graphs, types)
    path = clf.save(tmp_path / "t.npz", {"n": len(graphs)})
    back = LinearTypeClassifier.load(path)
    assert back.predict_many(graphs) == clf.predict_many(graphs)
    assert clf.predict(graphs[0]) == clf.predict_many(graphs[:1])[0]
    assert back.meta == {"n": len(graphs)}
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    with pytest.raises(InputError):
        LinearTypeClassifier.load(tmp_path / "bad.npz")
    with pytest.raises(InputError):
        LinearTypeClassifier.load(tmp_path / "missing.npz")
    with pytest.raises(InputError):
        LinearTypeClassifier([], [])


def test_shipped_classifier_knows_the_library(library):
    shipped = PATHS.models / "topology_types.npz"
    if not shipped.is_file():
        pytest.skip("no shipped type classifier")
    clf = LinearTypeClassifier.load()
    graphs, types = library
    pred = clf.predict_many(graphs)
    known = [(p, t) for p, t in zip(pred, types, strict=True) if t in clf.classes]
    # the library is part of its training set: nearly all fitted; held-out accuracy is in its meta
    assert np.mean([p == t for p, t in known]) > 0.9
    assert len(clf.classes) >= 8 and clf.meta["cv"]["accuracy"] > 0.85


def test_motif_gap_measures_distance_in_motif_means():
    """MotifScale.gap (the guidance sweep's criterion): 0 for the same set, larger for a set whose
    motifs differ (the OTA's mirror diode removed), symmetric."""
    from eda.generators.topology_motifs import MotifScale

    ref = [circuit_to_graph(t.circuit) for t in load_library()[:60]]
    scale = MotifScale(ref)
    ota = [_graph(OTA)] * 4
    broken = [_graph(OTA.replace("M3 (n1 n1 VDD VDD)", "M3 (n1 VB1 VDD VDD)"))] * 4
    assert scale.gap(ota, ota) == 0.0
    assert scale.gap(ota, broken) > 0.02 and scale.gap(ota, broken) == pytest.approx(scale.gap(broken, ota))
    # a mixed set lies between the two
    assert 0 < scale.gap(ota[:2] + broken[:2], ota) < scale.gap(broken, ota)
