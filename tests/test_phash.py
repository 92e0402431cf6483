"""pHash: the numba kernel against a scipy reference, and every shared sample against imagehash."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from engine.errors import CorruptFileError, MetadataError, UnsupportedFormatError
from engine.hashing import _hash_numpy, hash_luma32, luma32, phash, phash_batch, phash_image

from conftest import DATA_SAMPLES, SHARED_SAMPLES, needs_shared, shared_expectations

scipy_fftpack = pytest.importorskip("scipy.fftpack")


def reference_hash(pixels) -> int:
    """imagehash.phash's arithmetic on a prepared 32x32 array."""
    x = np.asarray(pixels, dtype=np.float64)
    d = scipy_fftpack.dct(scipy_fftpack.dct(x, axis=0), axis=1)[:8, :8]
    bits = (d > np.median(d)).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def kernel_only(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from engine.phash_kernels import hash_batch

    return hash_batch(np.ascontiguousarray(batch))


# --- the kernel ---------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(arrays(np.uint8, (32, 32)))
def test_kernel_equals_scipy_on_uint8(x):
    assert hash_luma32(x) == reference_hash(x)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, (32, 32), elements=st.floats(-1e4, 1e4, allow_nan=False)))
def test_kernel_equals_scipy_on_floats(x):
    assert hash_luma32(x) == reference_hash(x)


def structured_inputs(rng, n=200):
    """Inputs with exact zero coefficients and ties: constant, mirrored, striped, symmetric."""
    out = []
    for _ in range(n):
        out.append(np.full((32, 32), rng.integers(0, 256), np.uint8))
        half = rng.integers(0, 256, (32, 16)).astype(np.uint8)
        out.append(np.concatenate([half, half[:, ::-1]], axis=1))
        out.append(out[-1].T.copy())
        out.append(np.tile(rng.integers(0, 256, 32).astype(np.uint8), (32, 1)))
        out.append(out[-1].T.copy())
        q = rng.integers(0, 256, (32, 32)).astype(np.uint8)
        out.append(np.triu(q) + np.triu(q, 1).T)  # transpose-symmetric: ties at the median
        out.append((rng.integers(0, 2, (32, 32)) * 255).astype(np.uint8))
        out.append(rng.integers(100, 102, (32, 32)).astype(np.uint8))
    return np.array(out)


def test_structured_inputs_equal_scipy_and_ties_are_flagged():
    x = structured_inputs(np.random.default_rng(7))
    raw, fragile = kernel_only(x)
    ref = np.array([reference_hash(a) for a in x], dtype=np.uint64)
    # every disagreement of the raw kernel is a flagged near tie ...
    assert not np.any((raw != ref) & ~fragile)
    # ... and the public function repairs them
    assert np.array_equal(phash_batch(x), ref)


def test_block_kernel_equals_scalar_kernel():
    """The structure-of-arrays batch kernel is bit-identical to the one-image kernel (flags too)."""
    from engine.phash_kernels import BLOCK, SUB_BLOCK, hash_batch_scalar

    rng = np.random.default_rng(13)
    s = structured_inputs(rng, 40)
    cases = [rng.integers(0, 256, (n, 32, 32)).astype(np.uint8)
             for n in (1, SUB_BLOCK - 1, SUB_BLOCK + 1, BLOCK, BLOCK + 3, 2000)]
    cases += [s, s.astype(np.float64), rng.uniform(-1e4, 1e4, (700, 32, 32)), rng.normal(0, 1e-3, (300, 32, 32))]
    for x in cases:
        x = np.ascontiguousarray(x)
        h, f = kernel_only(x)
        h2, f2 = hash_batch_scalar(x)
        assert np.array_equal(h, h2) and np.array_equal(f, f2), x.shape


def test_constant_image_hash_is_dc_only():
    assert f"{hash_luma32(np.full((32, 32), 137, np.uint8)):016x}" == "8000000000000000"


