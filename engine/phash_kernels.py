"""Numba kernels of the pHash: the low-frequency 8x8 corner of a 32x32 DCT-II.

Only the 8 lowest rows of the 32-point DCT-II basis are needed, and the basis is
even or odd about the centre of the signal, so each 32-point transform starts
with butterflies (sums and differences of mirrored samples) and then takes
short dot products: 84 multiplications instead of 256 per transform, about
3,400 per image. The butterflies also make every coefficient that is zero in
exact arithmetic because of a symmetry of the input (a constant image, a
mirror-symmetric row) come out as an exact ``0.0``, as it does in the FFT-based
``scipy.fftpack.dct`` that :mod:`imagehash` uses; that is what makes the hash
of near-constant images (ties at the median) agree bit for bit.

Two implementations of the same arithmetic (same butterflies, same summation
order, plain IEEE double: bit-identical, checked by the tests):

- :func:`hash_batch` (the batch path of ``engine.phash_batch``) works on
  blocks of :data:`BLOCK` images as structure of arrays: the vector lanes hold
  columns of several images in the first pass, (row, image) pairs in the
  second, and images in the median (a 445-comparator selection network,
  :data:`MEDIAN_NET`) and in the bit packing. Indices are unsigned and the
  lane loops long with constant trip counts, which is what lets LLVM vectorise
  them (numba's wrap-around of negative indices and fully unrolled 32-element
  loops do not vectorise). ~3x the scalar kernel.
- :func:`hash_one` / :func:`hash_single` / :func:`hash_batch_scalar`: one image
  at a time (the one-array path, and the reference for the block kernel).

Everything here is ``@njit(cache=True)``: the compiled machine code is stored
beside this file (``__pycache__``), so only the very first process pays the
compile. Importing this module imports numba (about 0.3 s); the rest of the
engine imports it lazily.

Examples
--------
>>> import numpy as np
>>> from engine.phash_kernels import hash_batch
>>> flat = np.full((1, 32, 32), 137, dtype=np.uint8)
>>> f"{hash_batch(flat)[0][0]:016x}"
'8000000000000000'
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .hashing import C_K4, C_MID, C_ODD, TIE_TOLERANCE  # noqa: F401 - one definition, numpy only

#: Chunk of images per parallel task in :func:`hash_batch_scalar`.
BATCH_CHUNK = 256


@njit(cache=True, nogil=True)
def dct8_cols32(x, out, s, d):
    """Low 8 rows of the unnormalised DCT-II of each column of ``x`` (32, 32).

    Writes ``out[k, j] = 2 * sum_i x[i, j] * cos(pi * k * (2i + 1) / 64)`` for
    k < 8 and j < 32 (``scipy.fftpack.dct(x, axis=0)[:8]``). ``x`` is float64;
    ``s`` and ``d`` are (16, 32) float64 scratch.

    Butterflies: ``d_i = x_i - x_{31-i}`` feeds the odd rows, ``s_i = x_i +
    x_{31-i}``; then ``s_i -+ s_{15-i}`` feed rows 2, 6 and 4, 0. Every loop
    writes one array with one accumulator and has a constant inner trip count:
    the shape LLVM vectorises across columns (with several stores per
    iteration it gives up on the aliasing checks). ``fastmath`` stays off: no
    reassociation, no fused multiply-add, plain IEEE results.
    """
    for i in range(16):
        for j in range(32):
            d[i, j] = x[i, j] - x[31 - i, j]
    for i in range(16):
        for j in range(32):
            s[i, j] = x[i, j] + x[31 - i, j]
    for r in range(4):
        for j in range(32):
            acc = 0.0
            for i in range(16):
                acc += C_ODD[r, i] * d[i, j]
            out[2 * r + 1, j] = acc
    # second butterfly on the sums (the differences are consumed: reuse d)
    for i in range(8):
        for j in range(32):
            d[i, j] = s[i, j] - s[15 - i, j]
    for i in range(8):
        for j in range(32):
            d[8 + i, j] = s[i, j] + s[15 - i, j]
    for r in range(2):
        for j in range(32):
            acc = 0.0
            for i in range(8):
                acc += C_MID[r, i] * d[i, j]
            out[4 * r + 2, j] = acc
    # third butterfly on those sums: row 4 and the DC
    for j in range(32):
        acc = 0.0
        for i in range(4):
            acc += C_K4[i] * (d[8 + i, j] - d[15 - i, j])
        out[4, j] = acc
    for j in range(32):
        acc = 0.0
        for i in range(4):
            acc += d[8 + i, j] + d[15 - i, j]
        out[0, j] = 2.0 * acc


@njit(cache=True, nogil=True)
def dct8_cols8(x, out, s, d):
    """:func:`dct8_cols32` for a (32, 8) ``x``: the second, row-wise pass."""
    for i in range(16):
        for j in range(8):
            d[i, j] = x[i, j] - x[31 - i, j]
    for i in range(16):
        for j in range(8):
            s[i, j] = x[i, j] + x[31 - i, j]
    for r in range(4):
        for j in range(8):
            acc = 0.0
            for i in range(16):
                acc += C_ODD[r, i] * d[i, j]
            out[2 * r + 1, j] = acc
    # second butterfly on the sums (the differences are consumed: reuse d)
    for i in range(8):
        for j in range(8):
            d[i, j] = s[i, j] - s[15 - i, j]
    for i in range(8):
        for j in range(8):
            d[8 + i, j] = s[i, j] + s[15 - i, j]
    for r in range(2):
        for j in range(8):
            acc = 0.0
            for i in range(8):
                acc += C_MID[r, i] * d[i, j]
            out[4 * r + 2, j] = acc
    # third butterfly on those sums: row 4 and the DC
    for j in range(8):
        acc = 0.0
        for i in range(4):
            acc += C_K4[i] * (d[8 + i, j] - d[15 - i, j])
        out[4, j] = acc
    for j in range(8):
        acc = 0.0
        for i in range(4):
            acc += d[8 + i, j] + d[15 - i, j]
        out[0, j] = 2.0 * acc


@njit(cache=True, nogil=True)
def kth_smallest(v, k, buf, left, right):
    """The ``k``-th smallest (0-based) of ``v``: branchless three-way quickselect.

    ``buf``, ``left`` and ``right`` are scratch of ``len(v)``. Each pass writes
    every element to both sides and advances one cursor, so the loop has no
    data-dependent branch (random hash inputs mispredict half of them).
    """
    m = v.shape[0]
    for i in range(m):
        buf[i] = v[i]
    while True:
        p = buf[m // 2]
        nl = 0
        nr = 0
        for i in range(m):
            x = buf[i]
            left[nl] = x
            right[nr] = x
            nl += x < p
            nr += x > p
        if k < nl:
            for i in range(nl):
                buf[i] = left[i]
            m = nl
        elif k < m - nr:
            return p
        else:
            k -= m - nr
            for i in range(nr):
                buf[i] = right[i]
            m = nr


@njit(cache=True, nogil=True)
def median64(v, buf, left, right):
    """``numpy.median`` of 64 values: the mean of the 32nd and 33rd smallest."""
    a = kth_smallest(v, 31, buf, left, right)
    n_le = 0
    b = np.inf
    for i in range(64):
        x = v[i]
        n_le += x <= a
        if x > a and x < b:
            b = x
    if n_le >= 33:
        b = a
    return (a + b) / 2.0


@njit(cache=True, nogil=True)
def hash_one(pixels, xf, a, at, dt, s, d, v, buf, left, right):
    """The 64-bit pHash of one 32x32 array, and whether it sits on a near tie.

    ``pixels`` (32, 32) of any real dtype; the rest are float64 scratch:
    ``xf`` (32, 32), ``a`` (8, 32), ``at`` (32, 8), ``dt`` (8, 8), ``s``, ``d``
    (16, 32), ``v``, ``buf``, ``left``, ``right`` (64,). Bit 63 is coefficient [0, 0], then
    row-major. The flag is True when a coefficient lies within
    :data:`TIE_TOLERANCE` of the median without being equal to it, or equals a
    non-zero median (exact zeros come from symmetries and are reproducible).
    """
    for i in range(32):
        for j in range(32):
            xf[i, j] = pixels[i, j]
    dct8_cols32(xf, a, s, d)  # a[k, j]: columns transformed (axis 0)
    for k in range(8):
        for j in range(32):
            at[j, k] = a[k, j]
    dct8_cols8(at, dt, s, d)  # dt[l, k] = D[k, l]: rows transformed (axis 1)
    big = 0.0
    for k in range(8):
        for l in range(8):
            x = dt[l, k]
            v[k * 8 + l] = x
            big = max(big, abs(x))
    med = median64(v, buf, left, right)
    tol = TIE_TOLERANCE * big
    h = np.uint64(0)
    fragile = False
    for n in range(64):
        x = v[n]
        if x > med:
            h |= np.uint64(1) << np.uint64(63 - n)
        diff = abs(x - med)
        if (diff <= tol and x != med) or (x == med and med != 0.0):
            fragile = True
    return h, fragile


def _median_network() -> np.ndarray:
    """Comparators (lo, hi) that put the 32nd and 33rd smallest of 64 at 31, 32.

    Batcher's odd-even merge sort of 64 (543 comparators), minus every
    comparator that cannot move a value into position 31 or 32: 445 remain.
    """
    pairs = []
    p = 1
    while p < 64:
        k = p
        while k >= 1:
            for j in range(k % p, 64 - k, 2 * k):
                for i in range(min(k, 64 - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    need, keep = {31, 32}, []
    for a, b in reversed(pairs):
        if a in need or b in need:
            keep.append((a, b))
            need |= {a, b}
    return np.array(keep[::-1], dtype=np.uint64)


#: The selection network of :func:`_median_network`, as a (445, 2) array.
MEDIAN_NET = _median_network()

#: Images per block of :func:`_hash_block`: the DCT passes run on sub-blocks of
#: :data:`SUB_BLOCK` images (working set in L1), the median network and the
#: bit packing on all :data:`BLOCK` lanes at once.
BLOCK = 128
SUB_BLOCK = 4

_U = np.uint64
_L1 = SUB_BLOCK * 32  # lanes of the first pass: (image, column)
_L2 = SUB_BLOCK * 8  # lanes of the second pass: (row k, image)


@njit(cache=True, nogil=True)
def _dct8_lanes(t1, t2, m, dst, d0, ds):
    """The 32-point DCT-II rows 0..7 after the first butterfly, over ``m`` lanes.

    ``t1[i * m + q]`` holds the differences ``x_i - x_{31-i}`` and ``t2`` the
    sums ``x_i + x_{31-i}`` (i < 16) of lane ``q``; row ``k`` of the result
    goes to ``dst[d0 + k * ds + q]``. The butterflies and the summation order
    are :func:`dct8_cols32`'s, so the result is bit-identical to it; but every
    loop runs over the lanes with unsigned indices and a constant trip count
    of at least 32: numba's wrap-around of negative indices, and short inner
    loops, both keep LLVM from vectorising (AVX-512: 8 lanes per instruction).
    ``t1`` is overwritten.
    """
    for r in range(_U(4)):
        o = d0 + (_U(2) * r + _U(1)) * ds
        for q in range(m):
            acc = 0.0
            for i in range(_U(16)):
                acc += C_ODD[r, i] * t1[i * m + q]
            dst[o + q] = acc
    # second butterfly on the sums: differences into t1[0:8], sums into t1[8:16]
    for i in range(_U(8)):
        o = i * m
        p = (_U(15) - i) * m
        for q in range(m):
            t1[o + q] = t2[o + q] - t2[p + q]
    for i in range(_U(8)):
        o = i * m
        p = (_U(15) - i) * m
        for q in range(m):
            t1[_U(8) * m + o + q] = t2[o + q] + t2[p + q]
    for r in range(_U(2)):
        o = d0 + (_U(4) * r + _U(2)) * ds
        for q in range(m):
            acc = 0.0
            for i in range(_U(8)):
                acc += C_MID[r, i] * t1[i * m + q]
            dst[o + q] = acc
    o = d0 + _U(4) * ds
    for q in range(m):
        acc = 0.0
        for i in range(_U(4)):
            acc += C_K4[i] * (t1[(_U(8) + i) * m + q] - t1[(_U(15) - i) * m + q])
        dst[o + q] = acc
    for q in range(m):
        acc = 0.0
        for i in range(_U(4)):
            acc += t1[(_U(8) + i) * m + q] + t1[(_U(15) - i) * m + q]
        dst[d0 + q] = 2.0 * acc


@njit(cache=True, nogil=True)
def _hash_block(flat, first, nb, w, out, fragile, t1, t2, a, g, v, med, tol, hb, fb):
    """Hash images ``first .. first + nb`` of ``flat`` (N * 1024), nb <= BLOCK.

    Structure of arrays, per sub-block of SUB_BLOCK images: the first
    butterfly reads the pixels (converting to float64) into lanes ``(b, j)``
    (column j of image b), the first pass writes ``a[k, (b, j)]``; the second
    butterfly gathers those rows (stride 32) into lanes ``(k, b)``, the second
    pass writes coefficient (k, l) of image s0 + b to ``g[l * 8 + k, s0 + b]``.
    Then, over all nb images at once: median of each column of ``g`` by a
    selection network (:data:`MEDIAN_NET`) on a copy ``v``, bits and near-tie
    flags. Lanes of a short last sub-block hold stale but finite values
    (scratch is zeroed once): their results are never stored.
    Scratch: t1, t2 (16 * _L1), a (8 * _L1), g, v (64 * BLOCK), med, tol
    (BLOCK) float64; hb (BLOCK) uint64; fb (BLOCK) bool.
    """
    nbu = _U(nb)
    firstu = _U(first)
    L1 = _U(_L1)
    L2 = _U(_L2)
    bl = _U(BLOCK)
    for s0 in range(_U(0), nbu, _U(SUB_BLOCK)):
        sb = min(_U(SUB_BLOCK), nbu - s0)
        # first butterfly, from the pixels: lanes (b, j)
        for b in range(sb):
            src = (firstu + s0 + b) * _U(1024)
            for j in range(w):  # w = 32, unknown to the compiler: not unrolled
                for i in range(_U(16)):
                    x0 = np.float64(flat[src + i * _U(32) + j])
                    x1 = np.float64(flat[src + (_U(31) - i) * _U(32) + j])
                    t1[i * L1 + b * _U(32) + j] = x0 - x1
                    t2[i * L1 + b * _U(32) + j] = x0 + x1
        _dct8_lanes(t1, t2, L1, a, _U(0), L1)
        # second butterfly: a[k, (b, j)] = a[(k * SUB_BLOCK + b) * 32 + j] -> lanes mm = (k, b)
        for i in range(_U(16)):
            for mm in range(L2):
                x0 = a[mm * _U(32) + i]
                x1 = a[mm * _U(32) + _U(31) - i]
                t1[i * L2 + mm] = x0 - x1
                t2[i * L2 + mm] = x0 + x1
        # rows l of the result, lanes (k, b): g[(l * 8 + k) * BLOCK + s0 + b]
        _dct8_lanes(t1, t2, L2, a, _U(0), L2)  # a[l * L2 + k * SUB_BLOCK + b]
        for l in range(_U(8)):
            for k in range(_U(8)):
                o = (l * _U(8) + k) * bl + s0
                p = l * L2 + k * _U(SUB_BLOCK)
                for b in range(_U(SUB_BLOCK)):
                    g[o + b] = a[p + b]
    for t in range(_U(64) * bl):
        v[t] = g[t]
    # median: selection network on the rows of v, all images at once
    for c in range(MEDIAN_NET.shape[0]):
        pa = MEDIAN_NET[c, 0] * bl
        pb = MEDIAN_NET[c, 1] * bl
        for b in range(bl):
            x = v[pa + b]
            y = v[pb + b]
            v[pa + b] = min(x, y)
            v[pb + b] = max(x, y)
    for b in range(bl):
        med[b] = (v[_U(31) * bl + b] + v[_U(32) * bl + b]) / 2.0
        tol[b] = 0.0
        hb[b] = 0
        fb[b] = False
    for t in range(_U(64)):
        for b in range(bl):
            tol[b] = max(tol[b], abs(g[t * bl + b]))
    for b in range(bl):
        tol[b] = TIE_TOLERANCE * tol[b]
    for t in range(_U(64)):
        shift = _U(63) - ((t % _U(8)) * _U(8) + t // _U(8))  # row t = l * 8 + k is bit k * 8 + l
        for b in range(bl):
            x = g[t * bl + b]
            m = med[b]
            hb[b] |= _U(x > m) << shift
            fb[b] |= (abs(x - m) <= tol[b] and x != m) or (x == m and m != 0.0) or x != x
    for b in range(nbu):
        out[firstu + b] = hb[b]
        fragile[firstu + b] = fb[b]


@njit(cache=True, nogil=True)
def _hash_range(arrays, start, stop, out, fragile):
    xf = np.empty((32, 32))
    a = np.empty((8, 32))
    s = np.empty((16, 32))
    d = np.empty((16, 32))
    at = np.empty((32, 8))
    dt = np.empty((8, 8))
    v = np.empty(64)
    buf = np.empty(64)
    left = np.empty(64)
    right = np.empty(64)
    for i in range(start, stop):
        out[i], fragile[i] = hash_one(arrays[i], xf, a, at, dt, s, d, v, buf, left, right)


@njit(cache=True, parallel=True)
def hash_batch(arrays):
    """pHash of every (32, 32) array of ``arrays`` (N, 32, 32), in parallel.

    Returns ``(hashes, fragile)``: a uint64 array and a bool array (see
    :func:`hash_one`; a NaN coefficient is fragile too). Blocks of
    :data:`BLOCK` images (:func:`_hash_block`, structure of arrays) are the
    parallel tasks. Bit-identical to :func:`hash_single`.
    """
    n = arrays.shape[0]
    out = np.empty(n, dtype=np.uint64)
    fragile = np.empty(n, dtype=np.bool_)
    flat = arrays.reshape(n * 1024)
    w = _U(arrays.shape[2])
    nblocks = (n + BLOCK - 1) // BLOCK
    for c in prange(nblocks):
        t1 = np.zeros(16 * _L1)
        t2 = np.zeros(16 * _L1)
        a = np.zeros(8 * _L1)
        g = np.zeros(64 * BLOCK)
        v = np.empty(64 * BLOCK)
        med = np.empty(BLOCK)
        tol = np.empty(BLOCK)
        hb = np.empty(BLOCK, dtype=np.uint64)
        fb = np.empty(BLOCK, dtype=np.bool_)
        first = c * BLOCK
        _hash_block(flat, first, min(BLOCK, n - first), w, out, fragile, t1, t2, a, g, v, med, tol, hb, fb)
    return out, fragile


@njit(cache=True, parallel=True)
def hash_batch_scalar(arrays):
    """:func:`hash_batch` one image at a time (the former kernel; a reference).

    Returns ``(hashes, fragile)``: a uint64 array and a bool array (see
    :func:`hash_one`). Work is split in chunks of :data:`BATCH_CHUNK` images,
    each with its own scratch memory.
    """
    n = arrays.shape[0]
    out = np.empty(n, dtype=np.uint64)
    fragile = np.empty(n, dtype=np.bool_)
    nchunks = (n + BATCH_CHUNK - 1) // BATCH_CHUNK
    for c in prange(nchunks):
        _hash_range(arrays, c * BATCH_CHUNK, min(n, (c + 1) * BATCH_CHUNK), out, fragile)
    return out, fragile


@njit(cache=True)
def hash_single(pixels):
    """pHash of one (32, 32) array, ``(uint64, fragile)``; no thread pool start-up."""
    out = np.empty(1, dtype=np.uint64)
    fragile = np.empty(1, dtype=np.bool_)
    _hash_range(pixels.reshape((1, 32, 32)), 0, 1, out, fragile)
    return out[0], fragile[0]
