"""Lossy quality estimates on the IJG 1..100 scale.

- JPEG: from the quantization tables, with ImageMagick's method (``identify
  -format %Q``): the sum of all table entries and four sample entries are
  compared with the values the IJG tables give at each quality.
- WebP (lossy VP8): from the frame's quantizer indices, inverting libwebp's
  quality -> quantizer mapping.

Lossless encodings have no such setting: their quality is 0.

Examples
--------
>>> from PIL import Image
>>> import io
>>> buf = io.BytesIO()
>>> Image.new("RGB", (16, 16)).save(buf, "JPEG", quality=75)
>>> jpeg_quality(Image.open(buf).quantization)
75
"""

from __future__ import annotations

import math

# ImageMagick 6 coders/jpeg.c: reference values for a colour JPEG (two tables)...
_HASH_COLOR = (
    1020, 1015, 932, 848, 780, 735, 702, 679, 660, 645, 632, 623, 613, 607, 600, 594, 589, 585, 581, 571,
    555, 542, 529, 514, 494, 474, 457, 439, 424, 410, 397, 386, 373, 364, 351, 341, 334, 324, 317, 309,
    299, 294, 287, 279, 274, 267, 262, 257, 251, 247, 243, 237, 232, 227, 222, 217, 213, 207, 202, 198,
    192, 188, 183, 177, 173, 168, 163, 157, 153, 148, 143, 139, 132, 128, 125, 119, 115, 108, 104, 99,
    94, 90, 84, 79, 74, 70, 64, 59, 55, 49, 45, 40, 34, 30, 25, 20, 15, 11, 6, 4, 0,
)
_SUMS_COLOR = (
    32640, 32635, 32266, 31495, 30665, 29804, 29146, 28599, 28104, 27670, 27225, 26725, 26210, 25716,
    25240, 24789, 24373, 23946, 23572, 22846, 21801, 20842, 19949, 19121, 18386, 17651, 16998, 16349,
    15800, 15247, 14783, 14321, 13859, 13535, 13081, 12702, 12423, 12056, 11779, 11513, 11135, 10955,
    10676, 10392, 10208, 9928, 9747, 9564, 9369, 9193, 9017, 8822, 8639, 8458, 8270, 8084, 7896, 7710,
    7527, 7347, 7156, 6977, 6788, 6607, 6422, 6236, 6054, 5867, 5684, 5495, 5305, 5128, 4945, 4751,
    4638, 4442, 4248, 4065, 3888, 3698, 3509, 3326, 3139, 2957, 2775, 2586, 2405, 2216, 2037, 1846,
    1666, 1483, 1297, 1109, 927, 735, 554, 375, 201, 128, 0,
)
# ... and for a greyscale JPEG (one table).
_HASH_GRAY = (
    510, 505, 422, 380, 355, 338, 326, 318, 311, 305, 300, 297, 293, 291, 288, 286, 284, 283, 281, 280,
    279, 278, 277, 273, 262, 251, 243, 233, 225, 218, 211, 205, 198, 193, 186, 181, 177, 172, 168, 164,
    158, 156, 152, 148, 145, 142, 139, 136, 133, 131, 129, 126, 123, 120, 118, 115, 113, 110, 107, 105,
    102, 100, 97, 94, 92, 89, 87, 83, 81, 79, 76, 74, 70, 68, 66, 63, 61, 57, 55, 52,
    50, 48, 44, 42, 39, 37, 34, 31, 29, 26, 24, 21, 18, 16, 13, 11, 8, 6, 3, 2, 0,
)
_SUMS_GRAY = (
    16320, 16315, 15946, 15277, 14655, 14073, 13623, 13230, 12859, 12560, 12240, 11861, 11456, 11081,
    10714, 10360, 10027, 9679, 9368, 9056, 8680, 8331, 7995, 7668, 7376, 7084, 6823, 6562, 6345, 6125,
    5939, 5756, 5571, 5421, 5240, 5086, 4976, 4829, 4719, 4616, 4463, 4393, 4280, 4166, 4092, 3980,
    3909, 3835, 3755, 3688, 3621, 3541, 3467, 3396, 3323, 3247, 3170, 3096, 3021, 2952, 2874, 2804,
    2727, 2657, 2583, 2509, 2437, 2362, 2290, 2211, 2136, 2068, 1996, 1915, 1858, 1773, 1692, 1620,
    1552, 1477, 1398, 1326, 1251, 1179, 1109, 1031, 961, 884, 814, 736, 667, 592, 518, 441, 369, 292,
    221, 151, 86, 64, 0,
)


