"""The crafted hostile corpus (tests/hostile/, built by make_corpus.py): one pinned outcome per file.

``tests/hostile/EXPECTED.json`` says, for each file, which attack it is and what
``extract`` must do with it: return an object (with the listed fields and EXIF
tags), or raise one engine error kind with a given message. Every file must
also finish within :data:`MAX_SECONDS`. Files under ``tests/hostile/regressions``
(findings of the fuzzers) must only ever raise ``MetadataError``.
See docs/hostile.md for the policy these tests pin.
"""

from __future__ import annotations

import importlib.util
import io
import struct
import json
import threading
import time
from pathlib import Path

import pytest

import engine
from engine import config
from engine.errors import CorruptFileError, ExtractTimeoutError, ImageTooLargeError, MetadataError

HOSTILE = Path(__file__).resolve().parent / "hostile"
EXPECTED = json.loads((HOSTILE / "EXPECTED.json").read_text())
REGRESSIONS = sorted(p for p in (HOSTILE / "regressions").glob("*") if p.suffix not in (".json", ".md"))
KINDS = {"corrupt": CorruptFileError, "too_large": ImageTooLargeError, "unsupported": engine.UnsupportedFormatError}
MAX_SECONDS = 2.0


def _corpus_module():
    spec = importlib.util.spec_from_file_location("hostile_make_corpus", HOSTILE / "make_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module", autouse=True)
def warm():
    """First-call costs (lazy imports, JIT) are not the input's: pay them before timing."""
    for name in ("jpeg_truncated_scan.jpg", "png_exif_loop.png", "tiff_page_loop.tif"):
        engine.extract(HOSTILE / name)


def _timed(fn, *a, **kw):
    t = time.perf_counter()
    try:
        return fn(*a, **kw)
    finally:
        assert time.perf_counter() - t < MAX_SECONDS, "over the time bound"


def test_every_crafted_file_has_a_pinned_outcome():
    cases = set(_corpus_module().CASES)
    on_disk = {p.name for p in HOSTILE.iterdir() if p.is_file() and p.suffix not in (".py", ".json", ".md")}
    assert cases == set(EXPECTED) == on_disk


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_crafted_file_outcome(name):
    exp = EXPECTED[name]
    path = HOSTILE / name
    if exp["outcome"] == "ok":
        r = _timed(engine.extract, path)
        for key, value in exp["fields"].items():
            assert r[key] == value, key
        assert len(r["pHash"]) == 16
        for group, tags in exp.get("exif", {}).items():
            for tag, value in tags.items():
                assert r["exif"][group][tag] == value, f"{group}.{tag}"
        if "exif" in exp:
            groups = {g for g, v in r["exif"].items() if v}
            assert groups == set(exp["exif"]), "groups read"
        json.dumps(r, allow_nan=False)
    else:
        with pytest.raises(KINDS[exp["outcome"]]) as info:
            _timed(engine.extract, path)
        assert str(info.value).split(":")[0] == exp["message"].split(":")[0]
        assert info.value.kind == exp["outcome"]


@pytest.mark.parametrize("name", ["jpeg_truncated_scan.jpg", "jpeg_truncated_progressive.jpg"])
def test_truncated_jpeg_hashes_what_decodes_like_load_truncated_images(name):
    """The per-call EOI trailer gives Pillow's LOAD_TRUNCATED_IMAGES picture, global flag untouched."""
    imagehash = pytest.importorskip("imagehash")
    from PIL import Image, ImageFile

    path = HOSTILE / name
    ours = engine.extract(path)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with Image.open(path) as im:
        with pytest.raises(OSError):
            im.load()  # the file really is truncated
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with Image.open(path) as im:
            ref = str(imagehash.phash(im))
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    assert bin(int(ours["pHash"], 16) ^ int(ref, 16)).count("1") <= 2
    assert ours["pHash"] == engine.extract(path.read_bytes())["pHash"] == engine.extract(io.BytesIO(path.read_bytes()))["pHash"]


def test_truncated_and_whole_files_in_threads_agree_with_serial():
    names = ["jpeg_truncated_scan.jpg", "exif_ifd_loop.jpg", "png_truncated_idat.png", "jpeg_truncated_progressive.jpg"]

    def outcome(name):
        try:
            return engine.extract(HOSTILE / name)["pHash"]
        except MetadataError as e:
            return e.kind

    serial = {n: outcome(n) for n in names}
    results, errors = [], []

    def run():
        try:
            for _ in range(5):
                results.append({n: outcome(n) for n in names})
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r == serial for r in results)


def test_per_call_pixel_limit():
    path = HOSTILE / "png_1x65535.png"
    assert engine.extract(path, phash=False)["height"] == 65535
    with pytest.raises(ImageTooLargeError, match="1x65535 = 65535 pixels, over the limit of 65534"):
        engine.extract(path, max_pixels=65534)


