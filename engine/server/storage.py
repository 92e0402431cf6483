"""Content-addressed file store and SQLite records.

Layout of the data directory::

    DATA_DIR/
      imgmeta.sqlite3        records (WAL mode)
      objects/ab/cdef...     file bytes, named by their SHA-256 (never by a user name)
      tmp/                   uploads being written

Crash-safe order of an upload: the bytes go to ``tmp/``, are fsynced, renamed
into ``objects/`` (and the directory fsynced), and only then is the record
committed. A crash leaves at worst an unreferenced object, which
:meth:`Store.open` sweeps. Records refer to objects by hash, so identical
uploads share one object; deleting the last record of an object removes it.
Writers are serialised by one lock (SQLite serialises them anyway); readers use
their own connection and never wait for writers (WAL).

Examples
--------
>>> import tempfile, os
>>> store = Store.open(tempfile.mkdtemp())
>>> staged = store.stage(b"hello")
>>> rec = store.commit(staged, name="a.txt", folder="/", unique=False, tags=None,
...                    info=ExtractInfo.failed(b'{"message":"x"}'))
>>> store.metadata_json(rec.file_id)
(None, b'{"message":"x"}')
>>> store.count(), store.object_count()
(1, 1)
>>> store.delete(rec.file_id), store.object_count()
(True, 0)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import sqlite3
import string
import threading
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    file_id     TEXT PRIMARY KEY,
    file_path   TEXT NOT NULL UNIQUE,
    folder      TEXT NOT NULL,
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    file_type   TEXT NOT NULL,
    format      TEXT,
    width       INTEGER,
    height      INTEGER,
    has_alpha   INTEGER,
    tags        TEXT,
    metadata    BLOB,
    error       BLOB,
    version     INTEGER NOT NULL DEFAULT 1,
    version_id  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_folder ON files(folder);
CREATE INDEX IF NOT EXISTS files_sha256 ON files(sha256);
"""

_ALNUM = string.ascii_letters + string.digits
_NAME_BAD = re.compile(r"[^A-Za-z0-9._-]")
_FOLDER_BAD = re.compile(r"[^A-Za-z0-9._-]")


class StorageError(ValueError):
    """Bad input to the store (an invalid name or folder)."""


@dataclasses.dataclass(frozen=True)
class ExtractInfo:
    """What extraction learned of a file: the stored JSON and the listing columns."""

    metadata: bytes | None
    error: bytes | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    has_alpha: bool | None = None

    @classmethod
    def failed(cls, error_json: bytes) -> "ExtractInfo":
        return cls(metadata=None, error=error_json)


@dataclasses.dataclass(frozen=True)
class Staged:
    """Bytes written and fsynced under ``tmp/``, not yet an object."""

    tmp_path: Path
    sha256: str
    size: int


@dataclasses.dataclass(frozen=True)
class Record:
    """One row of ``files``."""

    file_id: str
    file_path: str
    folder: str
    name: str
    sha256: str
    size: int
    file_type: str
    format: str | None
    width: int | None
    height: int | None
    has_alpha: bool | None
    tags: list[str] | None
    version: int
    version_id: str
    created_at: str
    updated_at: str


_RECORD_COLS = ", ".join(f.name for f in dataclasses.fields(Record))
_SORTS = {
    "ASC_NAME": "name ASC", "DESC_NAME": "name DESC",
    "ASC_CREATED": "created_at ASC, rowid ASC", "DESC_CREATED": "created_at DESC, rowid DESC",
    "ASC_UPDATED": "updated_at ASC, rowid ASC", "DESC_UPDATED": "updated_at DESC, rowid DESC",
    "ASC_HEIGHT": "height ASC", "DESC_HEIGHT": "height DESC",
    "ASC_WIDTH": "width ASC", "DESC_WIDTH": "width DESC",
    "ASC_SIZE": "size ASC", "DESC_SIZE": "size DESC",
}
SORTS = tuple(_SORTS)


def _row_to_record(row) -> Record:
    values = list(row)
    values[10] = None if values[10] is None else bool(values[10])
    values[11] = None if values[11] is None else json.loads(values[11])
    return Record(*values)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    """A 24-hex-digit id, the shape of ImageKit's ``fileId``.

    >>> len(new_id()), all(c in "0123456789abcdef" for c in new_id())
    (24, True)
    """
    return secrets.token_hex(12)


