"""How close the reduced-scale JPEG decode (the default pHash path) stays to imagehash.

Usage: python benchmarks/eval_fast_path.py [JPEG or DIR ...] [--derived N] [--margins 2,4,8,16]

For each photograph (and N derived variants of each: random crops of at least
512 px, re-encoded at random quality and chroma subsampling, generated in
memory, never written), the fast-path hash at each DRAFT_MARGIN is compared
with ``imagehash.phash``: share equal, histogram of bit differences, decode
time ratio. Defaults: the shared samples.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import Counter
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

import engine.hashing as hashing

hashing.FAST_DECODE = True

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "samples"


def photos(args) -> list[Path]:
    out = []
    for a in args or [str(SHARED)]:
        p = Path(a)
        out += sorted(q for q in p.rglob("*") if q.suffix.lower() in (".jpg", ".jpeg")) if p.is_dir() else [p]
    return out


def variants(data: bytes, n: int, rng) -> list[bytes]:
    out = [data]
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    for _ in range(n):
        cw, ch = int(rng.integers(min(512, w), w + 1)), int(rng.integers(min(512, h), h + 1))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        crop = im.crop((x, y, x + cw, y + ch))
        if rng.random() < 0.15:
            crop = crop.convert("L")
        buf = io.BytesIO()
        crop.save(buf, "JPEG", quality=int(rng.integers(60, 99)), subsampling=int(rng.choice([0, 1, 2])))
        out.append(buf.getvalue())
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs", nargs="*")
    ap.add_argument("--derived", type=int, default=10)
    ap.add_argument("--margins", default="2,4,8,16")
    a = ap.parse_args(argv)
    margins = [int(m) for m in a.margins.split(",")]
    rng = np.random.default_rng(0)
    corpus = []
    for p in photos(a.inputs):
        try:
            corpus += variants(p.read_bytes(), a.derived, rng)
        except Exception as e:  # noqa: BLE001
            print(f"skip {p}: {e}", file=sys.stderr)
    diffs = {m: Counter() for m in margins}
    t_ref, t_fast = 0.0, {m: 0.0 for m in margins}
    n_drafted = 0
    for data in corpus:
        t0 = time.perf_counter()
        ref = int(str(imagehash.phash(Image.open(io.BytesIO(data)))), 16)
        t_ref += time.perf_counter() - t0
        w, h = Image.open(io.BytesIO(data)).size
        n_drafted += min(w, h) >= 2 * 32 * hashing.DRAFT_MARGIN
        for m in margins:
            hashing.DRAFT_MARGIN = m
            t0 = time.perf_counter()
            got = int(hashing.phash(data), 16)
            t_fast[m] += time.perf_counter() - t0
            diffs[m][(got ^ ref).bit_count()] += 1
    print(f"{len(corpus)} JPEGs ({len(photos(a.inputs))} photographs + derived crops)")
    print("| margin | equal | 1 bit | 2 bits | >2 bits | max | time vs imagehash |")
    print("|---|---|---|---|---|---|---|")
    for m in margins:
        c, n = diffs[m], len(corpus)
        print(f"| {m} | {100 * c[0] / n:.1f}% | {c[1]} | {c[2]} | {sum(v for k, v in c.items() if k > 2)} "
              f"| {max(c)} | {t_ref / t_fast[m]:.1f}x faster |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
