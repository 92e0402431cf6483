"""Structure-aware byte mutations for fuzzing ``engine.extract``.

Shared by ``tests/test_fuzz.py`` (hypothesis, a short bounded run in CI) and
``benchmarks/fuzz_long.py`` (the >=100,000-input long run). A mutation is a
list of *ops*; each op is ``(kind, where, value)`` with ``where`` a float in
[0, 1) (a position relative to the input or to the list of structures found
in it) and ``value`` an int. The same ops on the same seed input always give
the same bytes, so a finding is reproduced by its ops alone.

Kinds
-----
``flip``      flip one bit
``byte``      overwrite one byte with an interesting value
``int16`` / ``int32``  write an interesting integer, either byte order
``truncate``  cut the input short
``delete``    remove a run of bytes
``dup``       duplicate a run of bytes in place
``splice``    overwrite a run with bytes from another seed input
``ifd``       poison one field (type, count or offset) of an IFD entry of an
              embedded TIFF/EXIF structure
``seglen``    poison the length of a JPEG segment, PNG chunk or RIFF chunk
``dims``      set the declared width or height (JPEG SOF, PNG IHDR, GIF screen and
              first frame, BMP header, WebP VP8X canvas, TIFF IFD0) to an interesting value
"""

from __future__ import annotations

import json
import random
import struct
from pathlib import Path

KINDS = ("flip", "byte", "int16", "int32", "truncate", "delete", "dup", "splice", "ifd", "seglen", "dims")

INTERESTING_8 = (0x00, 0x01, 0x7F, 0x80, 0xFF)
INTERESTING_16 = (0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF)
INTERESTING_32 = (0, 1, 8, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)

REPO = Path(__file__).resolve().parents[2]
SEED_DIRS = (REPO.parent / "shared" / "samples", REPO / "data" / "samples")
SEED_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp", ".ico", ".heic", ".heif", ".avif"}
#: seeds larger than this are skipped (mutating multi-MB photos is slow and finds nothing new)
MAX_SEED_BYTES = 400_000


def seed_files(max_bytes: int = MAX_SEED_BYTES, hostile: bool = False) -> list[Path]:
    """The image files of ``../shared/samples`` (when present) and ``data/samples``, smallest first.

    ``hostile`` adds the crafted corpus of ``tests/hostile`` (a mutation of an
    attack is often a new one).
    """
    found = []
    for d in SEED_DIRS + ((Path(__file__).resolve().parent,) if hostile else ()):
        if d.is_dir():
            found += [p for p in d.iterdir() if p.suffix.lower() in SEED_SUFFIXES and p.stat().st_size <= max_bytes]
    return sorted(found, key=lambda p: (p.stat().st_size, p.name))


def tiff_entries(data: bytes) -> list[tuple[int, str]]:
    """``(offset, byteorder)`` of the 12-byte IFD entries of the first IFD of each embedded TIFF header."""
    out = []
    for magic, bo in ((b"II*\x00", "<"), (b"MM\x00*", ">")):
        start = data.find(magic)
        hits = 0
        while start >= 0 and hits < 4:
            hits += 1
            if start + 8 <= len(data):
                ifd = start + struct.unpack_from(bo + "I", data, start + 4)[0]
                if ifd + 2 <= len(data):
                    n = min(struct.unpack_from(bo + "H", data, ifd)[0], 64)
                    out += [(ifd + 2 + 12 * i, bo) for i in range(n) if ifd + 14 + 12 * i <= len(data)]
            start = data.find(magic, start + 1)
    return out


def length_fields(data: bytes) -> list[tuple[int, str]]:
    """``(offset, struct code)`` of segment/chunk length fields: JPEG markers, PNG chunks, RIFF chunks."""
    out: list[tuple[int, str]] = []
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 4 <= len(data) and data[pos] == 0xFF and len(out) < 64:
            marker = data[pos + 1]
            if marker == 0xDA or marker == 0xD9:
                out.append((pos + 2, ">H"))
                break
            out.append((pos + 2, ">H"))
            pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        pos = 8
        while pos + 8 <= len(data) and len(out) < 64:
            out.append((pos, ">I"))
            pos += 12 + struct.unpack_from(">I", data, pos)[0]
    elif data[:4] == b"RIFF":
        out.append((4, "<I"))
        pos = 12
        while pos + 8 <= len(data) and len(out) < 64:
            out.append((pos + 4, "<I"))
            n = struct.unpack_from("<I", data, pos + 4)[0]
            pos += 8 + n + (n & 1)
    return out


INTERESTING_DIMS = (0, 1, 2, 255, 256, 4097, 14000, 32767, 32768, 65535, 0x7FFFFFFF, 0xFFFFFFFF)


def dim_fields(data: bytes) -> list[tuple[int, str]]:
    """``(offset, struct code)`` of the declared width/height fields of the container."""
    out: list[tuple[int, str]] = []
    if data[:2] == b"\xff\xd8":
        pos = 2
        while pos + 9 <= len(data) and data[pos] == 0xFF:
            marker = data[pos + 1]
            if marker in (0xC0, 0xC1, 0xC2):
                return [(pos + 5, ">H"), (pos + 7, ">H")]
            if marker == 0xDA:
                break
            pos += 2 + struct.unpack_from(">H", data, pos + 2)[0]
    elif data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        out = [(16, ">I"), (20, ">I")]
    elif data[:3] == b"GIF" and len(data) >= 10:
        out = [(6, "<H"), (8, "<H")]
        frame = data.find(b"\x2c", 13)
        if 0 < frame and frame + 9 <= len(data):
            out += [(frame + 5, "<H"), (frame + 7, "<H")]
    elif data[:2] == b"BM" and len(data) >= 26:
        out = [(18, "<I"), (22, "<I")]
    elif data[:4] == b"RIFF" and data[12:16] == b"VP8X" and len(data) >= 30:
        out = [(24, "<3"), (27, "<3")]
    else:
        for off, bo in tiff_entries(data):
            tag = struct.unpack_from(bo + "H", data, off)[0]
            if tag in (0x100, 0x101):
                out.append((off + 8, bo + "I"))
    return out


