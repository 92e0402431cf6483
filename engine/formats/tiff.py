"""TIFF: the file is itself the EXIF structure (IFD0 = ``image`` group)."""

from __future__ import annotations

from ..quality import dqt_tables, jpeg_quality
from . import Container

FORMAT = "tiff"
PIL_FORMATS = ["TIFF"]

_JPEG_TABLES = 347
_EXTRA_SAMPLES = 338


def matches(head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def quality(im) -> int:
    """JPEG-in-TIFF: the estimate from its JPEGTables; other compressions are lossless (0)."""
    if im.info.get("compression") not in ("jpeg", "tiff_jpeg"):
        return 0
    tables = im.tag_v2.get(_JPEG_TABLES)
    return jpeg_quality(dqt_tables(bytes(tables))) if tables else 0


def inspect(buf, im) -> Container:
    info = im.info
    big = bytes(buf[2:4]) in (b"+\x00", b"\x00+")
    return Container(
        format=FORMAT,
        width=im.width,
        height=im.height,
        icc=bool(info.get("icc_profile")),
        exif=None if big else buf,
        density=None,  # XResolution/ResolutionUnit are IFD0 tags: the EXIF rule reads them
        quality=quality(im),
        alpha=im.mode in ("RGBA", "LA", "RGBa", "La", "PA") or _EXTRA_SAMPLES in im.tag_v2,
        frames=getattr(im, "n_frames", 1),
    )
