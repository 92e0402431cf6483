"""Container formats: one plugin module per format, in the manner of Pillow.

Each plugin module defines

- ``FORMAT``: the SPEC name (``jpg``, ``png`` ...),
- ``PIL_FORMATS``: the Pillow format names it opens with,
- ``matches(head: bytes) -> bool``: magic-number test on the first 32 bytes,
- ``inspect(buf, im) -> Container``: what the container itself says, read
  from the raw bytes ``buf`` and the opened (not loaded) Pillow image ``im``,
- optionally ``precheck(buf, max_pixels)``: bounded structural checks run
  *before* Pillow opens the file (some plugins decode while opening), raising :class:`~engine.errors.MetadataError` for inputs
  whose structure alone would make opening or decoding too costly.

:func:`sniff` picks the plugin; :func:`describe` names common non-image
formats for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType


@dataclass
class Container:
    """What a container says about its image, before any pixel is decoded."""

    format: str
    width: int
    height: int
    #: an ICC profile is embedded
    icc: bool = False
    #: TIFF-structured EXIF blob (starting at ``II*\\0`` / ``MM\\0*``), or None
    exif: bytes | None = None
    #: the container's own density in pixels per inch, or None
    density: float | None = None
    #: lossy quality estimate (0 for lossless encodings)
    quality: int = 0
    #: the image has an alpha channel or a transparency key (pixels decide)
    alpha: bool = False
    #: frames or pages declared, where the format has several
    frames: int = 1
    #: pixels that decoding allocates, where more than width x height (an ICO
    #: entry whose embedded PNG/BMP is larger than its directory says); 0 if not
    pixels: int = 0


#: Pillow modes that carry an alpha channel
ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


def from_image(fmt: str, im, **fields) -> Container:
    """A :class:`Container` with what every plugin reads alike from the opened image:
    its size and whether an ICC profile came with it (``icc=`` overrides)."""
    fields.setdefault("icc", bool(im.info.get("icc_profile")))
    return Container(format=fmt, width=im.width, height=im.height, **fields)


def may_have_alpha(im) -> bool:
    """An alpha channel or a transparency key: some pixel may be non-opaque (decoding decides)."""
    return im.mode in ALPHA_MODES or "transparency" in im.info


def dpi_density(info: dict) -> float | None:
    """Pillow's ``info["dpi"]`` (PNG pHYs in metres, BMP pixels per metre, converted), or None."""
    dpi = info.get("dpi")
    return float(dpi[0]) if dpi and dpi[0] else None


def exif_payload(blob: bytes | None) -> bytes | None:
    """The TIFF-structured part of an EXIF blob: without its ``Exif\\0\\0`` header, if it has one.

    JPEG APP1, and as Pillow and pillow-heif hand them over, PNG eXIf, WebP EXIF and
    HEIF Exif payloads may carry the header; the walker wants the TIFF header first.

    >>> exif_payload(b"Exif\\x00\\x00MM\\x00*"), exif_payload(b"II*\\x00"), exif_payload(b"")
    (b'MM\\x00*', b'II*\\x00', None)
    """
    if blob and blob.startswith(b"Exif\x00\x00"):
        blob = blob[6:]
    return blob or None


def _plugins() -> list[ModuleType]:
    from . import bmp, gif, heif, ico, jpeg, png, tiff, webp

    return [jpeg, png, gif, webp, tiff, bmp, ico, heif]


PLUGINS = _plugins()


def sniff(head: bytes) -> ModuleType | None:
    """The plugin whose magic number ``head`` starts with, or None."""
    for plugin in PLUGINS:
        if plugin.matches(head):
            return plugin
    return None


_OTHER_MAGIC = (
    (b"%PDF", "PDF document"),
    (b"ID3", "MP3 audio"),
    (b"\xff\xfb", "MP3 audio"),
    (b"\xff\xf3", "MP3 audio"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"OggS", "Ogg media"),
    (b"fLaC", "FLAC audio"),
    (b"8BPS", "Photoshop document"),
    (b"%!PS", "PostScript document"),
    (b"\x7fELF", "ELF executable"),
    (b"<svg", "SVG image (vector, not supported)"),
    (b"<?xml", "XML document"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000 image"),
)


def describe(head: bytes) -> str:
    """A short human name for what ``head`` looks like, for error messages."""
    for magic, name in _OTHER_MAGIC:
        if head.startswith(magic):
            return name
    if head[4:8] == b"ftyp":
        return f"ISO media file (brand {head[8:12].decode('latin-1')!r})"
    if head[:4] == b"RIFF":
        return f"RIFF file ({head[8:12].decode('latin-1')!r})"
    sample = head[:32]
    if sample and all(32 <= c < 127 or c in (9, 10, 13) for c in sample):
        return "text file"
    return "unrecognised data"
