"""Benchmark inputs built at run time from the sample images (never committed)."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "samples"
DATA = REPO / "data" / "samples"


def sample_images() -> list[Path]:
    """Every image of the shared samples (when present) and of ``data/samples``."""
    return [p for d in (SHARED, DATA) if d.is_dir() for p in sorted(d.iterdir())
            if p.is_file() and p.suffix.lower() not in (".md", ".json", ".py")]


def copy_tree(root: Path, files: list[Path], copies: int) -> Path:
    """``copies`` sub-directories of ``root``, each holding a copy of ``files``."""
    for i in range(copies):
        sub = root / f"copy{i:03d}"
        sub.mkdir()
        for p in files:
            shutil.copyfile(p, sub / p.name)
    return root
