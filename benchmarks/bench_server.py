"""Load test of ``imgmeta serve``: upload-and-extract files/s and metadata GET requests/s.

Starts the server as a subprocess listening on 127.0.0.1 only (a throw-away data
directory and a random key), then:

1. **upload**: ``--uploads`` distinct generated JPEGs (``--size``, default
   1024x768) are posted by ``--upload-clients`` concurrent clients
   (``POST /api/v1/files/upload``); reports files/s (each upload is stored,
   fsynced, extracted in the worker pool and committed before it answers);
2. **metadata GET**: ``--clients`` concurrent keep-alive connections (default 8)
   request ``GET /v1/files/{fileId}/metadata`` over the uploaded ids for
   ``--seconds``, ``--rounds`` times; reports the median requests/s and the
   p50/p99 latency, beside the same load on ``GET /healthz`` (same server, same
   stack, no lookup and no auth) as the peer ceiling.

The load generator is a lean asyncio HTTP/1.1 client (raw sockets, keep-alive)
so that, on a small machine, the client costs less CPU than the server it
measures. Both share the machine: numbers are lower bounds of the server alone.

Usage::

    python benchmarks/bench_server.py                 # defaults: 200 uploads, 8 clients, 3 x 5 s
    python benchmarks/bench_server.py --quick         # smoke run
    python benchmarks/bench_server.py --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"  # never anything else


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def make_jpeg(seed: int, size: tuple[int, int]) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    w, h = size
    # smooth gradient plus noise: compresses like a photo, unlike pure noise
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // max(1, w - 1)), (yy * 255 // max(1, h - 1)), ((xx + yy + seed) % 256)], -1)
    arr = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype("uint8")
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


class Server:
    def __init__(self, data_dir: str, key: str, workers: int | None, pure_python_http: bool = False):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        env = dict(os.environ, IMGMETA_PRIVATE_KEY=key)
        if pure_python_http:  # hide httptools and uvloop: uvicorn falls back to h11 + asyncio
            shim = Path(data_dir) / "shim"
            shim.mkdir()
            for mod in ("httptools", "uvloop"):
                (shim / f"{mod}.py").write_text("raise ImportError('hidden by bench_server --pure-python-http')\n")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(shim), env.get("PYTHONPATH")]))
        if workers:
            env["IMGMETA_WORKERS"] = str(workers)
        self.key = key
        self.log_path = Path(data_dir) / "server.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "serve", "--host", HOST, "--port", str(self.port),
             "--data-dir", str(Path(data_dir) / "data")], env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.log_text())
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


# -- a lean HTTP/1.1 keep-alive client ------------------------------------------------
async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
            break
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _get_worker(port, requests: list[bytes], stop_at: float, latencies: list[float], errors: list):
    reader, writer = await asyncio.open_connection(HOST, port)
    i = secrets.randbelow(len(requests))
    n = len(requests)
    try:
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                break
            writer.write(requests[i % n])
            i += 1
            status, _ = await _read_response(reader)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


async def get_load(port: int, paths: list[str], auth: str | None, clients: int, seconds: float) -> dict:
    extra = f"Authorization: {auth}\r\n" if auth else ""
    requests = [f"GET {p} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{extra}\r\n".encode() for p in paths]
    latencies: list[float] = []
    errors: list = []
    start = time.perf_counter()
    stop_at = start + seconds
    await asyncio.gather(*(_get_worker(port, requests, stop_at, latencies, errors) for _ in range(clients)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "errors": len(errors),
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def _multipart(fields: dict[str, str], file_name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "imgmeta" + secrets.token_hex(8)
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), boundary


async def _upload_worker(port, auth, queue: asyncio.Queue, ids: list, errors: list):
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while True:
            try:
                i, data = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            body, boundary = _multipart({"fileName": f"bench{i}.jpg", "folder": "/bench"}, f"bench{i}.jpg", data)
            writer.write((f"POST /api/v1/files/upload HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                          f"Authorization: {auth}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
            status, resp = await _read_response(reader)
            if status == 200:
                ids.append(json.loads(resp)["fileId"])
            else:
                errors.append((status, resp[:200]))
    finally:
        writer.close()


async def upload_load(port: int, auth: str, payloads: list[bytes], clients: int) -> dict:
    queue: asyncio.Queue = asyncio.Queue()
    for item in enumerate(payloads):
        queue.put_nowait(item)
    ids: list[str] = []
    errors: list = []
    start = time.perf_counter()
    await asyncio.gather(*(_upload_worker(port, auth, queue, ids, errors) for _ in range(clients)))
    elapsed = time.perf_counter() - start
    return {"files": len(ids), "files_per_s": len(ids) / elapsed, "seconds": elapsed,
            "errors": len(errors), "first_error": errors[0] if errors else None, "ids": ids}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--uploads", type=int, default=200)
    p.add_argument("--upload-clients", type=int, default=8)
    p.add_argument("--size", default="1024x768", help="generated JPEG size, WxH")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=None, help="server extraction processes (default: CPUs)")
    p.add_argument("--pure-python-http", action="store_true",
                   help="run the server without httptools/uvloop (h11 + asyncio), as without uvicorn[standard]")
    p.add_argument("--quick", action="store_true", help="40 uploads, 3 x 2 s")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.uploads, args.seconds = 40, 2.0
    try:
        import uvloop
        uvloop.install()
        loop_name = "uvloop"
    except ImportError:
        loop_name = "asyncio"

    w, h = (int(v) for v in args.size.lower().split("x"))
    print(f"generating {args.uploads} JPEGs of {w}x{h} ...", flush=True)
    payloads = [make_jpeg(i, (w, h)) for i in range(args.uploads)]
    key = "bench_" + secrets.token_hex(16)
    auth = "Basic " + base64.b64encode(f"{key}:x".encode()).decode()
    result: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "platform": platform.platform(), "client_loop": loop_name},
                    "params": {k: v for k, v in vars(args).items() if k != "json"}}
    with tempfile.TemporaryDirectory(prefix="imgmeta-bench-") as data_dir:
        server = Server(data_dir, key, args.workers, args.pure_python_http)
        try:
            server.wait()
            up = asyncio.run(upload_load(server.port, auth, payloads, args.upload_clients))
            ids = up.pop("ids")
            mean_kib = sum(map(len, payloads)) / len(payloads) / 1024
            print(f"upload+extract: {up['files']} files ({mean_kib:.0f} KiB each) in {up['seconds']:.2f} s "
                  f"with {args.upload_clients} clients: {up['files_per_s']:.1f} files/s, errors {up['errors']}",
                  flush=True)
            if not ids:
                print("no upload succeeded:", up["first_error"])
                return 1
            result["upload"] = up
            paths = [f"/v1/files/{i}/metadata" for i in ids]
            asyncio.run(get_load(server.port, paths, auth, args.clients, 0.5))  # warm-up
            runs = {"metadata": [], "healthz": []}
            for _ in range(args.rounds):  # interleaved, so drift hits both alike
                runs["metadata"].append(asyncio.run(get_load(server.port, paths, auth, args.clients, args.seconds)))
                runs["healthz"].append(asyncio.run(get_load(server.port, ["/healthz"], None, args.clients,
                                                            args.seconds)))
            for name, rs in runs.items():
                med = statistics.median(r["rps"] for r in rs)
                result[name] = {"median_rps": med, "runs": rs}
                print(f"GET {name:9s}: median {med:7.0f} req/s over {args.rounds} x {args.seconds:g} s, "
                      f"{args.clients} clients (runs: {', '.join('%.0f' % r['rps'] for r in rs)}; "
                      f"p50 {statistics.median(r['p50_ms'] for r in rs):.2f} ms, "
                      f"p99 {statistics.median(r['p99_ms'] for r in rs):.2f} ms; "
                      f"errors {sum(r['errors'] for r in rs)})", flush=True)
            ratio = result["metadata"]["median_rps"] / result["healthz"]["median_rps"]
            result["metadata_vs_healthz"] = ratio
            print(f"metadata GET / healthz GET (same server, same run): {ratio:.2f}")
        finally:
            server.stop()
            log = server.log_text()
        result["key_in_server_log"] = key in log
        print(f"server log: {len(log.splitlines())} lines, private key present: {key in log}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
