"""GIF (87a/89a, animated or not): a transparency index, an optional ICC extension."""

from __future__ import annotations

from . import Container

FORMAT = "gif"
PIL_FORMATS = ["GIF"]


def matches(head: bytes) -> bool:
    return head[:6] in (b"GIF87a", b"GIF89a")


def inspect(buf, im) -> Container:
    info = im.info
    return Container(
        format=FORMAT,
        width=im.width,
        height=im.height,
        icc=bool(info.get("icc_profile")),
        exif=None,
        density=None,
        quality=0,
        alpha="transparency" in info or im.mode in ("RGBA", "PA", "LA"),
    )
