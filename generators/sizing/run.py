"""Size netlist files and folders: sized netlist, testbench, performance JSON and Bode plot per
circuit; a table for a folder (what ``eda topo size`` runs)."""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np

from eda.circuit import Circuit
from eda.errors import EdaError, InputError
from eda.export.to_spice import to_spice
from eda.generators.sizing.roles import AMPLIFIER_TYPES, find_roles
from eda.generators.sizing.search import FUNCTION_FLOOR_DB, SizingResult, size
from eda.generators.sizing.spec import Spec
from eda.generators.sizing.testbench import AmpBench

NETLIST_SUFFIXES = (".cir", ".sp", ".spice", ".net")


@cache
def _classifier():
    from eda.generators.topology_classify import TypeClassifier
    from eda.graphs.pin_graph import circuit_to_graph
    from eda.read.topology_dataset import load_library

    lib = [t for t in load_library() if t.ctype]
    return TypeClassifier([circuit_to_graph(t.circuit) for t in lib], [t.ctype for t in lib])


def circuit_type(circuit: Circuit, label: str | None) -> str:
    """The label when given, else the nearest-neighbour classifier's type over the built-in library."""
    if label:
        return label
    from eda.graphs.pin_graph import circuit_to_graph

    return _classifier().predict(circuit_to_graph(circuit))


def is_amplifier(circuit: Circuit, label: str | None) -> bool:
    """Amplifier type (label or classifier) with input and output ports."""
    try:
        find_roles(circuit)
    except InputError:
        return False
    return circuit_type(circuit, label) in AMPLIFIER_TYPES


