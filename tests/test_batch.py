"""Batch extraction: walk, records, local pool (timeouts, crashes), resume after kill -9, Dask."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from engine import batch, cli
from engine.records import encode_record, read_done
from engine.walk import WalkError, iter_inputs

REPO = Path(__file__).resolve().parents[1]


# -- stand-in extractors for the failure modes (workers import them from this module) --


def fake_extract(path, *, phash=True):
    """A stand-in for engine.extract whose behaviour the file name picks."""
    name = os.path.basename(path)
    if name.startswith("hang"):  # stuck in Python code: the worker's alarm interrupts it
        time.sleep(60)
    if name.startswith("stuck"):  # stuck where no signal gets through (C code): the parent kills it
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)
    if name.startswith("crash"):
        os._exit(7)
    if name.startswith("keyerror"):
        raise KeyError("not an engine error")
    return {"path_seen": name}


# -- fixtures --------------------------------------------------------------------


def _jpeg_bytes(seed: int, size=(24, 16)) -> bytes:
    im = Image.new("RGB", size, (seed * 37 % 256, seed * 91 % 256, 128))
    im.putpixel((seed % size[0], 0), (255, 255, 255))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return buf.getvalue()


@pytest.fixture()
def mixed_dir(tmp_path):
    """Good images with corrupt, truncated, zero-byte and text files between them."""
    root = tmp_path / "photos"
    (root / "sub" / "deeper").mkdir(parents=True)
    good, bad = [], []
    for i in range(12):
        d = root if i % 3 == 0 else (root / "sub" if i % 3 == 1 else root / "sub" / "deeper")
        p = d / f"good_{i:02d}.jpg"
        p.write_bytes(_jpeg_bytes(i))
        good.append(p)
        q = d / f"good_{i:02d}.png"
        Image.new("RGBA", (9, 7), (i, 2, 3, 200)).save(q)
        good.append(q)
    jpg = _jpeg_bytes(99, (64, 64))
    for name, data in {
        "zero.jpg": b"",
        "notes.txt": b"not an image at all\n",
        "truncated.jpg": jpg[: len(jpg) // 3],
        "corrupt.jpg": b"\xff\xd8\xff\xe0" + os.urandom(200),
        "sub/fake.png": b"\x89PNG\r\n\x1a\n" + b"\0" * 5,
    }.items():
        p = root / name
        p.write_bytes(data)
        bad.append(p)
    os.symlink(root, root / "sub" / "loop")  # a symlink loop must not recurse
    os.symlink(root / "nowhere.jpg", root / "dangling.jpg")
    bad.append(root / "dangling.jpg")
    return root, [str(p) for p in good], [str(p) for p in bad]


def _records(path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


# -- walk --------------------------------------------------------------------------


def test_walk_is_loop_safe_and_filters(mixed_dir):
    root, good, bad = mixed_dir
    items = list(iter_inputs([str(root)]))
    paths = [x for x in items if isinstance(x, str)]
    errors = [x for x in items if isinstance(x, WalkError)]
    assert len(paths) == len(set(paths)) == len(good) + len(bad) - 1  # the dangling link is an error
    assert [e.path for e in errors] == [str(root / "dangling.jpg")]
    jpgs = list(iter_inputs([str(root)], include=["*.JPG"], exclude=["*/deeper/*", "zero*"]))
    assert all(p.endswith(".jpg") and "deeper" not in p and "zero" not in p for p in jpgs if isinstance(p, str))
    assert str(root / "truncated.jpg") in jpgs


def test_walk_reports_missing_input_and_takes_explicit_files(tmp_path):
    f = tmp_path / "x.dat"
    f.write_bytes(b"x")
    items = list(iter_inputs([str(tmp_path / "missing"), str(f)], include=["*.jpg"]))
    assert items[0] == WalkError(str(tmp_path / "missing"), "not_found", items[0].message)
    assert items[1] == str(f)


# -- records and resume --------------------------------------------------------------


def test_read_done_cuts_a_torn_tail(tmp_path):
    out = tmp_path / "r.jsonl"
    lines = [encode_record({"path": f"p{i}", "metadata": {"x": i}}) for i in range(3)]
    out.write_bytes(b"".join(lines) + lines[0][:17])
    assert read_done(str(out)) == {"p0", "p1", "p2"}
    assert out.read_bytes() == b"".join(lines)


def test_odd_paths_round_trip(tmp_path):
    weird = str(tmp_path / 'a "quoted"\tname \udcff.jpg')  # stray byte in a Linux file name
    line = encode_record({"path": weird, "error": {"type": "x", "message": ""}})
    line.decode("utf-8")
    assert json.loads(line)["path"] == weird
    out = tmp_path / "r.jsonl"
    out.write_bytes(line)
    assert read_done(str(out)) == {weird}


# -- local pool ---------------------------------------------------------------------


def test_extract_many_mixed_directory(mixed_dir):
    root, good, bad = mixed_dir
    recs = list(batch.extract_many([root], workers=2))
    by_path = {r["path"]: r for r in recs}
    assert len(by_path) == len(recs) == len(good) + len(bad)
    for p in good:
        assert by_path[p]["metadata"]["width"] in (24, 9), p
        assert len(by_path[p]["metadata"]["pHash"]) == 16
    for p in bad:
        err = by_path[p]["error"]
        assert err["type"] and err["message"], p
    assert by_path[str(root / "notes.txt")]["error"]["type"] == "unsupported"
    assert by_path[str(root / "dangling.jpg")]["error"]["type"] == "unreadable"


def test_timeouts_crashes_and_foreign_exceptions(tmp_path):
    names = ["a", "hang1", "b", "stuck1", "c", "crash1", "d", "keyerror1"] + [f"z{i}" for i in range(20)]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    t0 = time.monotonic()
    res = list(batch.run_local(iter_inputs([str(tmp_path)]), workers=2, timeout=0.5, func=fake_extract, chunk=4))
    took = time.monotonic() - t0
    kinds = {os.path.basename(r.path): r.kind for r in res}
    assert len(res) == len(kinds) == len(names)
    assert kinds["hang1"] == kinds["stuck1"] == "timeout"
    assert kinds["crash1"] == "crash"
    assert kinds["keyerror1"] == "KeyError"
    assert Counter(kinds.values())[None] == len(names) - 4
    assert took < 20  # the hung files sleep 60 s each


def test_worker_count_default_and_no_files(tmp_path):
    assert batch.default_workers() >= 1
    assert list(batch.extract_many([tmp_path])) == []


# -- command line -------------------------------------------------------------------


def test_cli_batch_jsonl_summary_and_exit(mixed_dir, tmp_path, capsys):
    root, good, bad = mixed_dir
    out = tmp_path / "out.jsonl"
    assert cli.main(["batch", str(root), "-o", str(out), "--workers", "2", "--no-phash"]) == 0
    recs = _records(out)
    assert len(recs) == len(good) + len(bad)
    assert all(r["metadata"]["pHash"] == "" for r in recs if "metadata" in r)  # not computed
    err = capsys.readouterr().err
    assert f"{len(good) + len(bad)} files: {len(good)} ok, {len(bad)} errors" in err
    assert "files/s" in err


def test_cli_batch_skips_its_own_output_file(tmp_path):
    Image.new("RGB", (5, 5)).save(tmp_path / "a.png")
    assert cli.main(["batch", str(tmp_path), "-o", str(tmp_path / "out.jsonl"), "--workers", "1"]) == 0
    assert [r["path"] for r in _records(tmp_path / "out.jsonl")] == [str(tmp_path / "a.png")]


def test_cli_batch_exit_status(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("hello")
    assert cli.main(["batch", str(tmp_path), "-o", str(tmp_path / "o.jsonl"), "--workers", "1"]) == 1
    assert cli.main(["batch", str(tmp_path / "nothing-here"), "-o", str(tmp_path / "p.jsonl")]) == 1
    assert cli.main(["batch", str(tmp_path), "--resume"]) == 2  # resume needs -o FILE
    assert cli.main(["batch", str(tmp_path), "--workers", "0"]) == 2
    assert "no file could be read" in capsys.readouterr().err


def test_cli_batch_csv_and_resume(mixed_dir, tmp_path):
    root, good, bad = mixed_dir
    out = tmp_path / "out.csv"
    args = ["batch", str(root), "-o", str(out), "--format", "csv", "--workers", "1", "--include", "*.jpg"]
    assert cli.main(args) == 0
    rows = list(csv.DictReader(out.open(newline="")))
    jpgs = [p for p in good + bad if p.endswith(".jpg")]
    assert sorted(r["path"] for r in rows) == sorted(jpgs)
    assert {r["format"] for r in rows if not r["error_type"]} == {"jpg"}
    assert cli.main(args + ["--resume"]) == 0  # nothing left to do is a success
    assert len(list(csv.DictReader(out.open(newline="")))) == len(jpgs)


def test_kill_9_then_resume(tmp_path):
    """SIGKILL the whole run halfway: no torn line; a resumed run completes the set exactly."""
    src = tmp_path / "many"
    src.mkdir()
    n = 1000
    for i in range(n):
        (src / f"img_{i:04d}.jpg").write_bytes(_jpeg_bytes(i))
    out = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "engine", "batch", str(src), "-o", str(out), "--workers", "2"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 50:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = out.read_bytes()
    assert first.endswith(b"\n") and 0 < first.count(b"\n") < n
    [json.loads(line) for line in first.splitlines()]  # every line whole
    rc = subprocess.run(cmd + ["--resume", "--no-progress"], cwd=REPO, env=env, capture_output=True, text=True)
    assert rc.returncode == 0, rc.stderr
    assert "already done, skipped" in rc.stderr
    paths = [r["path"] for r in _records(out)]
    assert len(paths) == len(set(paths)) == n
    assert all("metadata" in r for r in _records(out))


# -- Dask -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        yield cluster


def test_dask_runner_same_records_as_local(mixed_dir, dask_cluster):
    from distributed import Client

    root, good, bad = mixed_dir
    local = sorted(batch.extract_many([root], workers=1), key=lambda r: r["path"])
    with Client(dask_cluster) as client:
        dist = sorted(batch.extract_many([root], scheduler=client), key=lambda r: r["path"])
    assert dist == local


def test_cli_batch_on_a_scheduler_address_with_resume(mixed_dir, dask_cluster, tmp_path):
    root, good, bad = mixed_dir
    out = tmp_path / "out.jsonl"
    out.write_bytes(encode_record({"path": good[0], "metadata": {}}) + b'{"path": "torn')
    args = ["batch", str(root), "-o", str(out), "--scheduler", dask_cluster.scheduler_address, "--resume"]
    assert cli.main(args) == 0
    paths = [r["path"] for r in _records(out)]
    assert sorted(paths) == sorted(good + bad)


def test_dask_chunk_timeout_in_threads(tmp_path):
    names = ["a", "hang1", "b"]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    res = batch.run_chunk([str(tmp_path / n) for n in names], True, 0.3, fake_extract)
    assert [r.kind for r in res] == [None, "timeout", None]
