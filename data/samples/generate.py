#!/usr/bin/env python3
"""Generate imgmeta's own small sample images and their MANIFEST.json.

    python data/samples/generate.py            # rewrite the files and MANIFEST.json here
    python data/samples/generate.py --out DIR  # write them somewhere else
    python data/samples/generate.py --out DIR --only png,gif --no-manifest

Deterministic: fixed seeds, no timestamps, no randomness outside ``numpy.random.RandomState``.
With the same library versions (recorded under ``generator`` in MANIFEST.json) every file
from the deterministic encoders (JPEG, PNG, GIF, BMP, TIFF, ICO, WebP) is byte-identical on
every run; ``tests/test_generated_samples.py`` checks that.

MANIFEST.json is the *intended truth* for every file, computed without the engine's code:
what the generator wrote (size, format, alpha, profile, density, EXIF values), ImageMagick's
``identify -format %Q`` for JPEG quality, and the ``imagehash`` reference pHash of the written
file. The engine must reproduce it; it never writes it.

Needs: pillow (with native AVIF), pillow-heif, numpy, piexif, imagehash; ``identify``
(ImageMagick) for the JPEG quality column.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import piexif
from PIL import Image, ImageCms, ImageDraw, TiffImagePlugin, features
from PIL.PngImagePlugin import PngInfo

HERE = Path(__file__).resolve().parent

# Formats whose encoders are byte-reproducible across runs with the same library versions.
# HEIC (x265) and AVIF (libaom) are multi-threaded and left out of the byte-identity check.
DETERMINISTIC_FORMATS = ("jpg", "png", "gif", "bmp", "tiff", "ico", "webp")

DATE = "2024:05:17 10:20:30"


# ----------------------------------------------------------------------------------------
# picture content
# ----------------------------------------------------------------------------------------

def picture(w: int, h: int, seed: int) -> Image.Image:
    """An RGB picture with real structure (gradients, shapes, a little noise)."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    fx, fy = x / max(w - 1, 1), y / max(h - 1, 1)
    phase = rng.uniform(0, 2 * np.pi)
    r = 255 * fx
    g = 255 * fy
    b = 127.5 + 110 * np.sin(2 * np.pi * (fx + fy) + phase)
    arr = np.stack([r, g, b], axis=-1)
    im = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(im)
    for _ in range(4):
        x0, y0 = rng.randint(0, w * 3 // 4), rng.randint(0, h * 3 // 4)
        x1 = x0 + rng.randint(w // 8, w // 2)
        y1 = y0 + rng.randint(h // 8, h // 2)
        colour = tuple(int(c) for c in rng.randint(0, 256, 3))
        if rng.rand() < 0.5:
            d.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            d.rectangle([x0, y0, x1, y1], fill=colour)
    arr = np.asarray(im, dtype=np.float64) + rng.normal(0, 3, (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def alpha_mask(w: int, h: int, transparent: bool) -> Image.Image:
    """Opaque everywhere, or with a fully transparent corner and a semi-transparent band."""
    a = np.full((h, w), 255, np.uint8)
    if transparent:
        a[: h // 4, : w // 4] = 0
        a[h // 2 : h // 2 + max(h // 8, 1), :] = 128
    return Image.fromarray(a, "L")


def rgba(w: int, h: int, seed: int, transparent: bool = True) -> Image.Image:
    im = picture(w, h, seed).convert("RGBA")
    im.putalpha(alpha_mask(w, h, transparent))
    return im


def srgb_icc() -> bytes:
    """LittleCMS's built-in sRGB profile with a fixed creation date and a matching profile ID.

    lcms stamps the current time into the header (bytes 24..35), which would make every
    run differ; pin it, then recompute the ICC profile ID (MD5 of the profile with the
    flags, rendering intent and ID fields zeroed, ICC.1:2010 7.2.18).
    """
    import hashlib

    b = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    b[24:36] = struct.pack(">6H", 2024, 5, 17, 10, 20, 30)
    z = bytearray(b)
    z[44:48] = z[64:68] = b"\0" * 4
    z[84:100] = b"\0" * 16
    b[84:100] = hashlib.md5(bytes(z)).digest()
    return bytes(b)


# ----------------------------------------------------------------------------------------
# EXIF (piexif) and the values it should come out as, in SPEC rendering
# ----------------------------------------------------------------------------------------

THUMB_SIZE = (40, 30)


def _thumbnail_jpeg() -> bytes:
    buf = io.BytesIO()
    picture(*THUMB_SIZE, seed=999).save(buf, "JPEG", quality=70)
    return buf.getvalue()


def exif_dict(*, gps: bool = True, thumbnail: bool = True, xres: int = 300) -> dict:
    zeroth = {
        piexif.ImageIFD.Make: b"imgmeta",
        piexif.ImageIFD.Model: b"SampleCam 1",
        piexif.ImageIFD.Orientation: 1,
        piexif.ImageIFD.XResolution: (xres, 1),
        piexif.ImageIFD.YResolution: (xres, 1),
        piexif.ImageIFD.ResolutionUnit: 2,
        piexif.ImageIFD.Software: b"imgmeta generate.py",
        piexif.ImageIFD.DateTime: DATE.encode(),
    }
    exif = {
        piexif.ExifIFD.ExposureTime: (1, 160),
        piexif.ExifIFD.FNumber: (71, 10),
        piexif.ExifIFD.ISOSpeedRatings: 200,
        piexif.ExifIFD.ExifVersion: b"0231",
        piexif.ExifIFD.DateTimeOriginal: DATE.encode(),
        piexif.ExifIFD.FocalLength: (50, 1),
        piexif.ExifIFD.UserComment: b"ASCII\x00\x00\x00generated by imgmeta",
    }
    d = {"0th": zeroth, "Exif": exif, "GPS": {}, "1st": {}, "thumbnail": None}
    if gps:
        d["GPS"] = {
            piexif.GPSIFD.GPSVersionID: (2, 3, 0, 0),
            piexif.GPSIFD.GPSLatitudeRef: b"N",
            piexif.GPSIFD.GPSLatitude: ((48, 1), (51, 1), (2412, 100)),
            piexif.GPSIFD.GPSLongitudeRef: b"E",
            piexif.GPSIFD.GPSLongitude: ((2, 1), (17, 1), (4020, 100)),
            piexif.GPSIFD.GPSAltitudeRef: 0,
            piexif.GPSIFD.GPSAltitude: (3505, 100),
            piexif.GPSIFD.GPSTimeStamp: ((14, 1), (5, 1), (3050, 100)),
            piexif.GPSIFD.GPSDateStamp: b"2024:05:17",
        }
    if thumbnail:
        d["1st"] = {
            piexif.ImageIFD.Compression: 6,
            piexif.ImageIFD.XResolution: (72, 1),
            piexif.ImageIFD.YResolution: (72, 1),
            piexif.ImageIFD.ResolutionUnit: 2,
        }
        d["thumbnail"] = _thumbnail_jpeg()
    return d


def exif_bytes(**kw) -> bytes:
    """piexif.dump output: starts with b"Exif\\0\\0" (Pillow strips it where the container wants)."""
    return piexif.dump(exif_dict(**kw))


def exif_expect(*, gps: bool = True, thumbnail: bool = True, xres: int = 300) -> dict:
    """The values written by exif_dict, as SPEC.md renders them (pointers/offsets left out)."""
    e = {
        "image": {
            "Make": "imgmeta",
            "Model": "SampleCam 1",
            "Orientation": 1,
            "XResolution": xres,
            "YResolution": xres,
            "ResolutionUnit": 2,
            "Software": "imgmeta generate.py",
            "ModifyDate": DATE,
        },
        "exif": {
            "ExposureTime": 0.00625,
            "FNumber": 7.1,
            "ISO": 200,
            "ExifVersion": "0231",
            "DateTimeOriginal": DATE,
            "FocalLength": 50,
            "UserComment": "generated by imgmeta",
        },
    }
    if gps:
        e["gps"] = {
            "GPSVersionID": [2, 3, 0, 0],
            "GPSLatitudeRef": "N",
            "GPSLatitude": [48, 51, 24.12],
            "GPSLongitudeRef": "E",
            "GPSLongitude": [2, 17, 40.2],
            "GPSAltitudeRef": 0,
            "GPSAltitude": 35.05,
            "GPSTimeStamp": [14, 5, 30.5],
            "GPSDateStamp": "2024:05:17",
        }
    if thumbnail:
        e["thumbnail"] = {
            "Compression": 6,
            "XResolution": 72,
            "YResolution": 72,
            "ResolutionUnit": 2,
            # piexif drops the thumbnail's JFIF APP0 before storing it, so ask piexif
            "ThumbnailLength": len(piexif.load(exif_bytes(gps=gps, thumbnail=True,
                                                          xres=xres))["thumbnail"]),
        }
    return e


# ----------------------------------------------------------------------------------------
# byte-level helpers
# ----------------------------------------------------------------------------------------

def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """Split the header of a JPEG into (marker, whole segment bytes) up to SOS; rest as marker 0."""
    assert data[:2] == b"\xff\xd8"
    out, i = [], 2
    while True:
        marker = data[i + 1]
        if marker == 0xDA:
            out.append((0, data[i:]))
            return out
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        out.append((marker, data[i : i + 2 + length]))
        i += 2 + length


def jfif_patch(data: bytes, unit: int, xd: int, yd: int) -> bytes:
    """Rewrite the JFIF APP0 density (unit 0 aspect only, 1 dots/inch, 2 dots/cm)."""
    assert data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00"
    return data[:13] + struct.pack(">BHH", unit, xd, yd) + data[18:]


def app1_xmp() -> bytes:
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmp:CreatorTool="imgmeta generate.py" xmp:CreateDate="2024-05-17T10:20:30"/>'
        "</rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    ).encode("utf-8")
    body = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def png_rgb16(im: Image.Image) -> bytes:
    """A 16-bit-per-channel RGB PNG written by hand (Pillow cannot write one)."""
    w, h = im.size
    a = np.asarray(im, dtype=np.uint16) * 257  # 8 -> 16 bit, exact (v * 257)
    rng = np.random.RandomState(16)
    a = a + rng.randint(0, 200, a.shape).astype(np.uint16) * (a < 65000)  # real low-byte content
    raw = b"".join(b"\x00" + a[y].astype(">u2").tobytes() for y in range(h))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(raw, 9))
        + png_chunk(b"IEND", b"")
    )


def bmp_v5_rgba(im: Image.Image, ppm: int) -> bytes:
    """A 32-bit BMP with a BITMAPV5HEADER and BI_BITFIELDS masks including alpha.

    Pillow writes RGBA as 32-bit BI_RGB with a 40-byte header, whose fourth byte readers
    (Pillow included) treat as padding, so the alpha variant is written by hand.
    """
    w, h = im.size
    px = np.asarray(im.convert("RGBA"))[::-1]  # bottom-up rows
    bgra = px[..., [2, 1, 0, 3]].tobytes()
    header = struct.pack(
        "<IiiHHIIiiII",
        124, w, h, 1, 32, 3, len(bgra), ppm, ppm, 0, 0,
    ) + struct.pack("<IIII", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)
    header += b"sRGB"[::-1]  # LCS_sRGB, stored little-endian as 'BGRs'
    header += b"\x00" * 36 + b"\x00" * 12  # endpoints, gamma
    header += struct.pack("<IIII", 4, 0, 0, 0)  # intent, profile data/size, reserved
    assert len(header) == 124
    offset = 14 + len(header)
    return b"BM" + struct.pack("<IHHI", offset + len(bgra), 0, 0, offset) + header + bgra


def bmp_set_ppm(data: bytes, ppm: int) -> bytes:
    return data[:38] + struct.pack("<ii", ppm, ppm) + data[46:]


def ico_largest_first(data: bytes) -> bytes:
    """Reorder the ICONDIR entries largest first (Pillow writes smallest first).

    Then the first entry (what ImageMagick and libvips call frame 0) is also the image
    Pillow opens by default, so every reader agrees on the size and the hash.
    """
    (n,) = struct.unpack("<H", data[4:6])
    entries = [data[6 + 16 * i : 22 + 16 * i] for i in range(n)]
    entries.sort(key=lambda e: -(e[0] or 256))
    return data[:6] + b"".join(entries) + data[6 + 16 * n :]


def save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------
# the samples
# ----------------------------------------------------------------------------------------

def build() -> list[dict]:
    """Every sample: name, bytes, and the intended truth the generator knows by construction."""
    icc = srgb_icc()
    S: list[dict] = []

    def add(name, data, fmt, w, h, *, alpha=False, icc_=False, density=72, quality=None,
            exif=None, note="", **extra):
        S.append(dict(name=name, data=data, format=fmt, width=w, height=h,
                      hasTransparency=alpha, hasColorProfile=icc_, density=density,
                      quality=quality, exif=exif or {}, note=note, **extra))

    # ---------------- JPEG ----------------
    p = picture(160, 120, 1)
    add("jpeg_baseline.jpg", save(p, "JPEG", quality=75), "jpg", 160, 120,
        note="baseline JPEG, quality 75, JFIF without density (unit 0, 1:1) -> 72 dpi")
    add("jpeg_progressive.jpg", save(picture(160, 120, 2), "JPEG", quality=85, progressive=True),
        "jpg", 160, 120, note="progressive JPEG, quality 85")
    for q in (50, 75, 90, 100):
        add(f"jpeg_q{q}.jpg", save(picture(128, 96, 10 + q), "JPEG", quality=q), "jpg", 128, 96,
            encoder_quality=q, note=f"Pillow/libjpeg quality={q}; expected quality from identify %Q")
    add("jpeg_exif_gps_thumb.jpg",
        save(picture(320, 240, 3), "JPEG", quality=88, exif=exif_bytes()),
        "jpg", 320, 240, density=300, exif=exif_expect(),
        note="piexif EXIF: IFD0 Make/Model/Software/300 dpi, Exif IFD, GPS IFD, IFD1 + JPEG thumbnail")
    add("jpeg_icc.jpg", save(picture(160, 120, 4), "JPEG", quality=80, icc_profile=icc),
        "jpg", 160, 120, icc_=True, note="sRGB ICC profile in APP2")
    add("jpeg_jfif_300dpi.jpg", save(picture(120, 90, 5), "JPEG", quality=80, dpi=(300, 300)),
        "jpg", 120, 90, density=300, note="JFIF density 300 dots/inch")
    add("jpeg_jfif_118dpcm.jpg", jfif_patch(save(picture(120, 90, 6), "JPEG", quality=80), 2, 118, 118),
        "jpg", 120, 90, density=300, note="JFIF density 118 dots/cm -> 299.72 -> 300 dpi")
    add("jpeg_jfif_aspect.jpg", jfif_patch(save(picture(120, 90, 7), "JPEG", quality=80), 0, 2, 1),
        "jpg", 120, 90, density=72, note="JFIF unit 0 (aspect 2:1 only) -> 72 dpi")
    add("jpeg_exif_vs_jfif.jpg",
        save(picture(120, 90, 8), "JPEG", quality=80, dpi=(300, 300),
             exif=exif_bytes(gps=False, thumbnail=False, xres=180)),
        "jpg", 120, 90, density=180, exif=exif_expect(gps=False, thumbnail=False, xres=180),
        note="JFIF says 300 dpi, EXIF XResolution 180 inch: EXIF wins -> 180")
    # XMP first, then Exif: splice an XMP APP1 in before Pillow's Exif APP1.
    base = save(picture(200, 150, 9), "JPEG", quality=80, exif=exif_bytes(thumbnail=False))
    segs = jpeg_segments(base)
    out, done = b"\xff\xd8", False
    for marker, seg in segs:
        if marker == 0xE1 and not done:
            out += app1_xmp()
            done = True
        out += seg
    assert done
    add("jpeg_xmp_then_exif.jpg", out, "jpg", 200, 150, density=300,
        exif=exif_expect(thumbnail=False),
        note="first APP1 is XMP, second APP1 is Exif (spliced by hand)")
    add("jpeg_gray.jpg", save(picture(128, 96, 11).convert("L"), "JPEG", quality=80),
        "jpg", 128, 96, note="grayscale (1 component) JPEG")
    add("jpeg_cmyk.jpg", save(picture(128, 96, 12).convert("CMYK"), "JPEG", quality=80),
        "jpg", 128, 96, note="CMYK JPEG (4 components, Adobe APP14)")

    # ---------------- PNG ----------------
    add("png_rgb.png", save(picture(96, 72, 20), "PNG"), "png", 96, 72, quality=0,
        note="8-bit RGB, opaque, no pHYs -> 72")
    add("png_rgba_transparent.png", save(rgba(96, 72, 21, True), "PNG"), "png", 96, 72,
        alpha=True, quality=0, note="RGBA with fully and half transparent pixels")
    add("png_rgba_opaque.png", save(rgba(96, 72, 22, False), "PNG"), "png", 96, 72,
        quality=0, note="RGBA, every alpha 255 -> hasTransparency false")
    pal = picture(96, 72, 23).quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pa = np.asarray(pal).copy()
    pa[:24, :32] = 31  # make sure index 31 is used
    pal_t = Image.fromarray(pa, "P")
    pal_t.putpalette(pal.getpalette())
    add("png_palette_trns.png", save(pal_t, "PNG", transparency=31), "png", 96, 72,
        alpha=True, quality=0, note="palette PNG with tRNS; index 31 transparent and used")
    pal_u = Image.fromarray(np.where(np.asarray(pal) == 31, 30, np.asarray(pal)).astype(np.uint8), "P")
    pal_u.putpalette(pal.getpalette())
    add("png_palette_trns_unused.png", save(pal_u, "PNG", transparency=31), "png", 96, 72,
        quality=0, note="palette PNG with tRNS whose transparent index no pixel uses -> false")
    add("png_rgb16.png", png_rgb16(picture(96, 72, 24)), "png", 96, 72, quality=0,
        note="16 bits per channel RGB (hand-written IHDR/IDAT)")
    g16 = Image.fromarray(np.asarray(picture(96, 72, 25).convert("L"), np.uint16) * 257)
    add("png_gray16.png", save(g16, "PNG"), "png", 96, 72, quality=0, note="16-bit grayscale")
    add("png_icc.png", save(picture(96, 72, 26), "PNG", icc_profile=icc), "png", 96, 72,
        icc_=True, quality=0, note="iCCP chunk (sRGB)")
    add("png_phys_3780ppm.png", save(picture(96, 72, 27), "PNG", dpi=(96, 96)), "png", 96, 72,
        density=96, quality=0, note="pHYs 3780 px/metre -> 96 dpi")
    info = PngInfo()
    info.add(b"pHYs", struct.pack(">IIB", 2, 1, 0))
    add("png_phys_unit0.png", save(picture(96, 72, 28), "PNG", pnginfo=info), "png", 96, 72,
        density=72, quality=0, note="pHYs unit 0 (aspect 2:1 only) -> 72")
    add("png_exif.png", save(picture(96, 72, 29), "PNG", exif=exif_bytes(thumbnail=False)),
        "png", 96, 72, density=300, quality=0, exif=exif_expect(thumbnail=False),
        note="eXIf chunk; EXIF XResolution 300 inch -> 300 (no pHYs)")

    # ---------------- GIF ----------------
    g = picture(120, 90, 40).quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    add("gif_static.gif", save(g, "GIF"), "gif", 120, 90, quality=0, note="static GIF, 64 colours")
    ga = np.asarray(g).copy()
    ga[:20, :30] = 63
    gt = Image.fromarray(ga, "P")
    gt.putpalette(g.getpalette())
    add("gif_transparent.gif", save(gt, "GIF", transparency=63), "gif", 120, 90, alpha=True,
        quality=0, note="static GIF with a transparency index that pixels use")
    frames = [picture(96, 72, 41 + i).quantize(colors=64, method=Image.Quantize.MEDIANCUT,
                                               dither=Image.Dither.NONE) for i in range(3)]
    add("gif_animated.gif", save(frames[0], "GIF", save_all=True, append_images=frames[1:],
                                 duration=200, loop=0), "gif", 96, 72, quality=0,
        frames=3, note="animated GIF, 3 frames (hash of the first)")

    # ---------------- WebP ----------------
    add("webp_lossy_q80.webp", save(picture(160, 120, 50), "WEBP", quality=80, method=4),
        "webp", 160, 120, encoder_quality=80, note="lossy (VP8), quality=80")
    add("webp_lossless.webp", save(picture(96, 72, 51), "WEBP", lossless=True), "webp", 96, 72,
        quality=0, note="lossless (VP8L)")
    add("webp_lossy_alpha.webp", save(rgba(96, 72, 52, True), "WEBP", quality=80), "webp", 96, 72,
        alpha=True, encoder_quality=80, note="lossy with ALPH chunk (VP8X)")
    wf = [picture(64, 48, 53 + i) for i in range(3)]
    add("webp_animated.webp", save(wf[0], "WEBP", save_all=True, append_images=wf[1:], duration=200,
                                   loop=0, lossless=True), "webp", 64, 48, quality=0, frames=3,
        note="animated (ANIM/ANMF), 3 lossless opaque frames")
    add("webp_exif_icc.webp", save(picture(128, 96, 57), "WEBP", quality=80, icc_profile=icc,
                                   exif=exif_bytes(thumbnail=False)),
        "webp", 128, 96, icc_=True, density=300, exif=exif_expect(thumbnail=False),
        encoder_quality=80, note="VP8X with ICCP and EXIF chunks; EXIF 300 dpi")

    # ---------------- TIFF ----------------
    def ifd0(w, h, spp, compression, **more):
        """TIFF IFD0 is the `image` EXIF group; these are the tags Pillow writes."""
        return {"image": {"ImageWidth": w, "ImageHeight": h, "BitsPerSample": [8] * spp,
                          "Compression": compression, "PhotometricInterpretation": 2,
                          "SamplesPerPixel": spp, **more}}

    add("tiff_rgb.tif", save(picture(80, 60, 60), "TIFF", dpi=(72, 72)), "tiff", 80, 60,
        quality=0, exif=ifd0(80, 60, 3, 1, XResolution=72, YResolution=72, ResolutionUnit=2),
        note="uncompressed RGB, 72 dpi")
    add("tiff_lzw.tif", save(picture(80, 60, 61), "TIFF", compression="tiff_lzw", dpi=(150, 150)),
        "tiff", 80, 60, density=150, quality=0,
        exif=ifd0(80, 60, 3, 5, XResolution=150, YResolution=150, ResolutionUnit=2),
        note="LZW compressed, 150 dpi")
    add("tiff_rgba.tif", save(rgba(80, 60, 62, True), "TIFF", compression="tiff_lzw"), "tiff", 80, 60,
        alpha=True, quality=0, exif=ifd0(80, 60, 4, 5, ExtraSamples=2),
        note="RGBA (ExtraSamples 2, unassociated) with transparent pixels, no resolution -> 72")
    add("tiff_cm.tif", save(picture(80, 60, 63), "TIFF", resolution_unit=3, x_resolution=118,
                            y_resolution=118), "tiff", 80, 60, density=300, quality=0,
        exif=ifd0(80, 60, 3, 1, XResolution=118, YResolution=118, ResolutionUnit=3),
        note="resolution 118 px/cm (unit 3) -> 299.72 -> 300 dpi")
    pages = [picture(80, 60, 64), picture(48, 36, 65)]
    add("tiff_multipage.tif", save(pages[0], "TIFF", save_all=True, append_images=pages[1:],
                                   compression="tiff_lzw"), "tiff", 80, 60, quality=0, frames=2,
        exif=ifd0(80, 60, 3, 5),
        note="2 pages (80x60, 48x36); size, IFD0 and hash of the first")
    ti = TiffImagePlugin.ImageFileDirectory_v2()
    ti[271], ti[272], ti[305], ti[306] = "imgmeta", "SampleCam 1", "imgmeta generate.py", DATE
    ti[270] = "generated sample"
    add("tiff_ifd0_tags.tif", save(picture(80, 60, 66), "TIFF", tiffinfo=ti, dpi=(300, 300)),
        "tiff", 80, 60, density=300, quality=0,
        exif=ifd0(80, 60, 3, 1, ImageDescription="generated sample", Make="imgmeta",
                  Model="SampleCam 1", XResolution=300, YResolution=300, ResolutionUnit=2,
                  Software="imgmeta generate.py", ModifyDate=DATE),
        note="IFD0 Make/Model/Software/DateTime/ImageDescription via tiffinfo, 300 dpi")

    # ---------------- BMP ----------------
    add("bmp_24bit.bmp", bmp_set_ppm(save(picture(80, 60, 70), "BMP"), 0), "bmp", 80, 60,
        quality=0, note="24-bit BI_RGB, density fields 0 -> 72")
    add("bmp_32bit_alpha.bmp", bmp_v5_rgba(rgba(80, 60, 71, True), 2835), "bmp", 80, 60,
        alpha=True, quality=0, note="32-bit BITMAPV5HEADER, BI_BITFIELDS with alpha mask; 2835 px/m -> 72")
    add("bmp_ppm_150dpi.bmp", save(picture(80, 60, 72), "BMP", dpi=(150, 150)), "bmp", 80, 60,
        density=150, quality=0, note="24-bit, 5906 px/metre -> 150 dpi")

    # ---------------- ICO ----------------
    ico = rgba(48, 48, 80, True)
    add("ico_multi.ico", ico_largest_first(save(ico, "ICO", sizes=[(16, 16), (32, 32), (48, 48)])),
        "ico", 48, 48, alpha=True, quality=0, frames=3,
        note="16/32/48 px with alpha; directory reordered largest first")

    # ---------------- HEIC / AVIF ----------------
    import pillow_heif

    pillow_heif.register_heif_opener()
    add("heic_rgb.heic", save(picture(128, 96, 90), "HEIF", quality=80), "heic", 128, 96,
        note="HEIC (x265), opaque")
    add("heic_alpha.heic", save(rgba(128, 96, 91, True), "HEIF", quality=80), "heic", 128, 96,
        alpha=True, note="HEIC with alpha auxiliary image, transparent pixels")
    add("heic_exif.heic", save(picture(128, 96, 92), "HEIF", quality=80, exif=exif_bytes(thumbnail=False)),
        "heic", 128, 96, density=300, exif=exif_expect(thumbnail=False),
        note="HEIC with Exif item; EXIF 300 dpi")
    add("heic_icc.heic", save(picture(128, 96, 93), "HEIF", quality=80, icc_profile=icc),
        "heic", 128, 96, icc_=True, note="HEIC with colr/prof ICC profile")
    add("avif_lossy.avif", save(picture(128, 96, 94), "AVIF", quality=70), "avif", 128, 96,
        note="AVIF (libaom) lossy")
    add("avif_alpha.avif", save(rgba(128, 96, 95, True), "AVIF", quality=70), "avif", 128, 96,
        alpha=True, note="AVIF with alpha, transparent pixels")
    # Pillow's AVIF encoder re-serialises EXIF through Image.Exif: it moves Orientation out
    # (to irot/imir; 1 means none) and stores UserComment as BYTE[28], not UNDEFINED, which
    # SPEC.md renders as an integer array. Every Pillow-written AVIF looks like this.
    avif_exif = exif_expect(thumbnail=False)
    del avif_exif["image"]["Orientation"]
    avif_exif["exif"]["UserComment"] = list(b"ASCII\x00\x00\x00generated by imgmeta")
    add("avif_exif.avif", save(picture(128, 96, 96), "AVIF", quality=70, exif=exif_bytes(thumbnail=False)),
        "avif", 128, 96, density=300, exif=avif_exif,
        note="AVIF with Exif item as Pillow writes it (no Orientation, UserComment as BYTE); EXIF 300 dpi")
    add("avif_icc.avif", save(picture(128, 96, 97), "AVIF", quality=70, icc_profile=icc),
        "avif", 128, 96, icc_=True, note="AVIF with colr/prof ICC profile")
    return S


# ----------------------------------------------------------------------------------------
# manifest
# ----------------------------------------------------------------------------------------

def identify_quality(path: Path) -> int:
    out = subprocess.run(["identify", "-format", "%Q\n", str(path)], capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[0])


def pillow_check(path: Path, s: dict) -> None:
    """Sanity checks of what was written, with Pillow (not the engine)."""
    with Image.open(path) as im:
        assert im.size == (s["width"], s["height"]), (s["name"], im.size)
        if s["hasTransparency"]:
            a = im.convert("RGBA").getchannel("A")
            assert a.getextrema()[0] < 255, s["name"]
        elif "A" in im.mode or "transparency" in im.info:
            a = im.convert("RGBA").getchannel("A")
            assert a.getextrema()[0] == 255, s["name"]
        assert bool(im.info.get("icc_profile")) == s["hasColorProfile"], s["name"]


def environment() -> dict:
    import pillow_heif

    return {
        "pillow": Image.__version__,
        "libjpeg": features.version("jpg"),
        "zlib": features.version("zlib"),
        "libwebp": features.version("webp"),
        "libtiff": features.version("libtiff"),
        "libavif": features.version("avif"),
        "pillow_heif": pillow_heif.__version__,
        "libheif": pillow_heif.libheif_info().get("libheif"),
        "piexif": piexif.VERSION,
        "numpy": np.__version__,
    }


def generate(out: Path, *, only: set[str] | None = None, manifest: bool = True) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    samples = [s for s in build() if only is None or s["format"] in only]
    entries = {}
    for s in samples:
        path = out / s["name"]
        path.write_bytes(s["data"])
        if not manifest:
            continue
        pillow_check(path, s)
        import imagehash

        with Image.open(path) as im:
            ph = str(imagehash.phash(im))
        e = {
            "format": s["format"],
            "width": s["width"],
            "height": s["height"],
            "size": len(s["data"]),
            "hasTransparency": s["hasTransparency"],
            "hasColorProfile": s["hasColorProfile"],
            "density": s["density"],
        }
        if s["format"] == "jpg":
            e["quality"] = identify_quality(path)
        elif s["quality"] is not None:
            e["quality"] = s["quality"]
        e["pHash"] = ph
        e["exif"] = s["exif"]
        info = {k: s[k] for k in ("encoder_quality", "frames") if k in s}
        if info:
            e["info"] = info
        e["note"] = s["note"]
        entries[s["name"]] = e
    if manifest:
        doc = {
            "about": "Intended truth for data/samples/*, written by generate.py without the engine. "
                     "'quality' is identify -format %Q for JPEG and 0 for lossless encodings "
                     "(absent where no peer knows it); 'exif' lists selected groups/keys that must "
                     "be present with these values; 'pHash' is str(imagehash.phash(Image.open(f))); "
                     "'info' and 'note' are descriptive only.",
            "generator": environment(),
            "deterministic_formats": list(DETERMINISTIC_FORMATS),
            "files": entries,
        }
        (out / "MANIFEST.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return samples


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--only", help="comma-separated SPEC formats (jpg,png,...)")
    ap.add_argument("--no-manifest", action="store_true")
    a = ap.parse_args(argv)
    if not a.no_manifest and shutil.which("identify") is None:
        print("generate.py: ImageMagick 'identify' is needed for MANIFEST quality", file=sys.stderr)
        return 2
    only = set(a.only.split(",")) if a.only else None
    samples = generate(a.out, only=only, manifest=not a.no_manifest)
    total = sum(len(s["data"]) for s in samples)
    print(f"wrote {len(samples)} files, {total} bytes, to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