def clean_name(name: str) -> str:
    """ImageKit's file-name rule: characters outside ``A-Za-z0-9._-`` become ``_``.

    >>> clean_name("my photo (1).JPG")
    'my_photo__1_.JPG'
    >>> clean_name("../../etc/passwd")
    '.._.._etc_passwd'
    """
    name = _NAME_BAD.sub("_", name.strip())
    if not name or set(name) <= {"."}:
        raise StorageError("fileName is empty or invalid")
    if len(name) > 255:
        raise StorageError("fileName is longer than 255 characters")
    return name


def clean_folder(folder: str | None) -> str:
    """Normalise a folder to ``/a/b/`` form; refuses ``..``.

    >>> clean_folder(None), clean_folder("/"), clean_folder("a//b"), clean_folder("/x y/")
    ('/', '/', '/a/b/', '/x_y/')
    >>> clean_folder("a/../b")
    Traceback (most recent call last):
    ...
    engine.server.storage.StorageError: folder may not contain '.' or '..' segments
    """
    parts = []
    for part in (folder or "").split("/"):
        part = part.strip()
        if not part:
            continue
        if part in (".", ".."):
            raise StorageError("folder may not contain '.' or '..' segments")
        parts.append(_FOLDER_BAD.sub("_", part))
    out = "/" + "".join(p + "/" for p in parts)
    if len(out) > 1024:
        raise StorageError("folder path is longer than 1024 characters")
    return out


