"""Long fuzz run of ``engine.extract``: >=100,000 mutated inputs, crash/hang safe, findings saved.

    python benchmarks/fuzz_long.py --count 100000 --workers 2          # ~15-40 min on 2 cores
    nohup python benchmarks/fuzz_long.py --count 300000 > fuzz.log 2>&1 &

Inputs are the files of ``../shared/samples`` (when present), ``data/samples`` and
the crafted corpus ``tests/hostile``, mutated by ``tests/hostile/mutators.py``
(bit flips, interesting integers, truncation, deletion, duplication, splicing,
poisoned IFD entries, poisoned segment/chunk lengths). Input ``i`` of a run is a
pure function of ``(--base, i)``, so only its index travels between processes
and any finding is reproduced with ``--replay INDEX``.

Each worker process runs ``extract(data)`` (pHash included) on its share of the
indices. The parent watches them: a worker that dies (segfault, abort) is a
*crash* of the input it was on; one still on the same input after ``--timeout``
seconds is killed and the input is a *hang*; either way a fresh worker carries
on. Workers report *exceptions* other than ``MetadataError``, outputs that are
not valid SPEC objects (``invalid``), inputs slower than ``--slow`` seconds
(``slow``), and inputs that raised the worker's peak RSS more than ``--rss-mb`` above its
warmed-up baseline plus the configured pixel limit's own cost (``--max-pixels``
x 6 bytes: an in-limit image may cost that; ``memory``; the worker is then
replaced, so its baseline is fresh).

Every finding is written to ``tests/hostile/regressions/<kind>-<sha1>.<ext>``
with a ``.json`` sidecar (seed file, ops, traceback, time); ``tests/test_hostile.py``
runs every file there. A summary JSON (counts by outcome, findings, time,
slowest input, worker peak RSS) goes to ``--summary``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import queue
import signal
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "hostile"))
sys.path.insert(0, str(REPO))

import mutators  # noqa: E402

REGRESSIONS = REPO / "tests" / "hostile" / "regressions"
EXIT_MEMORY = 3


def load_seeds(max_bytes: int) -> tuple[list[str], list[bytes]]:
    paths = mutators.seed_files(max_bytes=max_bytes, hostile=True)
    return [p.name for p in paths], [p.read_bytes() for p in paths]


def worker(wid: int, start: int, args, cur, started, q) -> None:
    """Run the indices ``start, start + W, ...`` below ``args.count``; report to ``q``."""
    import resource
    import warnings

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    warnings.simplefilter("ignore")
    if not args.stderr:  # libtiff/libjpeg chatter on fd 2 would flood the log
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    resource.setrlimit(resource.RLIMIT_AS, (args.as_gb << 30, args.as_gb << 30))
    os.environ["IMGMETA_MAX_PIXELS"] = str(args.max_pixels)
    import engine
    from engine import config
    from engine.errors import MetadataError

    config.MAX_PIXELS = args.max_pixels
    names, seeds = load_seeds(args.max_seed_bytes)
    warmed = set()
    for name, warm in zip(names, seeds):  # JIT, lazy imports, decoder tables before the RSS baseline
        ext = Path(name).suffix
        if ext in warmed:
            continue
        try:
            engine.extract(warm)
            warmed.add(ext)
        except MetadataError:
            pass
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # the pixel limit's own cost (RGBA decode + luma copy + slack: 6 bytes a pixel) is allowed
    memory_limit_mb = args.rss_mb + config.MAX_PIXELS * 6 // (1 << 20)
    counts: Counter = Counter()
    slowest = (0.0, -1)
    for i in range(start, args.count, args.workers):
        _, _, _, data = mutators.case(seeds, i, args.base)
        cur[wid], started[wid] = i, time.monotonic()
        t = time.perf_counter()
        try:
            r = engine.extract(data)
            bad = mutators.check_output(r)
            if bad:
                q.put(("invalid", i, bad, ""))
                counts["invalid"] += 1
            else:
                counts["ok"] += 1
        except MetadataError as e:
            counts[e.kind] += 1
        except BaseException as e:  # noqa: BLE001 - this is what we are looking for
            counts["exception"] += 1
            q.put(("exception", i, f"{type(e).__name__}: {str(e)[:300]}", traceback.format_exc()[-3000:]))
        dt = time.perf_counter() - t
        if dt > slowest[0]:
            slowest = (dt, i)
        if dt > args.slow:
            q.put(("slow", i, f"{dt:.2f} s", ""))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if (rss - base_rss) / 1024 > memory_limit_mb:
            q.put(("memory", i, f"peak RSS +{(rss - base_rss) // 1024} MB over the worker baseline "
                                f"(allowed: {memory_limit_mb} MB)", ""))
            q.put(("stats", wid, dict(counts), (slowest, rss // 1024)))
            q.close()
            q.join_thread()  # flush the queue's feeder thread before leaving
            os._exit(EXIT_MEMORY)  # the parent starts a fresh worker after input i
        if sum(counts.values()) % 500 == 0:
            q.put(("stats", wid, dict(counts), (slowest, rss // 1024)))
            counts.clear()
    q.put(("stats", wid, dict(counts), (slowest, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)))
    q.close()
    q.join_thread()
    cur[wid] = -2


def save_finding(kind: str, index: int, detail: str, tb: str, args, names, seeds) -> Path:
    s, o, ops, data = mutators.case(seeds, index, args.base)
    digest = hashlib.sha1(data).hexdigest()[:12]
    ext = Path(names[s]).suffix.lower() or ".bin"
    REGRESSIONS.mkdir(parents=True, exist_ok=True)
    path = REGRESSIONS / f"{kind}-{digest}{ext}"
    path.write_bytes(data)
    meta = {"kind": kind, "detail": detail, "index": index, "base": args.base, "seed": names[s],
            "splice_from": names[o], "ops": ops, "traceback": tb}
    path.with_suffix(path.suffix + ".json").write_text(json.dumps(meta, indent=1) + "\n")
    return path


def run(args) -> dict:
    names, seeds = load_seeds(args.max_seed_bytes)
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    cur = ctx.Array("q", [-1] * args.workers, lock=False)
    started = ctx.Array("d", [0.0] * args.workers, lock=False)
    procs: list = [None] * args.workers
    starts = [0] * args.workers

    def spawn(wid: int, start: int) -> None:
        starts[wid] = start
        cur[wid] = -1
        started[wid] = time.monotonic()
        p = ctx.Process(target=worker, args=(wid, start, args, cur, started, q), daemon=True)
        p.start()
        procs[wid] = p

    for wid in range(args.workers):
        spawn(wid, wid)
    counts: Counter = Counter()
    findings: list[dict] = []
    slowest = (0.0, -1)
    peak_rss_mb = 0
    t0 = last_report = time.monotonic()

    def drain(block: float) -> None:
        nonlocal slowest, peak_rss_mb
        try:
            while True:
                msg = q.get(timeout=block)
                block = 0.0
                if msg[0] == "stats":
                    counts.update(msg[2])
                    slowest = max(slowest, msg[3][0])
                    peak_rss_mb = max(peak_rss_mb, msg[3][1])
                else:
                    kind, index, detail, tb = msg
                    path = save_finding(kind, index, detail, tb, args, names, seeds)
                    findings.append({"kind": kind, "index": index, "detail": detail, "file": str(path.relative_to(REPO))})
                    print(f"FINDING {kind} #{index}: {detail} -> {path.name}", flush=True)
        except queue.Empty:
            pass

    live = set(range(args.workers))
    interrupted = False
    try:
        while live:
            drain(0.25)
            now = time.monotonic()
            for wid in list(live):
                p, i = procs[wid], cur[wid]
                if not p.is_alive():
                    if i == -2 or p.exitcode == 0:
                        live.discard(wid)
                        continue
                    drain(0.5)
                    if p.exitcode == EXIT_MEMORY and i >= 0:
                        spawn(wid, i + args.workers)
                        continue
                    if i < 0:  # died before its first input: nothing to blame, do not loop
                        print(f"worker {wid} died during start-up (exit code {p.exitcode})", flush=True)
                        live.discard(wid)
                        continue
                    counts["crash"] += 1
                    q.put(("crash", i, f"worker died with exit code {p.exitcode}", ""))
                    spawn(wid, i + args.workers)
                elif i >= 0 and now - started[wid] > args.timeout:
                    p.kill()
                    p.join()
                    counts["hang"] += 1
                    q.put(("hang", i, f"still running after {args.timeout:.0f} s", ""))
                    spawn(wid, i + args.workers)
            if now - last_report > args.report_every:
                last_report = now
                done = sum(counts.values())
                print(f"[{now - t0:7.0f} s] {done:>8,d} inputs, {done / (now - t0):6.1f}/s, {dict(counts)}, "
                      f"findings {len(findings)}", flush=True)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the workers, keep what was counted
        interrupted = True
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    finally:
        for p in procs:
            if p is not None and p.is_alive():
                p.kill()
    drain(0.5)
    elapsed = time.monotonic() - t0
    summary = {
        "inputs": sum(counts.values()), "seconds": round(elapsed, 1), "workers": args.workers,
        "base": args.base, "seeds": len(seeds), "outcomes": dict(counts),
        "findings": findings, "slowest": {"seconds": round(slowest[0], 3), "index": slowest[1]},
        "worker_peak_rss_mb": peak_rss_mb, "max_pixels": args.max_pixels, "interrupted": interrupted,
    }
    if slowest[1] >= 0:
        s, _, ops, _ = mutators.case(seeds, slowest[1], args.base)
        summary["slowest"].update(seed=names[s], ops=ops)
    return summary


def replay(args) -> int:
    import engine

    names, seeds = load_seeds(args.max_seed_bytes)
    s, o, ops, data = mutators.case(seeds, args.replay, args.base)
    print(f"input #{args.replay}: seed {names[s]}, splice {names[o]}, ops {ops}, {len(data)} bytes")
    t = time.perf_counter()
    try:
        r = engine.extract(data)
        print("ok", {k: v for k, v in r.items() if k != "exif"})
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        print(type(e).__name__, e)
    print(f"{time.perf_counter() - t:.3f} s")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=100_000, help="inputs to run (default 100,000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--base", type=int, default=0, help="run seed: input i is case(base, i)")
    ap.add_argument("--timeout", type=float, default=10.0, help="an input still running after this is a hang")
    ap.add_argument("--slow", type=float, default=2.0, help="record inputs slower than this (s)")
    ap.add_argument("--rss-mb", type=int, default=256,
                    help="record inputs raising peak RSS more than this above the pixel limit's own cost")
    ap.add_argument("--max-pixels", type=int, default=16_000_000,
                    help="IMGMETA_MAX_PIXELS of the workers (its decode cost, 6 bytes a pixel, is allowed)")
    ap.add_argument("--as-gb", type=int, default=6, help="address-space limit per worker (GiB)")
    ap.add_argument("--max-seed-bytes", type=int, default=2_500_000)
    ap.add_argument("--report-every", type=float, default=60.0)
    ap.add_argument("--summary", default=str(REPO / "benchmarks" / "results" / "fuzz_long.json"))
    ap.add_argument("--stderr", action="store_true", help="keep the decoders' messages on stderr")
    ap.add_argument("--replay", type=int, default=None, help="run input INDEX in this process and print the outcome")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    if args.replay is not None:
        return replay(args)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    summary = run(args)
    Path(args.summary).parent.mkdir(parents=True, exist_ok=True)
    Path(args.summary).write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    bad = {k: v for k, v in summary["outcomes"].items() if k in ("exception", "crash", "hang", "invalid")}
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
