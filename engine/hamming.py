"""Hamming distances between 64-bit pHashes: one pair, all pairs, k-nearest,
radius search and near-duplicate groups.

Hashes are ``uint64`` inside; every function also takes 16-hex-digit strings
(the ``pHash`` field of a metadata object), Python ints, or sequences of
either. The kernels are numba (``llvm.ctpop``: one ``popcnt`` per pair, SIMD
where the CPU has it), parallel over queries and blocked over the database so
a block stays in cache; nothing allocates an N x M matrix except
:func:`hamming_matrix`, which is asked for one.

Examples
--------
>>> from engine.hamming import phash_distance, nearest, find_duplicates
>>> phash_distance("c86a53d0fc59b11b", "c86a53d0fc59b11a")
1
>>> db = ["0000000000000000", "00000000000000ff", "ffffffffffffffff", "0000000000000001"]
>>> d, i = nearest(["0000000000000003"], db, k=2)
>>> d.tolist(), i.tolist()
([[1, 2]], [[3, 0]])
>>> find_duplicates(db, max_distance=1)
[[0, 3]]
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from .errors import MetadataError


class InvalidHashError(MetadataError):
    """A pHash that is not 1 to 16 hex digits (or an int outside 0 .. 2**64 - 1)."""

    kind = "invalid_hash"


# ---------------------------------------------------------------------------
# input coercion


def parse_hash(h) -> int:
    """One hash as an int: 16 (or fewer) hex digits, optionally ``0x``-prefixed, or an int.

    Examples
    --------
    >>> parse_hash("C86A53D0FC59B11B") == 0xc86a53d0fc59b11b
    True
    >>> parse_hash("xyz")
    Traceback (most recent call last):
    ...
    engine.hamming.InvalidHashError: invalid pHash 'xyz': expected up to 16 hex digits
    """
    if isinstance(h, (bool, np.bool_)):
        raise InvalidHashError(f"invalid pHash {h!r}: expected a hex string or an int")
    if isinstance(h, (int, np.integer)):
        v = int(h)
        if not 0 <= v < 1 << 64:
            raise InvalidHashError(f"invalid pHash {h!r}: an int hash must be in 0 .. 2**64 - 1")
        return v
    if isinstance(h, bytes):
        h = h.decode("ascii", "replace")
    if not isinstance(h, str):
        raise InvalidHashError(f"invalid pHash {h!r}: expected a hex string or an int, got {type(h).__name__}")
    s = h.strip()
    if s[:2].lower() == "0x":
        s = s[2:]
    if not 1 <= len(s) <= 16 or any(c not in "0123456789abcdefABCDEF" for c in s):
        raise InvalidHashError(f"invalid pHash {h!r}: expected up to 16 hex digits")
    return int(s, 16)


def as_hashes(hashes) -> np.ndarray:
    """A 1-D contiguous ``uint64`` array from hashes in any accepted form.

    Examples
    --------
    >>> as_hashes(["ff", 1, "0x10"]).tolist()
    [255, 1, 16]
    """
    if isinstance(hashes, np.ndarray) and hashes.dtype == np.uint64:
        return np.ascontiguousarray(hashes.ravel())
    if isinstance(hashes, np.ndarray) and hashes.dtype.kind in "iu":
        if hashes.size and hashes.min() < 0:
            raise InvalidHashError("invalid pHash: negative integers in the hash array")
        return np.ascontiguousarray(hashes.ravel().astype(np.uint64))
    if isinstance(hashes, (str, bytes, int, np.integer)):
        hashes = [hashes]
    return np.fromiter((parse_hash(h) for h in hashes), dtype=np.uint64)


def to_hex(hashes) -> list:
    """``uint64`` hashes as 16-hex-digit strings.

    >>> to_hex(np.array([1, 2**63], dtype=np.uint64))
    ['0000000000000001', '8000000000000000']
    """
    return [f"{int(h):016x}" for h in np.asarray(hashes, dtype=np.uint64).ravel()]


# ---------------------------------------------------------------------------
# kernels


@intrinsic
def popcount64(typingctx, x):
    """Number of set bits of a uint64 (``llvm.ctpop.i64``)."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


@njit(cache=True, nogil=True, inline="always")
def _dist(a, b):
    return np.int64(popcount64(a ^ b))


@njit(cache=True, parallel=True)
def _matrix(a, b, out):
    for i in prange(a.shape[0]):
        x = a[i]
        for j in range(b.shape[0]):
            out[i, j] = popcount64(x ^ b[j])


