"""pHash: end to end on camera JPEGs vs imagehash.phash; the kernel vs imagehash's DCT+median step.

Run: ``pytest benchmarks/bench_phash.py --benchmark-enable`` and compare the
groups' medians (same process, same inputs).
"""

import io

import numpy as np
import pytest
from PIL import Image

from conftest import FULL, SHARED

imagehash = pytest.importorskip("imagehash")
scipy_fftpack = pytest.importorskip("scipy.fftpack")

JPEGS = [p for p in (SHARED / "iphone_hdr_YES.jpg", SHARED / "jolla.jpg") if p.is_file()]


@pytest.fixture(scope="module", params=JPEGS or [None], ids=[p.name for p in JPEGS] or ["synthetic"])
def jpeg(request):
    if request.param is not None:
        return request.param.read_bytes()
    from engine.bench import camera_jpegs

    return camera_jpegs()[0][1]


@pytest.mark.benchmark(group="end-to-end")
def test_e2e_imagehash(benchmark, jpeg):
    benchmark(lambda: str(imagehash.phash(Image.open(io.BytesIO(jpeg)))))


@pytest.mark.benchmark(group="end-to-end")
def test_e2e_ours_exact(benchmark, jpeg):
    from engine.hashing import phash

    assert benchmark(phash, jpeg, exact=True) == str(imagehash.phash(Image.open(io.BytesIO(jpeg))))


@pytest.mark.benchmark(group="end-to-end")
def test_e2e_ours_reduced_scale(benchmark, jpeg, monkeypatch):
    import engine.hashing as hashing

    monkeypatch.setattr(hashing, "FAST_DECODE", True)
    benchmark(hashing.phash, jpeg)


N = 200_000 if FULL else 20_000


@pytest.fixture(scope="module")
def arrays():
    return np.random.default_rng(0).integers(0, 256, (N, 32, 32)).astype(np.uint8)


def _kernel_rounds(benchmark, fn, arrays, threads: int) -> None:
    """``fn(arrays)`` under pytest-benchmark with numba limited to ``threads`` threads."""
    import numba

    fn(arrays[:300])  # compile / load from cache outside the timing
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        benchmark.pedantic(fn, args=(arrays,), rounds=5, warmup_rounds=1)
    finally:
        numba.set_num_threads(before)
    benchmark.extra_info["hashes_per_s"] = N / benchmark.stats.stats.median


@pytest.mark.benchmark(group="kernel")
def test_kernel_one_thread(benchmark, arrays):
    from engine.hashing import phash_batch

    _kernel_rounds(benchmark, phash_batch, arrays, 1)


@pytest.mark.benchmark(group="kernel")
def test_kernel_two_threads(benchmark, arrays):
    """Both cores (hashes/s scale only as far as the machine has an idle second core)."""
    from engine.hashing import phash_batch

    _kernel_rounds(benchmark, phash_batch, arrays, 2)


@pytest.mark.benchmark(group="kernel")
def test_scalar_kernel_one_thread(benchmark, arrays):
    """The previous one-image-at-a-time kernel (``hash_batch_scalar``), for the ratio."""
    from engine.phash_kernels import hash_batch_scalar

    _kernel_rounds(benchmark, hash_batch_scalar, arrays, 1)


@pytest.mark.benchmark(group="one-image")
def test_one_image_numpy_path(benchmark, arrays):
    """``phash_image``'s numba-free path on one prepared array (what a CLI call pays)."""
    from engine.hashing import _hash_numpy

    benchmark(_hash_numpy, arrays[0])


@pytest.mark.benchmark(group="one-image")
def test_one_image_numba_path(benchmark, arrays):
    from engine.hashing import hash_luma32

    hash_luma32(arrays[0])
    benchmark(hash_luma32, arrays[0])


@pytest.mark.benchmark(group="kernel")
def test_imagehash_dct_median_step(benchmark, arrays):
    m = 2000

    def step():
        for a in arrays[:m]:
            d = scipy_fftpack.dct(scipy_fftpack.dct(a, axis=0), axis=1)[:8, :8]
            d > np.median(d)

    benchmark.pedantic(step, rounds=3, warmup_rounds=1)
    benchmark.extra_info["hashes_per_s"] = m / benchmark.stats.stats.median
