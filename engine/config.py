"""Engine-wide limits, read once from the environment.

``IMGMETA_MAX_PIXELS``
    Decompression-bomb guard: images declaring more pixels than this (width x
    height, of the frame that would be decoded) are refused with
    :class:`~engine.errors.ImageTooLargeError` before any pixel is decoded.
    Default 200,000,000 (200 MP: above every camera sensor sold today; about
    600 MB to decode as RGB). ``extract(..., max_pixels=N)`` overrides it per call.
``IMGMETA_MAX_DIMENSION``
    Images wider or taller than this are refused, whatever their pixel count.
    Default 65,535 (the most JPEG, GIF and WebP can declare). The pHash's
    Lanczos resize costs 48 bytes of filter coefficients per source column or
    row: an 8,404,991 x 1 WebP (8.4 MP, 144 bytes) took 5 s and 490 MB, and
    200,000,000 x 1 would need 9.6 GB.
``IMGMETA_MAX_FRAMES``
    Animated GIF / WebP / PNG and multi-page TIFF with more frames than this
    are refused (GIF frames and TIFF pages are counted by bounded walks that
    stop at the limit). Default 10,000.
``IMGMETA_MAX_FILE_BYTES``
    Inputs larger than this are refused. Default 2 GiB.

Limits on the structure of a file (EXIF entries and value bytes, GIF
sub-blocks, PNG chunks, JPEG segments and scans) are constants of the modules
that enforce them; docs/hostile.md lists them all.
"""

import os


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


MAX_PIXELS: int = _env_int("IMGMETA_MAX_PIXELS", 200_000_000)
MAX_DIMENSION: int = _env_int("IMGMETA_MAX_DIMENSION", 65_535)
MAX_FRAMES: int = _env_int("IMGMETA_MAX_FRAMES", 10_000)
MAX_FILE_BYTES: int = _env_int("IMGMETA_MAX_FILE_BYTES", 2 * 1024**3)
