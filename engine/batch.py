"""Batch extraction: many files, in parallel processes or on a Dask cluster.

:func:`extract_many` is the library entry point; ``imgmeta batch`` (:func:`cli_batch`)
adds output files, resume, a progress bar and a summary around it.

Two runners produce the same stream of records (see :mod:`engine.records`):

local process pool (default)
    ``workers`` processes (default: all cores), started with ``forkserver`` from
    a server that has already imported and warmed up the extractor
    (:mod:`engine.warmup`: numba kernels loaded once, not once per worker). Each worker has its own
    pipe; the parent hands it small chunks of paths (at most two chunks in
    flight), and the worker streams one result back per file. The walk is a
    generator consumed only as workers need paths, so memory does not grow with
    the number of files.

    ``timeout`` is enforced twice: inside the worker, a ``SIGALRM`` interval
    timer interrupts an extraction stuck in Python code; in the parent, a
    watchdog kills a worker that has not reported for ``timeout`` + grace (a
    decoder stuck in C code) and starts a fresh one. Either way the file becomes
    an error record of type ``timeout``; the rest of the chunk is re-queued. A
    worker that dies (segfault, OOM kill) turns its current file into a
    ``crash`` record and is replaced too.

Dask (``scheduler="local"`` or ``"tcp://host:8786"``)
    Chunks of paths are submitted as tasks (a bounded window of them, topped up
    as :func:`distributed.as_completed` hands results back). Dask workers run
    tasks in threads, where no signal can be used: the per-file timeout runs the
    file in a helper thread, and on expiry records ``timeout``, injects an
    exception into the helper (which stops it as soon as it is back in Python
    code) and goes on with a new helper. A chunk whose task fails (a worker
    lost) is retried file by file, so only the culprit gets an error record.

Examples
--------
>>> import engine                                                   # doctest: +SKIP
>>> for rec in engine.extract_many(["photos/"], workers=2):         # doctest: +SKIP
...     if "error" in rec:
...         print(rec["path"], rec["error"]["type"])
"""

from __future__ import annotations

import collections
import ctypes
import json
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Callable, Iterable, Iterator, NamedTuple

from .errors import ExtractTimeoutError
from .records import RecordWriter, encode_record, error_record, read_done
from .walk import WalkError, iter_inputs

#: Files per message to a local worker, and per Dask task.
LOCAL_CHUNK = 8
DASK_CHUNK = 32


class Result(NamedTuple):
    """One finished file: its path, its error type (``None`` for success) and its JSON line."""

    path: str
    kind: str | None
    line: bytes


# -- one file ----------------------------------------------------------------


def _default_extract(path: str, *, phash: bool = True) -> dict:
    from .metadata import extract

    return extract(path, phash=phash)


def _on_alarm(signum, frame):
    raise ExtractTimeoutError("extraction took longer than the time limit")


def run_one(path: str, *, phash: bool = True, timeout: float | None = None,
            func: Callable | None = None, use_alarm: bool = False) -> Result:
    """Extract one file into a :class:`Result`; every exception becomes an error record.

    Examples
    --------
    >>> r = run_one("/nonexistent.jpg", func=lambda p, phash: open(p))
    >>> r.kind, r.path
    ('FileNotFoundError', '/nonexistent.jpg')
    """
    func = func or _default_extract
    try:
        if use_alarm and timeout:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            meta = func(path, phash=phash)
        finally:
            if use_alarm and timeout:
                signal.setitimer(signal.ITIMER_REAL, 0)
        return Result(path, None, encode_record({"path": path, "metadata": meta}))
    except ExtractTimeoutError as e:
        if timeout:
            return _timeout_result(path, timeout)
        return Result(path, "timeout", encode_record(error_record(path, e)))
    except Exception as e:  # noqa: BLE001 -- any failure is this file's record, never the run's end
        rec = error_record(path, e)
        return Result(path, rec["error"]["type"], encode_record(rec))


def _timeout_result(path: str, timeout: float | None) -> Result:
    rec = error_record(path, kind="timeout", message=f"extraction took longer than {timeout:g} s")
    return Result(path, "timeout", encode_record(rec))


