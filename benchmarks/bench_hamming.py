"""Hamming: nearest (k=10) vs FAISS IndexBinaryFlat and numpy popcount; find_duplicates on many hashes.

Quick sizes by default; ``BENCH_FULL=1`` for 1M x 1k and 1M hashes.
"""

import numpy as np
import pytest

from conftest import FULL

N_DB = 1_000_000 if FULL else 200_000
N_Q = 1000 if FULL else 200
N_DUPES = 1_000_000 if FULL else 200_000


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    return (rng.integers(0, 2**64, N_DB, dtype=np.uint64, endpoint=False),
            rng.integers(0, 2**64, N_Q, dtype=np.uint64, endpoint=False))


@pytest.fixture
def one_thread():
    import numba

    t = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(t)


@pytest.mark.benchmark(group="nearest")
def test_nearest_ours(benchmark, data, one_thread):
    from engine.hamming import nearest

    db, q = data
    nearest(q[:2], db[:1000], 10)
    d, _ = benchmark.pedantic(nearest, args=(q, db, 10), rounds=3, warmup_rounds=1)
    faiss = pytest.importorskip("faiss")
    index = faiss.IndexBinaryFlat(64)
    index.add(db.view(np.uint8).reshape(-1, 8))
    assert np.array_equal(index.search(q.view(np.uint8).reshape(-1, 8), 10)[0], d)


@pytest.mark.benchmark(group="nearest")
def test_nearest_faiss(benchmark, data):
    faiss = pytest.importorskip("faiss")
    db, q = data
    faiss.omp_set_num_threads(1)
    index = faiss.IndexBinaryFlat(64)
    index.add(db.view(np.uint8).reshape(-1, 8))
    benchmark.pedantic(index.search, args=(q.view(np.uint8).reshape(-1, 8), 10), rounds=3, warmup_rounds=1)


@pytest.mark.benchmark(group="nearest")
def test_nearest_numpy_popcount(benchmark, data):
    db, q = data
    if not hasattr(np, "bitwise_count"):
        pytest.skip("numpy < 2.0")
    nq = max(1, N_Q // 20)  # 1/20 of the queries: scale the time by 20 to compare

    def brute():
        for h in q[:nq]:
            np.argpartition(np.bitwise_count(db ^ h), 10)[:10]

    benchmark.pedantic(brute, rounds=3, warmup_rounds=1)
    benchmark.extra_info["queries"] = nq


@pytest.mark.benchmark(group="dupes")
def test_find_duplicates(benchmark):
    from engine.bench import bench_dupes  # noqa: F401 - same generator as `imgmeta bench`
    from engine.hamming import find_duplicates

    rng = np.random.default_rng(2)
    h = rng.integers(0, 2**64, N_DUPES, dtype=np.uint64, endpoint=False)
    m = N_DUPES // 10
    h[rng.choice(N_DUPES, m, replace=False)] = h[rng.integers(0, N_DUPES, m)] ^ (
        np.uint64(1) << rng.integers(0, 64, m).astype(np.uint64))
    find_duplicates(h[:5000], 4)
    groups = benchmark.pedantic(find_duplicates, args=(h, 4), rounds=1, warmup_rounds=0)
    assert len(groups) > 0