def bode_plot(bench: AmpBench, result: SizingResult, path: Path, title: str) -> Path:
    """Magnitude and phase of the loop gain T = −A of the sized design, with UGB and PM marked."""
    from matplotlib.figure import Figure

    f, a = bench.bode(result.design)
    t = -a
    ph = np.degrees(np.unwrap(np.angle(t)))
    ph -= 360 * np.round(ph[0] / 360)
    fig = Figure(figsize=(6, 4.5), dpi=100)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    ax1.semilogx(f, 20 * np.log10(np.abs(t)), color="C0")
    ax1.axhline(0, color="0.6", lw=0.8)
    ax1.set_ylabel("|T| (dB)")
    ax2.semilogx(f, ph, color="C1")
    ax2.axhline(-180, color="0.6", lw=0.8)
    ax2.set_ylabel("phase (deg)")
    ax2.set_xlabel("frequency (Hz)")
    p = result.perf
    if p.get("ugb"):
        for ax in (ax1, ax2):
            ax.axvline(p["ugb"], color="C2", ls="--", lw=0.8)
        ax2.annotate(f"PM {p['pm']:.0f}°", (p["ugb"], -180 + p["pm"]), textcoords="offset points", xytext=(5, 5))
    ax1.set_title(f"{title}: {p['gain']:.1f} dB, UGB {(p.get('ugb') or 0) / 1e6:.2f} MHz, "
                  f"{p['power'] * 1e6:.0f} µW, C_L {bench.cl * 1e12:g} pF", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def size_circuit(circuit: Circuit, name: str, spec: Spec, out: Path | None, corner: str = "tt",
                 budget_s: float = 90.0, seed: int = 0, stop_when_met: bool = False, progress: bool = True,
                 plot: bool = True, extras: bool = True, pool=None, bulk: str = "netlist",
                 cpu_budget_s: float | None = None) -> dict:
    """Size one circuit and write ``NAME_sized.sp``, ``NAME_tb.sp``, ``NAME_perf.json`` and
    ``NAME_bode.png`` under ``out``; returns the performance record (see :func:`size` for
    ``extras``, ``pool``, ``bulk`` and ``cpu_budget_s``)."""
    res = size(circuit, spec, corner=corner, budget_s=budget_s, seed=seed, stop_when_met=stop_when_met,
               progress=progress, extras=extras, pool=pool, bulk=bulk, cpu_budget_s=cpu_budget_s)
    bench = res.bench
    assert bench is not None
    rec = {"name": name, "spec": str(spec), "corner": corner, "met": res.met, "evaluations": res.evaluations,
           "seconds": round(res.seconds, 1), "cpu_s": round(res.cpu_s, 1), "abandoned": res.abandoned,
           "design": res.design.to_dict(),
           "inverting_input": bench.inn, "bulk": bulk, "added_bias": bench.added_bias,
           # fully differential without a common-mode loop of its own: the testbench's ideal CMFB
           # (a behavioural source) drives this bias port; None when the circuit sets its own CM
           "ideal_cmfb": bench.cmfb, "bias_left_to_circuit": bench.internal_bias,
           "perf": {k: v for k, v in res.perf.items() if k != "fets"},
           "operating_point": res.perf.get("fets", {})}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        sized = replace(bench.sized(res.design), title=f"{name}: sized in sky130 {corner} for {spec}")
        (out / f"{name}_sized.sp").write_text(to_spice(sized))
        (out / f"{name}_tb.sp").write_text(bench.deck(res.design).replace("\n.end", "\n.op\n.ac dec 10 1 10g\n.end"))
        (out / f"{name}_perf.json").write_text(json.dumps(rec, indent=1, default=float))
        if plot and res.perf.get("ok"):
            bode_plot(bench, res, out / f"{name}_bode.png", name)
    return rec


def netlist_files(folder: Path) -> list[Path]:
    """Netlists under ``folder`` (recursively, following linked folders), in sorted order."""
    import os

    found = [Path(d) / f for d, _, files in os.walk(folder, followlinks=True) for f in files]
    return sorted(p for p in found if p.suffix.lower() in NETLIST_SUFFIXES and p.is_file()
                  and not p.stem.endswith(("_sized", "_tb")))


def folder_topologies(folder: Path):
    """``(name, file, Topology or the EdaError that reading it raised)`` for every circuit to size under ``folder``.
    A folder in the public dataset's layout is read as a dataset: one circuit per ``N/N.cir`` (its
    ``N_full.cir`` and other sub-block files are not circuits of their own), named ``N``, with its
    ``PortN.txt`` ports and its ``data_categorization.md`` type label; any other folder, every netlist file."""
    from eda.read.topology_dataset import is_dataset_folder, read_netlist_topology, read_topology_dataset

    if is_dataset_folder(folder):
        errors: list = []
        for t in read_topology_dataset(folder, on_error="skip", errors=errors):
            yield t.name, str(t.source), t
        for f, reason in errors:
            yield Path(f).parent.name, str(f), InputError(reason)
        return
    for f in netlist_files(folder):
        name = f.stem if f.parent == folder else f"{f.parent.name}_{f.stem}"
        try:
            yield name, str(f), read_netlist_topology(f)
        except EdaError as e:
            yield name, str(f), e


#: Circuits sized by one worker pool before a fresh pool takes over: libngspice keeps what every deck loaded, so a
#: pool worker grows by ~2.5 MB per second of sizing (measured: 77 -> 189 MB over 40 s of a two-stage op-amp),
#: ~150 MB per circuit at 60 s: a run over hundreds of circuits would otherwise run out of memory.
CIRCUITS_PER_POOL = 4


def pools(per_pool: int = CIRCUITS_PER_POOL):
    """Worker pools for a run over many circuits (``next()`` once per circuit): the same pool for ``per_pool``
    circuits, then a fresh one (the old one shut down); ``close()`` shuts down the last."""
    from eda.generators.sizing.search import make_pool, usable

    while True:
        pool = make_pool()
        try:
            for _ in range(per_pool):
                if not usable(pool):  # its workers were stopped (a candidate overran the budget): a fresh pool
                    break
                yield pool
        finally:
            pool.shutdown()


def size_folder(folder: Path, spec: Spec, out: Path, corner: str = "tt", budget_s: float = 60.0,
                seed: int = 0, stop_when_met: bool = True, progress: bool = True,
                bulk: str = "netlist") -> list[dict]:
    """Size every amplifier-type netlist under ``folder``; writes per-circuit files and
    ``table.json`` / ``table.md`` under ``out``. Non-amplifiers and unreadable files are listed
    with the reason."""
    rows: list[dict] = []
    with closing(pools()) as pool:
        for name, f, t in folder_topologies(folder):
            try:
                if isinstance(t, EdaError):
                    raise t
                circuit = t.circuit.without_sources()
                ctype = circuit_type(circuit, t.ctype)
                if ctype not in AMPLIFIER_TYPES:  # (missing ports are reported by the testbench below)
                    rows.append({"name": name, "file": f, "skipped": f"not an amplifier-type circuit ({ctype})"})
                    continue
                rec = size_circuit(circuit, name, spec, out, corner, budget_s, seed, stop_when_met, progress,
                                   pool=next(pool), bulk=bulk)
            except EdaError as e:
                rows.append({"name": name, "file": f, "skipped": str(e).splitlines()[0][:200]})
                continue
            rec["file"] = f
            rows.append({k: v for k, v in rec.items() if k not in ("operating_point", "design")})
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.json").write_text(json.dumps(rows, indent=1, default=float))
    (out / "table.md").write_text(table_markdown(rows))
    return rows


def table_markdown(rows: list[dict]) -> str:
    """A Markdown table of sizing records (skipped files listed below it)."""
    lines = ["| circuit | met | gain (dB) | UGB (MHz) | PM (°) | power (µW) | FoM (MHz·pF/mW) | s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "skipped" in r:
            continue
        p = r["perf"]

        def num(v, scale=1.0, fmt="{:.1f}"):
            return fmt.format(v * scale) if isinstance(v, (int, float)) else "–"
        if not p.get("ok"):
            lines.append(f"| {r['name']} | no | {(p.get('reason') or 'failed')[:60]} | | | | | {r['seconds']} |")
            continue
        lines.append(f"| {r['name']} | {'yes' if r['met'] else 'no'} | {num(p.get('gain'))} | "
                     f"{num(p.get('ugb'), 1e-6, '{:.2f}')} | {num(p.get('pm'))} | {num(p.get('power'), 1e6)} | "
                     f"{num(p.get('fom'))} | {r['seconds']} |")
    skipped = [r for r in rows if "skipped" in r]
    if skipped:
        lines += ["", "Skipped:"] + [f"- {r['name']}: {r['skipped']}" for r in skipped]
    return "\n".join(lines) + "\n"


def size_generated(graphs: list, spec: Spec, out: Path, budget_s: float, ctype: str | None = None,
                   corner: str = "tt", function_check: bool = False,
                   floor_db: float = FUNCTION_FLOOR_DB) -> list[dict]:
    """Size the amplifier-type circuits among generated device-pin ``graphs`` (``eda topo generate
    --size``); writes per-circuit files and ``table.md``/``table.json`` under ``out``. FET bodies
    follow the ``rails`` rule (a body on a signal net is a decoding artefact: see
    :func:`eda.export.to_sky130.body_net`). ``function_check``: first
    :func:`~eda.generators.sizing.search.function_check` each; one that fails it (no differential
    amplifier at any size, or the weaker input under ``floor_db`` open loop) is listed with its
    diagnosis and not sized. Returns every row: the sized records and, with ``skipped``, the
    circuits that were not sized and why."""
    from eda.generators.sizing.search import function_check as check
    from eda.graphs.pin_graph import graph_to_circuit

    rows: list[dict] = []
    with closing(pools()) as pool:
        for k, g in enumerate(graphs):
            c = graph_to_circuit(g, title=f"generated {k}")
            if not is_amplifier(c, ctype if ctype in AMPLIFIER_TYPES else None):
                continue
            try:
                if function_check and not (verdict := check(c, corner, floor_db=floor_db))["passed"]:
                    rows.append({"name": f"gen_{k:04d}", "skipped": f"function check: {verdict['diagnosis']}",
                                 "function_check": verdict})
                    continue
                rec = size_circuit(c, f"gen_{k:04d}", spec, out, corner, budget_s, stop_when_met=True, pool=next(pool),
                                   bulk="rails")
            except EdaError as e:
                rows.append({"name": f"gen_{k:04d}", "skipped": str(e).splitlines()[0][:200]})
                continue
            rows.append({k2: v for k2, v in rec.items() if k2 not in ("operating_point", "design")})
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.json").write_text(json.dumps(rows, indent=1, default=float))
    (out / "table.md").write_text(table_markdown(rows))
    return rows
