"""Device-level drawings of topologies, the gallery a designer reads.

Each device is one labelled node (``M3`` NMOS, ``R1``...; shape and colour by type), each net an
edge between the devices it joins (a small junction dot where it joins three or more terminals),
each port a named box on its net; short terminal letters (``G``, ``D``, ``S``, ``B``, ``C``,
``E``) sit at the device end of every wire. Rows follow the hop distances to ``VDD`` (top) and
``VSS`` (bottom), so current flows down the picture as in a schematic; MOS bulk wires to the
rails are left out (the 4-terminal symbol implies them).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from eda.circuit import Circuit, is_ground
from eda.errors import InputError
from eda.graphs.pin_graph import DEVICE_TYPES, device_type

#: Marker, colour and short caption per device type.
STYLE: dict[str, tuple[str, str, str]] = {
    "NM": ("s", "#3b6fb6", "NMOS"), "PM": ("s", "#c8423b", "PMOS"), "NPN": ("D", "#3b6fb6", "NPN"),
    "PNP": ("D", "#c8423b", "PNP"), "R": ("h", "#7a7a7a", "R"), "C": ("p", "#2a9d8f", "C"),
    "L": ("8", "#8e6c8a", "L"), "D": ("v", "#e09f3e", "diode"),
}
_BULK_HIDDEN = True  # MOS bulk wires to the rails are left out (designers draw 4-terminal symbols)


def device_graph(circuit: Circuit) -> nx.Graph:
    """Graph of devices (``kind="device"``), ports (``kind="port"``) and junctions of nets with ≥ 3
    terminals (``kind="junction"``); edges carry ``net`` and, at a device end, ``pin``.

    Raises:
        InputError: a device has no topology type.
    """
    ports = {("VSS" if is_ground(p) else p) for p in circuit.ports} | {"VSS"}
    g = nx.Graph()
    ends: dict[str, list[tuple[str, str]]] = {}
    counts: dict[str, int] = {}
    for d in circuit.devices:
        t = device_type(d, circuit)
        counts[d.kind] = counts.get(d.kind, 0) + 1  # instance names repeat in real data: number afresh
        label = f"{d.kind}{counts[d.kind]}"
        name = f"dev:{label}"
        g.add_node(name, kind="device", dtype=t, label=label)
        for pin, net in zip(DEVICE_TYPES[t].pins, d.nodes, strict=False):
            net = "VSS" if is_ground(net) else net
            if _BULK_HIDDEN and pin == "B" and t in ("NM", "PM") and net in ("VDD", "VSS"):
                continue
            ends.setdefault(net, []).append((name, pin))
    for net, members in ends.items():
        if net in ports:
            hub = f"port:{net}"
            g.add_node(hub, kind="port", label=net)
        elif len(members) >= 3:
            hub = f"net:{net}"
            g.add_node(hub, kind="junction", label=net)
        else:
            (a, pa), (b, pb) = members if len(members) == 2 else (members[0], members[0])
            if a != b:
                g.add_edge(a, b, net=net, pins={a: pa, b: pb})
            continue
        for dev, pin in members:
            g.add_edge(dev, hub, net=net, pins={dev: pin})
    return g


def _layout(g: nx.Graph, seed: int = 0) -> dict:
    """Layered layout in schematic order: each node's row from its hop distances to ``VDD`` (top)
    and ``VSS`` (bottom), so stacks read top to bottom; within a row nodes keep the left-to-right
    order of a spring layout, evenly spaced so no two overlap."""
    pos = nx.spring_layout(g, seed=seed, k=1.8 / max(len(g), 1) ** 0.5, iterations=80)
    dv = nx.single_source_shortest_path_length(g, "port:VDD") if "port:VDD" in g else {}
    ds = nx.single_source_shortest_path_length(g, "port:VSS") if "port:VSS" in g else {}
    rows: dict[float, list] = {}
    out = {}
    for n, (x, y) in pos.items():
        if n in dv and n in ds and dv[n] + ds[n] > 0:
            rows.setdefault(round(ds[n] / (dv[n] + ds[n]), 2), []).append(n)
        else:
            out[n] = (float(x), float(y))
    if not rows:
        return out
    levels = sorted(rows)
    width = max(len(v) for v in rows.values())
    for k, lev in enumerate(levels):
        members = sorted(rows[lev], key=lambda n: pos[n][0])
        y = -1.0 + 2.0 * k / max(len(levels) - 1, 1)
        for i, n in enumerate(members):
            x = (i - (len(members) - 1) / 2) * 2.0 / max(width - 1, 1)
            out[n] = (x, y)
    return out


def draw_circuit(circuit: Circuit, ax, title: str | None = None, seed: int = 0) -> None:
    """Draw one circuit on a Matplotlib axis (see the module docstring)."""
    g = device_graph(circuit)
    pos = _layout(g, seed)
    for u, v, data in g.edges(data=True):
        (x0, y0), (x1, y1) = pos[u], pos[v]
        ax.plot([x0, x1], [y0, y1], color="#555555", lw=0.8, zorder=1)
        for end, pin in data["pins"].items():
            (xa, ya), (xb, yb) = (pos[end], pos[v if end == u else u])
            ax.text(xa + 0.22 * (xb - xa), ya + 0.22 * (yb - ya), pin, fontsize=5, color="#333333",
                    ha="center", va="center", zorder=3)
    for n, data in g.nodes(data=True):
        x, y = pos[n]
        if data["kind"] == "device":
            marker, color, _ = STYLE[data["dtype"]]
            ax.scatter([x], [y], s=230, marker=marker, color=color, edgecolors="black", linewidths=0.5, zorder=2)
            ax.text(x, y, data["label"], fontsize=5.5, color="white", ha="center", va="center", zorder=4,
                    fontweight="bold")
        elif data["kind"] == "port":
            ax.text(x, y, data["label"], fontsize=6.5, ha="center", va="center", zorder=4, fontweight="bold",
                    bbox={"boxstyle": "round,pad=0.25", "fc": "#fff3b0", "ec": "#7a6a00", "lw": 0.6})
        else:
            ax.scatter([x], [y], s=9, color="black", zorder=2)
    ax.set_title(title if title is not None else circuit.title, fontsize=8)
    ax.margins(0.12)
    ax.axis("off")


def draw_gallery(circuits: list[Circuit], path: str | Path, titles: list[str] | None = None, cols: int = 3,
                 heading: str | None = None) -> Path:
    """PNG of several circuits as device-level drawings (``titles`` default to circuit titles).

    Raises:
        InputError: no circuits, or titles of another length.
    """
    from eda.plot import plt, save

    if not circuits:
        raise InputError("draw_gallery: no circuits to draw")
    if titles is not None and len(titles) != len(circuits):
        raise InputError(f"draw_gallery: {len(titles)} titles for {len(circuits)} circuits")
    cols = max(1, min(cols, len(circuits)))
    rows = (len(circuits) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 3.8 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, (ax, c) in enumerate(zip(axes.flat, circuits, strict=False)):
        draw_circuit(c, ax, titles[k] if titles else None, seed=k)
    handles = [plt.Line2D([], [], marker=m, color=col, ls="", markersize=6, label=cap)
               for m, col, cap in STYLE.values()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7, frameon=False)
    if heading:
        fig.suptitle(heading, fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97 if heading else 1))
    return save(fig, path, dpi=110, tight=False)
