"""TIFF: the file is itself the EXIF structure (IFD0 = ``image`` group).

Pages are counted by :func:`count_pages`, a bounded walk of the IFD chain
(Pillow's ``n_frames`` parses every page and checks for loops in a list, which
is quadratic in the number of pages).
"""

from __future__ import annotations

import struct

from ..errors import ImageTooLargeError
from ..quality import dqt_tables, jpeg_quality
from . import ALPHA_MODES, from_image

FORMAT = "tiff"
PIL_FORMATS = ["TIFF"]

_JPEG_TABLES = 347
_EXTRA_SAMPLES = 338


def matches(head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


#: strips or tiles of the first page: Pillow builds a Python tile list at open and decodes
#: uncompressed tiles one by one (a 6 MB 14000x14000 TIFF of 765,625 16x16 tiles, all pointing at
#: the same bytes, took 4.6 s and 460 MB). One-row strips of a 65,535-row image stay under it.
MAX_STRIPS = 100_000
_STRIP_TAGS = (273, 279, 324, 325)  # StripOffsets, StripByteCounts, TileOffsets, TileByteCounts


def precheck(buf, max_pixels: int = 0) -> None:
    """Refuse a strip/tile flood in the first page before Pillow builds its tile list."""
    if len(buf) < 16:
        return
    bo = "<" if bytes(buf[:2]) == b"II" else ">"
    if struct.unpack_from(bo + "H", buf, 2)[0] == 43:
        offset = struct.unpack_from(bo + "Q", buf, 8)[0]
        count_fmt, count_size, entry_fmt, entry_size = "Q", 8, "HHQ", 20
    else:
        offset = struct.unpack_from(bo + "I", buf, 4)[0]
        count_fmt, count_size, entry_fmt, entry_size = "H", 2, "HHI", 12
    if offset + count_size > len(buf):
        return
    entries = struct.unpack_from(bo + count_fmt, buf, offset)[0]
    first = offset + count_size
    for i in range(min(entries, (len(buf) - first) // entry_size)):
        tag, _, count = struct.unpack_from(bo + entry_fmt, buf, first + i * entry_size)
        if tag in _STRIP_TAGS and count > MAX_STRIPS:
            raise ImageTooLargeError(
                f"tiff page has {count} strips or tiles, over the limit of {MAX_STRIPS}: refused "
                "(structure too costly to read)")


def count_pages(buf, limit: int) -> int:
    """IFDs in the chain from the header, classic or BigTIFF; stops at ``limit + 1``, a loop or damage."""
    n = len(buf)
    if n < 8:
        return 0
    bo = "<" if bytes(buf[:2]) == b"II" else ">"
    big = struct.unpack_from(bo + "H", buf, 2)[0] == 43
    if big:
        if n < 16:
            return 0
        offset = struct.unpack_from(bo + "Q", buf, 8)[0]
        count_fmt, count_size, entry_size, next_fmt, next_size = "Q", 8, 20, "Q", 8
    else:
        offset = struct.unpack_from(bo + "I", buf, 4)[0]
        count_fmt, count_size, entry_size, next_fmt, next_size = "H", 2, 12, "I", 4
    seen: set[int] = set()
    while 0 < offset and offset + count_size <= n and offset not in seen and len(seen) <= limit:
        seen.add(offset)
        entries = struct.unpack_from(bo + count_fmt, buf, offset)[0]
        nxt = offset + count_size + entries * entry_size
        if nxt + next_size > n:
            break
        offset = struct.unpack_from(bo + next_fmt, buf, nxt)[0]
    return len(seen)


def quality(im) -> int:
    """JPEG-in-TIFF: the estimate from its JPEGTables; other compressions are lossless (0)."""
    if im.info.get("compression") not in ("jpeg", "tiff_jpeg"):
        return 0
    tables = im.tag_v2.get(_JPEG_TABLES)
    if not isinstance(tables, (bytes, bytearray)):
        return 0
    try:
        return jpeg_quality(dqt_tables(bytes(tables)))
    except (ValueError, IndexError, KeyError, struct.error, ZeroDivisionError):  # damaged tables: no estimate
        return 0


def inspect(buf, im):
    from .. import config

    big = bytes(buf[2:4]) in (b"+\x00", b"\x00+")
    return from_image(
        FORMAT, im,
        exif=None if big else buf,  # the file is the EXIF structure; XResolution is an IFD0 tag
        quality=quality(im),
        alpha=im.mode in ALPHA_MODES or _EXTRA_SAMPLES in im.tag_v2,
        frames=max(1, count_pages(buf, config.MAX_FRAMES)),
    )
