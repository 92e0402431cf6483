"""Shared fixtures: where the read-only reference material lives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_SAMPLES = SHARED / "samples"
EXPECTED = SHARED_SAMPLES / "expected"
DATA_SAMPLES = REPO / "data" / "samples"

needs_shared = pytest.mark.skipif(
    not EXPECTED.is_dir(),
    reason=f"reference samples not found at {SHARED_SAMPLES} (clone the repo next to its shared/ folder to run these)",
)


def shared_expectations() -> list[tuple[Path, dict]]:
    """(image path, reference answers) for every shared sample; [] when shared/ is absent."""
    if not EXPECTED.is_dir():
        return []
    out = []
    for ref in sorted(EXPECTED.glob("*.json")):
        data = json.loads(ref.read_text())
        out.append((SHARED_SAMPLES / data["path"], data))
    return out
