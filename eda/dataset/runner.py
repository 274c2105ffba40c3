"""Batch runner shared by every dataset kind: local process pool by default, a Dask cluster on request.

A dataset directory holds::

    DIR/dataset.json     identity: kind, builder, verifier, config, base seed, format version
    DIR/manifest.jsonl   one JSON row per finished attempt (append-only; the last row of an id wins):
                         id, index, seed, status (ok|failed), seconds, bytes, files, peak_rss_mb, error, info
    DIR/raw/<id>/        one folder per sample, written by the per-sample function
    DIR/raw/.tmp-*       work in progress (deleted when a build starts)

Each sample is built in ``raw/.tmp-<id>-<token>`` and renamed to ``raw/<id>`` only when complete, so a
folder under its final name is always whole. The main process alone appends to the manifest. Killing a
build at any moment and running it again finishes the rest: finished samples are skipped (a finished
folder whose manifest row was lost is recovered), failed ones are retried, half-written ones are
discarded. A sample that raises is recorded with its error and does not stop the batch.

The per-sample function is any picklable callable ``fn(seed: int, out_dir: Path) -> dict`` (a module-level
function or a ``functools.partial`` of one); the dict it returns (small, JSON-able) lands in the
manifest row's ``info``. Seeds are derived from the base seed and the sample index, so sample ``i`` is
the same whatever the worker count, order or scheduler.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eda.errors import InputError

__all__ = ["FORMAT_VERSION", "BuildReport", "build_dataset", "sample_seed", "sample_id", "read_manifest",
           "dataset_status", "load_dataset_json", "one_blas_thread"]

#: Version of the on-disk layout (dataset.json, manifest, raw/ folders).
FORMAT_VERSION = 1


def sample_id(index: int) -> str:
    """Folder name of sample ``index`` (``s000042``)."""
    return f"s{index:06d}"


def sample_seed(base_seed: int, index: int) -> int:
    """Seed of sample ``index``: independent streams from one base seed (NumPy ``SeedSequence``)."""
    return int(np.random.SeedSequence([int(base_seed), int(index)]).generate_state(1, dtype=np.uint64)[0] >> 1)


@dataclass
class BuildReport:
    """What a build did.

    Attributes:
        out: the dataset directory. requested: samples requested in total.
        built, failed: samples finished / failed in this run. skipped: already done before the run.
        recovered: finished folders whose manifest row was missing (added back).
        seconds: wall time. failures: ``id → error`` of this run.
    """

    out: Path
    requested: int
    built: int = 0
    failed: int = 0
    skipped: int = 0
    recovered: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def rate_per_min(self) -> float:
        return 60.0 * self.built / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {"out": str(self.out), "requested": self.requested, "built": self.built, "failed": self.failed,
                "skipped": self.skipped, "recovered": self.recovered, "seconds": round(self.seconds, 3),
                "samples_per_min": round(self.rate_per_min, 2), "failures": self.failures}


# ---------------------------------------------------------------------------------------------- worker side
def _dir_bytes(path: Path) -> tuple[int, int]:
    n = size = 0
    for f in path.rglob("*"):
        if f.is_file():
            n += 1
            size += f.stat().st_size
    return n, size


def _peak_rss_mb() -> float:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    except (ImportError, OSError):  # pragma: no cover - non-POSIX
        return float("nan")


def one_blas_thread():
    """Samples run in parallel processes: one BLAS thread each. Threaded BLAS on a busy machine spins and
    made small linear-algebra calls (SciPy's griddata in the IR-drop maps) 5-10x slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def run_one(fn: Callable, index: int, seed: int, raw: str) -> dict:
    """Build one sample into a temporary folder and rename it into place; never raises.

    Runs on a worker (pool process or Dask worker); returns the manifest row.
    """
    raw_p = Path(raw)
    sid = sample_id(index)
    final = raw_p / sid
    tmp = raw_p / f".tmp-{sid}-{uuid.uuid4().hex[:10]}"
    row = {"id": sid, "index": index, "seed": seed}
    t0 = time.perf_counter()
    try:
        tmp.mkdir(parents=True)
        with one_blas_thread():
            info = fn(seed, tmp)
        if info is None:
            info = {}
        json.dumps(info)  # must be JSON-able: fail here, not when writing the manifest
        if final.exists():  # a previous run finished it after all (lost manifest row): keep that one
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, final)
        nfiles, nbytes = _dir_bytes(final)
        row.update(status="ok", seconds=round(time.perf_counter() - t0, 4), files=nfiles, bytes=nbytes,
                   peak_rss_mb=round(_peak_rss_mb(), 1), error=None, info=info)
    except BaseException as e:  # noqa: BLE001 - a failing sample is recorded, the batch goes on
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, KeyboardInterrupt | SystemExit):
            raise
        tb = traceback.format_exc(limit=-3)
        row.update(status="failed", seconds=round(time.perf_counter() - t0, 4), files=0, bytes=0,
                   peak_rss_mb=round(_peak_rss_mb(), 1), error=f"{type(e).__name__}: {e}", traceback=tb, info={})
    return row


