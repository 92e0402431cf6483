"""Batch records: their shape, their JSON Lines / CSV writers, and resume.

A record describes one input file; it is either a success or an error::

    {"path": "photos/a.jpg", "metadata": {...the SPEC.md object...}}
    {"path": "photos/b.jpg", "error": {"type": "corrupt", "message": "..."}}

``type`` is the ``.kind`` of the engine's :class:`~engine.errors.MetadataError`
(``unsupported``, ``corrupt``, ``too_large``, ``timeout`` ...), or the class
name of any other exception (``PermissionError``, ``MemoryError`` ...), or one of
the batch's own kinds: ``not_found`` (an input that does not exist),
``unreadable`` (a directory that cannot be listed, a dangling symlink) and
``crash`` (the worker process died while reading the file).

Writers append **whole lines with one** ``write(2)`` **each** to a file opened
with ``O_APPEND``: no user-space buffer, so a run killed at any moment (even
``kill -9``) leaves at most the records in flight unwritten and never a torn
line in the middle of the file. :func:`read_done` reads back the paths already
recorded and cuts a torn final line, should a write ever have been cut short.

Examples
--------
>>> rec = error_record("x.txt", ValueError("not an image"))
>>> rec
{'path': 'x.txt', 'error': {'type': 'ValueError', 'message': 'not an image'}}
>>> encode_record(rec)
b'{"path": "x.txt", "error": {"type": "ValueError", "message": "not an image"}}\\n'
>>> record_path(encode_record(rec))
'x.txt'
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from typing import Iterable

_PREFIX = '{"path": '
_DECODER = json.JSONDecoder()


def error_kind(exc: BaseException) -> str:
    """The ``type`` of an error record: the engine's ``.kind``, else the class name.

    Examples
    --------
    >>> from engine.errors import CorruptFileError
    >>> error_kind(CorruptFileError("truncated")), error_kind(KeyError("x"))
    ('corrupt', 'KeyError')
    """
    from .errors import MetadataError

    if isinstance(exc, MetadataError):
        return exc.kind
    return type(exc).__name__


def error_record(path: str, exc: BaseException | None = None, *, kind: str | None = None,
                 message: str | None = None) -> dict:
    """An error record for ``path``, from an exception or an explicit kind and message.

    Examples
    --------
    >>> error_record("a", kind="timeout", message="took longer than 2 s")["error"]
    {'type': 'timeout', 'message': 'took longer than 2 s'}
    """
    if exc is not None:
        kind = kind or error_kind(exc)
        message = message if message is not None else (str(exc) or type(exc).__name__)
    return {"path": path, "error": {"type": kind or "error", "message": message or ""}}


def encode_record(rec: dict) -> bytes:
    """One record as one UTF-8 JSON line (ending in ``\\n``).

    Non-ASCII text stays readable; a path that is not valid Unicode (a Linux file
    name with stray bytes, decoded by Python with ``surrogateescape``) falls back
    to ``\\uXXXX`` escapes, so that every line is valid UTF-8 JSON and
    ``json.loads`` gives back the exact ``str`` Python uses for that path.
    """
    try:
        return (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(rec) + "\n").encode("ascii")


def record_path(line: bytes | str) -> str | None:
    """The ``path`` of one encoded record, without decoding the rest; ``None`` if torn.

    Examples
    --------
    >>> record_path(b'{"path": "a\\\\"b.jpg", "metadata": {}}\\n')
    'a"b.jpg'
    >>> record_path(b'{"path": "cut') is None
    True
    """
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    if text.startswith(_PREFIX):
        try:
            path, _ = _DECODER.raw_decode(text, len(_PREFIX))
            if isinstance(path, str) and text.rstrip().endswith("}"):
                return path
        except ValueError:
            pass
    try:
        rec = json.loads(text)
    except ValueError:
        return None
    return rec.get("path") if isinstance(rec, dict) else None


# -- CSV ---------------------------------------------------------------------

#: Columns of ``--format csv``: the top-level fields, a few EXIF favourites
#: (GPS as signed decimal degrees), and the whole ``exif`` object as compact JSON.
CSV_COLUMNS = [
    "path", "error_type", "error_message",
    "format", "width", "height", "size", "quality", "density",
    "hasColorProfile", "hasTransparency", "pHash",
    "Make", "Model", "DateTimeOriginal", "Orientation", "latitude", "longitude",
    "exif",
]


def _gps_degrees(gps: dict, key: str) -> float | None:
    value, ref = gps.get(key), gps.get(key + "Ref")
    try:
        if isinstance(value, list):
            deg = sum(float(v) / 60**i for i, v in enumerate(value[:3]))
        else:
            deg = float(value)
    except (TypeError, ValueError):
        return None
    if isinstance(ref, str) and ref.strip().upper() in ("S", "W"):
        deg = -deg
    return round(deg, 7)


def csv_row(rec: dict) -> list:
    """Flatten one record into the :data:`CSV_COLUMNS` (missing values empty).

    Examples
    --------
    >>> csv_row({"path": "a.jpg", "error": {"type": "corrupt", "message": "bad\\nthing"}})[:3]
    ['a.jpg', 'corrupt', 'bad thing']
    """
    row = dict.fromkeys(CSV_COLUMNS, "")
    row["path"] = rec.get("path", "")
    if "error" in rec:
        row["error_type"] = rec["error"].get("type", "")
        row["error_message"] = " ".join(str(rec["error"].get("message", "")).split())
    meta = rec.get("metadata") or {}
    for key in ("format", "width", "height", "size", "quality", "density",
                "hasColorProfile", "hasTransparency", "pHash"):
        if key in meta:
            row[key] = meta[key]
    exif = meta.get("exif") or {}
    image, sub, gps = exif.get("image") or {}, exif.get("exif") or {}, exif.get("gps") or {}
    row["Make"], row["Model"] = image.get("Make", ""), image.get("Model", "")
    row["Orientation"] = image.get("Orientation", "")
    row["DateTimeOriginal"] = sub.get("DateTimeOriginal", "")
    for col, key in (("latitude", "GPSLatitude"), ("longitude", "GPSLongitude")):
        deg = _gps_degrees(gps, key)
        row[col] = "" if deg is None else deg
    if exif:
        row["exif"] = json.dumps(exif, ensure_ascii=False, separators=(",", ":"))
    # one record = one physical line, so that resume can cut a torn tail
    return [" ".join(v.splitlines()) if isinstance(v, str) else v for v in row.values()]


def _csv_line(values: Iterable) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue().encode("utf-8", "surrogateescape")


# -- writers -----------------------------------------------------------------


class RecordWriter:
    """Append records to a file (or stdout) as whole lines, one ``write`` each.

    Parameters
    ----------
    output : str
        A file name, or ``"-"`` for standard output.
    fmt : {"jsonl", "csv"}
    append : bool
        Keep what the file holds (resume); otherwise truncate it.

    Examples
    --------
    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> with RecordWriter(out) as w:
    ...     w.write_line(encode_record({"path": "a", "metadata": {}}))
    >>> open(out).read()
    '{"path": "a", "metadata": {}}\\n'
    """

    def __init__(self, output: str = "-", fmt: str = "jsonl", *, append: bool = False):
        self.fmt = fmt
        self._stdout = output == "-"
        if self._stdout:
            self._fd = sys.stdout.fileno() if hasattr(sys.stdout, "fileno") else None
            self._stream = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
        else:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (0 if append else os.O_TRUNC)
            self._fd = os.open(output, flags, 0o644)
            self._stream = None
        if fmt == "csv" and (not append or self._stdout or os.fstat(self._fd).st_size == 0):
            self._write(_csv_line(CSV_COLUMNS))

    def _write(self, data: bytes) -> None:
        if self._stream is not None or self._fd is None:
            stream = self._stream or sys.stdout
            stream.write(data if self._stream is not None else data.decode("utf-8", "replace"))
            stream.flush()
            return
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

    def write_line(self, line: bytes) -> None:
        """Write one encoded JSONL record (as given by :func:`encode_record`)."""
        if self.fmt == "csv":
            line = _csv_line(csv_row(json.loads(line)))
        self._write(line)

    def write_lines(self, lines: list[bytes]) -> None:
        """Write several encoded records, still as whole lines, in one ``write``."""
        if lines:
            if self.fmt == "csv":
                self._write(b"".join(_csv_line(csv_row(json.loads(x))) for x in lines))
            else:
                self._write(b"".join(lines))

    def close(self) -> None:
        if not self._stdout and self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- resume ------------------------------------------------------------------


def _truncate_torn_tail(path: str) -> int:
    """Cut the file after its last newline; return the number of bytes cut."""
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        pos, block = size, 1 << 16
        while pos > 0:
            start = max(0, pos - block)
            f.seek(start)
            chunk = f.read(pos - start)
            nl = chunk.rfind(b"\n")
            if nl >= 0:
                keep = start + nl + 1
                break
            pos = start
        else:
            keep = 0
        f.truncate(keep)
        return size - keep


def read_done(output: str, fmt: str = "jsonl") -> set[str]:
    """Paths already recorded in ``output`` (empty set if there is no such file).

    A torn final line (a record whose write was cut short) is cut off the file
    first, so that appending continues on a clean line boundary; that file is
    then simply processed again.

    Examples
    --------
    >>> import tempfile, os
    >>> out = os.path.join(tempfile.mkdtemp(), "r.jsonl")
    >>> _ = open(out, "w").write('{"path": "a", "metadata": {}}\\n{"path": "b", "meta')
    >>> sorted(read_done(out)), open(out).read()
    (['a'], '{"path": "a", "metadata": {}}\\n')
    """
    if not os.path.exists(output):
        return set()
    _truncate_torn_tail(output)
    done: set[str] = set()
    if fmt == "csv":
        with open(output, newline="", encoding="utf-8", errors="surrogateescape") as f:
            rows = csv.reader(f)
            header = next(rows, None)
            col = header.index("path") if header and "path" in header else 0
            for row in rows:
                if len(row) > col:
                    done.add(row[col])
        return done
    with open(output, "rb") as f:
        for line in f:
            path = record_path(line)
            if path is not None:
                done.add(path)
    return done


__all__ = [
    "CSV_COLUMNS",
    "RecordWriter",
    "csv_row",
    "encode_record",
    "error_kind",
    "error_record",
    "read_done",
    "record_path",
]
