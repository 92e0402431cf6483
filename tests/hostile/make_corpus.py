"""Generate the hostile-input corpus of ``tests/hostile/``: small crafted files, one attack each.

    python tests/hostile/make_corpus.py          # (re)writes every corpus file next to this script

Every file is built from first principles (struct-packed headers, zlib, a
Pillow-encoded base JPEG/PNG for the few cases that need real pixel data), with
fixed contents and no timestamps, so the output is byte-identical run after run
for a given Pillow/libjpeg. ``tests/test_hostile.py`` pins the outcome of each
file (``tests/hostile/EXPECTED.json``); ``docs/hostile.md`` describes the policy.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------
# TIFF / EXIF building blocks
# ---------------------------------------------------------------------------

SHORT, LONG, ASCII, RATIONAL, UNDEFINED = 3, 4, 2, 5, 7


def entry(tag: int, typ: int, count: int, value: int, bo: str = ">") -> bytes:
    """One 12-byte IFD entry; ``value`` is the raw 4-byte value/offset field."""
    if typ == SHORT and count == 1:
        return struct.pack(bo + "HHIHH", tag, typ, count, value, 0)
    return struct.pack(bo + "HHII", tag, typ, count, value)


def ifd(entries: list[bytes], next_ifd: int, bo: str = ">") -> bytes:
    return struct.pack(bo + "H", len(entries)) + b"".join(entries) + struct.pack(bo + "I", next_ifd)


def tiff_header(first_ifd: int = 8, bo: str = ">") -> bytes:
    return (b"MM\x00*" if bo == ">" else b"II*\x00") + struct.pack(bo + "I", first_ifd)


def pad(blob: bytes, size: int) -> bytes:
    assert len(blob) <= size, (len(blob), size)
    return blob + b"\x00" * (size - len(blob))


def exif_app1(tiff: bytes) -> bytes:
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


# ---------------------------------------------------------------------------
# base images
# ---------------------------------------------------------------------------


def base_jpeg(size=(64, 48), quality=80, progressive=False) -> bytes:
    """A small real JPEG (gradient + shapes) without APP segments other than JFIF."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", size)
    px = im.load()
    for y in range(size[1]):
        for x in range(size[0]):
            px[x, y] = (x * 255 // size[0], y * 255 // size[1], (x * y) % 256)
    ImageDraw.Draw(im).ellipse((size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4), fill=(250, 250, 40))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, progressive=progressive)
    return out.getvalue()