def unique_name(name: str) -> str:
    """``name_XXXXXXXXX.ext`` with a random suffix, as ``useUniqueFileName`` does.

    >>> n = unique_name("photo.jpg"); n.startswith("photo_") and n.endswith(".jpg") and len(n) == 19
    True
    """
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext, dot = name, "", ""
    suffix = "".join(secrets.choice(_ALNUM) for _ in range(9))
    return f"{stem}_{suffix}{dot}{ext}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """Records in SQLite plus content-addressed objects; safe across threads.

    Use :meth:`open`. Reads (:meth:`metadata_json`, :meth:`get`, :meth:`list`)
    may run on any thread; writes (:meth:`commit`, :meth:`delete`) are serialised.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self.db_path = self.root / "imgmeta.sqlite3"
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._writer: sqlite3.Connection | None = None

    # -- life cycle -------------------------------------------------------
    @classmethod
    def open(cls, root: str | os.PathLike) -> "Store":
        """Create or open the store at ``root`` and sweep what a crash left."""
        store = cls(Path(root))
        store.objects.mkdir(parents=True, exist_ok=True)
        store.tmp.mkdir(parents=True, exist_ok=True)
        store._writer = store._connect()
        store._writer.executescript(SCHEMA)
        store._writer.commit()
        store.sweep()
        return store

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def sweep(self) -> int:
        """Remove leftover temporary files and objects no record refers to."""
        removed = 0
        for p in self.tmp.iterdir():
            p.unlink(missing_ok=True)
            removed += 1
        with self._write_lock:
            known = {r[0] for r in self._writer.execute("SELECT DISTINCT sha256 FROM files")}
            for p in self.objects.glob("*/*"):
                if p.parent.name + p.name not in known:
                    p.unlink(missing_ok=True)
                    removed += 1
        return removed

    # -- writes -----------------------------------------------------------
    def object_path(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256[2:]

    def stage(self, data, chunk_size: int = 1 << 20, limit: int | None = None) -> Staged:
        """Write ``data`` (bytes or a binary file object) to ``tmp/`` and fsync it.

        Raises
        ------
        OverflowError
            When ``limit`` is given and the data is longer (the partial file is removed).
        """
        h = hashlib.sha256()
        size = 0
        path = self.tmp / new_id()
        try:
            with open(path, "xb") as out:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    chunks = [bytes(data)]
                else:
                    chunks = iter(lambda: data.read(chunk_size), b"")
                for chunk in chunks:
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise OverflowError(size)
                    h.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Staged(path, h.hexdigest(), size)

    def discard(self, staged: Staged) -> None:
        staged.tmp_path.unlink(missing_ok=True)

    def commit(self, staged: Staged, *, name: str, folder: str, unique: bool,
               tags: list[str] | None, info: ExtractInfo) -> Record:
        """Move the staged bytes into place and commit their record.

        With ``unique`` the name gets a random suffix; without it an existing file
        at the same path is replaced (same ``fileId``, next version), as ImageKit does.
        """
        name = clean_name(name)
        folder = clean_folder(folder)
        final = self.object_path(staged.sha256)
        now = _now()
        file_type = "image" if info.metadata is not None else "non-image"
        tags_json = json.dumps(tags) if tags else None
        with self._write_lock:
            if final.exists():
                self.discard(staged)
            else:
                final.parent.mkdir(exist_ok=True)
                os.replace(staged.tmp_path, final)
                _fsync_dir(final.parent)
            db = self._writer
            for _ in range(100):
                stored_name = unique_name(name) if unique else name
                file_path = folder + stored_name
                old = db.execute("SELECT file_id, sha256, version FROM files WHERE file_path = ?",
                                 (file_path,)).fetchone()
                if old is None or not unique:
                    break
            else:  # pragma: no cover - 62**9 names
                raise StorageError("could not find a unique file name")
            values = dict(file_path=file_path, folder=folder, name=stored_name, sha256=staged.sha256,
                          size=staged.size, file_type=file_type, format=info.format, width=info.width,
                          height=info.height,
                          has_alpha=None if info.has_alpha is None else int(info.has_alpha),
                          tags=tags_json, metadata=info.metadata, error=info.error,
                          version_id=new_id(), updated_at=now)
            db.execute("BEGIN IMMEDIATE")
            try:
                if old is None:
                    values.update(file_id=new_id(), version=1, created_at=now)
                    cols = ", ".join(values)
                    db.execute(f"INSERT INTO files ({cols}) VALUES ({', '.join('?' * len(values))})",
                               tuple(values.values()))
                    file_id = values["file_id"]
                else:
                    file_id, old_sha, version = old
                    values["version"] = version + 1
                    sets = ", ".join(f"{k} = ?" for k in values)
                    db.execute(f"UPDATE files SET {sets} WHERE file_id = ?", (*values.values(), file_id))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            if old is not None and old[1] != staged.sha256:
                self._drop_object_if_unused(old[1])
        return self.get(file_id)

    def delete(self, file_id: str) -> bool:
        """Delete a record (and its object when no other record uses it)."""
        with self._write_lock:
            db = self._writer
            row = db.execute("SELECT sha256 FROM files WHERE file_id = ?", (file_id,)).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM files WHERE file_id = ?", (file_id,))
            self._drop_object_if_unused(row[0])
        return True

    def _drop_object_if_unused(self, sha256: str) -> None:
        if self._writer.execute("SELECT 1 FROM files WHERE sha256 = ? LIMIT 1", (sha256,)).fetchone() is None:
            self.object_path(sha256).unlink(missing_ok=True)

    # -- reads ------------------------------------------------------------
    def metadata_json(self, file_id: str) -> tuple[bytes, None] | tuple[None, bytes] | None:
        """``(metadata_json, None)``, ``(None, error_json)`` or None for an unknown id."""
        return self._reader().execute(
            "SELECT metadata, error FROM files WHERE file_id = ?", (file_id,)).fetchone()

    def get(self, file_id: str) -> Record | None:
        row = self._reader().execute(f"SELECT {_RECORD_COLS} FROM files WHERE file_id = ?",
                                     (file_id,)).fetchone()
        return None if row is None else _row_to_record(row)

    def list(self, *, folder: str | None = None, file_type: str = "all", sort: str = "ASC_CREATED",
             skip: int = 0, limit: int = 1000) -> list[Record]:
        """Records of one folder (not its sub-folders), ImageKit's ``GET /v1/files``."""
        where, args = [], []
        if folder is not None:
            where.append("folder = ?")
            args.append(clean_folder(folder))
        if file_type != "all":
            where.append("file_type = ?")
            args.append(file_type)
        sql = f"SELECT {_RECORD_COLS} FROM files"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {_SORTS[sort]} LIMIT ? OFFSET ?"
        return [_row_to_record(r) for r in self._reader().execute(sql, (*args, limit, skip))]

    def count(self) -> int:
        return self._reader().execute("SELECT COUNT(*) FROM files").fetchone()[0]

    def object_count(self) -> int:
        return sum(1 for _ in self.objects.glob("*/*"))

    def open_object(self, sha256: str):
        return open(self.object_path(sha256), "rb")