def test_batch_equals_single_and_dtypes():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (600, 32, 32)).astype(np.uint8)
    h = phash_batch(x)
    assert h.dtype == np.uint64 and h.shape == (600,)
    assert [int(v) for v in h[:20]] == [hash_luma32(a) for a in x[:20]]
    assert np.array_equal(phash_batch(x.astype(np.float32)), h)
    assert np.array_equal(phash_batch(x.astype(np.int16)), h)
    assert phash_batch(np.empty((0, 32, 32), np.uint8)).shape == (0,)


def test_batch_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(N, 32, 32\)"):
        phash_batch(np.zeros((3, 16, 16)))


# --- the numpy one-image path against the numba kernel (bit for bit, flag for flag)

def numpy_path(batch) -> tuple[np.ndarray, np.ndarray]:
    pairs = [_hash_numpy(a) for a in batch]
    return np.array([h for h, _ in pairs], dtype=np.uint64), np.array([f for _, f in pairs])


@settings(max_examples=200, deadline=None)
@given(arrays(np.uint8, (4, 32, 32)))
def test_numpy_path_equals_kernel_on_uint8(x):
    h, f = kernel_only(x)
    hn, fn = numpy_path(x)
    assert np.array_equal(hn, h) and np.array_equal(fn, f)


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, (4, 32, 32), elements=st.floats(-1e4, 1e4, allow_nan=False)))
def test_numpy_path_equals_kernel_on_floats(x):
    h, f = kernel_only(x)
    hn, fn = numpy_path(x)
    assert np.array_equal(hn, h) and np.array_equal(fn, f)


def test_numpy_path_equals_kernel_on_random_and_structured():
    rng = np.random.default_rng(5)
    x = np.concatenate([structured_inputs(rng, 60), rng.integers(0, 256, (500, 32, 32)).astype(np.uint8)])
    h, f = kernel_only(x)
    hn, fn = numpy_path(x)
    assert f.any()  # the structured inputs do hit near ties
    assert np.array_equal(hn, h) and np.array_equal(fn, f)


def _all_sample_files():
    out = []
    for root in (SHARED_SAMPLES, DATA_SAMPLES):
        if root.is_dir():
            out += [p for p in sorted(root.rglob("*")) if p.is_file() and p.suffix.lower() not in (".json", ".md", ".py", ".txt")]
    return out


def test_numpy_path_equals_kernel_on_every_sample():
    from engine.metadata import opened

    lumas = []
    for path in _all_sample_files():
        try:
            with opened(path) as (_, im, _c):
                lumas.append(luma32(im, exact=True))
        except Exception:  # noqa: BLE001 - corrupt/unsupported samples are other tests' business
            continue
    if not lumas:
        pytest.skip("no samples found")
    x = np.array(lumas)
    h, f = kernel_only(x)
    hn, fn = numpy_path(x)
    assert np.array_equal(hn, h) and np.array_equal(fn, f)
    assert np.array_equal(phash_batch(x), np.array([hash_luma32(a) for a in x], dtype=np.uint64))


def test_phash_image_same_with_and_without_numba_loaded(monkeypatch):
    import sys as _sys

    import engine.phash_kernels  # noqa: F401 - numba loaded: phash_image uses the kernel

    rng = np.random.default_rng(9)
    ims = [Image.fromarray(rng.integers(0, 256, (40, 50), dtype=np.uint8)) for _ in range(5)]
    sym = rng.integers(0, 256, (32, 32)).astype(np.uint8)
    ims.append(Image.fromarray(np.triu(sym) + np.triu(sym, 1).T))  # near ties -> scipy
    with_numba = [phash_image(im) for im in ims]
    monkeypatch.delitem(_sys.modules, "engine.phash_kernels")
    assert [phash_image(im) for im in ims] == with_numba
    assert with_numba[-1] == f"{reference_hash(np.asarray(ims[-1].convert('L').resize((32, 32), Image.Resampling.LANCZOS))):016x}"