def _pick(seq, where: float):
    return seq[min(int(where * len(seq)), len(seq) - 1)]


def _run(buf: bytearray, where: float, value: int) -> tuple[int, int]:
    start = min(int(where * len(buf)), len(buf) - 1)
    return start, min(len(buf), start + 1 + value % 256)


def apply_op(buf: bytearray, kind: str, where: float, value: int, other: bytes = b"") -> bytearray:
    """Apply one op to ``buf`` (in place where possible) and return the result."""
    if not buf:
        return buf
    pos = min(int(where * len(buf)), len(buf) - 1)
    if kind == "flip":
        buf[pos] ^= 1 << (value % 8)
    elif kind == "byte":
        buf[pos] = INTERESTING_8[value % len(INTERESTING_8)]
    elif kind in ("int16", "int32"):
        size, table = (2, INTERESTING_16) if kind == "int16" else (4, INTERESTING_32)
        code = ("<" if value & 1 else ">") + ("H" if size == 2 else "I")
        if pos + size <= len(buf):
            struct.pack_into(code, buf, pos, table[(value >> 1) % len(table)])
    elif kind == "truncate":
        del buf[max(1, pos):]
    elif kind == "delete":
        start, end = _run(buf, where, value)
        del buf[start:end]
    elif kind == "dup":
        start, end = _run(buf, where, value)
        buf[start:start] = buf[start:end]
    elif kind == "splice" and other:
        src = (value * 7919) % len(other)
        chunk = other[src:src + 1 + (value >> 8) % 512]
        buf[pos:pos + len(chunk)] = chunk
    elif kind == "ifd":
        entries = tiff_entries(bytes(buf))
        if entries:
            off, bo = _pick(entries, where)
            field = value % 3
            if field == 0:  # type
                struct.pack_into(bo + "H", buf, off + 2, (0, 2, 5, 7, 12, 13, 14, 0xFFFF)[(value >> 2) % 8])
            else:  # count or value/offset
                struct.pack_into(bo + "I", buf, off + 4 * field, INTERESTING_32[(value >> 2) % len(INTERESTING_32)])
    elif kind == "dims":
        fields = dim_fields(bytes(buf))
        if fields:
            off, code = _pick(fields, where)
            value = INTERESTING_DIMS[value % len(INTERESTING_DIMS)]
            if code == "<3":
                buf[off:off + 3] = (value & 0xFFFFFF).to_bytes(3, "little")
            else:
                size = struct.calcsize(code)
                struct.pack_into(code, buf, off, value & ((1 << (8 * size)) - 1))
    elif kind == "seglen":
        fields = length_fields(bytes(buf))
        if fields:
            off, code = _pick(fields, where)
            table = INTERESTING_16 if code.endswith("H") else INTERESTING_32
            if off + struct.calcsize(code) <= len(buf):
                struct.pack_into(code, buf, off, table[value % len(table)])
    return buf


def mutate(data: bytes, ops, other: bytes = b"") -> bytes:
    """``data`` with ``ops`` applied in order."""
    buf = bytearray(data)
    for kind, where, value in ops:
        buf = apply_op(buf, kind, where, value, other)
    return bytes(buf)


def random_ops(rng: random.Random, max_ops: int = 6) -> list[tuple[str, float, int]]:
    """A random op list, weighted towards few ops (most findings need one or two)."""
    n = 1 + min(int(rng.expovariate(0.7)), max_ops - 1)
    return [(rng.choice(KINDS), rng.random(), rng.getrandbits(24)) for _ in range(n)]


def case(seeds: list[bytes], index: int, base_seed: int = 0) -> tuple[int, int, list, bytes]:
    """The ``index``-th fuzz case of a run: ``(seed_no, other_no, ops, mutated bytes)``, deterministic."""
    rng = random.Random(base_seed * 1_000_003 + index)
    s, o = rng.randrange(len(seeds)), rng.randrange(len(seeds))
    ops = random_ops(rng)
    return s, o, ops, mutate(seeds[s], ops, seeds[o])


TOP_KEYS = ["height", "width", "size", "format", "hasColorProfile", "quality", "density",
            "hasTransparency", "pHash", "exif"]
GROUPS = ["image", "thumbnail", "exif", "gps", "interoperability", "makernote"]


def check_output(r) -> str | None:
    """Why ``r`` is not a valid SPEC metadata object, or None when it is one."""
    if not isinstance(r, dict) or list(r) != TOP_KEYS:
        return f"keys {list(r) if isinstance(r, dict) else type(r).__name__}"
    for k in ("height", "width", "size", "quality", "density"):
        if not isinstance(r[k], int) or isinstance(r[k], bool) or r[k] < 0:
            return f"{k}={r[k]!r}"
    if not (isinstance(r["pHash"], str) and len(r["pHash"]) in (0, 16)):
        return f"pHash={r['pHash']!r}"
    if r["exif"] and list(r["exif"]) != GROUPS:
        return f"exif groups {list(r['exif'])}"
    try:
        json.dumps(r, allow_nan=False)
    except (TypeError, ValueError) as e:
        return f"not JSON: {e}"
    return None
