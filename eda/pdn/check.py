"""Physics sanity of a PDN, shared by the exact solver and the predictors: :func:`check_pdn`.

Also the merged-short topology the solver builds on (0-V sources, and inductors in DC, merge their nodes
into one group; pads fix their group's voltage), and the supply/IR-drop convention:
``supply − V`` on nets fed by positive pads, ``V`` on ground nets, ``V − supply`` on negative supplies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from eda.errors import InputError
from eda.pdn.model import GROUND, PDN

__all__ = ["check_pdn", "Topology", "build_topology", "check_floating", "nominal_supply", "drop_from",
           "ext_index", "laplacian", "PdnCheckError"]


class PdnCheckError(InputError):
    """The network is not physically solvable as a supply grid (no pads, conflicting pads, floating nodes)."""


def check_pdn(pdn: PDN, positive: bool = True) -> None:
    """Check that ``pdn`` is a well-posed supply network before solving or predicting it.

    Checks: at least one pad (voltage source to ground); with ``positive``, every non-zero pad at a
    positive voltage (a supply, not a negative rail); no pads at different voltages shorted together;
    no voltage source between two non-ground nodes; every node connected through resistors (and shorts,
    inductors) to a pad or ground — no floating islands.

    Raises:
        PdnCheckError: naming the offending sources or (up to ten) nodes, and the deck file.
    """
    if positive and len(pdn.vs_value):
        v = np.where(pdn.vs_a == GROUND, -pdn.vs_value, pdn.vs_value)
        neg = pdn.pad_mask & (v < 0)
        if neg.any():
            j = int(np.flatnonzero(neg)[0])
            raise PdnCheckError(f"pad {pdn.vs_names[j]} holds its node at a negative voltage "
                                f"({v[j]:g} V); supply pads must be positive "
                                "(write 'V1 node 0 1.1')", file=pdn.source)
    check_floating(pdn, build_topology(pdn, inductors_short=True))


@dataclass
class Topology:
    """Merged-short graph: node → group labels, fixed group voltages, conductance Laplacian."""

    label: np.ndarray        # (n_nodes + 1,) group of each node; last entry is ground
    n_groups: int
    fixed: np.ndarray        # (n_groups,) fixed voltage or nan
    G: sp.csr_matrix         # group conductance Laplacian (resistors only)
    unknown: np.ndarray      # group ids that are solved for
    where_u: np.ndarray      # (n_groups,) position in ``unknown`` or -1
    ground_group: int

    def ext(self, idx: np.ndarray, n_nodes: int) -> np.ndarray:
        return self.label[np.where(idx < 0, n_nodes, idx)]


def ext_index(idx: np.ndarray, n: int) -> np.ndarray:
    return np.where(idx < 0, n, idx)


def laplacian(a: np.ndarray, b: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    keep = a != b
    a, b, w = a[keep], b[keep], w[keep]
    rows = np.concatenate([a, b, a, b])
    cols = np.concatenate([a, b, b, a])
    vals = np.concatenate([w, w, -w, -w])
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))


def node_list(pdn: PDN, nodes: np.ndarray, limit: int = 10) -> str:
    shown = [str(pdn.node_names[i]) if i < pdn.n_nodes else "0" for i in nodes[:limit]]
    more = f" ... (+{len(nodes) - limit} more)" if len(nodes) > limit else ""
    return ", ".join(shown) + more


def build_topology(pdn: PDN, inductors_short: bool) -> Topology:
    n = pdn.n_nodes
    short = pdn.vs_value == 0
    sa = [ext_index(pdn.vs_a[short], n)]
    sb = [ext_index(pdn.vs_b[short], n)]
    if inductors_short and len(pdn.ind_a):
        sa.append(ext_index(pdn.ind_a, n))
        sb.append(ext_index(pdn.ind_b, n))
    sa_, sb_ = np.concatenate(sa), np.concatenate(sb)
    adj = sp.csr_matrix((np.ones(len(sa_), dtype=np.int8), (sa_, sb_)), shape=(n + 1, n + 1))
    n_groups, label = connected_components(adj, directed=False)
    label = label.astype(np.int64)
    ground_group = int(label[n])

    # Pads: non-zero sources with exactly one terminal on ground.
    nz = ~short
    ag, bg = pdn.vs_a == GROUND, pdn.vs_b == GROUND
    floating_src = nz & ~ag & ~bg
    if floating_src.any():
        j = int(np.flatnonzero(floating_src)[0])
        raise PdnCheckError(f"voltage source {pdn.vs_names[j]} sits between two nodes "
                         f"({pdn.node_names[pdn.vs_a[j]]}, {pdn.node_names[pdn.vs_b[j]]}) with "
                         f"{pdn.vs_value[j]:g} V; PDN pads must go to ground (0-V sources are shorts)",
                         file=pdn.source)
    pad = nz & (ag ^ bg)
    pad_node = np.where(ag[pad], pdn.vs_b[pad], pdn.vs_a[pad])
    pad_val = np.where(ag[pad], -pdn.vs_value[pad], pdn.vs_value[pad])
    pad_names = pdn.vs_names[pad]
    grp = np.concatenate([[ground_group], label[pad_node]])
    val = np.concatenate([[0.0], pad_val])
    who = np.concatenate([["ground"], pad_names]).astype(str)
    order = np.argsort(grp, kind="stable")
    grp, val, who = grp[order], val[order], who[order]
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, grp, val)
    np.maximum.at(hi, grp, val)
    tol = 1e-12 * np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)))
    conflict = np.flatnonzero(np.isfinite(lo) & (hi - lo > tol))
    if len(conflict):
        g = conflict[0]
        m = grp == g
        parts = sorted({f"{w} ({v:g} V)" for w, v in zip(who[m], val[m], strict=True)})
        nodes = np.flatnonzero(label[:n] == g)
        raise PdnCheckError(f"pads at different voltages are shorted together: {', '.join(parts[:6])}; "
                         f"shorted nodes: {node_list(pdn, nodes)}", file=pdn.source)
    fixed = np.where(np.isfinite(lo), lo, np.nan)

    ra = label[ext_index(pdn.res_a, n)]
    rb = label[ext_index(pdn.res_b, n)]
    G = laplacian(ra, rb, 1.0 / pdn.res_value, n_groups)
    unknown = np.flatnonzero(np.isnan(fixed))
    where_u = np.full(n_groups, -1, dtype=np.int64)
    where_u[unknown] = np.arange(len(unknown))
    return Topology(label=label, n_groups=n_groups, fixed=fixed, G=G, unknown=unknown, where_u=where_u,
                 ground_group=ground_group)


def check_floating(pdn: PDN, topo: Topology, extra: sp.spmatrix | None = None) -> None:
    """Raise when a group has no conductive path to a pad or ground."""
    if not len(pdn.pad_mask) or not pdn.pad_mask.any():
        raise PdnCheckError("the deck has no pads: expected voltage sources from supply nodes to ground "
                         "(e.g. 'V1 n1_m9_0_0 0 1.1')", file=pdn.source)
    A = topo.G if extra is None else (abs(topo.G) + abs(extra))
    n_comp, comp = connected_components(A, directed=False)
    has_fixed = np.zeros(n_comp, dtype=bool)
    has_fixed[comp[~np.isnan(topo.fixed)]] = True
    bad_group = ~has_fixed[comp]
    if bad_group.any():
        nodes = np.flatnonzero(bad_group[topo.label[: pdn.n_nodes]])
        raise PdnCheckError(f"{len(nodes)} node(s) float: no resistive path to any pad or ground: "
                         f"{node_list(pdn, nodes)}", file=pdn.source)


def nominal_supply(pdn: PDN, topo: Topology) -> np.ndarray:
    """Supply voltage of each group: the pad voltage of its resistive component, ground excluded."""
    G = topo.G.tocoo()
    keep = (G.row != topo.ground_group) & (G.col != topo.ground_group)
    A = sp.csr_matrix((np.ones(keep.sum()), (G.row[keep], G.col[keep])), shape=G.shape)
    _, comp = connected_components(A, directed=False)
    fx = topo.fixed.copy()
    fx[topo.ground_group] = np.nan
    ok = ~np.isnan(fx)
    nom = np.zeros(comp.max() + 1 if len(comp) else 0)
    # Largest |V| pad of the component is its supply (one net has one supply voltage).
    mag = np.zeros_like(nom)
    np.maximum.at(mag, comp[ok], np.abs(fx[ok]))
    sel = ok & (np.abs(fx) == mag[comp])
    nom[comp[sel]] = fx[sel]
    return nom[comp]


def drop_from(v: np.ndarray, nom: np.ndarray) -> np.ndarray:
    return np.where(nom > 0, nom - v, np.where(nom < 0, v - nom, v))
