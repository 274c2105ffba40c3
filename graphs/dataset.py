"""A PyG ``Dataset`` of PDNGraphs over a built IR-drop dataset directory.

``root/raw/<id>/`` are the sample folders written by ``eda dataset irdrop`` (format documented in
:mod:`eda.dataset.irdrop`); ``root/processed/<target>_v<GRAPH_VERSION>[_p<k>]/<id>.pt`` are the PDNGraphs (``_p<k>``:
with the dynamic pattern channel of ``k`` AMG-PCG steps), built once by
``process()`` and stored as plain dicts of tensors (read back with ``torch.load(..., weights_only=True)``).

Static graphs come from ``netlist.sp`` with the static label; dynamic graphs from ``netlist_dynamic.sp``
(decaps, package inductors, PWL loads from ``load_currents.npy``) with ``current_maps_t.npy`` as extra image
channels, time-sliced load currents on the cell nodes and the dynamic label. When ``raw/`` holds no samples
and ``build`` and a ``builder`` are given, ``download()`` generates that many synthetic samples first (PyG's
``FakeDataset`` habit: synthetic data is made, not fetched); the builder is passed in
(``eda.generators.irdrop_sample.build_irdrop_dataset``), since graphs do not import the generators.
"""

from __future__ import annotations

import json
import os.path as osp
import pickle
import struct
import time
from pathlib import Path

import torch
from torch_geometric.data import Dataset, HeteroData

from eda.errors import InputError
from eda.graphs.pdn_graph import GRAPH_VERSION, GraphParams, build_pdn_graph

__all__ = ["IRDropDataset", "sample_graph", "graph_to_dict", "graph_from_dict", "contest_graph", "contest_graphs"]


def sample_graph(sample_dir: str | Path, target: str = "static", pattern_iters: int = 0,
                 step_iters: int = 0) -> HeteroData:
    """PDNGraph of one sample folder for ``target`` (``static`` or ``dynamic``), labels attached
    (``pattern_iters`` / ``step_iters``: the dynamic pattern and level channels,
    :class:`~eda.graphs.pdn_graph.GraphParams`)."""
    from eda.dataset.irdrop import read_sample

    if target not in ("static", "dynamic"):
        raise InputError(f"target must be 'static' or 'dynamic', got {target!r}")
    dyn = target == "dynamic"
    s = read_sample(sample_dir, dynamic=dyn)
    if dyn:
        if "current_t" not in s.maps or "dynamic" not in s.labels:
            raise InputError("sample has no current_maps_t.npy / ir_drop_dynamic_map.csv for a dynamic graph",
                             file=sample_dir)
        n_slices = int(s.maps["current_t"].shape[0])
        pdn, maps = s.dynamic, s.maps
    else:
        n_slices = 0
        pdn, maps = s.static, {k: v for k, v in s.maps.items() if k != "current_t"}
    t0 = time.perf_counter()
    g = build_pdn_graph(pdn, maps, GraphParams(n_slices=n_slices, pattern_iters=pattern_iters, step_iters=step_iters),
                        labels=s.labels)
    g.build_seconds = time.perf_counter() - t0  # part of the inference time reported by evaluate
    g.name = Path(sample_dir).name
    return g


def contest_graph(case, params: GraphParams = GraphParams()) -> HeteroData:
    """PDNGraph of one ICCAD'23 contest case (:class:`eda.pdn.contest.ContestCase`), golden map as label.

    The case's given maps are the image channels (missing ones are computed from the deck), its database
    units come from :attr:`ContestCase.dbu_per_um` unless ``params`` fixes them. ``g.read_seconds`` (parse)
    and ``g.build_seconds`` (features, physics estimate included) are part of the inference time.

    Raises:
        InputError: a maps-only case (no deck), a deck that does not fit its maps, bad maps.
    """
    if case.deck is None:
        raise InputError(f"case {case.name} has no netlist (maps only): PDNGraph needs the deck; the contest's "
                         "three input maps alone do not determine the IR drop")
    t0 = time.perf_counter()
    pdn = case.pdn
    t1 = time.perf_counter()
    maps = {k: case.maps[k] for k in ("current", "pdn_density", "eff_dist") if k in case.maps}
    labels = {"static": case.maps["ir_drop"]} if "ir_drop" in case.maps else None
    p = params if params.dbu_per_um is not None else params.replace(dbu_per_um=case.dbu_per_um)
    g = build_pdn_graph(pdn, maps, p, labels=labels)
    g.read_seconds = t1 - t0
    g.build_seconds = time.perf_counter() - t1
    g.name = case.name
    return g


