"""Hamming search: against numpy popcount and brute force."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import MetadataError
from engine.hamming import (
    InvalidHashError,
    as_hashes,
    chunk_layout,
    find_duplicates,
    hamming_matrix,
    nearest,
    phash_distance,
    to_hex,
    within,
)

u64 = st.integers(0, 2**64 - 1)


def popcount_matrix(a, b):
    return np.bitwise_count(a[:, None] ^ b[None, :]).astype(np.uint8)


def random_hashes(rng, n):
    return rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)


def planted(rng, n, frac=0.3, max_flips=4):
    """Random hashes, a fraction of them replaced by copies of others with up to ``max_flips`` bits flipped."""
    h = random_hashes(rng, n)
    m = int(n * frac)
    src, dst = rng.integers(0, n, m), rng.choice(n, m, replace=False)
    noise = np.zeros(m, np.uint64)
    for _ in range(max_flips):
        use = rng.random(m) < 0.6
        noise[use] |= np.uint64(1) << rng.integers(0, 64, m).astype(np.uint64)[use]
    h[dst] = h[src] ^ noise
    return h


def components_brute(h, r):
    n = len(h)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    m = popcount_matrix(h, h) <= r
    for i, j in zip(*np.nonzero(np.triu(m, 1))):
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) >= 2), key=lambda g: g[0])


# --- phash_distance -----------------------------------------------------------------

@given(u64, u64)
def test_distance_equals_popcount(a, b):
    want = bin(a ^ b).count("1")
    assert phash_distance(a, b) == want
    assert phash_distance(f"{a:016x}", f"{b:016X}") == want


@pytest.mark.parametrize("bad", ["", "xyz", "12345678901234567", "0x", "ab cd", None, 1.5, -1, 2**64, True])
def test_distance_rejects_malformed(bad):
    with pytest.raises(InvalidHashError, match="invalid pHash") as e:
        phash_distance(bad, "00")
    assert isinstance(e.value, MetadataError) and isinstance(e.value, ValueError)


def test_hex_round_trip():
    h = as_hashes(["c86a53d0fc59b11b", "0x1", 5])
    assert to_hex(h) == ["c86a53d0fc59b11b", "0000000000000001", "0000000000000005"]


# --- matrix / nearest / within --------------------------------------------------------

def test_matrix_equals_numpy_popcount():
    rng = np.random.default_rng(0)
    a, b = random_hashes(rng, 137), random_hashes(rng, 301)
    assert np.array_equal(hamming_matrix(a, b), popcount_matrix(a, b))
    assert hamming_matrix(a).shape == (137, 137)
    assert hamming_matrix([], b).shape == (0, 301)


@pytest.mark.parametrize("k", [1, 5, 10, 40])
def test_nearest_equals_brute_force(k):
    rng = np.random.default_rng(k)
    db = planted(rng, 20_000, frac=0.2, max_flips=6)
    q = np.concatenate([db[rng.integers(0, len(db), 30)], random_hashes(rng, 30)])
    d, i = nearest(q, db, k)
    full = popcount_matrix(q, db).astype(np.int64)
    order = np.lexsort((np.broadcast_to(np.arange(len(db)), full.shape), full), axis=1)[:, :k]
    assert np.array_equal(d, np.take_along_axis(full, order, 1))
    assert np.array_equal(i, order)  # ties in database order
    assert d.dtype == np.int32 and i.dtype == np.int64


def test_nearest_caps_k_and_validates():
    d, i = nearest(["00"], ["01", "03"], k=5)
    assert d.tolist() == [[1, 2]] and i.tolist() == [[0, 1]]
    with pytest.raises(ValueError):
        nearest(["00"], ["01"], k=0)


def test_nearest_same_as_faiss():
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(5)
    db, q = random_hashes(rng, 50_000), random_hashes(rng, 50)
    index = faiss.IndexBinaryFlat(64)
    index.add(db.view(np.uint8).reshape(-1, 8))
    want_d, _ = index.search(q.view(np.uint8).reshape(-1, 8), 10)
    got_d, _ = nearest(q, db, 10)
    assert np.array_equal(got_d, want_d)


@pytest.mark.parametrize("r", [0, 3, 12])
def test_within_equals_brute_force(r):
    rng = np.random.default_rng(r)
    db = planted(rng, 3000, frac=0.5, max_flips=8)
    q = db[:40]
    lims, idx, dist = within(q, db, r)
    full = popcount_matrix(q, db)
    for n in range(len(q)):
        want = np.flatnonzero(full[n] <= r)
        assert idx[lims[n]:lims[n + 1]].tolist() == want.tolist()
        assert dist[lims[n]:lims[n + 1]].tolist() == full[n, want].tolist()


# --- find_duplicates ----------------------------------------------------------------

@pytest.mark.parametrize("n,r", [(200, 0), (200, 4), (200, 10), (3000, 1), (3000, 4), (6000, 4), (6000, 7), (6000, 0)])
def test_find_duplicates_equals_brute_force(n, r):
    rng = np.random.default_rng(n + r)
    h = planted(rng, n, frac=0.3, max_flips=max(r, 1))
    assert find_duplicates(h, r) == components_brute(h, r)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=60), st.integers(0, 20))
def test_find_duplicates_property(values, r):
    h = np.array(values, dtype=np.uint64)
    # chain neighbours so there are groups to find
    h = np.concatenate([h, h ^ np.uint64(1), h ^ np.uint64(3 << 40)])
    assert find_duplicates(h, r) == components_brute(h, r)


def test_multi_index_path_is_used_and_exact(monkeypatch):
    import engine.hamming as hm

    rng = np.random.default_rng(9)
    h = planted(rng, 2500, frac=0.4, max_flips=3)
    want = components_brute(h, 3)
    monkeypatch.setattr(hm, "BRUTE_FORCE_MAX", 10)
    assert hm.find_duplicates(h, 3) == want
    assert hm.find_duplicates(h, 1) == components_brute(h, 1)  # 32-bit chunks: argsort path


def test_chunk_layout_covers_64_bits():
    for r in range(0, 40):
        chunks = chunk_layout(r)
        assert len(chunks) == r + 1 and sum(w for _, w in chunks) == 64
        assert chunks[-1][0] == 0


def test_find_duplicates_edge_cases():
    assert find_duplicates([], 4) == []
    assert find_duplicates(["ff"], 4) == []
    assert find_duplicates(["00", "ff", "00"], 0) == [[0, 2]]
    assert find_duplicates(["00", "ffffffffffffffff"], 64) == [[0, 1]]
    with pytest.raises(ValueError):
        find_duplicates(["00"], -1)


def test_cli_distance():
    run = lambda *a: subprocess.run([sys.executable, "-m", "engine", "distance", *a],  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    ok = run("c86a53d0fc59b11b", "c86a53d0fc59b11a")
    assert ok.returncode == 0 and ok.stdout == "1\n"
    bad = run("c86a53d0fc59b11b", "zz")
    assert bad.returncode == 2 and "invalid pHash 'zz'" in bad.stderr
