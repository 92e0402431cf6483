"""EXIF reading: a bounded walker over the IFDs of a TIFF-structured blob.

The blob starts at the TIFF header (``II*\\0`` or ``MM\\0*``): the payload of a
JPEG APP1 ``Exif\\0\\0`` segment, a PNG ``eXIf`` chunk, a WebP ``EXIF`` chunk,
a HEIF ``Exif`` item, or a whole TIFF file. The walker returns the six groups of
SPEC.md (``image``, ``thumbnail``, ``exif``, ``gps``, ``interoperability``,
``makernote``); names come from :mod:`engine.exif_tags`, values from
:mod:`engine.render`.

Hostile input is expected. Every offset and count is checked against the blob
before use, each IFD is visited at most once, entries per IFD, total entries
and the size of any one value are capped, and whatever was read before a fault
is kept: a broken EXIF block yields the groups that could be read and never
raises.

The caps (module constants, patchable):

========================  =========  ===============================================
``MAX_ENTRIES_PER_IFD``   1,024      entries read from one IFD (the rest ignored)
``MAX_TOTAL_ENTRIES``     8,192      entries read from the whole blob
``MAX_VALUE_BYTES``       1 MiB      one value larger than this is left out
``MAX_TOTAL_VALUE_BYTES`` 4 MiB      values rendered from the whole blob; later ones
                                     are left out (many entries can point at the
                                     same bytes: without this a 64 KB APP1 renders
                                     into gigabytes of Python integers)
IFD depth                 fixed      only IFD0 -> IFD1 and the Exif/GPS/Interop
                                     pointers are followed (5 IFDs at most), each
                                     offset at most once
========================  =========  ===============================================

Examples
--------
>>> import struct
>>> ifd0 = struct.pack(">H", 1) + struct.pack(">HHII", 0x0112, 3, 1, 6 << 16) + b"\\0\\0\\0\\0"
>>> blob = b"MM\\0*" + struct.pack(">I", 8) + ifd0
>>> read_exif(blob)["image"]
{'Orientation': 6}
"""

from __future__ import annotations

import struct

from .errors import MetadataError
from .exif_tags import GPS_TAGS, TIFF_EXIF_TAGS
from .render import OMIT, TYPE_FORMATS, render

#: Group names in SPEC order.
GROUPS = ("image", "thumbnail", "exif", "gps", "interoperability", "makernote")

#: Caps that bound the work on hostile input.
MAX_ENTRIES_PER_IFD = 1024
MAX_TOTAL_ENTRIES = 8192
MAX_VALUE_BYTES = 1 << 20
MAX_TOTAL_VALUE_BYTES = 4 << 20

_PADDING = 0xEA1C
_ENTRY_FAULTS = (struct.error, ValueError, OverflowError, IndexError, UnicodeError, LookupError)
_POINTERS = {"exif": (0x8769, "image"), "gps": (0x8825, "image"), "interoperability": (0xA005, "exif")}


class _Walker:
    """State of one walk: the blob, its byte order, what was visited."""

    def __init__(self, blob: bytes, byteorder: str):
        self.blob = blob
        self.bo = byteorder
        self.visited: set[int] = set()
        self.budget = MAX_TOTAL_ENTRIES
        self.value_budget = MAX_TOTAL_VALUE_BYTES

    def u16(self, off: int) -> int:
        return struct.unpack_from(self.bo + "H", self.blob, off)[0]

    def u32(self, off: int) -> int:
        return struct.unpack_from(self.bo + "I", self.blob, off)[0]

    def ifd(self, offset: int, tags: dict[int, str], out: dict) -> int:
        """Read the IFD at ``offset`` into ``out``; return the next-IFD offset (0 if none)."""
        n = len(self.blob)
        if offset <= 0 or offset + 2 > n or offset in self.visited:
            return 0
        self.visited.add(offset)
        count = min(self.u16(offset), MAX_ENTRIES_PER_IFD, self.budget)
        for i in range(count):
            entry = offset + 2 + 12 * i
            if entry + 12 > n:
                return 0
            self.budget -= 1
            try:
                self.entry(entry, tags, out)
            except MetadataError:  # a ValueError too, but never the entry's fault
                raise
            except _ENTRY_FAULTS:  # one bad value: skip the entry, keep the rest of the IFD
                continue
        end = offset + 2 + 12 * count
        return self.u32(end) if end + 4 <= n else 0

    def entry(self, entry: int, tags: dict[int, str], out: dict) -> None:
        tag, type_id, count = struct.unpack_from(self.bo + "HHI", self.blob, entry)
        name = tags.get(tag)
        if name is None or tag == _PADDING or type_id not in TYPE_FORMATS:
            return
        size = TYPE_FORMATS[type_id][1] * count
        if size > MAX_VALUE_BYTES or count == 0:
            return
        start = entry + 8 if size <= 4 else self.u32(entry + 8)
        if start + size > len(self.blob) or size > self.value_budget:
            return
        self.value_budget -= size
        value = render(type_id, count, self.blob[start:start + size], self.bo, name)
        if value is not OMIT:
            out[name] = value


def _pointer(group: dict, name: str):
    value = group.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def read_exif(blob: bytes) -> dict:
    """The SPEC groups of a TIFF-structured EXIF blob; ``{}`` when it has no valid header."""
    if len(blob) < 8:
        return {}
    order = bytes(blob[:2])
    if order == b"II":
        bo = "<"
    elif order == b"MM":
        bo = ">"
    else:
        return {}
    w = _Walker(blob, bo)
    if w.u16(2) != 42:
        return {}
    groups: dict[str, dict] = {g: {} for g in GROUPS}
    try:
        next_ifd = w.ifd(w.u32(4), TIFF_EXIF_TAGS, groups["image"])
        if next_ifd:
            w.ifd(next_ifd, TIFF_EXIF_TAGS, groups["thumbnail"])
        for group in ("exif", "gps", "interoperability"):
            tag, parent = _POINTERS[group]
            table = GPS_TAGS if group == "gps" else TIFF_EXIF_TAGS
            offset = _pointer(groups[parent], TIFF_EXIF_TAGS[tag])
            if offset:
                w.ifd(offset, table, groups[group])
    except MetadataError:  # not a fault of the EXIF (a batch timeout injected into this thread)
        raise
    except _ENTRY_FAULTS + (MemoryError,):
        pass  # keep what was read before the fault
    return groups
