"""JPEG (and MPO, which is JPEG with extra frames): JFIF/EXIF/ICC markers."""

from __future__ import annotations

from ..errors import ImageTooLargeError
from ..quality import jpeg_quality
from . import exif_payload, from_image

FORMAT = "jpg"
#: Pillow opens MPO files through its JPEG factory; "MPO" is not an open format of its own
PIL_FORMATS = ["JPEG"]
#: appended (virtually) after the input so that libjpeg finishes a truncated scan; see metadata._open
TRAILER = b"\xff\xd9"


#: A progressive JPEG costs a pass over all of the image's coefficients per scan (even an
#: empty 16-byte one): 5,000 such scans make a 100 KB 2048x2048 file take 15 s to decode
#: (libjpeg-turbo's ``djpeg -maxscans`` exists for this). Real encoders write 6-14 scans;
#: thumbnails and MPO frames add theirs. Allowed: MAX_SCANS, fewer for large images so that
#: scans x pixels stays under SCAN_PIXEL_BUDGET, and never fewer than MIN_SCANS.
MAX_SCANS = 100
MIN_SCANS = 32
SCAN_PIXEL_BUDGET = 1_000_000_000


def matches(head: bytes) -> bool:
    return head[:3] == b"\xff\xd8\xff"


#: Pillow reads the header's markers one by one in Python, and skips junk between them a byte
#: per loop: 1,000,000 empty APP1 segments (a 4 MB file) take 1.7 s. Real files have a few
#: dozen segments before their first scan and no junk.
MAX_MARKERS = 20_000
MAX_JUNK_BYTES = 1 << 20
_STANDALONE = {0x01, 0xD8} | set(range(0xD0, 0xD8))  # TEM, SOI, RSTn: no length field


def precheck(buf, max_pixels: int = 0) -> None:
    """Refuse a marker or junk flood before Pillow walks the header.

    Walks the segments from SOI to the first SOS by their lengths, as Pillow
    will, so only the header is read (a metadata-only extraction stays at
    header speed on large files).
    """
    pos, n, markers, junk = 2, len(buf), 0, 0
    while pos + 4 <= n:
        if buf[pos] != 0xFF:  # junk: Pillow steps over it one byte at a time
            nxt = buf.find(b"\xff", pos)
            junk += (n if nxt < 0 else nxt) - pos
            if nxt < 0:
                return
            pos = nxt
            if junk > MAX_JUNK_BYTES:
                raise ImageTooLargeError(
                    f"jpg header has more than {MAX_JUNK_BYTES} bytes of junk between segments: refused")
            continue
        marker = buf[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # start of scan (or end of image): Pillow stops here
            return
        markers += 1
        if markers > MAX_MARKERS:
            raise ImageTooLargeError(
                f"jpg file has more than {MAX_MARKERS} segments: refused (structure too costly to read)")
        pos += 2 if marker in _STANDALONE else 2 + ((buf[pos + 2] << 8) | buf[pos + 3])


def scan_limit(pixels: int) -> int:
    return max(MIN_SCANS, min(MAX_SCANS, SCAN_PIXEL_BUDGET // max(1, pixels)))


def check_scans(buf, pixels: int) -> None:
    """Refuse a scan flood before libjpeg walks it (SOS markers counted at C speed)."""
    limit = scan_limit(pixels)
    pos, scans = 0, 0
    while True:
        pos = buf.find(b"\xff\xda", pos) + 2
        if pos == 1:
            return
        scans += 1
        if scans > limit:
            raise ImageTooLargeError(
                f"jpg file has more than {limit} scans for {pixels} pixels: refused "
                "(progressive-scan denial of service)")


def ends_with_eoi(buf) -> bool:
    """The file's last two bytes are an EOI marker (else its scan is cut off, or junk follows)."""
    return len(buf) >= 2 and bytes(buf[-2:]) == b"\xff\xd9"


def jfif_density(info: dict) -> float | None:
    """JFIF APP0 density in dpi: unit 1 is inches, 2 is centimetres, 0 a bare aspect ratio."""
    unit, dens = info.get("jfif_unit"), info.get("jfif_density")
    if not dens or not dens[0]:
        return None
    if unit == 1:
        return float(dens[0])
    if unit == 2:
        return dens[0] * 2.54
    return None


def inspect(buf, im):
    return from_image(
        FORMAT, im,
        exif=exif_payload(im.info.get("exif")),
        density=jfif_density(im.info),
        quality=jpeg_quality(getattr(im, "quantization", None) or {}),
        alpha=False,  # no JPEG mode has alpha
    )
