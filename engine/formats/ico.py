"""ICO: a directory of images; Pillow (and so imgmeta) reports the largest one."""

from __future__ import annotations

from . import Container

FORMAT = "ico"
PIL_FORMATS = ["ICO"]


def matches(head: bytes) -> bool:
    return head[:4] == b"\x00\x00\x01\x00" and len(head) >= 6 and head[4:6] != b"\x00\x00"


def inspect(buf, im) -> Container:
    return Container(
        format=FORMAT,
        width=im.width,
        height=im.height,
        icc=False,
        density=None,
        quality=0,
        alpha=im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info,
    )