# ---------------------------------------------------------------------------------------------- bookkeeping
def load_dataset_json(out: Path) -> dict:
    """The ``dataset.json`` of a dataset directory (``InputError`` when missing or unreadable)."""
    f = Path(out) / "dataset.json"
    try:
        return json.loads(f.read_text())
    except FileNotFoundError:
        raise InputError("not a dataset directory (no dataset.json)", file=out) from None
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"unreadable dataset.json: {e}", file=f) from None


def read_manifest(out: Path) -> dict[str, dict]:
    """Manifest rows by sample id (the last row of an id wins; a torn last line is ignored)."""
    f = Path(out) / "manifest.jsonl"
    rows: dict[str, dict] = {}
    if not f.exists():
        return rows
    for line in f.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError:  # killed mid-write: that sample is simply redone
            continue
        if isinstance(r, dict) and "id" in r:
            rows[r["id"]] = r
    return rows


def dataset_status(out: Path) -> dict:
    """Counts of a dataset directory: ok, failed, and ids of each."""
    rows = read_manifest(out)
    raw = Path(out) / "raw"
    ok = sorted(i for i, r in rows.items() if r.get("status") == "ok" and (raw / i).is_dir())
    failed = sorted(i for i, r in rows.items() if r.get("status") == "failed" and not (raw / i).is_dir())
    return {"ok": ok, "failed": failed, "rows": rows}


def _append(manifest, row: dict) -> None:
    manifest.write(json.dumps(row, sort_keys=True) + "\n")
    manifest.flush()
    os.fsync(manifest.fileno())