#: Database entries per cache block of :func:`nearest` / :func:`within` (64 KiB).
DB_BLOCK = 8192
#: Queries handled together against one database block.
QUERY_BLOCK = 16
#: Entries whose distances are reduced (min) before a candidate scan.
SCAN_CHUNK = 256


@njit(cache=True, nogil=True)
def _insert(best_d, best_i, k, d, idx):
    """Insert (d, idx) into the sorted top-k lists (ties: earlier index first)."""
    pos = k - 1
    while pos > 0 and best_d[pos - 1] > d:
        best_d[pos] = best_d[pos - 1]
        best_i[pos] = best_i[pos - 1]
        pos -= 1
    best_d[pos] = d
    best_i[pos] = idx


@njit(cache=True, nogil=True)
def _chunk_min(x, chunk):
    """Smallest distance from ``x`` to the hashes of ``chunk`` (vectorised).

    Loops in this module run over a slice from 0: with ``range(c0, c1)`` numba
    cannot prove the index non-negative and LLVM does not vectorise the loop
    (8x slower).
    """
    m = np.uint64(65)
    for j in range(chunk.shape[0]):
        m = min(m, popcount64(x ^ chunk[j]))
    return np.int64(m)


@njit(cache=True, nogil=True)
def _scan_chunk(x, chunk, offset, bd, bi, k):
    thr = bd[k - 1]
    for j in range(chunk.shape[0]):
        d = _dist(x, chunk[j])
        if d < thr:
            _insert(bd, bi, k, d, offset + j)
            thr = bd[k - 1]


@njit(cache=True, parallel=True)
def _nearest(q, db, k, out_d, out_i):
    nq = q.shape[0]
    n = db.shape[0]
    nqb = (nq + QUERY_BLOCK - 1) // QUERY_BLOCK
    for qb in prange(nqb):
        q0 = qb * QUERY_BLOCK
        q1 = min(nq, q0 + QUERY_BLOCK)
        for qi in range(q0, q1):
            for t in range(k):
                out_d[qi, t] = 65
                out_i[qi, t] = -1
        for b0 in range(0, n, DB_BLOCK):
            b1 = min(n, b0 + DB_BLOCK)
            for qi in range(q0, q1):
                x = q[qi]
                thr = out_d[qi, k - 1]
                for c0 in range(b0, b1, SCAN_CHUNK):
                    chunk = db[c0:min(b1, c0 + SCAN_CHUNK)]
                    if _chunk_min(x, chunk) < thr:
                        _scan_chunk(x, chunk, c0, out_d[qi], out_i[qi], k)
                        thr = out_d[qi, k - 1]


@njit(cache=True, parallel=True)
def _within_count(q, db, r, counts):
    for i in prange(q.shape[0]):
        x = q[i]
        c = 0
        for j in range(db.shape[0]):
            c += _dist(x, db[j]) <= r
        counts[i] = c


@njit(cache=True, parallel=True)
def _within_fill(q, db, r, lims, idx, dist):
    for i in prange(q.shape[0]):
        x = q[i]
        p = lims[i]
        for j in range(db.shape[0]):
            d = _dist(x, db[j])
            if d <= r:
                idx[p] = j
                dist[p] = d
                p += 1


# union-find over int64 parents (path halving, union by index: smaller root wins)


@njit(cache=True, nogil=True, inline="always")
def _find(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True, nogil=True, inline="always")
def _union(parent, a, b):
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra != rb:
        if ra < rb:
            parent[rb] = ra
        else:
            parent[ra] = rb


@njit(cache=True, nogil=True)
def _dupes_brute(h, r, parent):
    n = h.shape[0]
    for i in range(n - 1):
        x = h[i]
        rest = h[i + 1:]
        if _chunk_min(x, rest) <= r:
            for j in range(rest.shape[0]):
                if _dist(x, rest[j]) <= r:
                    _union(parent, i, i + 1 + j)


@njit(cache=True, nogil=True)
def _bucket_order(keys, nbuckets):
    """Counting sort of small integer keys: (order, bucket start offsets)."""
    counts = np.zeros(nbuckets + 1, dtype=np.int64)
    for k in keys:
        counts[k + 1] += 1
    for b in range(nbuckets):
        counts[b + 1] += counts[b]
    starts = counts.copy()
    order = np.empty(keys.shape[0], dtype=np.int64)
    for i in range(keys.shape[0]):
        k = keys[i]
        order[counts[k]] = i
        counts[k] += 1
    return order, starts


