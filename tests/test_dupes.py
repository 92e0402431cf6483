"""``imgmeta dupes``: near-duplicate groups from a batch output (uses engine.hamming.find_duplicates)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine import cli
from engine.records import encode_record


def _flip(h: int, *bits: int) -> str:
    for b in bits:
        h ^= 1 << b
    return f"{h:016x}"


def _write_results(path, hashes: dict[str, str]) -> None:
    lines = [encode_record({"path": p, "metadata": {"format": "jpg", "pHash": h}}) for p, h in hashes.items()]
    lines.append(encode_record({"path": "bad.jpg", "error": {"type": "corrupt", "message": "x"}}))
    lines.append(encode_record({"path": "nohash.jpg", "metadata": {"pHash": ""}}))
    path.write_bytes(b"".join(lines) + b'{"path": "torn')


def test_dupes_groups_and_distances(tmp_path, capsys):
    base, other = 0xE1C3_F0F0_0F0F_AAAA, 0x1234_5678_9ABC_DEF0
    hashes = {
        "a.jpg": _flip(base),
        "a_small.jpg": _flip(base, 1),
        "a_crop.jpg": _flip(base, 1, 7, 40),
        "b.jpg": _flip(other),
        "b_copy.jpg": _flip(other),
        "far.jpg": _flip(base, *range(0, 64, 3)),  # 22 bits away: not a duplicate
        "c.jpg": _flip(~base & (2**64 - 1)),
    }
    results, out = tmp_path / "r.jsonl", tmp_path / "groups.json"
    _write_results(results, hashes)
    assert cli.main(["dupes", str(results), "--max-distance", "3", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["max_distance"] == 3 and doc["hashed"] == len(hashes)
    groups = [{f["path"]: f["distance"] for f in g["files"]} for g in doc["groups"]]
    assert [g["size"] for g in doc["groups"]] == [3, 2]
    first = groups[0]
    assert set(first) == {"a.jpg", "a_small.jpg", "a_crop.jpg"}
    ref = doc["groups"][0]["files"][0]
    assert ref["distance"] == 0
    for f in doc["groups"][0]["files"]:
        assert f["distance"] == bin(int(f["pHash"], 16) ^ int(ref["pHash"], 16)).count("1")
    assert groups[1] == {"b.jpg": 0, "b_copy.jpg": 0}
    err = capsys.readouterr().err
    assert "2 groups" in err and "5 files" in err and "3 redundant" in err

    assert cli.main(["dupes", str(results), "--max-distance", "0", "-o", str(out)]) == 0
    assert [g["size"] for g in json.loads(out.read_text())["groups"]] == [2]


def test_dupes_usage_errors(tmp_path):
    assert cli.main(["dupes", str(tmp_path / "missing.jsonl")]) == 2
    (tmp_path / "r.jsonl").write_text("")
    assert cli.main(["dupes", str(tmp_path / "r.jsonl"), "--max-distance", "65"]) == 2
    assert cli.main(["dupes", str(tmp_path / "r.jsonl"), "-o", str(tmp_path / "g.json")]) == 0
    assert json.loads((tmp_path / "g.json").read_text())["groups"] == []


def test_batch_then_dupes_finds_resized_copies(tmp_path):
    rng = np.random.default_rng(4)
    src = tmp_path / "photos"
    src.mkdir()
    img = Image.new("RGB", (128, 96), (40, 60, 90))
    draw = ImageDraw.Draw(img)
    draw.ellipse((10, 10, 70, 70), fill=(230, 200, 40))
    draw.rectangle((80, 20, 120, 90), fill=(20, 160, 60))
    draw.line((0, 95, 127, 0), fill=(255, 255, 255), width=5)
    img.save(src / "orig.png")
    img.resize((64, 48), Image.Resampling.BICUBIC).save(src / "orig_small.jpg", quality=85)
    Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)).save(src / "noise.png")
    results, out = tmp_path / "r.jsonl", tmp_path / "g.json"
    assert cli.main(["batch", str(src), "-o", str(results), "--workers", "1"]) == 0
    assert cli.main(["dupes", str(results), "-o", str(out)]) == 0
    groups = json.loads(out.read_text())["groups"]
    assert [sorted(f["path"].rsplit("/", 1)[1] for f in g["files"]) for g in groups] == [["orig.png", "orig_small.jpg"]]


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
