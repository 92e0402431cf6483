"""ICO: a directory of images; Pillow (and so imgmeta) reports the largest one.

The directory's sizes are one byte each (0 meaning 256), but the embedded PNG
or BMP says its own, which is what Pillow decodes: :func:`embedded_pixels`
reads those headers so that the pixel guard sees the real size.
"""

from __future__ import annotations

import struct

from ..errors import ImageTooLargeError
from . import from_image, may_have_alpha

_PNG = b"\x89PNG\r\n\x1a\n"

FORMAT = "ico"
PIL_FORMATS = ["ICO"]


def matches(head: bytes) -> bool:
    return head[:4] == b"\x00\x00\x01\x00" and len(head) >= 6 and head[4:6] != b"\x00\x00"


def embedded_pixels(buf) -> int:
    """The largest pixel count any directory entry's embedded PNG/BMP header declares."""
    return embedded_sizes(buf)[0]


def embedded_sizes(buf) -> tuple[int, int]:
    """``(most pixels, longest side)`` over the embedded PNG/BMP headers of the directory entries."""
    n = len(buf)
    if n < 6:
        return 0, 0
    count = struct.unpack_from("<H", buf, 4)[0]
    most = side = 0
    for i in range(count):
        entry = 6 + 16 * i
        if entry + 16 > n:
            break
        offset = struct.unpack_from("<I", buf, entry + 12)[0]
        if offset + 24 <= n and bytes(buf[offset:offset + 8]) == _PNG:
            w, h = struct.unpack_from(">II", buf, offset + 16)
        elif offset + 16 <= n:
            header = struct.unpack_from("<I", buf, offset)[0]
            if header == 12:
                w, h = struct.unpack_from("<HH", buf, offset + 4)
            else:
                w, h = (abs(v) for v in struct.unpack_from("<ii", buf, offset + 4))
            h //= 2  # a DIB in an ICO holds the XOR image and the AND mask
        else:
            continue
        most, side = max(most, w * h), max(side, w, h)
    return most, side


def precheck(buf, max_pixels: int) -> None:
    """Pillow decodes an ICO while opening it: the pixel guard must run before."""
    from .. import config

    pixels, side = embedded_sizes(buf)
    if pixels > max_pixels:
        raise ImageTooLargeError(
            f"ico image embeds an image of {pixels} pixels, over the limit of {max_pixels} (IMGMETA_MAX_PIXELS)")
    if side > config.MAX_DIMENSION:
        raise ImageTooLargeError(
            f"ico image embeds an image with a side of {side}, over the limit of {config.MAX_DIMENSION} "
            "(IMGMETA_MAX_DIMENSION)")


def inspect(buf, im):
    return from_image(FORMAT, im, icc=False, alpha=may_have_alpha(im), pixels=embedded_pixels(buf))
