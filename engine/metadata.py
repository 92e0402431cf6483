"""The metadata pipeline: one image in, the SPEC.md metadata object out.

Where each field comes from:

================  ==========================================================
field             source
================  ==========================================================
height, width     the container header (``engine.formats.<plugin>``)
size              the input's length in bytes
format            the magic number (``engine.formats.sniff``)
hasColorProfile   the container (JPEG APP2, PNG iCCP, WebP ICCP, TIFF 34675, HEIF colr)
quality           ``engine.quality`` via the container plugin
density           EXIF XResolution/ResolutionUnit, else the container, else 72
hasTransparency   the container says alpha/transparency *and* a decoded pixel is not opaque
pHash             ``engine.hashing.phash_image``
exif              ``engine.exif.read_exif`` on the container's EXIF blob
================  ==========================================================
"""

from __future__ import annotations

import io
import math
import mmap
import os
import re
import warnings
from contextlib import contextmanager
from typing import BinaryIO, Union

from PIL import Image, UnidentifiedImageError

from . import config
from .errors import CorruptFileError, ImageTooLargeError, MetadataError, UnsupportedFormatError
from .exif import read_exif
from .formats import Container, describe, sniff
from .formats.heif import _register_heif

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]

_SUPPORTED = "jpg, png, gif, webp, tiff, bmp, ico, heic, avif"
_DEFAULT_DENSITY = 72
_RESOLUTION_UNITS = {2: 1.0, 3: 2.54}  # EXIF ResolutionUnit -> factor to dpi (inches, centimetres)

_register_heif()

# Pillow's own decompression-bomb guard raises at 2 x Image.MAX_IMAGE_PIXELS when a file is
# opened; ours (config.MAX_PIXELS, checked right after opening, before any pixel is decoded)
# is the one that is configured, so Pillow's is raised once, at import, to stay out of its way.
if Image.MAX_IMAGE_PIXELS is not None and 2 * Image.MAX_IMAGE_PIXELS < config.MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = config.MAX_PIXELS
# Pillow warns about damaged metadata (TIFF tags, EXIF) and big images while opening and
# decoding. For the engine these are not news (broken metadata never fails a file; the size
# guard is ours), and ``warnings.catch_warnings`` per call is not thread-safe, so Pillow's
# warnings are silenced once, here, and only Pillow's.
warnings.filterwarnings("ignore", module=r"PIL(\.|$)")


@contextmanager
def _buffer(source: Source):
    """``(buf, fp)``: the input as a bytes-like buffer (a read-only mmap for
    paths) and a binary file over the same bytes for Pillow to read from."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source) if not isinstance(source, bytes) else source
        yield data, io.BytesIO(data)
        return
    if isinstance(source, (str, os.PathLike)):
        try:
            f = open(source, "rb")
        except IsADirectoryError:
            raise UnsupportedFormatError(f"is a directory: {os.fspath(source)}") from None
        except OSError as e:
            raise MetadataError(f"cannot read {os.fspath(source)}: {e.strerror or e}") from None
        with f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                yield b"", f
                return
            if size > config.MAX_FILE_BYTES:
                raise ImageTooLargeError(f"file is {size} bytes, over the {config.MAX_FILE_BYTES}-byte limit")
            try:
                m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # not mappable (a pipe, a special file): read it
                data = f.read(config.MAX_FILE_BYTES + 1)
                yield data, io.BytesIO(data)
                return
            with m:
                yield m, f
        return
    if hasattr(source, "read"):
        try:
            data = source.read(config.MAX_FILE_BYTES + 1)
        except OSError as e:
            raise MetadataError(f"cannot read input: {e}") from None
        if len(data) > config.MAX_FILE_BYTES:
            raise ImageTooLargeError(f"input is over the {config.MAX_FILE_BYTES}-byte limit")
        yield data, io.BytesIO(data)
        return
    raise TypeError(f"source must be a path, bytes or a binary file object, not {type(source).__name__}")


_BOMB_MESSAGE = re.compile(r"Image size \((\d+) pixels\) exceeds limit of (\d+) pixels")


def _open_error(fmt: str, e: BaseException) -> MetadataError:
    """The engine's error for an exception raised by ``Image.open`` on a ``fmt`` file."""
    if isinstance(e, MetadataError):
        return e
    if isinstance(e, Image.DecompressionBombError):
        m = _BOMB_MESSAGE.search(str(e))
        size = f"{m.group(1)} pixels, over Pillow's limit of {m.group(2)}" if m else _reason(e)
        return ImageTooLargeError(f"{fmt} image declares {size} (PIL.Image.MAX_IMAGE_PIXELS)")
    if isinstance(e, MemoryError):
        return ImageTooLargeError(f"not enough memory to open the {fmt} file")
    if isinstance(e, ValueError) and "Decompressed data too large" in str(e):
        return ImageTooLargeError(
            f"{fmt} metadata chunk inflates past Pillow's limit "
            "(PngImagePlugin.MAX_TEXT_CHUNK): decompression bomb refused")
    if isinstance(e, UnidentifiedImageError):
        return CorruptFileError(f"not a readable {fmt} file: damaged or truncated header")
    return CorruptFileError(f"not a readable {fmt} file: {_reason(e)}")


