"""Rendering of raw TIFF/EXIF values as JSON values, following SPEC.md.

One function per TIFF type family; :func:`render` picks by type. A value that
SPEC.md says to leave out renders as :data:`OMIT`.

Examples
--------
>>> render(5, 1, b"\\x00\\x00\\x00\\x47\\x00\\x00\\x00\\x0a", ">", "FNumber")
7.1
>>> render(3, 4, bytes([0, 2, 0, 2, 0, 0, 0, 0]), ">", "GPSVersionID")
[2, 2, 0, 0]
>>> render(7, 4, b"0221", ">", "ExifVersion")
'0221'
>>> render(7, 4, bytes([1, 2, 3, 0]), ">", "ComponentsConfiguration") is OMIT
True
"""

from __future__ import annotations

import struct

#: Sentinel: the entry is left out of its group.
OMIT = object()

#: TIFF type id -> (struct code, size in bytes of one component).
TYPE_FORMATS: dict[int, tuple[str, int]] = {
    1: ("B", 1),   # BYTE
    2: ("s", 1),   # ASCII
    3: ("H", 2),   # SHORT
    4: ("I", 4),   # LONG
    5: ("II", 8),  # RATIONAL
    6: ("b", 1),   # SBYTE
    7: ("s", 1),   # UNDEFINED
    8: ("h", 2),   # SSHORT
    9: ("i", 4),   # SLONG
    10: ("ii", 8),  # SRATIONAL
    11: ("f", 4),  # FLOAT
    12: ("d", 8),  # DOUBLE
    13: ("I", 4),  # IFD (a LONG offset)
}

_INTEGER_TYPES = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I"}


def _scalar_or_list(values: list):
    """A count of 1 gives a scalar, any other count a list (SPEC.md)."""
    return values[0] if len(values) == 1 else values


def number(x: float):
    """A double as JSON wants it: an int when it is whole, else the float itself."""
    if x != x or x in (float("inf"), float("-inf")):
        return None
    return int(x) if x.is_integer() else x


def rational(num: int, den: int):
    """numerator / denominator as a double; a zero denominator gives None."""
    if den == 0:
        return None
    return number(num / den)


def decode_text(raw: bytes) -> str:
    """UTF-8 where valid, else Latin-1 (which never fails)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def ascii_value(raw: bytes) -> str:
    """ASCII: the text up to the first NUL."""
    return decode_text(raw.split(b"\x00", 1)[0])


_CHARSETS = {
    b"ASCII\x00\x00\x00": "ascii",
    b"UNICODE\x00": "unicode",
    b"JIS\x00\x00\x00\x00\x00": "jis",
    b"\x00" * 8: "undefined",
}


def user_comment(raw: bytes, byteorder: str):
    """UserComment: 8-byte character-code header, then the text."""
    charset = _CHARSETS.get(bytes(raw[:8]))
    body = bytes(raw[8:]) if charset else bytes(raw)
    if charset == "unicode":
        if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
            enc, body = ("utf-16-le" if body[:2] == b"\xff\xfe" else "utf-16-be"), body[2:]
        else:
            enc = "utf-16-be" if byteorder == ">" else "utf-16-le"
        if len(body) % 2:
            body = body[:-1]
        text = body.decode(enc, errors="replace")
    elif charset == "jis":
        try:
            text = body.decode("iso2022_jp")
        except UnicodeDecodeError:
            text = decode_text(body)
    else:
        text = decode_text(body)
    text = text.rstrip("\x00 ")
    return text if text else OMIT


def undefined_value(raw: bytes):
    """Other UNDEFINED values: a string when printable ASCII, else left out."""
    raw = bytes(raw).rstrip(b"\x00")
    if raw and all(0x20 <= c < 0x7F for c in raw):
        return raw.decode("ascii")
    return OMIT


def render(type_id: int, count: int, raw: bytes, byteorder: str, name: str):
    """Render one entry's raw value bytes (exactly count * size long)."""
    if name == "MakerNote":  # feeds the makernote group, never the exif group, whatever its type
        return OMIT
    if type_id == 2:
        return ascii_value(raw)
    if type_id == 7:
        if name == "UserComment":
            return user_comment(raw, byteorder)
        return undefined_value(raw)
    if type_id in _INTEGER_TYPES:
        return _scalar_or_list(list(struct.unpack(f"{byteorder}{count}{_INTEGER_TYPES[type_id]}", raw)))
    if type_id in (5, 10):
        code = "I" if type_id == 5 else "i"
        pairs = struct.unpack(f"{byteorder}{2 * count}{code}", raw)
        return _scalar_or_list([rational(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)])
    if type_id in (11, 12):
        code = "f" if type_id == 11 else "d"
        return _scalar_or_list([number(v) for v in struct.unpack(f"{byteorder}{count}{code}", raw)])
    return OMIT
