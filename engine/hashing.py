"""pHash: the 64-bit DCT perceptual hash of SPEC.md (imagehash's ``phash``).

The definition: first frame as stored, Pillow ``convert("L")``, ``resize((32,
32), LANCZOS)``, unnormalised 2-D DCT-II, top-left 8x8 corner, each bit is
"coefficient > median of the 64", row-major, first bit most significant.

Two decode paths lead to the 32x32 luma array:

exact (the default)
    full decode, exactly imagehash's steps: bit-identical to
    ``str(imagehash.phash(img))``.
reduced-scale JPEG decode (opt-in: ``IMGMETA_PHASH_FAST=1`` or
:data:`FAST_DECODE` = True, and only without ``exact=True``)
    libjpeg decodes in the DCT domain at 1/2, 1/4 or 1/8 scale, grey only
    (Pillow's ``draft("L", ...)``), keeping at least :data:`DRAFT_MARGIN` x 32
    pixels on each side, then the same Lanczos resize. 2-4x faster on camera
    JPEGs, but measured equal to imagehash on only ~85% of photographs (the
    others 2 bits off; see ``docs/phash.md``): below SPEC's 99% bound, hence
    off by default. The reference rounds its 32x32 image to uint8, so a
    perturbation of 0.05 grey levels already moves ~10% of those pixels by one
    level, and photographs have DCT coefficients within tens of units of the
    median.

The DCT, median and bit packing run in the numba kernels of
:mod:`engine.phash_kernels` (imported on first use) for :func:`phash_batch`
and :func:`hash_luma32`. One image (:func:`phash_image`, :func:`phash`,
``engine.extract``) takes a plain-numpy copy of the same arithmetic,
bit-identical, unless numba is already loaded in the process: a one-file CLI
call then skips numba's import and cache load (~0.7 s). Hashes are ``uint64``
inside and 16 lower-case hex digits at the edges.

Examples
--------
>>> import numpy as np
>>> from engine.hashing import phash_batch, hash_luma32
>>> flat = np.full((2, 32, 32), 137, dtype=np.uint8)
>>> [f"{h:016x}" for h in phash_batch(flat)]
['8000000000000000', '8000000000000000']
>>> f"{hash_luma32(flat[0]):016x}"
'8000000000000000'
>>> from engine.hashing import phash
>>> phash("../shared/samples/jolla.jpg")          # doctest: +SKIP
'c86a53d0fc59b11b'
"""

from __future__ import annotations

import os
import sys
from typing import Iterable

import numpy as np
from PIL import Image

from .errors import MetadataError

#: The reduced-scale path decodes JPEGs at a reduced scale only while both
#: sides stay at least this many times 32 pixels (libjpeg: 1/2, 1/4, 1/8).
DRAFT_MARGIN = 8

#: Opt-in reduced-scale JPEG decoding for ``exact=False`` (env
#: ``IMGMETA_PHASH_FAST=1``). Off by default: it does not meet SPEC's bound.
FAST_DECODE = os.environ.get("IMGMETA_PHASH_FAST", "") not in ("", "0")


def _two_cos(k: int, i: int, n: int) -> float:
    return 2.0 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))


#: Odd rows k = 1, 3, 5, 7 of the 32-point DCT-II basis (x 2), over the 16
#: differences of mirrored samples (the numba kernels use the same arrays).
C_ODD = np.array([[_two_cos(k, i, 32) for i in range(16)] for k in (1, 3, 5, 7)])
#: Rows k = 2, 6 over the 8 differences of the first butterfly's sums.
C_MID = np.array([[_two_cos(k, i, 32) for i in range(8)] for k in (2, 6)])
#: Row k = 4 over the 4 differences of the second butterfly's sums.
C_K4 = np.array([_two_cos(4, i, 32) for i in range(4)])

#: A coefficient closer than this (relative to the largest) to the median, but
#: not equal to it, is a near tie: the bit depends on rounding, and the
#: floating-point summation order of scipy's FFT-based DCT may decide it
#: differently. Such hashes are flagged ("fragile") and recomputed with scipy
#: when it is installed. Rounding errors here are about 1e-15 relative.
TIE_TOLERANCE = 1e-9


#: All 8 rows of the butterflied DCT as one (8, 16) table: row k's weights on
#: its inputs (16 differences for odd k, 8 second differences for k = 2, 6,
#: 4 third differences for k = 4, 4 third sums with weight 1 for the DC; zero
#: padding after). ``_ROW_INPUT[k]`` says which of those input stacks row k uses.
_C_ALL = np.zeros((8, 16))
_C_ALL[1::2] = C_ODD
_C_ALL[2, :8], _C_ALL[6, :8] = C_MID
_C_ALL[4, :4] = C_K4
_C_ALL[0, :4] = 1.0
_ROW_INPUT = np.array([3, 0, 1, 0, 2, 0, 1, 0])
_C_ALL_T = np.ascontiguousarray(_C_ALL.T)[:, :, None]  # (i, k, 1)


