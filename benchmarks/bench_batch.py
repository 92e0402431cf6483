"""Batch extraction: scaling with workers, beside ExifTool, and parent memory over 100k files.

Run: ``pytest benchmarks/bench_batch.py --benchmark-enable -s`` (add ``-k workers``,
``-k exiftool`` or ``-k memory`` for one part; the 100k-file part takes minutes).

1. **workers**: ``imgmeta batch`` (library runner, pHash on) over copies of the
   shared camera JPEGs with 1 worker and with 2, in alternating rounds; ratio of
   median wall times.
2. **exiftool**: ``imgmeta batch --no-phash -o /dev/null`` vs
   ``exiftool -json -n -r`` on the same directory (copies of every shared and
   generated sample, ~9,600 files), both as subprocesses, interleaved rounds;
   ratio of medians.
3. **memory**: peak RSS of the ``imgmeta batch`` *parent* process over a flat
   directory of 100,000 tiny images vs one of 10,000 (``--no-phash``): the walk
   is streamed and the in-flight window bounded, so the ratio should be ~1.

Directories are generated at run time in a tmp dir. Nothing is asserted on
time (shared, noisy machines); the ratios are printed and stored in each
benchmark's ``extra_info``.
"""

from __future__ import annotations

import io
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from _samples import REPO, SHARED, copy_tree, sample_images
from engine import batch
RESULTS: dict[str, float] = {}
ENV = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _timed(fn, *args):
    """``fn`` wrapped to record each call's wall time (works with the benchmark disabled too)."""
    times: list[float] = []

    def run():
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
        return out

    return run, times


MIXED_COPIES = int(os.environ.get("BENCH_MIXED_COPIES", "150"))


def _camera_jpegs() -> list[Path]:
    if not SHARED.is_dir():
        return []
    from engine.metadata import extract

    good = []
    for p in sorted(SHARED.glob("*.jpg")):
        try:
            extract(p, phash=False)
            good.append(p)
        except Exception:  # noqa: BLE001 -- the deliberately broken samples
            pass
    return good


# -- 1. one worker vs two ------------------------------------------------------------


@pytest.fixture(scope="module")
def camera_dir(tmp_path_factory):
    files = _camera_jpegs()
    if not files:
        pytest.skip(f"camera JPEGs not found in {SHARED}")
    return copy_tree(tmp_path_factory.mktemp("camera"), files, 8)


def _run_batch(root: Path, workers: int, phash: bool = True) -> int:
    n = 0
    for res in batch.iter_results([str(root)], workers=workers, phash=phash):
        n += res.kind is None
    return n


def test_workers_scaling(benchmark, camera_dir):
    """1 worker, then 2, in alternation (both see the same machine load); ratio of medians."""
    benchmark.group = "batch camera JPEGs, pHash on"
    _run_batch(camera_dir, 2)  # warm the page cache and the forkserver
    times = {1: [], 2: []}

    def round_pair():
        for w in (1, 2):
            t0 = time.perf_counter()
            n = _run_batch(camera_dir, w)
            times[w].append(time.perf_counter() - t0)
        return n

    n = benchmark.pedantic(round_pair, rounds=5, iterations=1)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    ratio = one / two
    benchmark.extra_info.update(files=n, files_per_s_1=n / one, files_per_s_2=n / two, speedup_2_vs_1=ratio)
    print(f"\n{n} camera JPEGs: 1 worker {n / one:.1f} files/s, 2 workers {n / two:.1f} files/s: "
          f"{ratio:.2f}x (median vs median, alternating rounds; per-round ratios "
          f"{', '.join(f'{a / b:.2f}' for a, b in zip(times[1], times[2]))})")


# -- 2. beside ExifTool --------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory):
    files = sample_images()
    if not files:
        pytest.skip("no sample images found")
    # ~9,600 files: a small real directory. Both tools pay a fixed start-up (imgmeta ~0.4 s for
    # the interpreter and the worker pool, exiftool ~0.1 s) that a few thousand files amortize.
    return copy_tree(tmp_path_factory.mktemp("mixed"), files, MIXED_COPIES)


