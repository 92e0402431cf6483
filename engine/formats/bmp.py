"""BMP / DIB: pixels-per-metre density, 32-bit BITFIELDS alpha."""

from __future__ import annotations

from . import dpi_density, from_image, may_have_alpha

FORMAT = "bmp"
PIL_FORMATS = ["BMP"]


def matches(head: bytes) -> bool:
    return head[:2] == b"BM" and len(head) >= 18


def inspect(buf, im):
    return from_image(FORMAT, im, density=dpi_density(im.info), alpha=may_have_alpha(im))