def with_app(jpeg: bytes, *segments: bytes) -> bytes:
    """``jpeg`` with ``segments`` inserted right after SOI."""
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def sof_offset(jpeg: bytes) -> int:
    """Offset of the SOF0/SOF2 marker."""
    pos = 2
    while True:
        marker, length = jpeg[pos + 1], struct.unpack_from(">H", jpeg, pos + 2)[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return pos
        pos += 2 + length


def sos_offset(jpeg: bytes) -> int:
    return jpeg.index(b"\xff\xda")


def with_size(jpeg: bytes, width: int, height: int) -> bytes:
    """``jpeg`` with its SOF declaring ``width`` x ``height``."""
    out = bytearray(jpeg)
    struct.pack_into(">HH", out, sof_offset(jpeg) + 5, height, width)
    return bytes(out)


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def png(width: int, height: int, idat: bytes, color_type: int = 0, depth: int = 8, extra: list[bytes] = ()) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + b"".join(extra)
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def zeros_deflated(n: int, level: int = 9) -> bytes:
    """zlib stream of ``n`` zero bytes, built in 1 MiB pieces (constant memory)."""
    c = zlib.compressobj(level)
    block = b"\x00" * (1 << 20)
    parts = []
    for _ in range(n // len(block)):
        parts.append(c.compress(block))
    parts.append(c.compress(b"\x00" * (n % len(block))))
    parts.append(c.flush())
    return b"".join(parts)


# ---------------------------------------------------------------------------
# the cases: name -> bytes
# ---------------------------------------------------------------------------


def _exif_jpeg(tiff: bytes) -> bytes:
    return with_app(base_jpeg(), exif_app1(tiff))


def exif_ifd_loop() -> bytes:
    """IFD0's next-IFD pointer and its ExifOffset both point back at IFD0; IFD1 points at itself."""
    make = b"LoopCam\x00"
    ifd0 = ifd([entry(0x010F, ASCII, len(make), 70), entry(0x0112, SHORT, 1, 1),
                entry(0x8769, LONG, 1, 8)], 8)
    blob = tiff_header() + ifd0
    blob = pad(blob, 70) + make
    return _exif_jpeg(blob)


def exif_ifd1_self_loop() -> bytes:
    """IFD1 is its own next IFD; the GPS pointer points at IFD1."""
    ifd0 = ifd([entry(0x0112, SHORT, 1, 3), entry(0x8825, LONG, 1, 44)], 44)  # 8 + 2 + 24 + 4 = 38 -> pad to 44
    ifd1 = ifd([entry(0x0103, SHORT, 1, 6)], 44)
    return _exif_jpeg(pad(tiff_header() + ifd0, 44) + ifd1)


def exif_offset_past_end() -> bytes:
    """A value offset and the ExifOffset point far past the end of the blob; Orientation is fine."""
    ifd0 = ifd([entry(0x010F, ASCII, 20, 0x7FFFFFF0), entry(0x0112, SHORT, 1, 6),
                entry(0x8769, LONG, 1, 0xFFFFFFF0), entry(0x8825, LONG, 1, 5000)], 0xFFFFFF00)
    return _exif_jpeg(tiff_header() + ifd0)


def exif_first_ifd_past_end() -> bytes:
    """The TIFF header's first-IFD offset is past the end: an empty EXIF, never a failure."""
    return _exif_jpeg(tiff_header(0xFFFFFFFF) + b"\x00" * 16)


def exif_count_ffffffff() -> bytes:
    """Entries with count 0xFFFFFFFF (SHORT, RATIONAL, ASCII), and an IFD claiming 65535 entries."""
    ifd0 = ifd([entry(0x0100, SHORT, 0xFFFFFFFF, 8), entry(0x011A, RATIONAL, 0xFFFFFFFF, 8),
                entry(0x010F, ASCII, 0xFFFFFFFF, 8), entry(0x0112, SHORT, 1, 8),
                entry(0x8769, LONG, 1, 80)], 0)
    exif = struct.pack(">H", 0xFFFF) + entry(0x8827, SHORT, 1, 200)  # 65535 entries declared, 1 present
    return _exif_jpeg(pad(tiff_header() + ifd0, 80) + exif)


def exif_huge_values_overlap() -> bytes:
    """Hundreds of known tags whose big SHORT/LONG arrays all overlap the same bytes of the blob.

    Without a budget on the total value bytes rendered, this 60 KB APP1 becomes
    ~5,000 entries x 30,000 integers in the output (gigabytes of Python ints).
    """
    from engine.exif_tags import GPS_TAGS, TIFF_EXIF_TAGS

    size = 60_000
    tags = sorted(t for t in TIFF_EXIF_TAGS if t not in (0x8769, 0x8825, 0xA005, 0x927C))[:300]
    # IFD0, Exif IFD and IFD1 all list the same 300 tags; GPS too (its own table)
    n = len(tags)
    ifd_len = 2 + 12 * n + 4
    off1, offe = 8 + ifd_len, 8 + 2 * ifd_len + 12 * 2
    data_off = 8 + 4 * ifd_len + 64
    count = (size - data_off) // 4

    def table(extra=(), next_ifd=0):
        return ifd([entry(t, LONG, count, data_off) for t in tags] + list(extra), next_ifd)

    ifd0 = ifd([entry(t, LONG, count, data_off) for t in tags[:-2]]
               + [entry(0x8769, LONG, 1, offe), entry(0x8825, LONG, 1, offe + ifd_len)], off1)
    ifd1 = table()
    exif = table()
    gps = ifd([entry(t, SHORT, 2 * count, data_off) for t in sorted(GPS_TAGS)], 0)
    blob = tiff_header() + ifd0 + ifd1
    blob = pad(blob, offe) + exif + gps
    blob = pad(blob, data_off) + bytes(range(256)) * ((size - data_off) // 256 + 1)
    return _exif_jpeg(blob[:size])


def exif_makernote_self() -> bytes:
    """A MakerNote whose value offset points at the Exif IFD itself (and at its own entry)."""
    offe = 8 + 2 + 12 * 2 + 4
    note_entry = entry(0x927C, UNDEFINED, 26, offe)  # the note *is* the Exif IFD
    ifd0 = ifd([entry(0x0112, SHORT, 1, 1), entry(0x8769, LONG, 1, offe)], 0)
    exif = ifd([entry(0x8827, SHORT, 1, 100), note_entry], 0)
    return _exif_jpeg(tiff_header() + ifd0 + exif)


def exif_bad_types() -> bytes:
    """Unknown TIFF types (0, 14, 0xFFFF), a zero-count entry, non-integer pointer tags."""
    ifd0 = ifd([entry(0x010F, 0, 4, 0x41414141), entry(0x0110, 14, 4, 0x41414141),
                entry(0x0131, 0xFFFF, 4, 0), entry(0x0112, SHORT, 0, 0),
                entry(0x011A, RATIONAL, 1, 100), entry(0x0128, ASCII, 2, 0x33000000),
                entry(0x8769, ASCII, 4, 0x31323300)], 0)
    return _exif_jpeg(pad(tiff_header() + ifd0, 100) + struct.pack(">II", 300, 0))


def exif_resolution_unit_array() -> bytes:
    """XResolution as a DOUBLE 1e308 array and ResolutionUnit as an array: density falls back to 72."""
    ifd0 = ifd([entry(0x011A, 12, 2, 80), entry(0x0128, SHORT, 2, 0x00020003)], 0)
    return _exif_jpeg(pad(tiff_header() + ifd0, 80) + struct.pack(">dd", 1e308, 1e308))


def exif_truncated_blob() -> bytes:
    """The APP1 payload stops in the middle of IFD0's third entry: the two whole entries are kept."""
    ifd0 = ifd([entry(0x0112, SHORT, 1, 8), entry(0x0128, SHORT, 1, 2), entry(0x011A, RATIONAL, 1, 200)], 0)
    return _exif_jpeg((tiff_header() + ifd0)[:8 + 2 + 24 + 5])


def exif_bad_byte_order() -> bytes:
    """'XX' byte-order mark: no EXIF, the image itself is fine."""
    return _exif_jpeg(b"XX\x00*" + struct.pack(">I", 8) + ifd([entry(0x0112, SHORT, 1, 6)], 0))


def jpeg_zero_length_app() -> bytes:
    """APP1 and APP13 segments with a 2-byte length (empty payload) and an APP2 'ICC_PROFILE' with none."""
    return with_app(base_jpeg(), b"\xff\xe1\x00\x02", b"\xff\xed\x00\x02", b"\xff\xe2\x00\x02")


def jpeg_app_length_zero() -> bytes:
    """An APP1 whose length field is 0 (less than its own 2 bytes)."""
    return with_app(base_jpeg(), b"\xff\xe1\x00\x00Exif\x00\x00")


def jpeg_marker_flood() -> bytes:
    """30,000 empty APP1 segments (4 bytes each) before the frame: Pillow reads each in Python."""
    return with_app(base_jpeg(), b"\xff\xe1\x00\x02" * 30_000)


def jpeg_app_overlapping() -> bytes:
    """An APP1 whose length runs over the DQT/SOF that follow it (segments overlap)."""
    base = base_jpeg()
    app = b"\xff\xe1" + struct.pack(">H", 400) + b"Exif\x00\x00MM\x00*\x00\x00\x00\x08"
    return base[:2] + app + base[2:]


def jpeg_app_past_end() -> bytes:
    """SOI, then an APP1 declaring 65535 bytes in a 40-byte file."""
    return b"\xff\xd8\xff\xe1\xff\xffExif\x00\x00MM\x00*\x00\x00\x00\x08" + b"\x00" * 20


def jpeg_truncated_scan() -> bytes:
    """A 256x192 baseline JPEG (with EXIF) cut in the middle of its entropy-coded scan."""
    from PIL import Image

    base = base_jpeg(size=(256, 192), quality=90)
    tiff = tiff_header() + ifd([entry(0x0112, SHORT, 1, 1), entry(0x0128, SHORT, 1, 2)], 0)
    full = with_app(base, exif_app1(tiff))
    scan = sos_offset(full)
    cut = scan + (len(full) - scan) * 55 // 100
    Image.open(io.BytesIO(full)).load()  # the uncut file is valid
    return full[:cut]


def jpeg_truncated_progressive() -> bytes:
    """A progressive JPEG cut after its first scans (the DC scan decodes, detail is missing)."""
    base = base_jpeg(size=(256, 192), quality=90, progressive=True)
    scans = [i for i in range(len(base) - 1) if base[i:i + 2] == b"\xff\xda"]
    return base[:scans[2] + 40]


def jpeg_scan_flood() -> bytes:
    """A 2048x2048 progressive JPEG with 1,000 extra copies of its smallest (16-byte) scan.

    Each scan costs libjpeg a pass over every block: unchecked, this 37 KB file
    decodes in about 2 s, and 5,000 copies (100 KB) in 15 s.
    """
    from PIL import Image

    im = Image.linear_gradient("L").resize((2048, 2048))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=75, progressive=True)
    data = out.getvalue()
    sos = [i for i in range(len(data) - 1) if data[i:i + 2] == b"\xff\xda"]
    ends = sos[1:] + [len(data) - 2]
    size, k = min((ends[k] - sos[k], k) for k in range(len(sos)))
    return data[:ends[-1]] + data[sos[k]:ends[k]] * 1000 + data[ends[-1]:]


def jpeg_header_only() -> bytes:
    """A JPEG cut right after its SOF: no Huffman tables, no scan."""
    base = base_jpeg()
    sof = sof_offset(base)
    return base[:sof + 2 + struct.unpack_from(">H", base, sof + 2)[0]]


def jpeg_soi_only() -> bytes:
    return b"\xff\xd8\xff"


def jpeg_65535x65535() -> bytes:
    """A small JPEG whose SOF declares 65535 x 65535 (4.3 gigapixels)."""
    return with_size(base_jpeg(), 65535, 65535)


def jpeg_1x65535() -> bytes:
    """A JPEG declaring 1 x 65535 over an 64x48 scan (the scan runs out: decoded as truncated)."""
    return with_size(base_jpeg(), 1, 65535)


def jpeg_0x0() -> bytes:
    return with_size(base_jpeg(), 0, 0)


def png_65535x65535() -> bytes:
    """IHDR 65535 x 65535 RGBA (17 GB to decode), a tiny IDAT."""
    return png(65535, 65535, zlib.compress(b"\x00" * 64), color_type=6)


def png_1x65535() -> bytes:
    """A valid 1 x 65535 greyscale PNG (65,535 pixels: under every limit, decodes)."""
    rows = b"".join(b"\x00" + bytes([(y * 7) & 0xFF]) for y in range(65535))
    return png(1, 65535, zlib.compress(rows, 9))


def png_8388608x1() -> bytes:
    """A valid 8,388,608 x 1 greyscale PNG (8.4 MP, 8 KB): the pHash's Lanczos resize needs 48
    bytes of coefficients per source column, 400 MB here (a fuzzed 8.4M x 1 WebP took 5 s, 490 MB)."""
    return png(8_388_608, 1, zeros_deflated(8_388_609))


def png_zip_bomb() -> bytes:
    """A 64x64 greyscale PNG whose IDAT inflates to 64 MiB (64 KB file; 4 KB is all the image needs)."""
    return png(64, 64, zeros_deflated(64 << 20))


def png_bomb_declared() -> bytes:
    """A PNG declaring 16000 x 16000 RGBA (256 MP, over the default 200 MP limit) with 16 MiB of IDAT zeros."""
    return png(16000, 16000, zeros_deflated(16 << 20), color_type=6)


def png_ztxt_bomb() -> bytes:
    """A valid 8x8 PNG with a zTXt chunk that inflates to 32 MiB (Pillow's MAX_TEXT_CHUNK is 1 MiB)."""
    ztxt = b"Comment\x00\x00" + zeros_deflated(32 << 20)
    return png(8, 8, zlib.compress(b"\x00" * (9 * 8)), extra=[png_chunk(b"zTXt", ztxt)])


def png_iccp_bomb() -> bytes:
    """A valid 8x8 PNG with an iCCP profile that inflates to 32 MiB."""
    iccp = b"bomb\x00\x00" + zeros_deflated(32 << 20)
    return png(8, 8, zlib.compress(b"\x00" * (9 * 8)), extra=[png_chunk(b"iCCP", iccp)])


def png_truncated_idat() -> bytes:
    """A 128x128 RGB PNG cut in the middle of its IDAT."""
    rows = b"".join(b"\x00" + bytes((x * 2 + y) & 0xFF for x in range(384)) for y in range(128))
    full = png(128, 128, zlib.compress(rows, 6), color_type=2)
    return full[:len(full) // 2]


def png_exif_loop() -> bytes:
    """A valid 8x8 PNG whose eXIf chunk has an IFD loop and an offset past the end."""
    blob = tiff_header() + ifd([entry(0x0112, SHORT, 1, 8), entry(0x8769, LONG, 1, 8),
                                entry(0x010F, ASCII, 64, 0x10000)], 8)
    return png(8, 8, zlib.compress(b"\x00" * (9 * 8)), extra=[png_chunk(b"eXIf", blob)])


def png_many_chunks() -> bytes:
    """A valid 4x4 PNG preceded by 20,000 empty private chunks (over the 10,000-chunk budget)."""
    junk = png_chunk(b"prVt", b"") * 20_000
    return png(4, 4, zlib.compress(b"\x00" * 20), extra=[junk])


def png_idat_flood() -> bytes:
    """A valid 4x4 PNG whose image data is followed by 12,000 empty IDAT chunks (Pillow reads each)."""
    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00" * 20))
            + png_chunk(b"IDAT", b"") * 12_000 + png_chunk(b"IEND", b""))


def png_actl_frames() -> bytes:
    """An APNG whose acTL declares 2**31-1 frames (one is present)."""
    actl = png_chunk(b"acTL", struct.pack(">II", 0x7FFFFFFF, 0))
    fctl = png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, 4, 4, 0, 0, 1, 10, 0, 0))
    return png(4, 4, zlib.compress(b"\x00" * 20), extra=[actl, fctl])


