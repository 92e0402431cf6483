"""imgmeta: ImageKit's image metadata object, computed on your own machines.

>>> import engine
>>> meta = engine.extract("data/samples/jpeg_exif_gps_thumb.jpg")          # doctest: +SKIP
>>> meta["width"], meta["format"], meta["exif"]["gps"]["GPSLatitudeRef"]  # doctest: +SKIP
(320, 'jpg', 'N')

Public API (imported lazily, so ``import engine`` stays cheap):

- :func:`extract` -- the metadata object of one image (``engine.metadata``)
- :func:`extract_many` -- records for many files, in parallel (``engine.batch``)
- :func:`phash`, :func:`phash_batch` -- the 64-bit DCT hash (``engine.hashing``)
- :func:`phash_distance`, :func:`hamming_matrix`, :func:`nearest`,
  :func:`within`, :func:`find_duplicates` -- Hamming search (``engine.hamming``)
- :class:`MetadataError` and its subclasses (``engine.errors``)
"""

from .errors import (
    CorruptFileError,
    ExtractTimeoutError,
    ImageTooLargeError,
    MetadataError,
    UnsupportedFormatError,
)

__version__ = "0.1.0"

_LAZY = {
    "extract": "metadata",
    "extract_many": "batch",
    "phash": "hashing",
    "phash_batch": "hashing",
    "phash_distance": "hamming",
    "hamming_matrix": "hamming",
    "nearest": "hamming",
    "within": "hamming",
    "find_duplicates": "hamming",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"engine.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_LAZY))


__all__ = [
    "extract",
    "extract_many",
    "phash",
    "phash_batch",
    "phash_distance",
    "hamming_matrix",
    "nearest",
    "within",
    "find_duplicates",
    "MetadataError",
    "UnsupportedFormatError",
    "CorruptFileError",
    "ImageTooLargeError",
    "ExtractTimeoutError",
]
