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
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eda.errors import InputError

__all__ = ["FORMAT_VERSION", "BuildReport", "BuildInterrupted", "build_dataset", "sample_seed", "sample_id",
           "read_manifest", "dataset_status", "load_dataset_json", "one_blas_thread", "check_build_size",
           "DASK_CONNECT_TIMEOUT_S"]

#: Seconds to wait for a Dask scheduler before giving up with a one-line error.
DASK_CONNECT_TIMEOUT_S = 5


class BuildInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM ended a build: workers are stopped, finished samples are kept, half-written
    ones are discarded; the message says how many samples the dataset holds and that a rerun resumes."""

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
    """The ``dataset.json`` of a dataset directory, checked against :class:`~eda.dataset.schema.DatasetMeta`
    (``InputError`` naming the file when missing, binary, not JSON or of the wrong shape)."""
    from eda.dataset.schema import DatasetMeta, read_model

    out = Path(out)
    if not out.is_dir():
        raise InputError("no such dataset directory" if not out.exists() else "not a directory", file=out)
    f = out / "dataset.json"
    if not f.exists():
        raise InputError("not a dataset directory (no dataset.json)", file=out)
    return read_model(f, DatasetMeta, "dataset.json").model_dump()


def read_manifest(out: Path, problems: list[str] | None = None) -> dict[str, dict]:
    """Manifest rows by sample id (the last row of an id wins).

    A row that is not a JSON object of the :class:`~eda.dataset.schema.ManifestRow` shape is skipped and,
    when ``problems`` is given, described there as ``manifest.jsonl:LINE: why``; a torn last line (a build
    killed mid-write: that sample is simply redone) is not a problem.
    """
    from pydantic import ValidationError

    from eda.dataset.schema import ManifestRow, validation_text

    f = Path(out) / "manifest.jsonl"
    rows: dict[str, dict] = {}
    if not f.exists():
        return rows
    try:
        lines = f.read_bytes().split(b"\n")
    except OSError as e:
        raise InputError(f"cannot read the manifest: {e.strerror}", file=f) from None
    last = max((i for i, b in enumerate(lines) if b.strip()), default=-1)
    for k, raw in enumerate(lines):
        if not raw.strip():
            continue
        why = None
        try:
            r = json.loads(raw.decode("utf-8"))
            rows[ManifestRow.model_validate(r).id] = r
        except UnicodeDecodeError:
            why = "not UTF-8 text"
        except json.JSONDecodeError as e:
            if k == last and raw.lstrip().startswith(b"{") and not raw.rstrip().endswith(b"}"):
                continue  # torn last line
            why = f"not JSON ({e.msg})"
        except ValidationError as e:
            why = f"not a manifest row: {validation_text(e)}"
        if why and problems is not None:
            problems.append(f"{f.name}:{k + 1}: {why}")
    return rows


def dataset_status(out: Path) -> dict:
    """State of a dataset directory: ids of finished (``ok``) and ``failed`` samples, ``missing`` ones (the
    manifest says finished, the folder is gone), malformed manifest rows (``problems``) and all ``rows``."""
    problems: list[str] = []
    rows = read_manifest(out, problems)
    raw = Path(out) / "raw"
    ok = sorted(i for i, r in rows.items() if r.get("status") == "ok" and (raw / i).is_dir())
    missing = sorted(i for i, r in rows.items() if r.get("status") == "ok" and not (raw / i).is_dir())
    failed = sorted(i for i, r in rows.items() if r.get("status") == "failed" and not (raw / i).is_dir())
    return {"ok": ok, "failed": failed, "missing": missing, "problems": problems, "rows": rows}


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
        if diff and not _has_samples(out):
            # a configuration that never finished a sample (e.g. refused options) does not bind the folder
            f.write_text(json.dumps(identity, indent=2, sort_keys=True) + "\n")
            (out / "manifest.jsonl").unlink(missing_ok=True)
            diff = []
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


def _has_samples(out: Path) -> bool:
    raw = out / "raw"
    return raw.is_dir() and any(p.is_dir() and not p.name.startswith(".") for p in raw.iterdir())


def check_build_size(out: str | Path, n: int, workers: int, *, seconds_per_sample: float, mb_per_sample: float,
                     rss_mb_per_worker: float, max_hours: float = 24.0, force: bool = False) -> dict:
    """Estimate a build's time, disk and memory and refuse it (``InputError``, naming ``--force``) when it
    needs more disk than is free, more memory than the machine has, or more than ``max_hours``.

    Returns the estimate (hours, disk_gb, memory_gb and the limits) either way; ``force`` skips the refusal.
    """
    out = Path(out)
    base = out
    while not base.exists() and base != base.parent:
        base = base.parent
    free_gb = shutil.disk_usage(base).free / 1e9
    try:
        ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        ram_gb = float("inf")
    est = {"samples": n, "workers": workers, "hours": n * seconds_per_sample / max(workers, 1) / 3600,
           "disk_gb": n * mb_per_sample / 1e3, "memory_gb": workers * rss_mb_per_worker / 1e3,
           "free_disk_gb": round(free_gb, 1), "ram_gb": round(ram_gb, 1), "max_hours": max_hours}
    why = []
    if est["disk_gb"] > free_gb:
        why.append(f"~{est['disk_gb']:.3g} GB of samples but {free_gb:.3g} GB free under {base}")
    if est["memory_gb"] > 0.8 * ram_gb:
        why.append(f"~{est['memory_gb']:.3g} GB for {workers} workers but {ram_gb:.3g} GB of memory")
    if est["hours"] > max_hours:
        why.append(f"~{est['hours']:.3g} h (limit {max_hours:g} h)")
    if why and not force:
        raise InputError("build too large: " + "; ".join(why) + " — use fewer samples/workers, or --force",
                         file=out)
    return est


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
    own_client = isinstance(scheduler, str)
    if own_client:  # connect before touching the folder: an unreachable scheduler leaves nothing behind
        scheduler = _connect(scheduler)
    try:
        return _build(out, n, fn, identity, seed, workers, scheduler, progress, retry_failed)
    finally:
        if own_client:
            scheduler.close()


def _build(out: Path, n: int, fn: Callable, identity: dict, seed: int, workers: int, scheduler, progress: bool,
           retry_failed: bool) -> BuildReport:
    kind = identity["kind"]
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
    with open(mf, "a") as manifest, _sigterm_as_interrupt():
        for r in recovered:
            _append(manifest, r)
        report.recovered = len(recovered)
        if todo:
            bar = _Bar(len(todo), progress, desc=f"{kind} → {out.name}")
            rows_it = _execute(fn, todo, seed, raw, workers, scheduler)
            try:
                for row in rows_it:
                    _append(manifest, row)
                    if row["status"] == "ok":
                        report.built += 1
                    else:
                        report.failed += 1
                        report.failures[row["id"]] = row["error"]
                    bar.update(row["status"] == "ok")
            except KeyboardInterrupt:
                rows_it.close()  # stops and reaps the pool workers
                bar.close()
                for tmp in raw.glob(".tmp-*"):  # workers are stopped: their half-written samples go
                    shutil.rmtree(tmp, ignore_errors=True)
                kept = sum(1 for p in raw.iterdir() if p.is_dir() and not p.name.startswith("."))
                raise BuildInterrupted(f"{out}: interrupted; {kept} samples kept, rerun to resume") from None
            finally:
                bar.close()
    report.seconds = time.perf_counter() - t0
    return report


class _sigterm_as_interrupt:
    """SIGTERM during a build ends it like Ctrl-C (workers stopped, finished samples kept)."""

    def __enter__(self):
        self.old = None
        if threading.current_thread() is threading.main_thread():
            self.old = signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)
        return False


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


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
    from concurrent.futures import FIRST_COMPLETED, wait

    from eda import workers as worker_pools

    # "spawn": workers start clean (no copied locks or BLAS thread pools from this process). Workers ignore
    # Ctrl-C (the main process stops them) and end themselves when the main process dies.
    pool = worker_pools.pool(workers, method="spawn")
    pending = set()
    it = iter(args)
    try:
        for a in it:  # keep a bounded queue: 2 tasks per worker
            pending.add(_submit(pool, a))
            if len(pending) >= 2 * workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()
                a = next(it, None)
                if a is not None:
                    pending.add(_submit(pool, a))
    except BaseException:
        worker_pools.stop(pool)
        raise
    pool.shutdown(wait=True)


def _submit(pool, a):
    """``pool.submit(run_one, *a)`` with Ctrl-C ignored meanwhile: a worker process the pool spawns here
    inherits the ignored SIGINT from its first instruction, so a Ctrl-C while it is still importing cannot
    print a traceback from it (the main process alone handles Ctrl-C)."""
    if threading.current_thread() is not threading.main_thread():
        return pool.submit(run_one, *a)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return pool.submit(run_one, *a)
    finally:
        signal.signal(signal.SIGINT, old)


def _execute_dask(args, scheduler):
    from distributed import Client, as_completed

    own = not isinstance(scheduler, Client)
    client = _connect(scheduler) if own else scheduler
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


def _connect(address: str):
    """A Dask client for ``address`` within :data:`DASK_CONNECT_TIMEOUT_S` (one-line ``InputError`` else)."""
    from distributed import Client

    try:
        return Client(address, timeout=f"{DASK_CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, ValueError, TypeError, TimeoutError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"--scheduler {address}: cannot reach a Dask scheduler within "
                         f"{DASK_CONNECT_TIMEOUT_S} s ({msg[:160]})") from None


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
