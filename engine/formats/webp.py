"""WebP (lossy VP8, lossless VP8L, extended VP8X, animated): chunks and the VP8 quantizer."""

from __future__ import annotations

import struct

from ..quality import webp_quality
from . import exif_payload, from_image, may_have_alpha

FORMAT = "webp"
PIL_FORMATS = ["WEBP"]
MAX_CHUNKS = 100_000


def matches(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def chunks(buf, start: int = 12, end: int | None = None):
    """Yield ``(fourcc, data_offset, length)`` of the RIFF chunks in ``buf[start:end]``."""
    end = len(buf) if end is None else min(end, len(buf))
    pos = start
    for _ in range(MAX_CHUNKS):
        if pos + 8 > end:
            return
        fourcc, length = struct.unpack("<4sI", buf[pos:pos + 8])
        yield fourcc, pos + 8, min(length, end - pos - 8)
        pos += 8 + length + (length & 1)


def first_bitstream(buf) -> tuple[bytes, int, int] | None:
    """The first image bitstream chunk (``VP8 `` or ``VP8L``), also inside an ``ANMF`` frame."""
    for fourcc, off, length in chunks(buf):
        if fourcc in (b"VP8 ", b"VP8L"):
            return fourcc, off, length
        if fourcc == b"ANMF":
            for sub, soff, slen in chunks(buf, off + 16, off + length):
                if sub in (b"VP8 ", b"VP8L"):
                    return sub, soff, slen
            return None
    return None


class BoolDecoder:
    """The VP8 boolean entropy decoder (RFC 6386, section 7), enough to read the frame header."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 2
        self.value = int.from_bytes(data[:2].ljust(2, b"\x00"), "big")
        self.range, self.bit_count = 255, 0

    def bool(self, prob: int = 128) -> int:
        split = 1 + (((self.range - 1) * prob) >> 8)
        big_split = split << 8
        if self.value >= big_split:
            bit, self.range, self.value = 1, self.range - split, self.value - big_split
        else:
            bit, self.range = 0, split
        while self.range < 128:
            self.value <<= 1
            self.range <<= 1
            self.bit_count += 1
            if self.bit_count == 8:
                self.bit_count = 0
                if self.pos < len(self.data):
                    self.value |= self.data[self.pos]
                self.pos += 1
        return bit

    def literal(self, n: int) -> int:
        v = 0
        for _ in range(n):
            v = (v << 1) | self.bool()
        return v

    def signed(self, n: int) -> int:
        v = self.literal(n)
        return -v if self.bool() else v

    def optional_signed(self, n: int) -> int:
        return self.signed(n) if self.bool() else 0


def vp8_quantizers(frame: bytes) -> tuple[list[int], list[float]]:
    """Quantizer index and share of macroblocks of each segment of a VP8 key frame.

    From the frame header alone (RFC 6386, 9.3 and 9.6): the shares come from
    the segment-map tree probabilities, which libwebp derives from the counts.
    """
    if len(frame) < 11 or frame[0] & 1 or frame[3:6] != b"\x9d\x01\x2a":
        return [], []
    d = BoolDecoder(frame[10:])
    d.literal(2)  # colour space, clamping type
    segment_q, absolute, probs = None, False, [255, 255, 255]
    if d.bool():  # segmentation enabled
        update_map, update_data = d.bool(), d.bool()
        if update_data:
            absolute = bool(d.bool())
            segment_q = [d.optional_signed(7) for _ in range(4)]
            for _ in range(4):
                d.optional_signed(6)  # loop-filter level per segment
        if update_map:
            probs = [d.literal(8) if d.bool() else 255 for _ in range(3)]
    d.literal(1 + 6 + 3)  # filter type, level, sharpness
    if d.bool() and d.bool():  # loop-filter deltas enabled and updated
        for _ in range(8):
            d.optional_signed(6)
    d.literal(2)  # number of DCT partitions
    base = d.literal(7)
    if segment_q is None:
        return [base], [1.0]
    p0, p1, p2 = (p / 255.0 for p in probs)
    shares = [p0 * p1, p0 * (1 - p1), (1 - p0) * p2, (1 - p0) * (1 - p2)]
    return [max(0, min(127, q if absolute else base + q)) for q in segment_q], shares


def quality(buf) -> int:
    found = first_bitstream(buf)
    if not found or found[0] != b"VP8 ":
        return 0
    _, off, length = found
    return webp_quality(*vp8_quantizers(bytes(buf[off:off + min(length, 64)])))


def inspect(buf, im):
    return from_image(
        FORMAT, im,
        exif=exif_payload(im.info.get("exif")),
        quality=quality(buf),
        alpha=may_have_alpha(im),
        frames=getattr(im, "n_frames", 1),
    )
