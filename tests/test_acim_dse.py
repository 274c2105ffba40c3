"""ACIM design-space exploration: exact front, determinism, constraints, picks, output files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from eda.errors import InputError
from eda.generators.acim_dse import (
    OBJECTIVES,
    ExploreSpec,
    InfeasibleError,
    Requirement,
    best_per_objective,
    explore,
    non_dominated,
    pick,
    read_pareto,
    write_pareto,
)
from eda.generators.acim_model import AcimParams, CellSizes, ParamError, evaluate, two_adic

SIZES = {"bitcell": (2.5, 3.0), "compute": (2.5, 4.0), "wl_driver": (6.0, 3.0), "in_driver": (5.0, 3.0),
         "comparator": (10.0, 20.0), "cmp_buf": (10.0, 5.0), "col_mux": (2.5, 6.0), "sar_bit": (10.0, 8.0),
         "sar_seq": (10.0, 7.0),
         "dac_switch": (2.5, 5.0), "tap": (2.5, 1.0)}
CELLS = CellSizes(SIZES, technology="test")
SPEC = ExploreSpec(rows=64, cols=32, pop=24, gens=12, seed=3)


@pytest.fixture(scope="module")
def result():
    return explore(SPEC, CELLS, progress=False)


def _objectives(designs):
    return np.array([[-d["metrics"][k] if s == "max" else d["metrics"][k] for k, s in OBJECTIVES]
                     for d in designs])


def _dominates(a, b):
    return bool(np.all(a <= b) and np.any(a < b))


def test_front_is_truly_non_dominated(result):
    F = _objectives(result.designs)
    assert len(F) >= 5
    for i in range(len(F)):
        for j in range(len(F)):
            if i != j:
                assert not _dominates(F[j], F[i]), (i, j)
    # ... and nothing evaluated dominates a front design
    sign = np.array([-1.0 if s == "max" else 1.0 for _, s in OBJECTIVES])
    A = result.archive_metrics[result.archive_feasible] * sign
    for f in F:
        assert not ((A <= f).all(1) & (A < f).any(1)).any()


def test_front_designs_are_valid_and_consistent(result):
    for d in result.designs:
        p = AcimParams.from_dict(d["params"])  # validates rows % L, 2**b | N, ...
        assert p.adc_bits <= two_adic(p.rows // p.local_array)
        again = evaluate(p, CELLS)  # also checks f_clk <= f_max
        for k in ("snr_db", "tops", "energy_per_op_fJ", "area_mm2"):
            assert again.metrics[k] == pytest.approx(d["metrics"][k], rel=1e-12)
        assert again.counts == d["counts"]
    snr = [d["metrics"]["snr_db"] for d in result.designs]
    assert snr == sorted(snr, reverse=True)
    assert [d["index"] for d in result.designs] == list(range(len(result.designs)))


def test_same_seed_same_front(result):
    again = explore(SPEC, CELLS, progress=False)
    assert again.designs == result.designs
    other = explore(ExploreSpec(rows=64, cols=32, pop=24, gens=12, seed=4), CELLS, progress=False)
    assert other.designs != result.designs


def test_non_dominated_matches_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(5):
        F = rng.integers(0, 6, size=(300, 3)).astype(float)  # many ties and duplicates
        got = set(non_dominated(F).tolist())
        keep = [i for i in range(len(F)) if not any(_dominates(F[j], F[i]) for j in range(len(F)))]
        firsts = {}
        for i in keep:
            firsts.setdefault(tuple(F[i]), i)
        assert got == set(firsts.values())


def test_requirement_as_constraint():
    spec = ExploreSpec(rows=64, cols=32, pop=24, gens=10, seed=1, requirements=("snr_db>=30",))
    res = explore(spec, CELLS, progress=False)
    assert res.designs and all(d["metrics"]["snr_db"] >= 30 for d in res.designs)


def test_infeasible_names_tightest_constraint():
    spec = ExploreSpec(rows=64, cols=32, pop=12, gens=3, seed=1, requirements=("snr_db>=400", "area_mm2<=10"))
    with pytest.raises(InfeasibleError) as e:
        explore(spec, CELLS, progress=False)
    msg = str(e.value)
    assert "snr_db>=400" in msg and "tightest" in msg and "best snr_db reached" in msg


def test_pick_preference(result):
    d = pick(result.designs, ["snr_db>=20"], "min:area_mm2")
    ok = [x for x in result.designs if x["metrics"]["snr_db"] >= 20]
    assert d["metrics"]["area_mm2"] == min(x["metrics"]["area_mm2"] for x in ok)
    fast = pick(result.designs, [], "max:tops")
    assert fast["metrics"]["tops"] == max(x["metrics"]["tops"] for x in result.designs)
    assert pick(result.designs, [], "tops") == fast  # the metric's natural sense
    with pytest.raises(InfeasibleError, match="snr_db>=300"):
        pick(result.designs, ["snr_db>=300", "area_mm2<=100"])
    with pytest.raises(InputError, match="unknown metric"):
        pick(result.designs, ["speed>=1"])
    with pytest.raises(InputError, match="expected METRIC"):
        pick(result.designs, ["snr_db = 3"])


def test_best_per_objective(result):
    best = best_per_objective(result.designs)
    assert best["area_mm2"]["metrics"]["area_mm2"] == min(d["metrics"]["area_mm2"] for d in result.designs)
    assert best["snr_db"] is result.designs[0]


def test_write_pareto_files(result, tmp_path):
    chosen = pick(result.designs, ["snr_db>=10"], "min:area_mm2")
    paths = write_pareto(result, tmp_path, chosen)
    data = json.loads(paths["json"].read_text())
    assert isinstance(data, list) and len(data) == len(result.designs)
    assert data[chosen["index"]]["params"] == chosen["params"]
    for key in ("rows", "cols", "local_array", "adc_bits", "input_bits", "weight_bits", "adc_share"):
        assert key in data[0]["params"]
    with paths["csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(data) and int(rows[3]["local_array"]) == data[3]["params"]["local_array"]
    meta = json.loads(paths["meta"].read_text())
    assert meta["picked"] == chosen["index"] and meta["n_pareto"] == len(data)
    assert paths["png"].stat().st_size > 10_000


@pytest.mark.parametrize("kw, field", [
    (dict(rows=1, cols=8), "rows"),
    (dict(rows=64, cols=30, weight_bits=4), "weight_bits"),
    (dict(rows=64, cols=32, pop=2), "pop"),
    (dict(rows=64, cols=32, vdd_range=(1.8, 1.2)), "vdd_range"),
    (dict(rows=64, cols=32, max_local=0), "max_local"),
])
def test_spec_validation(kw, field):
    with pytest.raises(ParamError) as e:
        ExploreSpec(**kw)
    assert e.value.field == field


def test_requirement_parse():
    r = Requirement.parse(" snr_db >= 20 ")
    assert (r.metric, r.op, r.value) == ("snr_db", ">=", 20.0) and r.ok(20.0) and not r.ok(19.9)
    with pytest.raises(InputError, match="unknown metric"):
        ExploreSpec(rows=64, cols=32, requirements=("snrr>=3",))


def test_search_space(result):
    s = ExploreSpec(rows=96, cols=64, max_local=16, max_adc_share=4)
    assert s.local_choices() == [1, 2, 3, 4, 6, 8, 12, 16]
    assert s.share_choices() == [1, 2, 4]
    assert s.bits_max() == 5  # 96 caps = 3 * 32


def test_library_adc_limit_respected():
    cells = CellSizes(SIZES, max_adc_bits=3)
    res = explore(ExploreSpec(rows=64, cols=32, pop=16, gens=5, seed=2), cells, progress=False)
    assert max(d["params"]["adc_bits"] for d in res.designs) <= 3


def test_pareto_json_reads_back_and_junk_is_one_error(result, tmp_path):
    paths = write_pareto(result, tmp_path, plot=False)
    designs = read_pareto(paths["json"])
    assert [d.model_dump() for d in designs] == result.designs
    data = json.loads(paths["json"].read_text())
    for mutate, says in ((lambda d: d[1]["params"].update(adc_bits=9), "adc_bits"),
                         (lambda d: d[0]["metrics"].pop("snr_db"), "snr_db"),
                         (lambda d: d[2].update(index=7), "index"),
                         (lambda d: d[0]["params"].update(rows="many"), "rows")):
        bad = json.loads(json.dumps(data))
        mutate(bad)
        f = tmp_path / "bad.json"
        f.write_text(json.dumps(bad))
        with pytest.raises(InputError, match=says) as e:
            read_pareto(f)
        assert str(f) in str(e.value) and "\n" not in str(e.value)
    f.write_bytes(b"\x00\xff\xfe")
    with pytest.raises(InputError, match="pareto file"):
        read_pareto(f)