def jpeg_quality(tables: dict[int, list[int]]) -> int:
    """ImageMagick's quality estimate from JPEG quantization tables.

    ``tables`` maps table slot (0..3) to its 64 values in natural (row-major)
    order, as Pillow's ``JpegImageFile.quantization`` gives them. Returns 0
    when there is no table or no estimate.
    """
    t0, t1 = tables.get(0), tables.get(1)
    if not t0 or len(t0) < 64:
        return 0
    total = sum(sum(t) for slot, t in tables.items() if 0 <= slot < 4)
    if t1 and len(t1) >= 64:
        qvalue = t0[2] + t0[53] + t1[0] + t1[63]
        hashes, sums = _HASH_COLOR, _SUMS_COLOR
    else:
        qvalue = t0[2] + t0[53]
        hashes, sums = _HASH_GRAY, _SUMS_GRAY
    for i in range(100):
        if qvalue < hashes[i] and total < sums[i]:
            continue
        if (qvalue <= hashes[i] and total <= sums[i]) or i >= 50:
            return i + 1
        return 0
    return 0


def webp_quality(quantizers: list[int], shares: list[float] | None = None) -> int:
    """Quality estimate of a lossy WebP from its segments' quantizer indices (0..127).

    libwebp maps a quality ``q`` to a compression factor
    ``c = cbrt(2q/3)`` (``q < 0.75``) or ``cbrt(2q - 1)``, and each segment's
    quantizer to ``int(127 * (1 - c ** e))``, where the exponents ``e`` average
    to 1 over the macroblocks. The geometric mean of the segments'
    ``1 - index / 127``, weighted by each segment's share of macroblocks,
    therefore recovers ``c``, which is inverted here. Exact on libwebp's
    output at every quality we tried (5 to 100).

    >>> webp_quality([29, 22, 15, 15], [0.68, 0.183, 0.137, 0.0])
    75
    """
    if not quantizers:
        return 0
    if max(quantizers) <= 0:
        return 100
    shares = shares if shares and sum(shares) > 0 else [1.0] * len(quantizers)
    # libwebp truncates 127 * (1 - c): the index stands for the middle of [q, q + 1).
    logs = [math.log(max(1.0 - min(q + 0.5, 127) / 127.0, 1e-6)) for q in quantizers]
    c = math.exp(sum(w * x for w, x in zip(shares, logs)) / sum(shares))
    linear = c ** 3
    q = linear * 1.5 if linear < 0.5 else (linear + 1.0) / 2.0
    return max(1, min(100, round(q * 100)))


def dqt_tables(jpeg: bytes) -> dict[int, list[int]]:
    """Quantization tables (natural order) of the DQT segments in a JPEG stream.

    For streams Pillow does not open itself, such as a TIFF's JPEGTables.
    """

    tables: dict[int, list[int]] = {}
    pos, n = 2, len(jpeg)
    while pos + 4 <= n and jpeg[pos] == 0xFF:
        marker, length = jpeg[pos + 1], int.from_bytes(jpeg[pos + 2:pos + 4], "big")
        seg = jpeg[pos + 4:pos + 2 + length]
        if marker == 0xDB:
            i = 0
            while i < len(seg):
                pq, slot = seg[i] >> 4, seg[i] & 15
                size = 128 if pq else 64
                raw = seg[i + 1:i + 1 + size]
                if len(raw) < size:
                    break
                vals = [int.from_bytes(raw[j:j + 2], "big") for j in range(0, 128, 2)] if pq else list(raw)
                natural = [0] * 64
                for k, v in enumerate(vals):
                    natural[_ZIGZAG[k]] = v
                tables[slot] = natural
                i += 1 + size
        if marker in (0xDA, 0xD9) or length < 2:
            break
        pos += 2 + length
    return tables


#: zigzag position -> natural (row-major) index
_ZIGZAG = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,
    7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31,
    39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)