def _prepare(out: Path, identity: dict) -> None:
    if out.exists() and not out.is_dir():
        raise InputError("output path exists and is not a directory", file=out)
    out.mkdir(parents=True, exist_ok=True)
    f = out / "dataset.json"
    if f.exists():
        old = load_dataset_json(out)
        keys = ("kind", "builder", "config", "seed", "format")
        diff = [k for k in keys if old.get(k) != identity.get(k)]
        if diff:
            detail = "; ".join(f"{k}: existing {old.get(k)!r} vs requested {identity.get(k)!r}" for k in diff)
            raise InputError(f"refusing to mix samples: this dataset was built with a different configuration "
                             f"({detail}); use another --out or the original options", file=out)
    else:
        if any(p.name != "dataset.json" for p in out.iterdir()):
            raise InputError("output directory exists, is not empty and is not a dataset (no dataset.json); "
                             "refusing to write into it", file=out)
        f.write_text(json.dumps(identity, indent=2, sort_keys=True) + "\n")
    raw = out / "raw"
    raw.mkdir(exist_ok=True)
    for tmp in raw.glob(".tmp-*"):  # leftovers of a killed run
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- driver
def build_dataset(out: str | Path, n: int, fn: Callable, *, kind: str, builder: str, config: dict,
                  seed: int = 0, workers: int = 1, scheduler=None, verifier: str | None = None,
                  progress: bool = True, retry_failed: bool = True) -> BuildReport:
    """Build (or resume) ``n`` samples of a dataset.

    Args:
        out: dataset directory (created; an existing one must have the same kind, builder, config, seed).
        n: number of samples in total (a resumed build may raise it).
        fn: picklable per-sample function ``fn(seed, out_dir) -> dict``.
        kind: dataset kind (``irdrop``, ``topo``, ...).
        builder: import path of the per-sample function (``module:function``), recorded for users.
        config: JSON-able options that change sample contents (size, steps...): part of the identity.
        seed: base seed.
        workers: local worker processes (1 runs in this process).
        scheduler: Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``; the dataset
            directory must be on a filesystem the workers share.
        verifier: import path of ``verify(sample_dir) -> dict`` used by ``eda dataset verify``.
        progress: show a progress bar (done/failed/rate/ETA).
        retry_failed: rebuild samples whose last attempt failed.

    Raises:
        InputError: bad arguments, or an existing directory from another configuration.
    """
    if n < 0:
        raise InputError(f"n must be non-negative, got {n}")
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    out = Path(out)
    identity = {"kind": kind, "builder": builder, "verifier": verifier, "config": config, "seed": int(seed),
                "format": FORMAT_VERSION}
    json.dumps(identity)  # JSON-able or fail early
    _prepare(out, identity)
    raw = out / "raw"
    rows = read_manifest(out)
    report = BuildReport(out=out, requested=n)
    todo: list[int] = []
    recovered: list[dict] = []
    for i in range(n):
        sid = sample_id(i)
        r = rows.get(sid)
        if (raw / sid).is_dir():
            if r is None or r.get("status") != "ok":
                nfiles, nbytes = _dir_bytes(raw / sid)
                recovered.append({"id": sid, "index": i, "seed": sample_seed(seed, i), "status": "ok",
                                  "seconds": None, "files": nfiles, "bytes": nbytes, "peak_rss_mb": None,
                                  "error": None, "info": {}, "recovered": True})
            else:
                report.skipped += 1
            continue
        if r is not None and r.get("status") == "failed" and not retry_failed:
            report.skipped += 1
            continue
        todo.append(i)
    t0 = time.perf_counter()
    mf = out / "manifest.jsonl"
    if mf.exists() and mf.stat().st_size:
        with open(mf, "rb") as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"
        if torn:  # a killed run left half a row: end it so the next row starts on its own line
            with open(mf, "a") as f:
                f.write("\n")
    with open(mf, "a") as manifest:
        for r in recovered:
            _append(manifest, r)
        report.recovered = len(recovered)
        if todo:
            bar = _Bar(len(todo), progress, desc=f"{kind} → {out.name}")
            try:
                for row in _execute(fn, todo, seed, raw, workers, scheduler):
                    _append(manifest, row)
                    if row["status"] == "ok":
                        report.built += 1
                    else:
                        report.failed += 1
                        report.failures[row["id"]] = row["error"]
                    bar.update(row["status"] == "ok")
            finally:
                bar.close()
    report.seconds = time.perf_counter() - t0
    return report


def _execute(fn, todo: list[int], seed: int, raw: Path, workers: int, scheduler):
    """Yield manifest rows as samples finish."""
    args = [(fn, i, sample_seed(seed, i), str(raw)) for i in todo]
    if scheduler is not None:
        yield from _execute_dask(args, scheduler)
        return
    if workers == 1:
        for a in args:
            yield run_one(*a)
        return
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # "spawn": workers start clean (no copied locks or BLAS thread pools from this process).
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        pending = set()
        it = iter(args)
        try:
            for a in it:  # keep a bounded queue: 2 tasks per worker
                pending.add(pool.submit(run_one, *a))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
                    a = next(it, None)
                    if a is not None:
                        pending.add(pool.submit(run_one, *a))
        except BaseException:
            for f in pending:
                f.cancel()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _execute_dask(args, scheduler):
    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        futs = [client.submit(run_one, *a, pure=False, key=f"eda-sample-{a[1]}-{uuid.uuid4().hex[:8]}")
                for a in args]
        try:
            for f in as_completed(futs):
                yield f.result()
        except BaseException:
            client.cancel(futs)
            raise
    finally:
        if own:
            client.close()


class _Bar:
    """Progress: done, failed, rate and ETA (tqdm)."""

    def __init__(self, total: int, enabled: bool, desc: str):
        self.failed = 0
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="sample", dynamic_ncols=True,
                            bar_format="{desc}: {n_fmt}/{total_fmt} done{postfix} |{bar}| "
                                       "{rate_fmt} ETA {remaining}")
            self.bar.set_postfix_str("0 failed", refresh=False)

    def update(self, ok: bool) -> None:
        if not ok:
            self.failed += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.failed} failed", refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
