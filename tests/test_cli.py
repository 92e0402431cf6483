"""The ``imgmeta extract`` command: output shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
JPEG = SAMPLES / "jpeg_exif_gps_thumb.jpg"
PNG = SAMPLES / "png_rgba_transparent.png"


def test_extract_one_file_prints_one_object(capsys):
    assert main(["extract", str(JPEG)]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert list(meta)[:4] == ["height", "width", "size", "format"]
    assert meta["format"] == "jpg" and meta["exif"]["gps"]


def test_extract_jsonl_one_line_per_file(capsys):
    assert main(["extract", "--jsonl", "--no-phash", str(JPEG), str(PNG)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(x)["format"] for x in lines] == ["jpg", "png"]
    assert all(json.loads(x)["pHash"] == "" for x in lines)


def test_extract_with_path_wraps_records(capsys):
    assert main(["extract", "--jsonl", "--with-path", str(PNG)]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["path"] == str(PNG) and rec["metadata"]["hasTransparency"] is True


def test_bad_file_is_one_stderr_line_and_exit_1(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello, not an image\n")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert main(["extract", "--jsonl", str(bad), str(JPEG), str(empty)]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1  # the good file between two bad ones still comes out
    errs = err.splitlines()
    assert len(errs) == 2
    assert errs[0].startswith(f"imgmeta: {bad}: unsupported: ") and "text file" in errs[0]
    assert errs[1].startswith(f"imgmeta: {empty}: corrupt: ")


def test_missing_file_is_an_error_not_a_traceback(capsys):
    assert main(["extract", "/nonexistent/x.jpg"]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as e:
        main(["extract"])
    assert e.value.code == 2


def test_python_dash_m_engine_runs():
    r = subprocess.run([sys.executable, "-m", "engine", "extract", "--no-phash", str(PNG)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["format"] == "png"
