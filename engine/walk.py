"""Streaming, loop-safe walk over files and directories, with include/exclude globs.

:func:`iter_inputs` yields file paths one at a time as ``os.scandir`` finds them
(no list of all paths is ever built, so a directory of millions of files costs
constant memory beyond the set of directories visited). Symbolic links are
followed, but each directory is entered at most once (keyed by device and
inode), so symlink loops and links back to an ancestor are harmless.

What cannot be walked is not fatal: a missing input, a directory that cannot be
listed, or a dangling symlink is yielded as a :class:`WalkError`, which the batch
runner turns into an error record.

Glob patterns (``fnmatch`` syntax, case-insensitive) are matched against both
the file's name and its whole path, so ``*.jpg`` selects by extension and
``*/thumbs/*`` by folder. ``exclude`` also prunes directories. Files named
explicitly on the command line are always taken, whatever the patterns.

Examples
--------
>>> import os, tempfile
>>> root = tempfile.mkdtemp()
>>> for name in ("a.jpg", "b.PNG", "notes.txt"):
...     _ = open(os.path.join(root, name), "w").write("x")
>>> os.symlink(root, os.path.join(root, "loop"))
>>> sorted(os.path.basename(p) for p in iter_inputs([root], include=["*.jpg", "*.png"]))
['a.jpg', 'b.PNG']
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from typing import Iterable, Iterator, NamedTuple


class WalkError(NamedTuple):
    """An input that could not be walked: becomes an error record, never fatal."""

    path: str
    kind: str  # "not_found" or "unreadable"
    message: str


def _compile(patterns: Iterable[str]) -> re.Pattern | None:
    pats = [fnmatch.translate(p) for p in patterns or ()]
    return re.compile("|".join(pats), re.IGNORECASE | re.DOTALL) if pats else None


def _matches(rx: re.Pattern | None, path: str, name: str) -> bool:
    return rx is not None and (rx.match(name) is not None or rx.match(path) is not None)


def iter_inputs(inputs: Iterable[str], include: Iterable[str] = (),
                exclude: Iterable[str] = ()) -> Iterator[str | WalkError]:
    """Yield the files under ``inputs`` (files and directories), recursively.

    Parameters
    ----------
    inputs : iterable of str
        Files (always yielded) and directories (walked).
    include : iterable of str
        If given, only walked files matching one of these globs are yielded.
    exclude : iterable of str
        Walked files and directories matching one of these globs are skipped.

    Yields
    ------
    str or WalkError
        Paths as ``os.path.join(directory, name)`` of the input as given
        (relative inputs give relative paths), in directory order.
    """
    inc, exc = _compile(include), _compile(exclude)
    seen: set[tuple[int, int]] = set()
    for inp in inputs:
        inp = os.fspath(inp)
        try:
            st = os.stat(inp)
        except OSError as e:
            kind = "not_found" if isinstance(e, FileNotFoundError) else "unreadable"
            yield WalkError(inp, kind, f"{e.strerror or e}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(inp, inc, exc, seen)
        else:
            yield inp


def _walk_dir(root: str, inc, exc, seen: set) -> Iterator[str | WalkError]:
    stack = [root]
    while stack:
        d = stack.pop()
        try:
            st = os.stat(d)
        except OSError as e:
            yield WalkError(d, "unreadable", f"cannot enter directory: {e.strerror or e}")
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen:  # symlink loop, or a second way into a tree already walked
            continue
        seen.add(key)
        subdirs = []
        try:
            with os.scandir(d) as it:
                for entry in it:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    if is_dir:
                        if not _matches(exc, entry.path, entry.name):
                            subdirs.append(entry.path)
                        continue
                    if (inc is not None and not _matches(inc, entry.path, entry.name)) or _matches(
                        exc, entry.path, entry.name
                    ):
                        continue
                    try:
                        is_file = entry.is_file()
                    except OSError:
                        is_file = False
                    if is_file:
                        yield entry.path
                    elif entry.is_symlink():
                        yield WalkError(entry.path, "unreadable", "dangling symbolic link")
                    # sockets, FIFOs and devices are not images: skipped silently
        except OSError as e:
            yield WalkError(d, "unreadable", f"cannot list directory: {e.strerror or e}")
        stack.extend(reversed(subdirs))


__all__ = ["WalkError", "iter_inputs"]
