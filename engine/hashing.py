"""pHash: the 64-bit DCT perceptual hash of SPEC.md (imagehash's ``phash``).

Placeholder reference implementation (numpy + scipy); the numba core replaces
the internals behind the same functions.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def _dct_matrix(n: int = 32) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))


_D8 = _dct_matrix()[:8]


def hash_luma32(pixels: np.ndarray) -> int:
    """Hash of one 32x32 luma array, as an int (bit 63 = coefficient [0, 0])."""
    coeffs = _D8 @ np.asarray(pixels, dtype=np.float64) @ _D8.T
    bits = (coeffs > np.median(coeffs)).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def phash_image(im: Image.Image, *, exact: bool = False) -> str:
    """pHash of an opened Pillow image (its current frame), as 16 hex digits."""
    luma = im.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    return f"{hash_luma32(np.asarray(luma)):016x}"