def _walk_error_result(err: WalkError) -> Result:
    return Result(err.path, err.kind, encode_record(error_record(err.path, kind=err.kind, message=err.message)))


# -- local process pool --------------------------------------------------------


def _worker_main(conn, phash: bool, timeout: float | None, func: Callable | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
    if timeout:
        signal.signal(signal.SIGALRM, _on_alarm)
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            return
        if chunk is None:
            return
        for path in chunk:
            conn.send(run_one(path, phash=phash, timeout=timeout, func=func, use_alarm=True))


class _Worker:
    __slots__ = ("proc", "conn", "pending", "since", "done")

    def __init__(self, ctx, phash, timeout, func):
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, phash, timeout, func), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        self.pending: collections.deque[str] = collections.deque()
        self.since = time.monotonic()  # when its current file started (roughly)
        self.done = 0

    def kill(self) -> None:
        try:
            self.proc.kill()
        except Exception:  # noqa: BLE001
            pass
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.kill()
        else:
            self.conn.close()


def _mp_context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["engine.batch", "engine.warmup"])
    return ctx


def default_workers() -> int:
    """Cores this process may use (``os.sched_getaffinity`` where available)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def run_local(items: Iterable[str | WalkError], *, workers: int | None = None, phash: bool = True,
              timeout: float | None = None, func: Callable | None = None,
              chunk: int = LOCAL_CHUNK) -> Iterator[Result]:
    """Run the files of ``items`` through a pool of worker processes, yielding :class:`Result` s.

    Results come in completion order. At most ``2 * chunk`` paths per worker are
    in flight; ``items`` is consumed lazily. ``func(path, phash=...)`` replaces
    :func:`engine.extract` (it must be importable by the workers).
    """
    n = workers or default_workers()
    grace = max(1.0, 0.25 * timeout) if timeout else None
    ctx = _mp_context()
    source = iter(items)
    retry: collections.deque[str] = collections.deque()
    ready: list[Result] = []
    exhausted = False
    pool: list[_Worker] = []

    def take(k: int) -> list[str]:
        nonlocal exhausted
        out = []
        while len(out) < k and retry:
            out.append(retry.popleft())
        while len(out) < k and not exhausted:
            try:
                item = next(source)
            except StopIteration:
                exhausted = True
                break
            if isinstance(item, WalkError):
                ready.append(_walk_error_result(item))
            else:
                out.append(item)
        return out

    failed_starts = 0  # workers in a row that died before returning anything

    def replace(w: _Worker, head: Result | None) -> None:
        nonlocal failed_starts
        w.kill()
        if head is not None:
            w.pending.popleft()
            ready.append(head)
        retry.extendleft(reversed(w.pending))
        w.pending.clear()
        if w.done == 0:
            failed_starts += 1
            if failed_starts > 2 * n + 2:
                raise RuntimeError(f"worker processes keep dying at start (last exit code {w.proc.exitcode})")
        pool[pool.index(w)] = _Worker(ctx, phash, timeout, func)

    def reap(w: _Worker) -> None:
        """Replace a dead worker; the file it was on (if any) is the culprit."""
        if not w.pending:
            return replace(w, None)
        path, code = w.pending[0], w.proc.exitcode
        rec = error_record(path, kind="crash", message=f"worker process died reading this file (exit code {code})")
        replace(w, Result(path, "crash", encode_record(rec)))

    try:
        pool.extend(_Worker(ctx, phash, timeout, func) for _ in range(n))
        while True:
            for w in list(pool):  # top up: two chunks in flight per worker
                while len(w.pending) <= chunk and (retry or not exhausted):
                    paths = take(chunk)
                    if not paths:
                        break
                    try:
                        w.conn.send(paths)
                    except OSError:  # died (at start, or just now)
                        retry.extendleft(reversed(paths))
                        w.proc.join(5)
                        reap(w)
                        break
                    if not w.pending:
                        w.since = time.monotonic()
                    w.pending.extend(paths)
            yield from ready
            ready.clear()
            busy = [w for w in pool if w.pending]
            if not busy:
                if exhausted and not retry:
                    return
                continue
            wait_for = None
            if timeout:
                deadline = min(w.since for w in busy) + timeout + grace
                wait_for = max(0.0, deadline - time.monotonic())
            by_handle = {}
            for w in busy:
                by_handle[w.conn] = w
                by_handle[w.proc.sentinel] = w
            for handle in wait(list(by_handle), wait_for):
                w = by_handle[handle]
                if not w.pending or w not in pool:
                    continue
                try:
                    while w.pending and w.conn.poll():
                        res = w.conn.recv()
                        w.pending.popleft()
                        w.since = time.monotonic()
                        w.done += 1
                        failed_starts = 0
                        ready.append(res)
                except (EOFError, OSError):
                    w.proc.join(5)
                if w.pending and not w.proc.is_alive():
                    reap(w)
            if timeout:
                now = time.monotonic()
                for w in list(pool):
                    if w.pending and now - w.since > timeout + grace:
                        w.done += 1  # it did start: a hang is not a failure to start
                        replace(w, _timeout_result(w.pending[0], timeout))
    finally:
        for w in pool:
            if w.pending:
                w.kill()
            else:
                w.stop()


# -- Dask ----------------------------------------------------------------------


def _async_raise(thread: threading.Thread, exc_type: type) -> None:
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type))


def run_chunk(paths: list[str], phash: bool = True, timeout: float | None = None,
              func: Callable | None = None) -> list[Result]:
    """Extract a chunk of files in this process (the Dask task); never raises for a file.

    With a ``timeout``, files run in a helper thread; a file past its time gets a
    ``timeout`` record, the helper is sent an exception and abandoned, and a new
    helper takes the rest of the chunk.
    """
    if not timeout:
        return [run_one(p, phash=phash, func=func) for p in paths]
    out: list[Result] = []
    i = 0
    while i < len(paths):
        results: queue.Queue = queue.Queue()
        todo = paths[i:]

        def helper(todo=todo, results=results):
            try:
                for p in todo:
                    results.put(run_one(p, phash=phash, func=func))
            except ExtractTimeoutError:
                pass

        t = threading.Thread(target=helper, daemon=True, name="imgmeta-extract")
        t.start()
        while i < len(paths):
            try:
                out.append(results.get(timeout=timeout))
                i += 1
            except queue.Empty:
                _async_raise(t, ExtractTimeoutError)
                out.append(_timeout_result(paths[i], timeout))
                i += 1
                break
    return out


def _dask_client(scheduler: str, workers: int | None):
    try:
        from distributed import Client, LocalCluster
    except ImportError as e:  # pragma: no cover
        raise RuntimeError("--scheduler needs dask.distributed: pip install 'imgmeta[dask]'") from e
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        return Client(cluster), cluster
    return Client(scheduler), None


def run_dask(items: Iterable[str | WalkError], scheduler, *, workers: int | None = None,
             phash: bool = True, timeout: float | None = None, func: Callable | None = None,
             chunk: int = DASK_CHUNK) -> Iterator[Result]:
    """Run the files of ``items`` on a Dask cluster, yielding :class:`Result` s as chunks complete.

    ``scheduler`` is ``"local"`` (start a :class:`distributed.LocalCluster` of
    ``workers`` single-threaded processes), an address (``"tcp://host:8786"``),
    or an existing :class:`distributed.Client`. At most two chunks per worker
    thread are in flight.
    """
    from distributed import Client, as_completed

    own_client, cluster = (None, None) if isinstance(scheduler, Client) else _dask_client(scheduler, workers)
    client = scheduler if own_client is None else own_client
    try:
        window = 2 * max(1, sum(client.nthreads().values()))
        source = iter(items)
        ac = as_completed()
        chunks: dict = {}  # future key -> (paths, retried singly)
        in_flight = 0
        ready: list[Result] = []

        def submit(paths: list[str], single: bool = False) -> None:
            nonlocal in_flight
            fut = client.submit(run_chunk, paths, phash, timeout, func, pure=False)
            chunks[fut.key] = (paths, single)
            ac.add(fut)
            in_flight += 1

        def top_up() -> None:
            while in_flight < window:
                paths = []
                for item in source:
                    if isinstance(item, WalkError):
                        ready.append(_walk_error_result(item))
                        continue
                    paths.append(item)
                    if len(paths) >= chunk:
                        break
                if not paths:
                    return
                submit(paths)

        top_up()
        yield from ready
        ready.clear()
        while in_flight:
            fut = next(ac)
            in_flight -= 1
            paths, single = chunks.pop(fut.key)
            try:
                results = fut.result()
            except Exception as e:  # noqa: BLE001 -- a lost worker, a pickling error...
                if single or len(paths) == 1:
                    p = paths[0]
                    rec = error_record(p, kind="crash", message=f"Dask task failed: {type(e).__name__}: {e}")
                    results = [Result(p, "crash", encode_record(rec))]
                else:
                    for p in paths:
                        submit([p], single=True)
                    results = []
            finally:
                fut.release()
            yield from results
            top_up()
            yield from ready
            ready.clear()
    finally:
        if own_client is not None:
            own_client.close()
        if cluster is not None:
            cluster.close()


# -- public entry points -------------------------------------------------------


def iter_results(inputs: Iterable[str], *, workers: int | None = None, phash: bool = True,
                 timeout: float | None = None, scheduler=None, include: Iterable[str] = (),
                 exclude: Iterable[str] = (), skip: Callable[[str], bool] | None = None,
                 func: Callable | None = None) -> Iterator[Result]:
    """Walk ``inputs`` and yield a :class:`Result` per file, locally or on Dask.

    ``skip(path)`` drops paths before they are dispatched (resume).
    """
    items = iter_inputs(inputs, include, exclude)
    if skip is not None:
        items = (x for x in items if not skip(x.path if isinstance(x, WalkError) else x))
    if scheduler:
        return run_dask(items, scheduler, workers=workers, phash=phash, timeout=timeout, func=func)
    return run_local(items, workers=workers, phash=phash, timeout=timeout, func=func)


def extract_many(paths: Iterable[str], *, workers: int | None = None, phash: bool = True,
                 timeout: float | None = None, scheduler=None) -> Iterator[dict]:
    """Metadata records of many files, extracted in parallel, in completion order.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Files, and directories (walked recursively, symlink-loop safe).
    workers : int, optional
        Worker processes (default: all cores); with ``scheduler="local"``, Dask workers.
    phash : bool
        Compute the perceptual hash (the slow part); ``False`` for header speed.
    timeout : float, optional
        Per-file time limit in seconds; a file past it gets a ``timeout`` error record.
    scheduler : str or distributed.Client, optional
        Run on Dask: ``"local"``, a scheduler address, or a client.

    Yields
    ------
    dict
        ``{"path": ..., "metadata": {...}}`` or
        ``{"path": ..., "error": {"type": ..., "message": ...}}``: one per file,
        never an exception for a bad file.

    Examples
    --------
    >>> recs = list(extract_many(["data/samples"], workers=2))     # doctest: +SKIP
    >>> sorted(r["path"] for r in recs if "metadata" in r)[:1]     # doctest: +SKIP
    ['data/samples/avif_alpha.avif']
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    inputs = (os.fsdecode(p) for p in paths)
    for res in iter_results(inputs, workers=workers, phash=phash, timeout=timeout, scheduler=scheduler):
        yield json.loads(res.line)