def _open(fp, plugin, fmt: str) -> Image.Image:
    try:
        return Image.open(fp, formats=plugin.PIL_FORMATS)
    except Exception as e:  # noqa: BLE001 - any decoder failure becomes an engine error
        raise _open_error(fmt, e) from None


class _TrailerReader(io.RawIOBase):
    """A seekable binary file over bytes or an mmap (no copy), with ``trailer`` served after its end.

    Used to decode a JPEG whose scan is cut off: with an EOI marker after the
    last byte, libjpeg finishes the image as far as the data goes (grey after
    that), which is what Pillow's global ``ImageFile.LOAD_TRUNCATED_IMAGES``
    does, but per call and without touching state other threads see.
    """

    def __init__(self, buf, trailer: bytes):
        self._m, self._pos, self._trailer = buf, 0, trailer
        self._end = len(buf) + len(trailer)

    def readable(self):
        return True

    def seekable(self):
        return True

    def _slice(self, start: int, end: int) -> bytes:
        n = len(self._m)
        data = bytes(self._m[start:min(end, n)]) if start < n else b""
        if end > n:
            data += self._trailer[max(0, start - n):end - n]
        return data

    def readinto(self, b):
        data = self._slice(self._pos, self._pos + len(b))
        b[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def read(self, n=-1):
        data = self._slice(self._pos, self._end if n is None or n < 0 else self._pos + n)
        self._pos += len(data)
        return data

    def seek(self, pos, whence=0):
        self._pos = max(0, (0, self._pos, self._end)[whence] + pos)
        return self._pos

    def tell(self):
        return self._pos


def _is_truncation(e: BaseException) -> bool:
    return isinstance(e, OSError) and ("truncated" in str(e) or "broken data stream" in str(e))


def _decode_truncated_jpeg(buf, fn):
    """``fn(image)`` on ``buf`` reopened with an EOI marker after its end (see _TrailerReader)."""
    from .formats import jpeg

    with Image.open(_TrailerReader(buf, jpeg.TRAILER), formats=jpeg.PIL_FORMATS) as im:
        return fn(im)


def _reason(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]


def _check_size(c: Container, max_pixels: int) -> None:
    if c.width <= 0 or c.height <= 0:
        raise CorruptFileError(f"invalid {c.format} image size {c.width}x{c.height}")
    if c.width * c.height > max_pixels:
        raise ImageTooLargeError(
            f"{c.format} image declares {c.width}x{c.height} = {c.width * c.height} pixels, "
            f"over the limit of {max_pixels} (IMGMETA_MAX_PIXELS)")
    if max(c.width, c.height) > config.MAX_DIMENSION:
        raise ImageTooLargeError(
            f"{c.format} image is {c.width}x{c.height}: a side over the limit of {config.MAX_DIMENSION} "
            "(IMGMETA_MAX_DIMENSION)")
    if c.pixels > max_pixels:
        raise ImageTooLargeError(
            f"{c.format} image embeds an image of {c.pixels} pixels, over the limit of {max_pixels} (IMGMETA_MAX_PIXELS)")
    if c.frames > config.MAX_FRAMES:
        raise ImageTooLargeError(
            f"{c.format} image has more than {config.MAX_FRAMES} frames (IMGMETA_MAX_FRAMES)")


def _inspect(buf, fp, limit: int):
    """Sniff, open and guard ``buf`` (Pillow reads ``fp``): ``(image, container)`` or a MetadataError."""
    if len(buf) == 0:
        raise CorruptFileError("empty file (0 bytes)")
    head = bytes(buf[:64])
    plugin = sniff(head)
    if plugin is None:
        raise UnsupportedFormatError(f"unsupported format: {describe(head)} (supported: {_SUPPORTED})")
    precheck = getattr(plugin, "precheck", None)
    if precheck is not None:
        try:
            precheck(buf, limit)
        except MetadataError:
            raise
        except Exception as e:  # noqa: BLE001
            raise CorruptFileError(f"damaged {plugin.FORMAT} structure: {_reason(e)}") from None
    fp.seek(0)
    fmt = plugin.format_of(head) if hasattr(plugin, "format_of") else plugin.FORMAT
    im = _open(fp, plugin, fmt or plugin.FORMAT)
    try:
        container = plugin.inspect(buf, im)
        _check_size(container, limit)
    except MetadataError:
        im.close()
        raise
    except Exception as e:  # noqa: BLE001
        im.close()
        raise CorruptFileError(f"damaged {plugin.FORMAT} header: {_reason(e)}") from None
    return im, container


@contextmanager
def opened(source: Source, *, max_pixels: int | None = None):
    """Context manager yielding ``(buf, image, container)`` for ``source``.

    ``buf`` is the raw input (bytes or a read-only mmap), ``image`` the opened,
    not yet loaded Pillow image, ``container`` what its format plugin read from
    the header. Raises :class:`MetadataError` subclasses for anything that is
    not a readable image of a supported format, or is over the size limits.

    >>> gif = b"GIF89a\\x01\\x00\\x01\\x00\\x00\\x00\\x00,\\x00\\x00\\x00\\x00\\x01\\x00\\x01\\x00\\x00\\x02\\x02D\\x01\\x00;"
    >>> with opened(gif) as (buf, im, c):
    ...     c.format, c.width, c.height
    ('gif', 1, 1)
    """
    limit = config.MAX_PIXELS if max_pixels is None else max_pixels
    with _buffer(source) as (buf, fp):
        im, container = _inspect(buf, fp, limit)
        with im:
            yield buf, im, container


def density(exif: dict, container: Container) -> int:
    """Pixels per inch: EXIF XResolution/ResolutionUnit, else the container's, else 72.

    >>> from engine.formats import Container
    >>> density({"image": {"XResolution": 118.11, "ResolutionUnit": 3}}, Container("jpg", 1, 1))
    300
    >>> density({"image": {"XResolution": 300}}, Container("jpg", 1, 1, density=96.0))
    96
    """
    image = exif.get("image", {}) if exif else {}
    # An EXIF block without ResolutionUnit says nothing about density (libvips, and so
    # sharp, read it that way); TIFF's own tags default to inches, as libtiff does.
    xres, unit = image.get("XResolution"), image.get("ResolutionUnit", 2 if container.format == "tiff" else None)
    if _positive(xres) and _is_int(unit) and unit in _RESOLUTION_UNITS and _positive(xres * _RESOLUTION_UNITS[unit]):
        return round(xres * _RESOLUTION_UNITS[unit])
    if _positive(container.density):
        return round(container.density)
    return _DEFAULT_DENSITY


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _positive(x) -> bool:
    """A finite number > 0 (EXIF and container values can be lists, NaN, infinities)."""
    return (_is_int(x) or isinstance(x, float)) and math.isfinite(x) and x > 0


def has_transparency(im: Image.Image) -> bool:
    """Whether any pixel of the (first frame of the) image is not fully opaque."""
    if im.mode == "P" or "transparency" in im.info:
        if im.mode == "P" and isinstance(im.info.get("transparency"), int):
            return im.histogram()[im.info["transparency"]] > 0
        im = im.convert("RGBA")
    if "A" not in im.getbands() and "a" not in im.getbands():
        return False
    low, _ = im.getchannel("A" if "A" in im.getbands() else "a").getextrema()
    return low < 255


def _pixels(im: Image.Image, c: Container, phash: bool) -> tuple[str, bool]:
    """The two fields that decode pixels: ``(pHash or "", hasTransparency)``."""
    from .hashing import phash_image

    hash_hex = phash_image(im) if phash else ""
    return hash_hex, bool(c.alpha and has_transparency(im))


def decode_pixels(buf, im: Image.Image, c: Container, fn):
    """``fn(im)``, the work that decodes pixels, with the truncated-JPEG policy (docs/hostile.md).

    Decoder failures become :class:`MetadataError`. A JPEG's scans are counted
    first (a scan flood is refused); one that does not end in EOI goes straight
    to the EOI-trailer reader (one decode), one that does but still runs out of
    data is retried through it, so the hash is of what decodes.
    """
    from .formats import jpeg

    is_jpeg = c.format == "jpg"
    if is_jpeg:
        jpeg.check_scans(buf, c.width * c.height)
    direct = is_jpeg and not jpeg.ends_with_eoi(buf)
    try:
        return _decode_truncated_jpeg(buf, fn) if direct else fn(im)
    except Exception as e:  # noqa: BLE001
        if direct or not (is_jpeg and _is_truncation(e)):
            raise _decode_error(c.format, e) from None
    try:
        return _decode_truncated_jpeg(buf, fn)
    except Exception as e2:  # noqa: BLE001
        raise _decode_error(c.format, e2) from None


def _decode_error(fmt: str, e: BaseException) -> MetadataError:
    if isinstance(e, MetadataError):
        return e
    if isinstance(e, Image.DecompressionBombError):
        return ImageTooLargeError(str(e))
    if isinstance(e, MemoryError):
        return ImageTooLargeError("not enough memory to decode the image")
    if _is_truncation(e):
        return CorruptFileError(f"truncated {fmt} file: the pixel data ends early ({_reason(e)})")
    return CorruptFileError(f"{fmt} pixel data cannot be decoded: {_reason(e)}")


def extract(source: Source, *, phash: bool = True, max_pixels: int | None = None) -> dict:
    """The metadata object of SPEC.md for one image.

    Parameters
    ----------
    source : path, bytes or binary file object
        The image. Paths are memory-mapped, so only the parts that are read
        are paged in.
    phash : bool
        Compute the perceptual hash. This is the only field that always
        decodes pixels (the first frame, at full size, as imagehash does); with
        ``phash=False`` extraction runs at header-parsing speed, except that
        ``hasTransparency`` decodes images that have an alpha channel or a
        transparency key, to look for a pixel that is not opaque.
    max_pixels : int, optional
        Decompression-bomb guard for this call (default
        ``engine.config.MAX_PIXELS``, env ``IMGMETA_MAX_PIXELS``).

    Returns
    -------
    dict
        Keys in SPEC order: height, width, size, format, hasColorProfile,
        quality, density, hasTransparency, pHash, exif. ``pHash`` is ``""``
        when ``phash=False``.

    Raises
    ------
    MetadataError
        ``UnsupportedFormatError`` (not an image of a supported format),
        ``CorruptFileError`` (damaged, truncated or empty),
        ``ImageTooLargeError`` (over the pixel, frame or byte limits).
        Broken EXIF never raises: the groups that could be read are returned.

    Examples
    --------
    >>> meta = extract("data/samples/jpeg_exif_gps_thumb.jpg")         # doctest: +SKIP
    >>> list(meta)                                               # doctest: +SKIP
    ['height', 'width', 'size', 'format', 'hasColorProfile', 'quality', 'density', 'hasTransparency', 'pHash', 'exif']
    """

    with opened(source, max_pixels=max_pixels) as (buf, im, c):
        try:
            exif = read_exif(c.exif) if c.exif else {}
        except MetadataError:  # e.g. a batch timeout injected into this thread: not EXIF's fault
            raise
        except Exception:  # noqa: BLE001 - broken EXIF never fails the file
            exif = {}
        if phash or c.alpha:
            hash_hex, transparent = decode_pixels(buf, im, c, lambda im2: _pixels(im2, c, phash))
        else:  # nothing to decode: header speed
            hash_hex, transparent = "", False
        return {
            "height": c.height,
            "width": c.width,
            "size": len(buf),
            "format": c.format,
            "hasColorProfile": c.icc,
            "quality": c.quality,
            "density": density(exif, c),
            "hasTransparency": bool(transparent),
            "pHash": hash_hex,
            "exif": exif,
        }
