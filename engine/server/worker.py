"""Metadata extraction in a process pool, off the event loop.

A worker runs :func:`engine.extract` and serialises its answer to JSON bytes
there, so the server process only stores bytes and later serves them as they are.

Examples
--------
>>> info = extract_info(b"not an image at all")
>>> info.metadata is None, b'"reason":"unsupported"' in info.error
(True, True)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import multiprocessing
import os
import threading
from concurrent.futures.process import BrokenProcessPool

from .errors import error_body
from .storage import ExtractInfo


def _dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def extract_info(source: bytes | str | os.PathLike) -> ExtractInfo:
    """Run :func:`engine.extract` on ``source`` and shape the result for storage.

    Never raises for a bad input: a :class:`~engine.errors.MetadataError` becomes an
    ``error`` JSON body (``message``, ``help``, ``reason`` = the error's ``kind``).
    """
    from engine.errors import MetadataError
    from engine.metadata import extract

    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    try:
        meta = extract(source)
    except MetadataError as e:
        return ExtractInfo.failed(error_body(f"metadata is not available for this file: {e}", reason=e.kind))
    return ExtractInfo(
        metadata=_dumps(meta),
        format=meta.get("format"),
        width=meta.get("width"),
        height=meta.get("height"),
        has_alpha=meta.get("hasTransparency"),
    )


def _warm() -> int:
    import engine.warmup  # noqa: F401  (imports and first-extraction costs paid at start, not on the first upload)

    return os.getpid()


class ExtractPool:
    """A process pool for :func:`extract_info`, with a time limit and self-repair.

    Parameters
    ----------
    workers : int
        Number of processes (spawned, never forked from the threaded server).
    timeout : float
        Seconds one extraction may take; past it the file is recorded with a
        ``timeout`` error (the worker finishes in the background).
    """

    def __init__(self, workers: int, timeout: float):
        self.workers = max(1, workers)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"))

    def warm_up(self) -> None:
        """Start every worker and import the engine in it."""
        list(self._pool.map(_warm_n, range(self.workers)))

    async def run(self, source) -> ExtractInfo:
        """Extract ``source`` (a path or bytes) in a worker."""
        loop = asyncio.get_running_loop()
        pool = self._pool
        try:
            fut = loop.run_in_executor(pool, extract_info, source)
            return await asyncio.wait_for(fut, self.timeout)
        except asyncio.TimeoutError:
            return ExtractInfo.failed(error_body(
                f"metadata is not available for this file: extraction ran past {self.timeout:g} s",
                reason="timeout"))
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            pool.shutdown(wait=False, cancel_futures=True)
            return ExtractInfo.failed(error_body(
                "metadata is not available for this file: the extractor crashed on it", reason="crash"))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _warm_n(_i: int) -> int:
    import time

    pid = _warm()
    time.sleep(0.05)  # keep this worker busy so the next task goes to another one
    return pid
