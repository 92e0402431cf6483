"""Hypothesis-driven mutation fuzzing of ``engine.extract`` (a short, bounded run for CI).

The seeds are the shared reference photos (``../shared/samples``, when present)
and ``data/samples``; the mutations (bit flips, interesting integers,
truncation, deletion, duplication, splicing, poisoned IFD entries and segment
lengths) are those of ``tests/hostile/mutators.py``, which the long run
(``benchmarks/fuzz_long.py``, >=100,000 inputs) also uses. The contract under
test: ``extract`` returns a valid SPEC object or raises a ``MetadataError``,
never anything else, within the per-example deadline of 2 s.

About 200 examples in all (``derandomize=True``: the same ones every run, so CI
is reproducible; the long run explores).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine import config
from engine.errors import MetadataError

sys.path.insert(0, str(Path(__file__).resolve().parent / "hostile"))
import mutators  # noqa: E402

SEEDS = [p.read_bytes() for p in mutators.seed_files()]
EXIF_SEEDS = [s for s in SEEDS if mutators.tiff_entries(s)]
FUZZ = settings(deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

pytestmark = pytest.mark.skipif(not SEEDS, reason="no seed images (data/samples or ../shared/samples) found")


def ops(kinds=mutators.KINDS, max_size=4):
    op = st.tuples(st.sampled_from(kinds), st.floats(0, 1, exclude_max=True), st.integers(0, (1 << 24) - 1))
    return st.lists(op, min_size=1, max_size=max_size)


#: a mutated header may declare any size up to the pixel limit, and an in-limit image may cost
#: what the limit allows (a 200 MP canvas: seconds); fuzzing runs with a 16 MP limit instead
FUZZ_MAX_PIXELS = 16_000_000


@pytest.fixture(scope="module", autouse=True)
def warm():
    saved, config.MAX_PIXELS = config.MAX_PIXELS, FUZZ_MAX_PIXELS
    for data in SEEDS[:3] + EXIF_SEEDS[:1]:
        try:
            engine.extract(data)
        except MetadataError:
            pass
    yield
    config.MAX_PIXELS = saved


def _check(data: bytes) -> None:
    try:
        r = engine.extract(data)
    except MetadataError as e:
        assert e.kind in ("corrupt", "unsupported", "too_large")
        assert str(e)
        return
    bad = mutators.check_output(r)
    assert bad is None, bad
    assert r["size"] == len(data)


@settings(FUZZ, max_examples=120)
@given(seed=st.integers(0, max(0, len(SEEDS) - 1)), other=st.integers(0, max(0, len(SEEDS) - 1)), ops=ops())
def test_mutated_samples_raise_only_metadata_errors(seed, other, ops):
    _check(mutators.mutate(SEEDS[seed], ops, SEEDS[other]))


@settings(FUZZ, max_examples=50)
@given(seed=st.integers(0, max(0, len(EXIF_SEEDS) - 1)), ops=ops(("ifd", "seglen", "int32", "int16"), 3))
def test_poisoned_ifd_entries_and_lengths(seed, ops):
    if not EXIF_SEEDS:
        pytest.skip("no seed with EXIF")
    _check(mutators.mutate(EXIF_SEEDS[seed], ops))


@settings(FUZZ, max_examples=30)
@given(seed=st.integers(0, max(0, len(SEEDS) - 1)), cut=st.floats(0, 1, exclude_max=True))
def test_truncated_samples(seed, cut):
    data = SEEDS[seed]
    _check(data[:max(1, int(cut * len(data)))])