@njit(cache=True, nogil=True)
def _dupes_in_runs(h, order, starts, r, parent):
    """All pairs within each run ``order[starts[b]:starts[b+1]]`` (same chunk value)."""
    sub = np.empty(0, dtype=np.uint64)
    for b in range(starts.shape[0] - 1):
        s0 = starts[b]
        s1 = starts[b + 1]
        m = s1 - s0
        if m < 2:
            continue
        if sub.shape[0] < m:
            sub = np.empty(2 * m, dtype=np.uint64)
        for t in range(m):
            sub[t] = h[order[s0 + t]]
        for t in range(m - 1):
            x = sub[t]
            rest = sub[t + 1:m]
            if _chunk_min(x, rest) <= r:
                for u in range(rest.shape[0]):
                    if _dist(x, rest[u]) <= r:
                        _union(parent, order[s0 + t], order[s0 + t + 1 + u])


@njit(cache=True, nogil=True)
def _runs_of_sorted(keys_sorted):
    """Start offsets of runs of equal values in a sorted array (with the end)."""
    n = keys_sorted.shape[0]
    starts = np.empty(n + 1, dtype=np.int64)
    nb = 0
    for i in range(n):
        if i == 0 or keys_sorted[i] != keys_sorted[i - 1]:
            starts[nb] = i
            nb += 1
    starts[nb] = n
    return starts[: nb + 1]


# ---------------------------------------------------------------------------
# public API


def phash_distance(a, b) -> int:
    """Hamming distance of two pHashes (ImageKit SDKs' ``pHashDistance``).

    Parameters
    ----------
    a, b : str or int
        16 hex digits (fewer are zero-extended on the left; ``0x`` allowed) or ints.

    Raises
    ------
    InvalidHashError
        (a ``MetadataError``, so a ``ValueError``) for anything else.

    Examples
    --------
    >>> phash_distance("f06a9e1c2d1d6a3b", "f06a9e1c2d1d6a3b")
    0
    >>> phash_distance(0, 2**64 - 1)
    64
    """
    return (parse_hash(a) ^ parse_hash(b)).bit_count()


def hamming_matrix(a, b=None) -> np.ndarray:
    """All pairwise distances, as a ``(len(a), len(b))`` uint8 matrix.

    ``b`` defaults to ``a``. This is the one function that allocates N x M:
    use :func:`nearest`, :func:`within` or :func:`find_duplicates` for large
    sets.

    Examples
    --------
    >>> hamming_matrix(["00", "0f"], ["01", "ff"]).tolist()
    [[1, 8], [3, 4]]
    """
    a = as_hashes(a)
    b = a if b is None else as_hashes(b)
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.uint8)
    if out.size:
        _matrix(a, b, out)
    return out


def nearest(queries, database, k: int = 10):
    """The ``k`` nearest database hashes of each query (exhaustive, exact).

    Parameters
    ----------
    queries, database : hashes (uint64 array, hex strings or ints)
    k : int
        Neighbours per query; capped at ``len(database)``.

    Returns
    -------
    distances : numpy.ndarray of int32, shape (len(queries), k)
    indices : numpy.ndarray of int64, shape (len(queries), k)
        Nearest first; equal distances in database order.

    Examples
    --------
    >>> d, i = nearest(["ff"], ["00", "fe", "ff", "0f"], k=3)
    >>> d.tolist(), i.tolist()
    ([[0, 1, 4]], [[2, 1, 3]])
    """
    q = as_hashes(queries)
    db = as_hashes(database)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    k = min(int(k), db.shape[0])
    out_d = np.empty((q.shape[0], k), dtype=np.int32)
    out_i = np.empty((q.shape[0], k), dtype=np.int64)
    if q.shape[0] and k:
        _nearest(q, db, k, out_d, out_i)
    return out_d, out_i


def within(queries, database, max_distance: int):
    """Radius search: every database hash within ``max_distance`` of each query.

    Returns
    -------
    lims : numpy.ndarray of int64, shape (len(queries) + 1,)
    indices : numpy.ndarray of int64
    distances : numpy.ndarray of int32
        The matches of query ``i`` are ``indices[lims[i]:lims[i + 1]]`` (in
        database order) at ``distances[lims[i]:lims[i + 1]]``: FAISS's
        ``range_search`` layout, with an inclusive radius.

    Examples
    --------
    >>> lims, idx, dist = within(["ff", "00"], ["00", "fe", "ff"], 1)
    >>> lims.tolist(), idx.tolist(), dist.tolist()
    ([0, 2, 3], [1, 2, 0], [1, 0, 0])
    """
    q = as_hashes(queries)
    db = as_hashes(database)
    r = int(max_distance)
    counts = np.zeros(q.shape[0], dtype=np.int64)
    if q.shape[0] and db.shape[0]:
        _within_count(q, db, r, counts)
    lims = np.zeros(q.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=lims[1:])
    idx = np.empty(lims[-1], dtype=np.int64)
    dist = np.empty(lims[-1], dtype=np.int32)
    if lims[-1]:
        _within_fill(q, db, r, lims, idx, dist)
    return lims, idx, dist


