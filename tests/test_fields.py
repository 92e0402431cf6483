"""Field rules of SPEC.md on images built in the test: density, quality, transparency."""

from __future__ import annotations

import io

import numpy as np
import piexif
import pytest
from PIL import Image

import engine


def _photo(w=160, h=120, mode="RGB"):
    rng = np.random.default_rng(7)
    x = np.linspace(0, 255, w)[None, :] * np.ones((h, 1))
    rgb = np.stack([x, x[::-1], (x + rng.normal(0, 25, x.shape))], -1).clip(0, 255).astype("uint8")
    return Image.fromarray(rgb).convert(mode)


def _save(im, fmt, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _exif(image_tags: dict) -> bytes:
    return piexif.dump({"0th": image_tags})


@pytest.mark.parametrize("tags,jfif_dpi,expected", [
    ({piexif.ImageIFD.XResolution: (300, 1), piexif.ImageIFD.ResolutionUnit: 2}, 72, 300),
    ({piexif.ImageIFD.XResolution: (11811, 100), piexif.ImageIFD.ResolutionUnit: 3}, 72, 300),  # cm
    ({piexif.ImageIFD.XResolution: (300, 1)}, 96, 96),   # no unit: EXIF says nothing, JFIF does
    ({piexif.ImageIFD.XResolution: (300, 1), piexif.ImageIFD.ResolutionUnit: 1}, 96, 96),  # no unit
    ({}, 150, 150),
])
def test_jpeg_density_prefers_exif_with_a_unit(tags, jfif_dpi, expected):
    kw = {"dpi": (jfif_dpi, jfif_dpi)}
    if tags:
        kw["exif"] = _exif(tags)
    assert engine.extract(_save(_photo(), "JPEG", **kw), phash=False)["density"] == expected


def test_tiff_resolution_without_unit_is_inches():
    im = _photo()
    data = _save(im, "TIFF", tiffinfo={282: 200.0, 283: 200.0})
    meta = engine.extract(data, phash=False)
    assert "ResolutionUnit" not in meta["exif"]["image"] or meta["exif"]["image"]["ResolutionUnit"] == 2
    assert meta["density"] == 200


def test_density_defaults_to_72():
    assert engine.extract(_save(_photo(), "GIF"), phash=False)["density"] == 72


@pytest.mark.parametrize("q", [10, 35, 50, 75, 90, 97])
def test_lossy_webp_quality_is_recovered_from_the_quantizer(q):
    assert engine.extract(_save(_photo(), "WEBP", quality=q), phash=False)["quality"] == q


@pytest.mark.parametrize("fmt,kw", [("WEBP", {"lossless": True}), ("PNG", {}), ("GIF", {}), ("BMP", {}), ("TIFF", {})])
def test_lossless_encodings_have_quality_0(fmt, kw):
    assert engine.extract(_save(_photo(), fmt, **kw), phash=False)["quality"] == 0


@pytest.mark.parametrize("q", [20, 50, 75, 90, 100])
def test_jpeg_quality_of_libjpeg_tables_is_the_setting(q):
    assert engine.extract(_save(_photo(), "JPEG", quality=q), phash=False)["quality"] == q


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_transparency_needs_a_non_opaque_pixel(fmt):
    im = _photo().convert("RGBA")
    kw = {"lossless": True} if fmt == "WEBP" else {}
    assert engine.extract(_save(im, fmt, **kw), phash=False)["hasTransparency"] is False
    im.putpixel((3, 4), (1, 2, 3, 254))
    assert engine.extract(_save(im, fmt, **kw), phash=False)["hasTransparency"] is True


def test_metadata_only_and_full_agree_except_phash():
    data = _save(_photo().convert("RGBA"), "PNG")
    full, quick = engine.extract(data), engine.extract(data, phash=False)
    assert len(full["pHash"]) == 16 and quick["pHash"] == ""
    assert {k: v for k, v in full.items() if k != "pHash"} == {k: v for k, v in quick.items() if k != "pHash"}


@pytest.mark.parametrize("q", [50, 85])
def test_jpeg_compressed_tiff_quality_comes_from_its_jpeg_tables(q):
    data = _save(_photo(), "TIFF", compression="jpeg", quality=q)
    assert engine.extract(data, phash=False)["quality"] == q