def _dct8_np(x: np.ndarray) -> np.ndarray:
    """Low 8 rows of the unnormalised DCT-II along axis 0 of ``x`` (32, M).

    The butterflies and the summation order of
    :func:`engine.phash_kernels.dct8_cols32`, in numpy: each row is
    ``acc = 0.0; acc += w[i] * input[i]`` for i = 0, 1, ..., 15 as 16
    element-wise additions (no BLAS, no pairwise summation; ``np.cumsum``
    would do too but is 20x slower along a leading axis). Weights are exact
    (1.0 for the DC), and the zero padding after a short row only adds
    ``+0.0`` (which can turn a ``-0.0`` into ``0.0``, invisible to the hash).
    Bit-identical hashes and near-tie flags; tested against the kernel.
    """
    m = x.shape[1]
    inp = np.zeros((16, 4, m))  # (i, input stack, lane)
    np.subtract(x[:16], x[31:15:-1], out=inp[:, 0])
    s = x[:16] + x[31:15:-1]
    np.subtract(s[:8], s[15:7:-1], out=inp[:8, 1])
    s2 = s[:8] + s[15:7:-1]
    np.subtract(s2[:4], s2[7:3:-1], out=inp[:4, 2])
    np.add(s2[:4], s2[7:3:-1], out=inp[:4, 3])
    p = _C_ALL_T * inp[:, _ROW_INPUT]  # (step i, row k, lane)
    out = np.zeros((8, m))
    for i in range(16):  # left to right, one rounding per step, as in the kernel
        np.add(out, p[i], out=out)
    out[0] *= 2.0
    return out


def _hash_numpy(pixels: np.ndarray) -> tuple[int, bool]:
    """pHash of one 32x32 array in plain numpy: ``(hash, fragile)``.

    Bit-identical to :func:`engine.phash_kernels.hash_one` (same butterflies,
    same summation order, IEEE double without fused multiply-add), without
    importing numba: the one-image path of :func:`phash_image`, which spares a
    CLI call the ~0.7 s of numba's import and cache load. ``fragile`` marks a
    near tie, to be recomputed with scipy like the kernel's.
    """
    x = np.asarray(pixels, dtype=np.float64)
    a = _dct8_np(x)  # a[k, j]: columns transformed
    dt = _dct8_np(np.ascontiguousarray(a.T))  # dt[l, k] = D[k, l]
    v = dt.T.ravel()  # v[k * 8 + l] = D[k, l]
    srt = np.sort(v)
    med = (srt[31] + srt[32]) / 2.0
    tol = TIE_TOLERANCE * np.abs(v).max()  # NaN if any coefficient is NaN: fragile too
    bits = v > med
    fragile = bool(tol != tol or ((np.abs(v - med) <= tol) & (v != med)).any()
                   or (med != 0.0 and (v == med).any()))
    return int.from_bytes(np.packbits(bits).tobytes(), "big"), fragile


def _kernels():
    from . import phash_kernels  # numba: imported on first use only

    return phash_kernels


def _reference_hash(pixels: np.ndarray) -> int:
    """imagehash's own arithmetic (scipy.fftpack), for near-tie inputs."""
    import scipy.fftpack

    x = np.asarray(pixels, dtype=np.float64)
    coeffs = scipy.fftpack.dct(scipy.fftpack.dct(x, axis=0), axis=1)[:8, :8]
    bits = (coeffs > np.median(coeffs)).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def _fix_ties(arrays: np.ndarray, hashes: np.ndarray, fragile: np.ndarray) -> np.ndarray:
    """Recompute near-tie hashes with scipy, when it is installed.

    A coefficient within rounding distance of the median (a transpose-symmetric
    image, say) gets its bit from the last binary digit of the sum, and
    scipy's FFT-based DCT sums in another order than the kernel. Photographs
    practically never hit this; without scipy the kernel's value stands.
    """
    if fragile.any():
        try:
            import scipy.fftpack  # noqa: F401
        except ImportError:  # pragma: no cover - scipy ships with imagehash
            return hashes
        for i in np.flatnonzero(fragile):
            hashes[i] = _reference_hash(arrays[i])
    return hashes


def phash_batch(arrays) -> np.ndarray:
    """pHash of N prepared 32x32 luma arrays, in parallel.

    Parameters
    ----------
    arrays : array_like, shape (N, 32, 32)
        uint8 or floating-point luma values (for imagehash's result, the
        output of ``img.convert("L").resize((32, 32), Image.LANCZOS)``).

    Returns
    -------
    numpy.ndarray of uint64, shape (N,)
        Bit 63 is DCT coefficient [0, 0], then row-major.

    Examples
    --------
    >>> import numpy as np
    >>> x = (np.arange(32)[:, None] * np.arange(32)[None, :]).astype(np.uint8)
    >>> f"{phash_batch(x[None])[0]:016x}"
    '813e71676c5952b5'
    """
    arrays = np.asarray(arrays)
    if arrays.ndim != 3 or arrays.shape[1:] != (32, 32):
        raise ValueError(f"phash_batch wants an (N, 32, 32) array, got shape {arrays.shape}")
    if arrays.dtype != np.uint8 and arrays.dtype != np.float64:
        arrays = arrays.astype(np.float64)  # exact for every integer and float32 input
    arrays = np.ascontiguousarray(arrays)
    if arrays.shape[0] == 0:
        return np.empty(0, dtype=np.uint64)
    k = _kernels()
    if arrays.shape[0] == 1:  # no thread-pool start for one image
        h, fragile = k.hash_single(arrays[0])
        hashes, fragile = np.array([h], dtype=np.uint64), np.array([fragile])
    else:
        hashes, fragile = k.hash_batch(arrays)
    return _fix_ties(arrays, hashes, fragile)


