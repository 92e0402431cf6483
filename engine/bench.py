"""``imgmeta bench``: throughput of the pHash and Hamming kernels beside the installed peers.

Each line is the median of a few runs, with the peer measured in the same
process on the same input, one thread each unless the line says otherwise.
Inputs are generated at run time (random hashes, random 32x32 arrays, a
synthetic 3 MP JPEG when the shared camera samples are not next to the repo).

Examples
--------
$ imgmeta bench --quick        # about 20 s
$ imgmeta bench                # the README table: about 1-2 minutes
"""

from __future__ import annotations

import io
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
CAMERA_JPEGS = ("iphone_hdr_YES.jpg", "jolla.jpg")


def median_time(fn, repeat: int = 5) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def camera_jpegs() -> list:
    """(name, bytes) of >= 3 MP camera JPEGs: the shared samples, else a synthetic one."""
    found = [(n, (SHARED / n).read_bytes()) for n in CAMERA_JPEGS if (SHARED / n).is_file()]
    if found:
        return found
    from PIL import Image

    yy, xx = np.mgrid[0:1536, 0:2048]
    g = (128 + 60 * np.sin(xx / 97.0) + 50 * np.cos(yy / 53.0 + xx / 211.0)).clip(0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(np.stack([g, np.roll(g, 40, 1), 255 - g], -1)).save(buf, "JPEG", quality=92)
    return [("synthetic_3mp.jpg", buf.getvalue())]


def _peer(name):
    try:
        return __import__(name)
    except ImportError:
        return None


def bench_end_to_end(rows: list, repeat: int) -> None:
    from PIL import Image

    from . import hashing

    imagehash = _peer("imagehash")
    for name, data in camera_jpegs():
        ours = median_time(lambda: hashing.phash(data, exact=True), repeat)
        old = hashing.FAST_DECODE
        hashing.FAST_DECODE = True
        try:
            fast = median_time(lambda: hashing.phash(data), repeat)
        finally:
            hashing.FAST_DECODE = old
        peer = median_time(lambda: imagehash.phash(Image.open(io.BytesIO(data))), repeat) if imagehash else None
        rows.append((f"pHash end to end, {name}", "images/s", 1 / ours, "imagehash.phash", peer and 1 / peer))
        rows.append(("  same, opt-in reduced-scale decode (not exact)", "images/s", 1 / fast,
                     "imagehash.phash", peer and 1 / peer))


def bench_kernel(rows: list, n: int, repeat: int) -> None:
    import numba

    from . import phash_kernels
    from .hashing import phash_batch

    x = np.random.default_rng(0).integers(0, 256, (n, 32, 32)).astype(np.uint8)
    threads = numba.get_num_threads()
    phash_kernels.hash_batch(x[:300])
    numba.set_num_threads(1)
    try:
        one = median_time(lambda: phash_batch(x), repeat)
    finally:
        numba.set_num_threads(threads)
    allc = median_time(lambda: phash_batch(x), repeat)
    scipy_peer = None
    if _peer("scipy") is not None:
        import scipy.fftpack

        m = min(n, 5000)

        def imagehash_step():  # imagehash.phash after the resize: DCT, median, compare
            for a in x[:m]:
                d = scipy.fftpack.dct(scipy.fftpack.dct(a, axis=0), axis=1)[:8, :8]
                d > np.median(d)

        scipy_peer = m / median_time(imagehash_step, max(1, repeat // 2))
    numba.set_num_threads(1)
    try:
        phash_kernels.hash_batch_scalar(x[:300])
        scalar = median_time(lambda: phash_kernels.hash_batch_scalar(x), repeat)
    finally:
        numba.set_num_threads(threads)
    from .hashing import _hash_numpy

    m1 = 2000
    numpy_one = m1 / median_time(lambda: [_hash_numpy(a) for a in x[:m1]], max(1, repeat // 2))
    rows.append(("pHash kernel on 32x32 arrays, 1 thread", "hashes/s", n / one, "imagehash DCT+median (scipy)", scipy_peer))
    rows.append(("  same", "hashes/s", n / one, "previous scalar kernel (hash_batch_scalar)", n / scalar))
    rows.append((f"  same, {threads} threads", "hashes/s", n / allc, "", None))
    rows.append(("  one image at a time, numpy path (phash_image, no numba)", "hashes/s", numpy_one,
                 "imagehash DCT+median (scipy)", scipy_peer))


def bench_nearest(rows: list, n_db: int, n_q: int, repeat: int) -> None:
    import numba

    from .hamming import nearest

    rng = np.random.default_rng(1)
    db = rng.integers(0, 2**64, n_db, dtype=np.uint64, endpoint=False)
    q = rng.integers(0, 2**64, n_q, dtype=np.uint64, endpoint=False)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        ours = median_time(lambda: nearest(q, db, 10), repeat)
        d_ours, _ = nearest(q, db, 10)
    finally:
        numba.set_num_threads(threads)
    pairs = n_db * n_q
    faiss = _peer("faiss")
    if faiss is not None:
        faiss.omp_set_num_threads(1)
        index = faiss.IndexBinaryFlat(64)
        index.add(db.view(np.uint8).reshape(-1, 8))
        qb = q.view(np.uint8).reshape(-1, 8)
        peer = median_time(lambda: index.search(qb, 10), repeat)
        same = np.array_equal(index.search(qb, 10)[0], d_ours)
        rows.append((f"nearest k=10, {n_db:,} x {n_q:,}, 1 thread", "pairs/s", pairs / ours,
                     f"FAISS IndexBinaryFlat (same distances: {same})", pairs / peer))
    if hasattr(np, "bitwise_count"):
        nq = max(1, n_q // 20)

        def brute():
            for h in q[:nq]:
                d = np.bitwise_count(db ^ h)
                np.argpartition(d, 10)[:10]

        rows.append(("  same", "pairs/s", pairs / ours, "numpy bitwise_count + argpartition",
                     n_db * nq / median_time(brute, max(1, repeat // 2))))


def bench_dupes(rows: list, n: int) -> None:
    from .hamming import find_duplicates

    rng = np.random.default_rng(2)
    h = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    m = n // 10  # 10% near-duplicates of others, up to 4 bits flipped
    dst, src = rng.choice(n, m, replace=False), rng.integers(0, n, m)
    noise = np.zeros(m, np.uint64)
    for _ in range(4):
        noise |= np.where(rng.random(m) < 0.5, np.uint64(1) << rng.integers(0, 64, m).astype(np.uint64), np.uint64(0))
    h[dst] = h[src] ^ noise
    find_duplicates(h[:5000], 4)
    t = median_time(lambda: find_duplicates(h, 4), 1)
    groups = len(find_duplicates(h, 4))
    rows.append((f"find_duplicates {n:,} hashes, distance 4 ({groups:,} groups), 2 threads max",
                 "s", t, "", None))


def run(quick: bool = False) -> list:
    rows: list = []
    repeat = 3 if quick else 5
    bench_end_to_end(rows, repeat)
    bench_kernel(rows, 20_000 if quick else 200_000, repeat)
    bench_nearest(rows, 100_000 if quick else 1_000_000, 100 if quick else 1000, repeat)
    bench_dupes(rows, 100_000 if quick else 1_000_000)
    return rows


def format_table(rows: list) -> str:
    out = ["| what | ours | unit | peer | peer's | ratio |", "|---|---|---|---|---|---|"]
    for what, unit, ours, peer_name, peer in rows:
        ratio = f"{ours / peer:.1f}x" if peer else ""
        fmt = (lambda v: f"{v:,.2f}") if unit == "s" else (lambda v: f"{v:,.0f}")
        out.append(f"| {what} | {fmt(ours)} | {unit} | {peer_name} | {fmt(peer) if peer else ''} | {ratio} |")
    return "\n".join(out)


def cli_bench(args) -> int:
    """``imgmeta bench [--quick]``: print the throughput table (Markdown)."""
    rows = run(quick=getattr(args, "quick", False))
    print(f"machine: {machine()}")
    print(format_table(rows))
    return 0