def gif_frames(n: int, width: int = 1, height: int = 1) -> bytes:
    """A GIF89a with ``n`` 1x1 frames (each: descriptor + 2-byte LZW stream)."""
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return head + frame * n + b"\x3b"


def gif_10001_frames() -> bytes:
    """10,001 frames of 1x1: one over the default IMGMETA_MAX_FRAMES of 10,000."""
    return gif_frames(10_001)


def gif_65535x65535() -> bytes:
    """A GIF whose logical screen and only frame declare 65535 x 65535."""
    head = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x02\x02\x44\x01\x00"
    return head + frame + b"\x3b"


def gif_frame_grows_canvas() -> bytes:
    """A 1x1 logical screen whose first frame is 15000 x 15000 (Pillow grows the canvas to it)."""
    head = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 15000, 15000, 0) + b"\x02\x02\x44\x01\x00"
    return head + frame + b"\x3b"


def gif_truncated() -> bytes:
    """A GIF cut inside its first frame's image data."""
    return gif_frames(1, 1, 1)[:-4]


def gif_subblock_flood() -> bytes:
    """A 1x1 GIF with 40,000 empty-ish comment sub-blocks before its frame."""
    comment = b"\x21\xfe" + b"\x01A" * 40_000 + b"\x00"
    g = gif_frames(1)
    return g[:19] + comment + g[19:]