def hash_luma32(pixels: np.ndarray) -> int:
    """Hash of one 32x32 luma array, as an int (bit 63 = coefficient [0, 0])."""
    return int(phash_batch(np.asarray(pixels)[None])[0])


def _draft_for_hash(im: Image.Image) -> None:
    """Switch a not-yet-loaded JPEG to reduced-scale greyscale decoding.

    Only when libjpeg can scale by at least 1/2 and both sides keep
    ``DRAFT_MARGIN * 32`` pixels; otherwise the image is left as it is.
    """
    if im.format != "JPEG" or not getattr(im, "tile", None):
        return
    side = 32 * DRAFT_MARGIN
    w, h = im.size
    if min(w // side, h // side) < 2:
        return
    im.draft("L", (side, side))


def luma32(im: Image.Image, *, exact: bool = False) -> np.ndarray:
    """The 32x32 uint8 luma array that the hash is taken of.

    With :data:`FAST_DECODE` on, ``exact=False`` lets a JPEG decode at reduced
    scale (this changes ``im.size`` to the decoded size: read the stored size
    before).
    """
    if FAST_DECODE and not exact:
        _draft_for_hash(im)
    small = im.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    return np.asarray(small)


def phash_image(im: Image.Image, *, exact: bool = False) -> str:
    """pHash of an opened Pillow image (its current frame), as 16 hex digits.

    Parameters
    ----------
    im : PIL.Image.Image
        Opened, ideally not yet loaded (so a JPEG can take the reduced-scale
        path when :data:`FAST_DECODE` is on; ``im.size`` is then the decoded
        size afterwards).
    exact : bool
        Always decode at full size, whatever :data:`FAST_DECODE` says: the
        result is bit-identical to ``imagehash.phash``.

    Decoder exceptions (``OSError`` ...) propagate unchanged: the callers
    (:func:`phash`, :func:`engine.extract`) turn them into ``MetadataError``.

    Examples
    --------
    >>> from PIL import Image
    >>> phash_image(Image.new("RGB", (64, 48), "gray"))
    '8000000000000000'
    """
    pixels = luma32(im, exact=exact)
    if "engine.phash_kernels" in sys.modules:  # numba already loaded (batch, server): use it
        return f"{hash_luma32(pixels):016x}"
    h, fragile = _hash_numpy(pixels)  # one image: no numba import (~0.7 s per process)
    if fragile:
        h = int(_fix_ties(pixels[None], np.array([h], dtype=np.uint64), np.array([True]))[0])
    return f"{h:016x}"


def phash(source, *, exact: bool = False) -> str:
    """pHash of an image file, as 16 lower-case hex digits.

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file object
    exact : bool
        Decode at full size even when :data:`FAST_DECODE` is on. By default
        (``FAST_DECODE`` off) every path is bit-identical to
        ``str(imagehash.phash(img))``.

    Raises
    ------
    engine.errors.MetadataError
        ``UnsupportedFormatError``, ``CorruptFileError`` or
        ``ImageTooLargeError``, as :func:`engine.extract` does.

    Examples
    --------
    >>> phash("../shared/samples/Canon_40D.jpg")      # doctest: +SKIP
    'd25725691b24c4bf'
    """
    from .metadata import decode_pixels, opened

    with opened(source) as (buf, im, c):
        return decode_pixels(buf, im, c, lambda im2: phash_image(im2, exact=exact))


def phash_many(sources: Iterable, *, exact: bool = False) -> list:
    """``phash`` of each source; a :class:`MetadataError` instance where one failed."""
    out = []
    for src in sources:
        try:
            out.append(phash(src, exact=exact))
        except MetadataError as e:
            out.append(e)
    return out


def cli_hash(args) -> int:
    """``imgmeta hash FILE... [--exact]``: ``HASH  PATH`` lines, errors on stderr."""
    status = 0
    for path in args.files:
        try:
            h = phash(path, exact=args.exact)
        except MetadataError as e:
            print(f"imgmeta: {path}: {e.kind}: {e}", file=sys.stderr)
            status = 1
            continue
        print(f"{h}  {path}", flush=False)
    return status


__all__ = ["phash", "phash_image", "phash_batch", "hash_luma32", "luma32", "cli_hash", "DRAFT_MARGIN", "FAST_DECODE"]
