"""Memory and time bounds of ``engine.extract`` on hostile input: peak RSS and the slowest input.

    python benchmarks/hostile_bounds.py                 # corpus + regressions + 500 fuzz inputs
    python benchmarks/hostile_bounds.py --fuzz 2000 --json benchmarks/results/hostile_bounds.json

Every input runs in a fresh ``fork`` of a warmed-up parent (imports done, pHash
kernels compiled, decoders initialised), so each measurement is that input's
own cost: wall time of ``extract`` and the rise of the child's peak RSS
(``ru_maxrss``) over what it inherited. Inputs: the crafted corpus of
``tests/hostile``, the fuzzers' findings in ``tests/hostile/regressions``,
``--fuzz`` mutated inputs (``tests/hostile/mutators.py``, run seed ``--base``),
and two *limit-cost* references: a valid greyscale PNG and a valid JPEG of
exactly ``--limit-pixels`` pixels, i.e. what the pixel limit itself lets any
input cost. Every input is extracted with ``max_pixels=--limit-pixels``.

Targets (issue 5): no hostile or fuzzed input over 2 s, none over 256 MB of
peak RSS above the pixel limit's own cost.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOSTILE = REPO / "tests" / "hostile"
sys.path.insert(0, str(HOSTILE))
sys.path.insert(0, str(REPO))

import mutators  # noqa: E402


def limit_images(pixels: int) -> dict[str, bytes]:
    """A valid PNG and JPEG of ``pixels`` pixels (square-ish), with some texture."""
    import zlib

    from PIL import Image

    side = int(pixels ** 0.5)
    w, h = side, pixels // side
    row = bytes((x * 7) & 0xFF for x in range(w))
    import make_corpus

    png = make_corpus.png(w, h, zlib.compress((b"\x00" + row) * h, 1))
    out = io.BytesIO()
    Image.frombytes("L", (w, h), row * h).save(out, "JPEG", quality=85)
    return {f"limit_png_{w}x{h}": png, f"limit_jpeg_{w}x{h}": out.getvalue()}


def measure(data, max_pixels: int | None, timeout: float) -> tuple[float, int, str]:
    """``(seconds, peak RSS rise in MB, outcome)`` of one ``extract`` in a forked child."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        import engine
        from engine.errors import MetadataError

        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        try:
            engine.extract(data, max_pixels=max_pixels)
            outcome = "ok"
        except MetadataError as e:
            outcome = e.kind
        except BaseException as e:  # noqa: BLE001
            outcome = f"EXCEPTION {type(e).__name__}: {e}"[:200]
        dt = time.perf_counter() - t
        rise = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024
        os.write(w, json.dumps([dt, rise, outcome]).encode())
        os._exit(0)
    os.close(w)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            os.close(r)
            return timeout, -1, "HANG"
        time.sleep(0.002)
    msg = os.read(r, 4096)
    os.close(r)
    if not msg:
        return 0.0, -1, f"CRASH status {status}"
    dt, rise, outcome = json.loads(msg)
    return dt, rise, outcome


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fuzz", type=int, default=500, help="mutated inputs to measure")
    ap.add_argument("--base", type=int, default=7, help="run seed of the mutated inputs")
    ap.add_argument("--limit-pixels", type=int, default=25_000_000,
                    help="size of the limit-cost reference images (and their max_pixels)")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        # glibc's dynamic mmap threshold would let the warmed parent keep freed buffers resident,
        # and children would reuse them unseen: fix it, so every large buffer is a fresh mapping
        os.environ["MALLOC_MMAP_THRESHOLD_"] = "131072"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    warnings.simplefilter("ignore")
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")

    import engine
    from engine.errors import MetadataError

    paths = mutators.seed_files(2_500_000, hostile=True)
    names, seeds = [p.name for p in paths], [p.read_bytes() for p in paths]
    warmed = set()
    for name, s in zip(names, seeds):  # warm the parent: children inherit imports, JIT, decoder state
        if Path(name).suffix in warmed or len(s) > 200_000:
            continue
        try:
            engine.extract(s)
            warmed.add(Path(name).suffix)
        except MetadataError:
            pass

    inputs: list[tuple[str, str, bytes, int | None]] = []
    for p in sorted(HOSTILE.iterdir()):
        if p.is_file() and p.suffix not in (".py", ".json", ".md"):
            inputs.append(("corpus", p.name, p.read_bytes(), None))
    reg = HOSTILE / "regressions"
    for p in sorted(reg.glob("*")) if reg.is_dir() else []:
        if p.suffix not in (".json", ".md"):
            inputs.append(("regression", p.name, p.read_bytes(), None))
    for i in range(args.fuzz):
        s, _, ops, data = mutators.case(seeds, i, args.base)
        inputs.append(("fuzz", f"#{i} {names[s]} {len(ops)} ops", data, None))

    rows = []
    for group, name, data, _ in inputs:
        dt, rise, outcome = measure(data, args.limit_pixels, args.timeout)
        rows.append({"group": group, "name": name, "bytes": len(data), "seconds": round(dt, 4),
                     "rss_mb": rise, "outcome": outcome})
    limit_rows = []
    for name, data in limit_images(args.limit_pixels).items():
        dt, rise, outcome = measure(data, args.limit_pixels, args.timeout)
        limit_rows.append({"group": "limit", "name": name, "bytes": len(data), "seconds": round(dt, 4),
                           "rss_mb": rise, "outcome": outcome})

    limit_cost = max(r["rss_mb"] for r in limit_rows)
    print(f"parent (baseline) RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB; "
          f"limit-cost references (max_pixels={args.limit_pixels:,d}):")
    for r in limit_rows:
        print(f"  {r['name']:34s} {r['seconds']:7.3f} s  +{r['rss_mb']:5d} MB  {r['outcome']}")
    summary = {}
    for group in ("corpus", "regression", "fuzz"):
        g = [r for r in rows if r["group"] == group]
        if not g:
            continue
        slow = max(g, key=lambda r: r["seconds"])
        fat = max(g, key=lambda r: r["rss_mb"])
        bad = [r for r in g if r["outcome"].startswith(("EXCEPTION", "HANG", "CRASH"))]
        summary[group] = {"inputs": len(g), "slowest": slow, "peak_rss": fat, "bad": bad,
                          "over_2s": sum(r["seconds"] > 2 for r in g),
                          "over_limit_cost_plus_256mb": sum(r["rss_mb"] > limit_cost + 256 for r in g)}
        print(f"{group}: {len(g)} inputs; slowest {slow['seconds']:.3f} s ({slow['name']}); "
              f"peak RSS +{fat['rss_mb']} MB ({fat['name']}); over 2 s: {summary[group]['over_2s']}; "
              f"over limit cost + 256 MB: {summary[group]['over_limit_cost_plus_256mb']}; "
              f"exceptions/hangs/crashes: {len(bad)}")
    print("heaviest 8 inputs by time:")
    for r in sorted(rows, key=lambda r: -r["seconds"])[:8]:
        print(f"  {r['seconds']:7.3f} s  +{r['rss_mb']:4d} MB  {r['group']:10s} {r['name']}  -> {r['outcome']}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"limit": limit_rows, "limit_cost_mb": limit_cost,
                                               "summary": summary, "rows": rows}, indent=1) + "\n")
    failed = any(s["bad"] or s["over_2s"] or s["over_limit_cost_plus_256mb"] for s in summary.values())
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
