"""Near-duplicate groups from a batch output, by pHash Hamming distance.

``imgmeta dupes results.jsonl --max-distance 8`` reads the records written by
``imgmeta batch``, takes every ``metadata.pHash``, groups the files whose hashes
are within ``max_distance`` bits of each other with
:func:`engine.hamming.find_duplicates`, and writes the groups as JSON::

    {"max_distance": 8, "hashed": 1234, "groups": [
      {"size": 3, "files": [
        {"path": "a.jpg", "pHash": "e1c3...", "distance": 0},
        {"path": "a_small.jpg", "pHash": "e1c7...", "distance": 1}, ...]}, ...]}

``distance`` is each file's Hamming distance to the first file of its group.
Groups are sorted largest first. A one-line summary goes to stderr.

Examples
--------
>>> import numpy as np
>>> distances_to_first(np.array([0xFF, 0xFE, 0x0F], dtype=np.uint64))
[0, 1, 4]
"""

from __future__ import annotations

import json
import sys
from typing import Iterable, Iterator

import numpy as np

_HEX = set("0123456789abcdefABCDEF")


def iter_hashes(lines: Iterable[bytes | str]) -> Iterator[tuple[str, str]]:
    """``(path, pHash)`` of each success record with a 16-hex-digit pHash.

    Error records, records without a hash (``--no-phash``) and unparsable lines
    (a torn tail) are skipped.

    Examples
    --------
    >>> list(iter_hashes(['{"path": "a", "metadata": {"pHash": "00ff00ff00ff00ff"}}',
    ...                   '{"path": "b", "metadata": {"pHash": ""}}', '{"path": "c", "err']))
    [('a', '00ff00ff00ff00ff')]
    """
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        meta = rec.get("metadata") if isinstance(rec, dict) else None
        h = meta.get("pHash") if isinstance(meta, dict) else None
        if isinstance(h, str) and len(h) == 16 and set(h) <= _HEX:
            yield rec.get("path"), h.lower()


def distances_to_first(hashes: np.ndarray) -> list[int]:
    """Hamming distance of each uint64 hash to the first one."""
    return np.bitwise_count(hashes ^ hashes[0]).astype(int).tolist()


def group_duplicates(paths: list[str], hex_hashes: list[str], max_distance: int) -> list[dict]:
    """Near-duplicate groups (two files or more), largest first, as JSON-ready dicts."""
    from .hamming import find_duplicates

    if not paths:
        return []
    values = np.array([int(h, 16) for h in hex_hashes], dtype=np.uint64)
    groups = []
    for members in find_duplicates(values, max_distance):
        members = list(members)
        if len(members) < 2:
            continue
        dist = distances_to_first(values[members])
        groups.append({
            "size": len(members),
            "files": [{"path": paths[i], "pHash": hex_hashes[i], "distance": d} for i, d in zip(members, dist)],
        })
    groups.sort(key=lambda g: (-g["size"], g["files"][0]["path"]))
    return groups


def cli_dupes(args) -> int:
    """``imgmeta dupes RESULTS.jsonl [--max-distance N] [-o FILE]``.

    Exit status 0 (groups found or not), 2 for a usage error (unreadable
    results file, distance outside 0..64).
    """
    if not 0 <= args.max_distance <= 64:
        print("imgmeta dupes: --max-distance must be between 0 and 64", file=sys.stderr)
        return 2
    paths: list[str] = []
    hashes: list[str] = []
    records = 0
    try:
        with open(args.results, "rb") as f:
            for line in f:
                records += 1
                for path, h in iter_hashes([line]):
                    paths.append(path)
                    hashes.append(h)
    except OSError as e:
        print(f"imgmeta dupes: cannot read {args.results!r}: {e.strerror or e}", file=sys.stderr)
        return 2
    groups = group_duplicates(paths, hashes, args.max_distance)
    doc = {"max_distance": args.max_distance, "hashed": len(paths), "groups": groups}
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            print(f"imgmeta dupes: cannot write {args.output!r}: {e.strerror or e}", file=sys.stderr)
            return 2
    in_groups = sum(g["size"] for g in groups)
    unhashed = records - len(paths)
    print(
        f"imgmeta dupes: {len(paths)} hashed files, {len(groups)} group{'' if len(groups) == 1 else 's'} of near-duplicates "
        f"({in_groups} files, {in_groups - len(groups)} redundant) at distance <= {args.max_distance}"
        + (f"; {unhashed} records without a pHash skipped" if unhashed else ""),
        file=sys.stderr,
    )
    return 0


__all__ = ["cli_dupes", "distances_to_first", "group_duplicates", "iter_hashes"]