@pytest.mark.parametrize("name,frames", [("gif_10001_frames.gif", 10_001), ("webp_3000_frames.webp", 3000),
                                         ("tiff_5000_pages.tif", 5000)])
def test_frame_limit_is_configurable(name, frames, monkeypatch):
    monkeypatch.setattr(config, "MAX_FRAMES", frames)
    assert _timed(engine.extract, HOSTILE / name)["width"] == 1
    monkeypatch.setattr(config, "MAX_FRAMES", frames - 1)
    with pytest.raises(ImageTooLargeError, match=f"more than {frames - 1} frames"):
        _timed(engine.extract, HOSTILE / name)


def test_exif_value_budget_bounds_overlapping_values():
    from engine import exif

    r = _timed(engine.extract, HOSTILE / "exif_huge_values_overlap.jpg", phash=False)
    rendered = sum(len(v) * 4 for g in r["exif"].values() for v in g.values() if isinstance(v, list))
    assert 0 < rendered <= exif.MAX_TOTAL_VALUE_BYTES


def test_engine_errors_raised_inside_the_exif_walk_are_not_swallowed(monkeypatch):
    """A batch timeout is injected into the extracting thread as ExtractTimeoutError: never eaten as 'broken EXIF'."""
    from engine import exif

    def boom(*a, **kw):
        raise ExtractTimeoutError("timed out")

    monkeypatch.setattr(exif, "render", boom)
    with pytest.raises(ExtractTimeoutError):
        engine.extract(HOSTILE / "exif_ifd_loop.jpg")


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_fuzz_regression(path):
    """A fuzzer finding (tests/hostile/regressions, see the .json beside it): only MetadataError, in time."""
    try:
        r = _timed(engine.extract, path)
    except MetadataError:
        return
    json.dumps(r, allow_nan=False)


def test_jpeg_scan_limit_shrinks_with_image_size():
    from engine.formats import jpeg

    assert jpeg.scan_limit(64 * 48) == jpeg.MAX_SCANS
    assert jpeg.scan_limit(200_000_000) == jpeg.MIN_SCANS
    assert jpeg.MIN_SCANS < jpeg.scan_limit(12_000_000) < jpeg.MAX_SCANS


def test_pillow_global_state_is_left_alone():
    from PIL import Image, ImageFile

    engine.extract(HOSTILE / "jpeg_truncated_scan.jpg")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert Image.MAX_IMAGE_PIXELS is None or 2 * Image.MAX_IMAGE_PIXELS >= config.MAX_PIXELS


def test_frame_and_page_counters_stop_at_the_limit():
    from engine.formats import gif, tiff

    data = (HOSTILE / "gif_10001_frames.gif").read_bytes()
    assert gif.count_frames(data, 10_000) == 10_001
    assert gif.count_frames(data, 10) == 11
    pages = (HOSTILE / "tiff_5000_pages.tif").read_bytes()
    assert tiff.count_pages(pages, 10_000) == 5000
    assert tiff.count_pages(pages, 10) == 11
    assert tiff.count_pages((HOSTILE / "tiff_page_loop.tif").read_bytes(), 100) == 3
    assert tiff.count_pages((HOSTILE / "bigtiff_page_loop.tif").read_bytes(), 100) == 1


def test_gif_sub_block_flood_is_refused(monkeypatch):
    from engine.formats import gif

    monkeypatch.setattr(gif, "MIN_BLOCK_BUDGET", 1000)
    with pytest.raises(ImageTooLargeError, match="sub-blocks"):
        engine.extract(HOSTILE / "gif_subblock_flood.gif")


def test_ico_embedded_sizes():
    from engine.formats import ico

    assert ico.embedded_pixels((HOSTILE / "ico_png_oversize.ico").read_bytes()) == 15000 * 15000
    assert ico.embedded_pixels((HOSTILE / "ico_bmp_oversize.ico").read_bytes()) == 15000 * 15000
    assert ico.embedded_pixels((HOSTILE / "ico_entries_past_end.ico").read_bytes()) == 0


def test_a_faulty_exif_value_loses_only_its_entry(monkeypatch):
    from engine import exif, render

    real = render.render

    def flaky(type_id, count, raw, bo, name):
        if name == "Make":
            raise struct.error("boom")
        return real(type_id, count, raw, bo, name)

    monkeypatch.setattr(exif, "render", flaky)
    r = engine.extract(HOSTILE / "exif_ifd_loop.jpg")
    assert "Make" not in r["exif"]["image"]
    assert r["exif"]["image"]["Orientation"] == 1


def test_dimension_limit_is_configurable(monkeypatch):
    path = HOSTILE / "png_1x65535.png"
    assert engine.extract(path, phash=False)["height"] == 65535
    monkeypatch.setattr(config, "MAX_DIMENSION", 65534)
    with pytest.raises(ImageTooLargeError, match="IMGMETA_MAX_DIMENSION"):
        engine.extract(path)
