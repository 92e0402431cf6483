"""GIF (87a/89a, animated or not): a transparency index, an optional ICC extension.

The frame count is taken by :func:`count_frames`, a bounded walk over the block
structure (Pillow's ``n_frames`` would walk every frame with no bound).
"""

from __future__ import annotations

from ..errors import ImageTooLargeError
from . import from_image, may_have_alpha

FORMAT = "gif"
PIL_FORMATS = ["GIF"]

#: a sub-block walk gives up (refusing the file) after this many blocks, or one per
#: ``_BYTES_PER_BLOCK`` bytes of input if that is more: real encoders write 255-byte blocks
MIN_BLOCK_BUDGET = 2_000_000
_BYTES_PER_BLOCK = 200


def matches(head: bytes) -> bool:
    return head[:6] in (b"GIF87a", b"GIF89a")


def _skip_subblocks(buf, pos: int, n: int, budget: list[int]) -> int:
    """Offset just past the sub-block chain at ``pos`` (or ``n`` if it runs off the end)."""
    while pos < n:
        size = buf[pos]
        pos += 1 + size
        budget[0] -= 1
        if size == 0:
            return pos
        if budget[0] <= 0:
            raise ImageTooLargeError(
                f"GIF data split into more than {budget[1]} sub-blocks: refused (structure too costly to walk)")
    return n


def count_frames(buf, limit: int) -> int:
    """Image descriptors in ``buf``, counting stops at ``limit + 1``; damage ends the walk."""
    n = len(buf)
    if n < 13:
        return 0
    flags = buf[10]
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    allowed = max(MIN_BLOCK_BUDGET, n // _BYTES_PER_BLOCK)
    budget = [allowed, allowed]
    frames = 0
    while pos < n and frames <= limit:
        block = buf[pos]
        if block == 0x2C:  # image descriptor
            if pos + 10 > n:
                break
            local = buf[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1  # + LZW minimum code size
            pos = _skip_subblocks(buf, pos, n, budget)
            frames += 1
        elif block == 0x21:  # extension: label, then sub-blocks
            pos = _skip_subblocks(buf, pos + 2, n, budget)
        else:  # 0x3B trailer, or garbage after the last frame
            break
    return frames


def inspect(buf, im):
    from .. import config

    return from_image(FORMAT, im, alpha=may_have_alpha(im), frames=max(1, count_frames(buf, config.MAX_FRAMES)))
