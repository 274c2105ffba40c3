"""Topology data benchmark (issue #16, data half): the public set through our representation.

Measures on ``--data`` (default ``../shared/analoggenie/Dataset``) plus the built-in library:

* reading (every ``N/N.cir`` with ``PortN.txt``, subcircuits expanded), sizes, device types,
  circuit-type labels from ``data_categorization.md``;
* the round trip circuit → pin graph → Euler tour → tokens → (grammar replay) → graph →
  circuit → graph, isomorphic (canonical forms), and how many tours the strict grammar (the
  electrical rules) also accepts;
* how many circuits pass each validity rule (:data:`eda.generators.topology_check.RULES`);
* exact isomorphism speed: canonical forms of every circuit, and a novelty look-up of each
  against the set of all (the check that took VF2 > 3 s on symmetric circuits);
* ngspice operating points of a ``--sim`` sample of rule-clean public circuits with the sky130
  tt models (and with the generic level-1 cards, for comparison);
* a device-level gallery of public circuits, ``benchmarks/figures/topo_public_gallery.png``.

Saves ``benchmarks/results/topo_data.json``. Usage:
``.venv/bin/python benchmarks/bench_topo_data.py [--data DIR] [--sim 60] [--no-stats]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "analoggenie" / "Dataset"


def _isomorphism_speed(tops: list) -> dict:
    import random

    import networkx as nx

    from eda.graphs.canon import GraphSet, canonical_form
    from eda.graphs.pin_graph import circuit_to_graph

    graphs = [circuit_to_graph(t.circuit, t.ports or None) for t in tops]
    t0 = time.perf_counter()
    ref = GraphSet(graphs)
    build = time.perf_counter() - t0
    rng = random.Random(0)
    # relabelled copies (node names shuffled): every one must be found, each in milliseconds
    copies = []
    for g in graphs:
        names = list(g.nodes)
        rng.shuffle(names)
        h = nx.Graph()
        h.add_nodes_from((f"x{i}", dict(g.nodes[n])) for i, n in enumerate(names))
        new = {n: f"x{i}" for i, n in enumerate(names)}
        h.add_edges_from((new[u], new[v]) for u, v in g.edges)
        copies.append(h)
    t0 = time.perf_counter()
    found = sum(ref.find(h) for h in copies)
    look = time.perf_counter() - t0
    times = []
    for g in graphs:
        a = time.perf_counter()
        canonical_form(g)
        times.append(time.perf_counter() - a)
    return {"circuits": len(graphs), "distinct_up_to_isomorphism": len(ref), "set_build_s": round(build, 3),
            "lookups": len(copies), "relabelled_copies_found": found,
            "lookup_ms_mean": round(1e3 * look / len(copies), 3),
            "canonical_form_ms_max": round(1e3 * max(times), 3)}


def _simulate(tops: list, n: int) -> dict:
    from eda.generators.topology_check import rule_violations, simulate

    clean = [t for t in tops if not rule_violations(t.circuit)]
    step = max(1, len(clean) // max(n, 1))
    sample = clean[::step][:n]
    out: dict = {"sample": len(sample), "of_rule_clean": len(clean), "every": step}
    for pdk in ("sky130", None):
        ok, fails, t0 = 0, [], time.perf_counter()
        for t in sample:
            why, _ = simulate(t.circuit, pdk=pdk)
            if why is None:
                ok += 1
            else:
                fails.append({"circuit": t.name, "reason": why[:160]})
        key = pdk or "generic_level1"
        out[key] = {"converged": ok, "rate": ok / max(len(sample), 1), "seconds": round(time.perf_counter() - t0, 1),
                    "failures": fails}
    return out


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="public dataset folder (N/N.cir + PortN.txt)")
    ap.add_argument("--sim", type=int, default=60, help="rule-clean public circuits simulated (0: none)")
    ap.add_argument("--no-stats", action="store_true", help="skip the round trip (the slowest part, ~3 min)")
    ap.add_argument("--out", default=str(HERE / "results" / "topo_data.json"))
    args = ap.parse_args()

    from eda.generators.topology_check import rule_pass_counts
    from eda.generators.topology_draw import draw_gallery
    from eda.graphs.roundtrip import topology_stats
    from eda.read.topology_dataset import load_library, load_topologies

    res: dict = {"data": str(args.data)}
    errors: list = []
    t0 = time.perf_counter()
    tops = load_topologies(args.data, errors)
    res["read_s"] = round(time.perf_counter() - t0, 2)
    lib = load_library()
    if not args.no_stats:
        t0 = time.perf_counter()
        st = topology_stats(tops, errors, progress=True)
        st["seconds"] = round(time.perf_counter() - t0, 1)
        res["public"] = st
        res["library"] = {k: v for k, v in topology_stats(lib).items() if k != "failures"}
    res["rules_pass"] = {"public": rule_pass_counts(tops), "library": rule_pass_counts(lib)}
    res["isomorphism"] = _isomorphism_speed(tops + lib)
    if args.sim:
        res["simulation"] = _simulate(tops, args.sim)
    pick = [t for t in tops if t.name in ("100", "368", "438", "1781", "2200", "1000")]
    png = draw_gallery([t.circuit for t in pick], HERE / "figures" / "topo_public_gallery.png",
                       [f"#{t.name} {t.ctype or 'any'} ({len(t.circuit.devices)} devices)" for t in pick],
                       heading="public set, device level (AnalogGenie circuits)")
    res["gallery"] = str(png.relative_to(HERE.parent))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1))
    _print(res)
    return res


def _print(res: dict) -> None:
    st = res.get("public")
    if st:
        print(f"public set: read {st['read']} (skipped {st['skipped']}), round trip {st['round_trip_ok']} "
              f"({100 * st['round_trip_rate']:.2f} %), strict grammar {st['grammar_strict_ok']}, "
              f"devices mean {st['mean_devices']:.1f} max {st['max_devices']}, {st['seconds']} s")
    for name, rp in res["rules_pass"].items():
        print(f"rules ({name}, {rp['n']} circuits): all {rp['all']}; " +
              ", ".join(f"{k} {v}" for k, v in rp.items() if k not in ("n", "all", "failing")))
    iso = res["isomorphism"]
    print(f"isomorphism: {iso['circuits']} circuits, {iso['distinct_up_to_isomorphism']} distinct, look-up "
          f"{iso['lookup_ms_mean']} ms mean, canonical form max {iso['canonical_form_ms_max']} ms")
    sim = res.get("simulation")
    if sim:
        for k in ("sky130", "generic_level1"):
            print(f"ngspice OP ({k}): {sim[k]['converged']}/{sim['sample']} converge ({sim[k]['seconds']} s)")
    print(f"wrote {res['gallery']}")


if __name__ == "__main__":
    main()
