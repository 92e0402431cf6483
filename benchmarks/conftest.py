"""Benchmarks (not part of CI): ``pytest benchmarks/ --benchmark-enable``.

``BENCH_FULL=1`` uses the sizes of the issue's targets (1M hashes, 1k
queries); the default quick sizes keep the whole directory to a minute or two.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FULL = os.environ.get("BENCH_FULL", "") not in ("", "0")
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


@pytest.fixture(scope="session")
def full():
    return FULL