#: Below this many distinct hashes, :func:`find_duplicates` compares all pairs.
BRUTE_FORCE_MAX = 4096


def chunk_layout(max_distance: int) -> list:
    """Multi-index hashing: ``max_distance + 1`` bit ranges ``(shift, width)`` covering 64 bits.

    Two hashes within ``max_distance`` agree exactly on at least one range
    (pigeonhole).

    >>> chunk_layout(4)
    [(51, 13), (38, 13), (25, 13), (12, 13), (0, 12)]
    """
    m = max_distance + 1
    widths = [64 // m + (1 if i < 64 % m else 0) for i in range(m)]
    out, top = [], 64
    for w in widths:
        top -= w
        out.append((top, w))
    return out


def find_duplicates(hashes, max_distance: int = 4) -> list:
    """Groups of near-duplicate hashes: connected components of "distance <= max_distance".

    Parameters
    ----------
    hashes : hashes (uint64 array, hex strings or ints)
    max_distance : int
        Link two hashes when their distance is at most this (0 = identical).

    Returns
    -------
    list of list of int
        Each group's indices ascending, groups ordered by their first index;
        only groups of two or more.

    Notes
    -----
    Identical hashes are merged first. With many distinct hashes and
    ``max_distance < 32`` the candidate pairs come from multi-index hashing:
    the 64 bits are cut into ``max_distance + 1`` ranges and only hashes that
    agree exactly on one range are compared. Memory is a few arrays of N
    (about 50 bytes per hash); time is near-linear for spread-out hashes and
    quadratic within one dense cluster of hashes that share all their ranges.

    Examples
    --------
    >>> find_duplicates(["ff00", "ff01", "0000", "ff03", "ff00"], max_distance=1)
    [[0, 1, 3, 4]]
    """
    h = as_hashes(hashes)
    r = int(max_distance)
    if r < 0:
        raise ValueError(f"max_distance must be >= 0, got {max_distance}")
    n = h.shape[0]
    if n < 2:
        return []
    uniq, inverse = np.unique(h, return_inverse=True)
    nu = uniq.shape[0]
    parent = np.arange(nu, dtype=np.int64)
    if r >= 64:
        parent[:] = 0
    elif nu <= BRUTE_FORCE_MAX or r >= 32:
        _dupes_brute(uniq, r, parent)
    elif r > 0:
        for shift, width in chunk_layout(r):
            keys = (uniq >> np.uint64(shift)) & np.uint64((1 << width) - 1)
            if width <= 22:
                order, starts = _bucket_order(keys.astype(np.int64), 1 << width)
            else:
                order = np.argsort(keys, kind="stable")
                starts = _runs_of_sorted(keys[order])
            _dupes_in_runs(uniq, order, starts, r, parent)
    labels = _roots(parent)[inverse.ravel()]
    return _groups(labels)


@njit(cache=True)
def _roots(parent):
    out = np.empty_like(parent)
    for i in range(parent.shape[0]):
        out[i] = _find(parent, i)
    return out


def _groups(labels: np.ndarray) -> list:
    """Indices grouped by label, groups of >= 2, ordered by first index."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    cuts = np.flatnonzero(np.diff(sorted_labels)) + 1
    groups = [g for g in np.split(order, cuts) if g.shape[0] >= 2]
    groups.sort(key=lambda g: g[0])
    return [g.tolist() for g in groups]


def cli_distance(args) -> int:
    """``imgmeta distance HASH HASH``: print the Hamming distance."""
    try:
        print(phash_distance(args.a, args.b))
    except InvalidHashError as e:
        print(f"imgmeta: {e}", file=sys.stderr)
        return 2
    return 0


__all__ = [
    "InvalidHashError",
    "parse_hash",
    "as_hashes",
    "to_hex",
    "phash_distance",
    "hamming_matrix",
    "nearest",
    "within",
    "find_duplicates",
    "chunk_layout",
    "cli_distance",
]