# -- command line ----------------------------------------------------------------


@dataclass
class Summary:
    """Counts of a batch run, printed at its end."""

    ok: int = 0
    errors: collections.Counter = field(default_factory=collections.Counter)
    skipped: int = 0
    started: float = field(default_factory=time.monotonic)
    wall: float = 0.0

    @property
    def files(self) -> int:
        return self.ok + sum(self.errors.values())

    def add(self, res: Result) -> None:
        if res.kind is None:
            self.ok += 1
        else:
            self.errors[res.kind] += 1

    def text(self) -> str:
        """One line, e.g. ``120 files: 118 ok, 2 errors (corrupt: 2) in 1.5 s, 80.0 files/s``."""
        wall = self.wall or (time.monotonic() - self.started)
        n_err = sum(self.errors.values())
        err = f"{n_err} error{'s' if n_err != 1 else ''}"
        if n_err:
            err += " (" + ", ".join(f"{k}: {v}" for k, v in self.errors.most_common()) + ")"
        rate = self.files / wall if wall > 0 else 0.0
        skipped = f"; {self.skipped} already done, skipped" if self.skipped else ""
        return f"{self.files} files: {self.ok} ok, {err} in {wall:.1f} s, {rate:.1f} files/s{skipped}"


def _progress_bar(enabled: bool, inputs, include, exclude, done: set[str]):
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(unit="file", dynamic_ncols=True, smoothing=0.1, file=sys.stderr)
    stop = threading.Event()

    def count():  # a second walk, only for the total (ETA)
        n = 0
        for x in iter_inputs(inputs, include, exclude):
            if stop.is_set():
                return
            if isinstance(x, WalkError) or x not in done:
                n += 1
                if n % 1000 == 0:
                    bar.total = n
        bar.total = n
        bar.refresh()

    threading.Thread(target=count, daemon=True, name="imgmeta-count").start()
    return bar, stop


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _usage(msg: str) -> int:
    print(f"imgmeta batch: {msg}", file=sys.stderr)
    return 2