def contest_graphs(cases, params: GraphParams = GraphParams(), cache: bool = True, progress: bool = False
                   ) -> list[HeteroData]:
    """:func:`contest_graph` of many cases, cached in the user cache (keyed by path, size, mtime, params; a cached
    file that cannot be read is built again)."""
    import hashlib

    from tqdm import tqdm

    from eda.paths import user_cache_dir

    out = []
    for case in tqdm(cases, desc="PDNGraph (contest)", unit="case", disable=not progress):
        f = None
        if cache and case.deck is not None:
            st = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in
                  [case.deck, *sorted(case.map_paths.values())]]
            key = hashlib.sha1(json.dumps([st, params.to_dict(), GRAPH_VERSION]).encode()).hexdigest()[:20]
            f = user_cache_dir("pdngraph", f"v{GRAPH_VERSION}") / f"{case.name}-{key}.pt"
            if f.exists():
                try:
                    out.append(graph_from_dict(torch.load(f, weights_only=True)))
                    continue
                except (OSError, RuntimeError, EOFError, ValueError, KeyError, pickle.UnpicklingError, struct.error):
                    pass  # unreadable (a disk error, a foreign file): built again and written over it
        g = contest_graph(case, params)
        if f is not None:
            torch.save(graph_to_dict(g), f)
        out.append(g)
    return out


def graph_to_dict(g: HeteroData) -> dict:
    """Plain dict (tensors, lists, strings) of a PDNGraph, safe for ``weights_only`` loading."""
    d = g.to_dict()
    return {(k if isinstance(k, str) else "__".join(k)): v for k, v in d.items()}


def graph_from_dict(d: dict) -> HeteroData:
    """Inverse of :func:`graph_to_dict`."""
    out = {}
    for k, v in d.items():
        out[tuple(k.split("__")) if "__" in k else k] = v
    return HeteroData.from_dict(out)


class IRDropDataset(Dataset):
    """PDNGraphs of an IR-drop dataset directory (PyG ``Dataset`` contract).

    Args:
        root: dataset directory (``raw/`` holds the samples).
        target: ``static`` or ``dynamic``: which deck, channels and label each graph carries.
        build: when ``raw/`` is empty, generate this many synthetic samples with ``builder`` (``None``: raise).
        seed: base seed of such a build.
        builder: ``builder(root, n, seed=...)`` writing samples under ``root/raw``
            (``eda.generators.irdrop_sample.build_irdrop_dataset``).
        transform, pre_transform: PyG transforms.
        force_reload: rebuild ``processed/``.
        log: print PyG's processing messages.
    """

    def __init__(self, root: str | Path, target: str = "static", build: int | None = None, seed: int = 0,
                 transform=None, pre_transform=None, force_reload: bool = False, log: bool = False,
                 builder=None, pattern_iters: int = 0, step_iters: int = 0):
        if target not in ("static", "dynamic"):
            raise InputError(f"target must be 'static' or 'dynamic', got {target!r}")
        self.target = target
        self.pattern_iters = int(pattern_iters)
        self.step_iters = int(step_iters)
        self.build = build
        self.builder = builder
        self.seed = seed
        root = Path(root)
        self._names = self._scan(root / "raw")
        if not self._names and (build is None or builder is None):
            raise InputError("no samples under raw/ (expected folders with params.json); build some with "
                             "'eda dataset irdrop --n N --out DIR'", file=root)
        super().__init__(str(root), transform, pre_transform, force_reload=force_reload, log=log)

    @staticmethod
    def _scan(raw: Path) -> list[str]:
        if not raw.is_dir():
            return []
        return sorted(p.name for p in raw.iterdir() if p.is_dir() and not p.name.startswith(".")
                      and (p / "params.json").exists())

    @property
    def names(self) -> list[str]:
        """Sample ids, in index order."""
        return list(self._names)

    @property
    def raw_file_names(self) -> list[str]:
        return [osp.join(n, "params.json") for n in self._names] or ["(none)"]

    @property
    def processed_dir(self) -> str:
        tag = (f"_p{self.pattern_iters}" if self.pattern_iters else "") + (f"_s{self.step_iters}" if self.step_iters
                                                                             else "")
        return osp.join(self.root, "processed", f"{self.target}_v{GRAPH_VERSION}{tag}")

    @property
    def processed_file_names(self) -> list[str]:
        return [f"{n}.pt" for n in self._names]

    def download(self) -> None:
        if self.build is None or self.builder is None:
            raise InputError("no samples under raw/", file=self.root)
        self.builder(self.root, int(self.build), seed=self.seed)
        self._names = self._scan(Path(self.raw_dir))

    def process(self) -> None:
        from tqdm import tqdm

        it = tqdm(self._names, desc=f"PDNGraph ({self.target})", unit="sample", disable=len(self._names) < 4)
        for n in it:
            g = sample_graph(osp.join(self.raw_dir, n), self.target, self.pattern_iters, self.step_iters)
            if self.pre_transform is not None:
                g = self.pre_transform(g)
            torch.save(graph_to_dict(g), osp.join(self.processed_dir, f"{n}.pt"))
        with open(osp.join(self.processed_dir, "index.json"), "w") as f:
            json.dump({"target": self.target, "samples": self._names}, f)

    def len(self) -> int:
        return len(self._names)

    def get(self, idx: int) -> HeteroData:
        d = torch.load(osp.join(self.processed_dir, f"{self._names[idx]}.pt"), weights_only=True)
        return graph_from_dict(d)