@pytest.mark.skipif(shutil.which("exiftool") is None,
                    reason="exiftool is not installed (apt-get install libimage-exiftool-perl)")
def test_no_phash_batch_vs_exiftool(benchmark, mixed_dir):
    benchmark.group = "metadata-only directory, whole command"
    ours = [sys.executable, "-m", "engine", "batch", str(mixed_dir), "-o", os.devnull, "--no-phash", "--no-progress"]
    theirs = ["exiftool", "-json", "-n", "-r", "-q", "-q", str(mixed_dir)]
    n = sum(len(f) for _, _, f in os.walk(mixed_dir))

    def call(cmd):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, check=False)

    call(ours), call(theirs)  # warm the page cache
    exif_times = []

    def round_pair():  # interleaved, so both see the same machine load
        t0 = time.perf_counter()
        call(theirs)
        exif_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        call(ours)
        return time.perf_counter() - t0

    run, _ = _timed(round_pair)
    ours_times = []
    benchmark.pedantic(lambda: ours_times.append(run()), rounds=3, iterations=1)
    ratio = statistics.median(exif_times) / statistics.median(ours_times)
    benchmark.extra_info.update(files=n, exiftool_s=statistics.median(exif_times),
                                imgmeta_s=statistics.median(ours_times), ratio_vs_exiftool=ratio)
    print(f"\n{n} files, metadata only: imgmeta batch {statistics.median(ours_times):.2f} s, "
          f"exiftool -json -n -r {statistics.median(exif_times):.2f} s: imgmeta {ratio:.1f}x faster (medians)")


# -- 3. parent memory, 10k vs 100k files ------------------------------------------------


def _tiny_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 10, 10)).save(buf, "PNG")
    return buf.getvalue()


def _make_flat_dir(root: Path, n: int) -> Path:
    root.mkdir()
    data = _tiny_png()
    for i in range(n):
        with open(root / f"img{i:06d}.png", "wb") as f:
            f.write(data)
    return root


_RSS_PROBE = (
    "import resource, sys; from engine.cli import main; "
    "rc = main(sys.argv[1:]); "
    "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)"
)


def _parent_peak_rss_kb(root: Path, out: Path) -> tuple[int, float, str]:
    cmd = [sys.executable, "-c", _RSS_PROBE, "batch", str(root), "-o", str(out), "--no-phash", "--no-progress"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - t0
    line = next(x for x in proc.stderr.splitlines() if x.startswith("PEAK_RSS_KB"))
    summary = next((x for x in proc.stderr.splitlines() if "files:" in x), "")
    return int(line.split()[1]), wall, summary


def test_parent_memory_flat(benchmark, tmp_path):
    benchmark.group = "batch parent peak RSS"
    small = _make_flat_dir(tmp_path / "k10", 10_000)
    big = _make_flat_dir(tmp_path / "k100", 100_000)
    rss_small, wall_small, sum_small = _parent_peak_rss_kb(small, tmp_path / "small.jsonl")

    results = {}

    def run_big():
        results["big"] = _parent_peak_rss_kb(big, tmp_path / "big.jsonl")

    benchmark.pedantic(run_big, rounds=1, iterations=1)
    rss_big, wall_big, sum_big = results["big"]
    ratio = rss_big / rss_small
    benchmark.extra_info.update(rss_10k_mb=rss_small / 1024, rss_100k_mb=rss_big / 1024, ratio=ratio,
                                files_per_s_100k=100_000 / wall_big)
    print(f"\nparent peak RSS: 10k files {rss_small / 1024:.1f} MB ({sum_small.strip()}); "
          f"100k files {rss_big / 1024:.1f} MB ({sum_big.strip()}): ratio {ratio:.2f}")