def cli_batch(args) -> int:
    """``imgmeta batch``: see ``imgmeta batch --help`` and ``docs/batch.md``.

    Exit status: 0 when at least one file was read (or all were already done), 1
    when no file at all could be read, 2 for a usage error.
    """
    if args.workers is not None and args.workers < 1:
        return _usage("--workers must be at least 1")
    if args.timeout is not None and args.timeout <= 0:
        return _usage("--timeout must be positive")
    if args.resume and args.output == "-":
        return _usage("--resume needs an output file (-o FILE)")
    if args.output != "-" and os.path.isdir(args.output):
        return _usage(f"output {args.output!r} is a directory")
    include, exclude = args.include or (), args.exclude or ()

    try:
        done = read_done(args.output, args.format) if args.resume else set()
        writer = RecordWriter(args.output, args.format, append=args.resume)
    except OSError as e:
        return _usage(f"cannot open output {args.output!r}: {e.strerror or e}")

    summary = Summary(skipped=0)

    out_name = os.path.basename(args.output) if args.output != "-" else None

    def skip(path: str) -> bool:
        if path in done:
            summary.skipped += 1
            return True
        # the output file itself, when it lies inside a walked directory
        return os.path.basename(path) == out_name and _same_file(path, args.output)

    show = not args.no_progress and sys.stderr.isatty()
    bar, stop = _progress_bar(show, args.inputs, include, exclude, done)
    interrupted = False
    try:
        results = iter_results(args.inputs, workers=args.workers, phash=not args.no_phash,
                               timeout=args.timeout, scheduler=args.scheduler,
                               include=include, exclude=exclude, skip=skip)
        for res in results:
            writer.write_line(res.line)
            summary.add(res)
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    except BrokenPipeError:  # `imgmeta batch DIR | head`: the reader has had enough
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except OSError as e:  # the scheduler is unreachable, the output disk is full...
        print(f"imgmeta batch: {e}", file=sys.stderr)
        if summary.files == 0:
            return 1
    finally:
        if bar is not None:
            stop.set()
            bar.close()
        writer.close()
    summary.wall = time.monotonic() - summary.started
    print(f"imgmeta batch: {'interrupted: ' if interrupted else ''}{summary.text()}", file=sys.stderr)
    if interrupted:
        return 130
    if summary.ok == 0 and summary.skipped == 0:
        print("imgmeta batch: no file could be read" if summary.files else "imgmeta batch: no files found",
              file=sys.stderr)
        return 1
    return 0


__all__ = ["Result", "Summary", "extract_many", "iter_results", "run_chunk", "run_dask", "run_local",
           "run_one", "cli_batch", "default_workers"]
