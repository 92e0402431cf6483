"""The engine's exception types.

Every failure to read an input surfaces as :class:`MetadataError` (a
``ValueError``) or one of its subclasses, with a one-line message that names the
problem. Decoder exceptions (``OSError``, ``struct.error``, ``IndexError`` ...)
never escape :func:`engine.extract`.

Examples
--------
>>> import engine
>>> try:
...     engine.extract(b"%PDF-1.7 not an image")
... except engine.UnsupportedFormatError as e:
...     print(e)
unsupported format: PDF document (supported: jpg, png, gif, webp, tiff, bmp, ico, heic, avif)
"""


class MetadataError(ValueError):
    """An input could not be read as an image. Base of all engine errors."""

    #: Short machine-readable name, used in batch error records and HTTP bodies.
    kind = "error"


class UnsupportedFormatError(MetadataError):
    """The bytes are not one of the supported image formats (or not an image)."""

    kind = "unsupported"


class CorruptFileError(MetadataError):
    """The file claims a supported format but is damaged, truncated or empty."""

    kind = "corrupt"


class ImageTooLargeError(MetadataError):
    """The image declares more pixels (or frames) than the configured limit.

    This is the decompression-bomb guard: see ``engine.config.MAX_PIXELS``.
    """

    kind = "too_large"


class ExtractTimeoutError(MetadataError):
    """Extraction of one file ran past its time budget (batch ``--timeout``)."""

    kind = "timeout"


__all__ = [
    "MetadataError",
    "UnsupportedFormatError",
    "CorruptFileError",
    "ImageTooLargeError",
    "ExtractTimeoutError",
]
