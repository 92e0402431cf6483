"""HEIF family: HEIC (via pillow-heif) and AVIF (Pillow's own decoder).

Both are ISO base media files; the ``ftyp`` box's brands tell them apart.
EXIF comes from the ``Exif`` item (its 4-byte offset header already removed
by the decoders, leaving ``Exif\\0\\0`` + TIFF), the profile from a ``colr``
box of type ``prof``/``rICC`` (an ``nclx`` colour description is not an ICC
profile). Quality is not estimated for these codecs (0).
"""

from __future__ import annotations

from . import exif_payload, from_image, may_have_alpha

FORMAT = "heic"  # the plugin serves "avif" too; see format_of()
PIL_FORMATS = ["HEIF", "AVIF"]

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}


def brands(head: bytes) -> set[bytes]:
    """Major and compatible brands of an ``ftyp`` box at the start of ``head``."""
    if head[4:8] != b"ftyp" or len(head) < 16:
        return set()
    size = int.from_bytes(head[:4], "big")
    end = min(max(size, 16), len(head))
    found = {head[8:12]}
    found.update(head[i:i + 4] for i in range(16, end - 3, 4))
    return found


def format_of(head: bytes) -> str | None:
    b = brands(head)
    if b & _AVIF_BRANDS:
        return "avif"
    if b & _HEIC_BRANDS:
        return "heic"
    return None


def matches(head: bytes) -> bool:
    return format_of(head) is not None


def _register_heif() -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()


def inspect(buf, im):
    return from_image(
        format_of(bytes(buf[:64])) or FORMAT, im,
        exif=exif_payload(im.info.get("exif")),
        alpha=may_have_alpha(im),
    )