def test_one_image_hash_does_not_import_numba():
    code = ("import sys; from PIL import Image; from engine.hashing import phash_image; "
            "h = phash_image(Image.new('RGB', (64, 48), 'gray')); "
            "assert h == '8000000000000000', h; assert 'numba' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- images -------------------------------------------------------------------

SAMPLES = [(p, ref) for p, ref in shared_expectations() if ref.get("imagehash")]


@needs_shared
@pytest.mark.parametrize("path,ref", SAMPLES, ids=[p.name for p, _ in SAMPLES])
def test_exact_path_equals_imagehash_reference(path, ref):
    assert phash(path, exact=True) == ref["imagehash"]


@needs_shared
@pytest.mark.parametrize("path,ref", SAMPLES, ids=[p.name for p, _ in SAMPLES])
def test_default_path_equals_imagehash_reference(path, ref):
    assert phash(path) == ref["imagehash"]


@needs_shared
@pytest.mark.parametrize("path,ref", SAMPLES, ids=[p.name for p, _ in SAMPLES])
def test_opt_in_reduced_scale_path_is_within_two_bits(path, ref, monkeypatch):
    import engine.hashing as hashing

    monkeypatch.setattr(hashing, "FAST_DECODE", True)
    got = phash(path)
    assert (int(got, 16) ^ int(ref["imagehash"], 16)).bit_count() <= 2
    assert len(got) == 16 and got == got.lower()


def test_equals_imagehash_on_generated_images():
    imagehash = pytest.importorskip("imagehash")
    rng = np.random.default_rng(11)
    for mode, size in [("RGB", (97, 61)), ("L", (40, 300)), ("RGBA", (64, 64)), ("P", (33, 33)), ("I;16", (50, 20))]:
        base = rng.integers(0, 256, (size[1], size[0], 3)).astype(np.uint8)
        im = Image.fromarray(base).convert(mode)
        assert phash_image(im, exact=True) == str(imagehash.phash(im)), mode


def test_opt_in_fast_path_on_generated_large_jpeg(monkeypatch):
    import engine.hashing as hashing

    imagehash = pytest.importorskip("imagehash")
    yy, xx = np.mgrid[0:1200, 0:1600]
    img = (128 + 60 * np.sin(xx / 97.0) + 50 * np.cos(yy / 53.0 + xx / 211.0)).clip(0, 255).astype(np.uint8)
    rgb = np.stack([img, np.roll(img, 40, axis=1), 255 - img], axis=-1)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    ref = str(imagehash.phash(Image.open(io.BytesIO(data))))
    assert phash(data) == ref  # default: exact
    monkeypatch.setattr(hashing, "FAST_DECODE", True)
    assert phash(data, exact=True) == ref
    assert (int(phash(data), 16) ^ int(ref, 16)).bit_count() <= 2
    im = Image.open(io.BytesIO(data))
    phash_image(im)
    assert im.size == (1600 // 4, 1200 // 4)  # drafted: libjpeg decoded at 1/4 scale


def test_sources_bytes_and_file_objects():
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), (10, 200, 30)).save(buf, "PNG")
    assert phash(buf.getvalue()) == phash(io.BytesIO(buf.getvalue())) == "8000000000000000"


def test_errors_are_engine_errors():
    with pytest.raises(UnsupportedFormatError):
        phash(b"definitely not an image")
    buf = io.BytesIO()
    Image.new("RGB", (300, 300), "red").save(buf, "PNG")
    with pytest.raises(MetadataError):
        phash(buf.getvalue()[:60])
    with pytest.raises((CorruptFileError, UnsupportedFormatError)):
        phash(b"\xff\xd8\xff\xe0" + b"\x00" * 10)


def test_cli_hash(tmp_path):
    good = tmp_path / "a.png"
    Image.new("L", (40, 40), 99).save(good)
    bad = tmp_path / "b.png"
    bad.write_bytes(b"nope")
    r = subprocess.run([sys.executable, "-m", "engine", "hash", str(good), str(bad)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [f"8000000000000000  {good}"]
    assert str(bad) in r.stderr and r.stderr.count("\n") == 1


def test_import_engine_does_not_import_numba():
    code = "import sys, engine; assert 'numba' not in sys.modules; assert 'engine.hamming' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
