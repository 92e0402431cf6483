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

#: Chunk of images per parallel task in :func:`hash_batch`.
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
