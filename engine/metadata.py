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
import mmap
import os
import warnings
from contextlib import ExitStack, contextmanager
from typing import BinaryIO, Union

from PIL import Image

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


def _open(fp, plugin) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Image.open(fp, formats=plugin.PIL_FORMATS)
    except Image.DecompressionBombError as e:
        raise ImageTooLargeError(str(e)) from None
    except MetadataError:
        raise
    except Exception as e:  # noqa: BLE001 - any decoder failure is a corrupt file
        raise CorruptFileError(f"not a readable {plugin.FORMAT} file: {_reason(e)}") from None


def _reason(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:200]


def _check_size(c: Container, max_pixels: int) -> None:
    if c.width <= 0 or c.height <= 0:
        raise CorruptFileError(f"invalid image size {c.width}x{c.height}")
    if c.width * c.height > max_pixels:
        raise ImageTooLargeError(
            f"{c.width}x{c.height} = {c.width * c.height} pixels, over the limit of {max_pixels} (IMGMETA_MAX_PIXELS)")
    if c.frames > config.MAX_FRAMES:
        raise ImageTooLargeError(f"{c.frames} frames, over the limit of {config.MAX_FRAMES} (IMGMETA_MAX_FRAMES)")


def _inspect(buf, fp, limit: int):
    """Sniff, open and guard ``buf`` (Pillow reads ``fp``): ``(image, container)`` or a MetadataError."""
    if len(buf) == 0:
        raise CorruptFileError("empty file (0 bytes)")
    head = bytes(buf[:64])
    plugin = sniff(head)
    if plugin is None:
        raise UnsupportedFormatError(f"unsupported format: {describe(head)} (supported: {_SUPPORTED})")
    fp.seek(0)
    im = _open(fp, plugin)
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


def open_image(source: Source, *, max_pixels: int | None = None) -> Image.Image:
    """An opened, not yet loaded Pillow image of ``source``, past the sniffing and size guards.

    The input is read into memory, so the image stays valid after the call.
    Raises :class:`MetadataError` subclasses like :func:`extract`.
    """
    with _buffer(source) as (buf, _):
        data = bytes(buf)
    limit = config.MAX_PIXELS if max_pixels is None else max_pixels
    return _inspect(data, io.BytesIO(data), limit)[0]


def density(exif: dict, container: Container) -> int:
    """Pixels per inch: EXIF XResolution/ResolutionUnit, else the container's, else 72."""
    image = exif.get("image", {}) if exif else {}
    xres, unit = image.get("XResolution"), image.get("ResolutionUnit", 2)
    if isinstance(xres, (int, float)) and xres > 0 and unit in _RESOLUTION_UNITS:
        return round(xres * _RESOLUTION_UNITS[unit])
    if container.density and container.density > 0:
        return round(container.density)
    return _DEFAULT_DENSITY


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


def _decode_error(fmt: str, e: BaseException) -> MetadataError:
    if isinstance(e, MetadataError):
        return e
    if isinstance(e, Image.DecompressionBombError):
        return ImageTooLargeError(str(e))
    if isinstance(e, MemoryError):
        return ImageTooLargeError("not enough memory to decode the image")
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
        decodes pixels (a JPEG is decoded at reduced scale); with
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
    >>> meta = extract("data/samples/jpeg_exif_gps.jpg")         # doctest: +SKIP
    >>> list(meta)                                               # doctest: +SKIP
    ['height', 'width', 'size', 'format', 'hasColorProfile', 'quality', 'density', 'hasTransparency', 'pHash', 'exif']
    """
    from .hashing import phash_image

    with opened(source, max_pixels=max_pixels) as (buf, im, c):
        try:
            exif = read_exif(c.exif) if c.exif else {}
        except Exception:  # noqa: BLE001 - broken EXIF never fails the file
            exif = {}
        try:
            hash_hex = phash_image(im) if phash else ""
            transparent = c.alpha and has_transparency(im)
        except Exception as e:  # noqa: BLE001
            raise _decode_error(c.format, e) from None
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
