"""Metadata-only extraction over a directory, side by side with ExifTool.

Run: ``pytest benchmarks/bench_extract.py --benchmark-enable``

Both sides read the same generated directory (copies of the shared samples and
of ``data/samples``, about 1,300 files of every format), one process each:
``exiftool -json -n -r DIR`` as a subprocess, and ``engine.extract(path,
phash=False)`` over ``os.walk`` in this process. The ratio of medians is
printed and stored in the benchmark's ``extra_info``; nothing is asserted on
time (the machines are shared and noisy).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import engine
from _samples import copy_tree, sample_images
COPIES = 20
RESULTS: dict[str, float] = {}


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("extract-bench")
    files = sample_images()
    if not files:
        pytest.skip("no sample images found")
    return copy_tree(root, files, COPIES)


def _extract_dir(root: Path) -> int:
    ok = 0
    for folder, _, names in os.walk(root):
        for name in names:
            try:
                engine.extract(os.path.join(folder, name), phash=False)
                ok += 1
            except engine.MetadataError:
                pass
    return ok


def _ratio_note():
    if "exiftool" in RESULTS and "imgmeta" in RESULTS:
        ratio = RESULTS["exiftool"] / RESULTS["imgmeta"]
        print(f"\nmetadata-only over a directory: imgmeta is {ratio:.1f}x exiftool (median vs median)")
        return ratio
    return None


def test_imgmeta_metadata_only(benchmark, image_dir):
    benchmark.group = "metadata-only directory"
    _extract_dir(image_dir)  # warm the page cache and imports, as exiftool's first round does
    n = benchmark.pedantic(_extract_dir, args=(image_dir,), rounds=5, iterations=1)
    RESULTS["imgmeta"] = benchmark.stats.stats.median
    benchmark.extra_info["files"] = n
    benchmark.extra_info["ratio_vs_exiftool"] = _ratio_note()


@pytest.mark.skipif(shutil.which("exiftool") is None,
                    reason="exiftool is not installed (apt-get install libimage-exiftool-perl)")
def test_exiftool_json_n_r(benchmark, image_dir):
    benchmark.group = "metadata-only directory"
    cmd = ["exiftool", "-json", "-n", "-r", "-q", "-q", str(image_dir)]

    def run():
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    benchmark.pedantic(run, rounds=3, iterations=1)
    RESULTS["exiftool"] = benchmark.stats.stats.median
    benchmark.extra_info["ratio_imgmeta_vs_exiftool"] = _ratio_note()