def riff(chunks: list[bytes]) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) & 1 else b"")


def _vp8l_1x1() -> bytes:
    """The VP8L bitstream of a 1x1 image, from Pillow's encoder."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (1, 1), (10, 20, 30, 255)).save(out, "WEBP", lossless=True)
    data = out.getvalue()
    pos = data.index(b"VP8L")
    n = struct.unpack_from("<I", data, pos + 4)[0]
    return data[pos + 8:pos + 8 + n]


def webp_frames(n: int, width: int = 1, height: int = 1) -> bytes:
    vp8x = struct.pack("<B3s", 0x02, b"\x00\x00\x00") + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    anim = struct.pack("<IH", 0, 0)
    # ANMF: x/2, y/2, width-1, height-1, duration (3 bytes each), flags; then the frame's bitstream
    header = b"\x00" * 12 + (100).to_bytes(3, "little") + b"\x00"
    anmf = webp_chunk(b"ANMF", header + webp_chunk(b"VP8L", _vp8l_1x1()))
    return riff([webp_chunk(b"VP8X", vp8x), webp_chunk(b"ANIM", anim)] + [anmf] * n)


def webp_3000_frames() -> bytes:
    """An animated WebP with 3,000 1x1 frames."""
    return webp_frames(3000)


def webp_16383x16383_anim() -> bytes:
    """An animated WebP whose VP8X canvas is 16383 x 16383 (268 MP, 1 GB RGBA canvas), 1x1 frames."""
    return webp_frames(2, 16383, 16383)


def webp_riff_size_lie() -> bytes:
    """A lossless 1x1 WebP whose RIFF and VP8L sizes claim 4 GB."""
    data = riff([webp_chunk(b"VP8L", _vp8l_1x1())])
    data = data[:4] + struct.pack("<I", 0xFFFFFFF0) + data[8:16] + struct.pack("<I", 0xFFFFFFF0) + data[20:]
    return data


def tiff_page(width=1, height=1, strip=8, next_ifd=0, bo=">") -> bytes:
    return ifd([entry(0x0100, SHORT, 1, width), entry(0x0101, SHORT, 1, height),
                entry(0x0102, SHORT, 1, 8), entry(0x0106, SHORT, 1, 1),
                entry(0x0111, LONG, 1, strip), entry(0x0117, LONG, 1, width * height)], next_ifd)


def tiff_pages(n: int) -> bytes:
    """A big-endian TIFF with ``n`` 1x1 greyscale pages sharing one pixel byte (at offset 7)."""
    size = len(tiff_page())
    out = [tiff_header(8)]
    for i in range(n):
        nxt = 8 + (i + 1) * size if i + 1 < n else 0
        out.append(tiff_page(strip=7, next_ifd=nxt))
    return b"".join(out)


def tiff_5000_pages() -> bytes:
    """5,000 pages of 1x1 (each a 6-entry IFD)."""
    return tiff_pages(5000)


def tiff_empty_ifd_chain() -> bytes:
    """A valid 1x1 page followed by a chain of 30,000 zero-entry IFDs (6 bytes each)."""
    first = tiff_page(strip=7, next_ifd=8 + len(tiff_page()))
    out = [tiff_header(8), first]
    pos = 8 + len(first)
    for i in range(30_000):
        pos += 6
        out.append(struct.pack(">HI", 0, pos if i + 1 < 30_000 else 0))
    return b"".join(out)


def tiff_page_loop() -> bytes:
    """Three pages whose IFD chain loops back from the third to the first."""
    size = len(tiff_page())
    pages = [tiff_page(strip=7, next_ifd=8 + size), tiff_page(strip=7, next_ifd=8 + 2 * size),
             tiff_page(strip=7, next_ifd=8)]
    return tiff_header(8) + b"".join(pages)


def bigtiff_page_loop() -> bytes:
    """A BigTIFF 1x1 page whose next-IFD offset (64-bit) points back at itself."""
    def e(tag, typ, count, value):
        return struct.pack("<HHQQ", tag, typ, count, value)

    entries = [e(0x100, SHORT, 1, 1), e(0x101, SHORT, 1, 1), e(0x102, SHORT, 1, 8), e(0x106, SHORT, 1, 1),
               e(0x111, LONG, 1, 15), e(0x117, LONG, 1, 1)]
    return b"II+\x00" + struct.pack("<HHQ", 8, 0, 16) + struct.pack("<Q", len(entries)) + b"".join(entries) + struct.pack("<Q", 16)


def tiff_tile_flood() -> bytes:
    """A 14000x14000 uncompressed TIFF declaring 765,625 16x16 tiles (the offset arrays are cut off).

    Built whole (6 MB, every tile pointing at the same 256 bytes) it took Pillow 4.6 s and 460 MB:
    a Python tile list built at open, then a decode call per tile.
    """
    w, t = 14000, 16
    n = (w // t + 1) ** 2
    ifd_len = 2 + 12 * 9 + 4
    offs_at = 8 + ifd_len
    ents = [entry(0x100, LONG, 1, w), entry(0x101, LONG, 1, w), entry(0x102, SHORT, 1, 8),
            entry(0x103, SHORT, 1, 1), entry(0x106, SHORT, 1, 1), entry(0x142, LONG, 1, t),
            entry(0x143, LONG, 1, t), entry(0x144, LONG, n, offs_at), entry(0x145, LONG, n, offs_at + 4 * n)]
    return tiff_header(8) + ifd(ents, 0) + struct.pack(">64I", *([offs_at] * 64))


def tiff_65535x65535() -> bytes:
    return tiff_header(8) + tiff_page(65535, 65535, strip=7)


def tiff_strip_past_end() -> bytes:
    """A 64x64 page whose strip offset points past the end of the file."""
    return tiff_header(8) + tiff_page(64, 64, strip=0x7FFFFF00)


def bmp_65535x65535() -> bytes:
    """A BMP info header declaring 65535 x 65535 at 32 bits."""
    info = struct.pack("<IiiHHIIiiII", 40, 65535, 65535, 1, 32, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 4, 0, 0, 54) + info + b"\x00" * 4


def bmp_negative_width() -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, -16, 16, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 48, 0, 0, 54) + info + b"\x00" * 48


def ico_entries_past_end() -> bytes:
    """An ICO directory of 3 entries whose image offsets point past the end."""
    head = struct.pack("<HHH", 0, 1, 3)
    entries = b"".join(struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, 1000, 0x7FFFFF00 + i) for i in range(3))
    return head + entries


def ico_png_oversize() -> bytes:
    """A 16x16 ICO directory entry whose embedded PNG declares 15000 x 15000 (225 MP)."""
    data = png(15000, 15000, zlib.compress(b"\x00" * 64), color_type=6)
    return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(data), 22) + data


def ico_bmp_oversize() -> bytes:
    """A 16x16 ICO directory entry whose embedded DIB declares 15000 x 15000 (x2 for the mask)."""
    dib = struct.pack("<IiiHHIIiiII", 40, 15000, 30000, 1, 32, 0, 0, 0, 0, 0, 0) + b"\x00" * 64
    return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(dib), 22) + dib


def heif_bad_box() -> bytes:
    """An ftyp 'heic' box followed by a meta box whose size is 0xFFFFFFFF."""
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"heic", 0, b"mif1", b"heic")
    return ftyp + struct.pack(">I4s", 0xFFFFFFFF, b"meta") + b"\x00" * 32


def avif_truncated() -> bytes:
    ftyp = struct.pack(">I4s4sI4s4s", 24, b"ftyp", b"avif", 0, b"mif1", b"avif")
    return ftyp + struct.pack(">I4s", 100, b"meta") + b"\x00" * 8


CASES = {
    "exif_ifd_loop.jpg": exif_ifd_loop,
    "exif_ifd1_self_loop.jpg": exif_ifd1_self_loop,
    "exif_offset_past_end.jpg": exif_offset_past_end,
    "exif_first_ifd_past_end.jpg": exif_first_ifd_past_end,
    "exif_count_ffffffff.jpg": exif_count_ffffffff,
    "exif_huge_values_overlap.jpg": exif_huge_values_overlap,
    "exif_makernote_self.jpg": exif_makernote_self,
    "exif_bad_types.jpg": exif_bad_types,
    "exif_resolution_unit_array.jpg": exif_resolution_unit_array,
    "exif_truncated_blob.jpg": exif_truncated_blob,
    "exif_bad_byte_order.jpg": exif_bad_byte_order,
    "jpeg_zero_length_app.jpg": jpeg_zero_length_app,
    "jpeg_app_length_zero.jpg": jpeg_app_length_zero,
    "jpeg_marker_flood.jpg": jpeg_marker_flood,
    "jpeg_app_overlapping.jpg": jpeg_app_overlapping,
    "jpeg_app_past_end.jpg": jpeg_app_past_end,
    "jpeg_truncated_scan.jpg": jpeg_truncated_scan,
    "jpeg_truncated_progressive.jpg": jpeg_truncated_progressive,
    "jpeg_scan_flood.jpg": jpeg_scan_flood,
    "jpeg_header_only.jpg": jpeg_header_only,
    "jpeg_soi_only.jpg": jpeg_soi_only,
    "jpeg_65535x65535.jpg": jpeg_65535x65535,
    "jpeg_1x65535.jpg": jpeg_1x65535,
    "jpeg_0x0.jpg": jpeg_0x0,
    "png_65535x65535.png": png_65535x65535,
    "png_1x65535.png": png_1x65535,
    "png_8388608x1.png": png_8388608x1,
    "png_zip_bomb.png": png_zip_bomb,
    "png_bomb_declared.png": png_bomb_declared,
    "png_ztxt_bomb.png": png_ztxt_bomb,
    "png_iccp_bomb.png": png_iccp_bomb,
    "png_truncated_idat.png": png_truncated_idat,
    "png_exif_loop.png": png_exif_loop,
    "png_many_chunks.png": png_many_chunks,
    "png_idat_flood.png": png_idat_flood,
    "png_actl_frames.png": png_actl_frames,
    "gif_10001_frames.gif": gif_10001_frames,
    "gif_65535x65535.gif": gif_65535x65535,
    "gif_frame_grows_canvas.gif": gif_frame_grows_canvas,
    "gif_truncated.gif": gif_truncated,
    "gif_subblock_flood.gif": gif_subblock_flood,
    "webp_3000_frames.webp": webp_3000_frames,
    "webp_16383x16383_anim.webp": webp_16383x16383_anim,
    "webp_riff_size_lie.webp": webp_riff_size_lie,
    "tiff_5000_pages.tif": tiff_5000_pages,
    "tiff_empty_ifd_chain.tif": tiff_empty_ifd_chain,
    "tiff_page_loop.tif": tiff_page_loop,
    "bigtiff_page_loop.tif": bigtiff_page_loop,
    "tiff_tile_flood.tif": tiff_tile_flood,
    "tiff_65535x65535.tif": tiff_65535x65535,
    "tiff_strip_past_end.tif": tiff_strip_past_end,
    "bmp_65535x65535.bmp": bmp_65535x65535,
    "bmp_negative_width.bmp": bmp_negative_width,
    "ico_entries_past_end.ico": ico_entries_past_end,
    "ico_png_oversize.ico": ico_png_oversize,
    "ico_bmp_oversize.ico": ico_bmp_oversize,
    "heif_bad_box.heic": heif_bad_box,
    "avif_truncated.avif": avif_truncated,
    "empty.jpg": lambda: b"",
    "one_byte.png": lambda: b"\x89",
    "gif_header_only.gif": lambda: b"GIF89a",
    "not_an_image.pdf": lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
}


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(HERE.parents[1]))
    total = 0
    for name, build in CASES.items():
        data = build()
        (HERE / name).write_bytes(data)
        total += len(data)
        print(f"{name:34s} {len(data):>9,d} bytes")
    print(f"{len(CASES)} files, {total:,d} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
