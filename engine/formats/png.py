"""PNG (and APNG): iCCP, pHYs, eXIf, tRNS."""

from __future__ import annotations

import struct

from ..errors import ImageTooLargeError
from . import dpi_density, exif_payload, from_image, may_have_alpha

FORMAT = "png"
PIL_FORMATS = ["PNG"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: how many chunks the eXIf search walks at most (an IDAT stream can be split in many)
MAX_CHUNKS = 100_000


#: :func:`precheck` refuses files with more chunks than this, or one per ``_BYTES_PER_CHUNK``
#: bytes of input if that is more (real encoders write IDAT chunks of 8-64 KB)
MIN_CHUNK_BUDGET = 10_000
_BYTES_PER_CHUNK = 1024


def matches(head: bytes) -> bool:
    return head[:8] == _SIGNATURE


def precheck(buf, max_pixels: int = 0) -> None:
    """Refuse a chunk flood (Pillow reads every chunk in Python: 800,000 empty ones take seconds)."""
    budget = max(MIN_CHUNK_BUDGET, len(buf) // _BYTES_PER_CHUNK)
    pos, n, count = 8, len(buf), 0
    while pos + 8 <= n:
        count += 1
        if count > budget:
            raise ImageTooLargeError(f"png file has more than {budget} chunks: refused (structure too costly to read)")
        length, ctype = struct.unpack_from(">I4s", buf, pos)
        if ctype == b"IEND":
            return
        pos += 12 + length


def chunks(buf):
    """Yield ``(type, data_offset, length)`` of each chunk, stopping at the first damaged one."""
    pos, n = 8, len(buf)
    for _ in range(MAX_CHUNKS):
        if pos + 8 > n:
            return
        length, ctype = struct.unpack(">I4s", buf[pos:pos + 8])
        if pos + 12 + length > n:
            return
        yield ctype, pos + 8, length
        if ctype == b"IEND":
            return
        pos += 12 + length


def find_exif(buf) -> bytes | None:
    """The payload of the eXIf chunk, wherever it stands (also after IDAT)."""
    for ctype, off, length in chunks(buf):
        if ctype == b"eXIf":
            return bytes(buf[off:off + length])
    return None


def inspect(buf, im):
    return from_image(
        FORMAT, im,
        exif=exif_payload(im.info.get("exif") or find_exif(buf)),
        density=dpi_density(im.info),  # pHYs in metres, as Pillow converts it
        alpha=may_have_alpha(im),
        frames=getattr(im, "n_frames", 1),
    )
