"""BMP / DIB: pixels-per-metre density, 32-bit BITFIELDS alpha."""

from __future__ import annotations

from . import Container

FORMAT = "bmp"
PIL_FORMATS = ["BMP"]


def matches(head: bytes) -> bool:
    return head[:2] == b"BM" and len(head) >= 18


def inspect(buf, im) -> Container:
    info = im.info
    dpi = info.get("dpi")
    return Container(
        format=FORMAT,
        width=im.width,
        height=im.height,
        icc=bool(info.get("icc_profile")),
        density=float(dpi[0]) if dpi and dpi[0] else None,
        quality=0,
        alpha=im.mode in ("RGBA", "LA", "PA"),
    )
