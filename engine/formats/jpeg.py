"""JPEG (and MPO, which is JPEG with extra frames): JFIF/EXIF/ICC markers."""

from __future__ import annotations

from ..quality import jpeg_quality
from . import Container

FORMAT = "jpg"
#: Pillow opens MPO files through its JPEG factory; "MPO" is not an open format of its own
PIL_FORMATS = ["JPEG"]
#: appended (virtually) after the input so that libjpeg finishes a truncated scan; see metadata._open
TRAILER = b"\xff\xd9"

_EXIF_HEADER = b"Exif\x00\x00"


def matches(head: bytes) -> bool:
    return head[:3] == b"\xff\xd8\xff"


def jfif_density(info: dict) -> float | None:
    """JFIF APP0 density in dpi: unit 1 is inches, 2 is centimetres, 0 a bare aspect ratio."""
    unit, dens = info.get("jfif_unit"), info.get("jfif_density")
    if not dens or not dens[0]:
        return None
    if unit == 1:
        return float(dens[0])
    if unit == 2:
        return dens[0] * 2.54
    return None


def inspect(buf, im) -> Container:
    info = im.info
    exif = info.get("exif")
    if exif and exif.startswith(_EXIF_HEADER):
        exif = exif[len(_EXIF_HEADER):]
    return Container(
        format=FORMAT,
        width=im.width,
        height=im.height,
        icc=bool(info.get("icc_profile")),
        exif=exif or None,
        density=jfif_density(info),
        quality=jpeg_quality(getattr(im, "quantization", None) or {}),
        alpha=False,
    )
