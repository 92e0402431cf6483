"""The ImageKit-compatible HTTP API, against a real uvicorn server on 127.0.0.1.

The official ``imagekitio`` SDK is pointed at the server with ``base_url=`` and
used unchanged. The server runs in a thread of this process with a socket bound
to a free loopback port; it never listens anywhere else.
"""

from __future__ import annotations

import base64
import concurrent.futures
import io
import json
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")
imagekitio = pytest.importorskip("imagekitio")

from PIL import Image  # noqa: E402

import engine  # noqa: E402
from engine.server.app import create_app  # noqa: E402
from engine.server.settings import ConfigError, Settings  # noqa: E402
from engine.server.storage import Store  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
KEY = "private_test_key_Zq8"
MAX_UPLOAD = 2 * 1024 * 1024


def make_jpeg(seed: int, size=(64, 48)) -> bytes:
    """A small JPEG, different for every seed."""
    img = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    img.putpixel((seed % size[0], (seed // size[0]) % size[1]), (255, 255, 255))
    img.putpixel((0, 0), (seed % 256, seed // 256 % 256, 7))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def make_png_rgba() -> bytes:
    img = Image.new("RGBA", (20, 10), (10, 200, 30, 128))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


class LiveServer:
    """uvicorn in a thread, on a socket bound to 127.0.0.1:0."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()

    @property
    def store(self) -> Store:
        return self.app.fastapi.state.store


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data = tmp_path_factory.mktemp("imgmeta-data")
    settings = Settings(private_key=KEY, data_dir=data, max_upload_bytes=MAX_UPLOAD, workers=2,
                        url_endpoint="https://files.example.test")
    with LiveServer(settings) as srv:
        yield srv


@pytest.fixture(scope="module")
def sdk(live):
    client = imagekitio.ImageKit(private_key=KEY, base_url=live.url, max_retries=0)
    yield client
    client.close()


@pytest.fixture()
def http(live):
    with httpx.Client(base_url=live.url, auth=(KEY, "ignored"), timeout=30) as c:
        yield c


def _samples():
    names = ["Canon_40D.jpg", "Nikon_GPS_DSCN0010.jpg", "Arbitro.tiff"]
    return [SHARED / n for n in names if (SHARED / n).exists()]


# -- the official SDK, unchanged -------------------------------------------------
def test_sdk_upload_and_metadata_generated_jpeg(sdk):
    data = make_jpeg(1)
    up = sdk.files.upload(file=data, file_name="gen one.jpg", folder="/sdk", tags=["a", "b"],
                          response_fields=["metadata", "tags"])
    assert len(up.file_id) == 24 and up.name.startswith("gen_one_") and up.file_path == "/sdk/" + up.name
    assert up.tags == ["a", "b"] and up.file_type == "image" and (up.width, up.height) == (64, 48)
    assert up.url == "https://files.example.test" + up.file_path
    meta = sdk.files.metadata.get(up.file_id)
    assert isinstance(meta, imagekitio.types.Metadata)
    assert meta.to_dict() == engine.extract(data)
    assert up.metadata.to_dict() == engine.extract(data)


@pytest.mark.skipif(not _samples(), reason=f"shared samples not found at {SHARED}")
@pytest.mark.parametrize("path", _samples(), ids=lambda p: p.name)
def test_sdk_metadata_equals_extract_of_uploaded_bytes(sdk, path):
    data = path.read_bytes()
    with open(path, "rb") as f:
        up = sdk.files.upload(file=f, file_name=path.name, use_unique_file_name=False, folder="/samples")
    assert up.file_path == f"/samples/{path.name}" and up.size == len(data)
    meta = sdk.files.metadata.get(up.file_id)
    assert meta.to_dict() == engine.extract(data)
    # the model parsed the nested groups into its typed fields
    if path.name == "Canon_40D.jpg":
        assert meta.exif.image.make == "Canon" and meta.format == "jpg" and meta.p_hash is not None


def test_sdk_details_list_delete(sdk, live):
    up = sdk.files.upload(file=make_jpeg(2), file_name="d.jpg", folder="/listing", use_unique_file_name=False)
    details = sdk.files.get(up.file_id)
    assert details.file_id == up.file_id and details.file_path == "/listing/d.jpg"
    assert details.mime == "image/jpeg" and details.type == "file" and details.width == 64
    assert details.created_at is not None
    sdk.files.upload(file=make_jpeg(3), file_name="e.jpg", folder="/listing", use_unique_file_name=False)
    listed = sdk.assets.list(path="/listing", sort="ASC_NAME")
    assert [f.name for f in listed] == ["d.jpg", "e.jpg"]
    assert [f.name for f in sdk.assets.list(path="/listing", skip=1, limit=1)] == ["e.jpg"]
    sdk.files.delete(up.file_id)
    with pytest.raises(imagekitio.NotFoundError):
        sdk.files.metadata.get(up.file_id)
    with pytest.raises(imagekitio.NotFoundError):
        sdk.files.delete(up.file_id)


def test_sdk_unknown_id_is_404_with_imagekit_body(sdk):
    with pytest.raises(imagekitio.NotFoundError) as err:
        sdk.files.metadata.get("0123456789abcdef01234567")
    assert err.value.status_code == 404
    assert set(err.value.body) == {"message", "help"}


def test_same_path_without_unique_name_replaces_as_new_version(sdk, live):
    a = sdk.files.upload(file=make_jpeg(4), file_name="v.jpg", use_unique_file_name=False, folder="/ver")
    b = sdk.files.upload(file=make_jpeg(5), file_name="v.jpg", use_unique_file_name=False, folder="/ver")
    assert a.file_id == b.file_id and b.version_info.name == "Version 2"
    assert sdk.files.metadata.get(b.file_id).to_dict() == engine.extract(make_jpeg(5))


# -- authentication --------------------------------------------------------------
@pytest.mark.parametrize("auth", [None, ("wrong_key", "x"), ("", KEY), (KEY[:-1], "")],
                         ids=["no-key", "wrong-key", "key-as-password", "prefix"])
def test_auth_failures_get_401_and_no_data(live, sdk, auth):
    up = sdk.files.upload(file=make_jpeg(6), file_name="secret.jpg")
    headers = {}
    with httpx.Client(base_url=live.url, timeout=30) as c:
        for method, path in [("GET", f"/v1/files/{up.file_id}/metadata"), ("GET", f"/v1/files/{up.file_id}/details"),
                             ("GET", "/v1/files"), ("DELETE", f"/v1/files/{up.file_id}"),
                             ("GET", "/v1/metadata?url=http://example.com/a.jpg")]:
            r = c.request(method, path, auth=auth, headers=headers)
            assert r.status_code == 401, (method, path)
            assert set(r.json()) == {"message", "help"}
            assert up.file_id not in r.text and "Canon" not in r.text
        r = c.post("/api/v1/files/upload", auth=auth, files={"file": ("x.jpg", make_jpeg(7))},
                   data={"fileName": "x.jpg"})
        assert r.status_code == 401
    assert sdk.files.metadata.get(up.file_id).width == 64  # the DELETE above did nothing


def test_sdk_with_wrong_key_raises_authentication_error(live):
    bad = imagekitio.ImageKit(private_key="nope", base_url=live.url, max_retries=0)
    with pytest.raises(imagekitio.AuthenticationError):
        bad.files.metadata.get("0123456789abcdef01234567")


def test_openapi_document_is_served_without_key(live):
    r = httpx.get(live.url + "/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert "/v1/files/{fileId}/metadata" in doc["paths"] and "/api/v1/files/upload" in doc["paths"]
    assert doc["components"]["securitySchemes"]["privateKey"]["scheme"] == "basic"


# -- bad input and limits ----------------------------------------------------------
def test_over_limit_upload_is_413(http, live):
    before = live.store.count()
    big = b"\xff\xd8" + b"\0" * (MAX_UPLOAD + 1)
    r = http.post("/api/v1/files/upload", files={"file": ("big.jpg", big)}, data={"fileName": "big.jpg"})
    assert r.status_code == 413 and set(r.json()) == {"message", "help"}
    # just past the limit but within the multipart allowance: counted while staged
    r = http.post("/api/v1/files/upload", files={"file": ("big.jpg", big[: MAX_UPLOAD + 10])},
                  data={"fileName": "big.jpg"})
    assert r.status_code == 413
    assert live.store.count() == before and not any(live.store.tmp.iterdir())


def test_over_limit_declared_and_chunked_bodies_are_413(live):
    before = live.store.count()
    body = b"x" * (MAX_UPLOAD + 600_000)
    headers = {"content-type": "multipart/form-data; boundary=zzz"}
    with httpx.Client(base_url=live.url, auth=(KEY, "x"), timeout=30) as c:
        # declared Content-Length past the limit: refused before parsing
        r = c.post("/api/v1/files/upload", content=body, headers=headers)
        assert r.status_code == 413 and "maximum upload size" in r.json()["message"]
        # no Content-Length (chunked): counted and cut off while being parsed
        part = (b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n')

        def chunks():
            yield part
            for _ in range(40):
                yield b"\0" * 65536 * 2

        r = c.post("/api/v1/files/upload", content=chunks(), headers=headers)
        assert r.status_code == 413, r.text
    assert live.store.count() == before and not any(live.store.tmp.iterdir())


@pytest.mark.parametrize("data,files,fragment", [
    ({"fileName": "a.jpg"}, None, "file"),
    ({}, {"file": ("a.jpg", b"abc")}, "fileName"),
    ({"fileName": "a.jpg", "useUniqueFileName": "maybe"}, {"file": ("a.jpg", b"abc")}, "useUniqueFileName"),
    ({"fileName": "a.jpg", "folder": "a/../../b"}, {"file": ("a.jpg", b"abc")}, "folder"),
    ({"fileName": "a.jpg", "responseFields": "metadata,bogus"}, {"file": ("a.jpg", b"abc")}, "responseFields"),
    ({"fileName": "a.jpg", "file": "%%%not base64"}, None, "base64"),
])
def test_bad_upload_is_400(http, data, files, fragment):
    r = http.post("/api/v1/files/upload", data=data, files=files or {"unused": ("u", b"")})
    assert r.status_code == 400, r.text
    assert fragment in r.json()["message"]


def test_bad_list_parameters_are_400(http):
    assert http.get("/v1/files", params={"limit": 0}).status_code == 400
    assert http.get("/v1/files", params={"skip": -1}).status_code == 400
    assert http.get("/v1/files", params={"sort": "SIDEWAYS"}).status_code == 400


def test_base64_upload_and_transparency(http):
    data = make_png_rgba()
    r = http.post("/api/v1/files/upload", data={"fileName": "t.png", "file": base64.b64encode(data).decode(),
                                                "responseFields": "metadata"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["metadata"] == engine.extract(data) and body["metadata"]["hasTransparency"] is True


def test_non_image_is_stored_but_has_no_metadata(http, live):
    r = http.post("/api/v1/files/upload", files={"file": ("doc.pdf", b"%PDF-1.7 hello")},
                  data={"fileName": "doc.pdf", "responseFields": "metadata"})
    assert r.status_code == 200 and r.json()["fileType"] == "non-image" and "metadata" not in r.json()
    m = http.get(f"/v1/files/{r.json()['fileId']}/metadata")
    assert m.status_code == 400 and m.json()["reason"] == "unsupported"


def test_file_names_are_never_paths(http, live):
    r = http.post("/api/v1/files/upload", files={"file": ("x", make_jpeg(8))},
                  data={"fileName": "../../../etc/passwd", "useUniqueFileName": "false"})
    assert r.status_code == 200
    assert r.json()["filePath"] == "/.._.._.._etc_passwd"
    stored = [p.relative_to(live.store.objects) for p in live.store.objects.glob("*/*")]
    assert all(len(p.parent.name + p.name) == 64 for p in stored)


def test_remote_metadata_refused_when_no_host_allowed(http):
    r = http.get("/v1/metadata", params={"url": "http://127.0.0.1:1/a.jpg"})
    assert r.status_code == 400 and "disabled" in r.json()["message"]


# -- concurrency -------------------------------------------------------------------
def test_100_concurrent_uploads_lose_nothing(live):
    before_records, before_objects = live.store.count(), live.store.object_count()
    payloads = [make_jpeg(1000 + i) for i in range(100)]
    start = threading.Barrier(100)

    def one(i):
        with httpx.Client(base_url=live.url, auth=(KEY, "x"), timeout=120) as c:
            start.wait()
            r = c.post("/api/v1/files/upload", files={"file": (f"c{i}.jpg", payloads[i])},
                       data={"fileName": f"c{i}.jpg", "folder": "/concurrent", "responseFields": "metadata"})
            return r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(100) as ex:
        results = list(ex.map(one, range(100)))
    assert [s for s, _ in results] == [200] * 100
    ids = {body["fileId"] for _, body in results}
    assert len(ids) == 100
    assert live.store.count() == before_records + 100
    assert live.store.object_count() == before_objects + 100
    assert len(live.store.list(folder="/concurrent")) == 100
    for i, (_, body) in enumerate(results[:5]):
        assert body["metadata"] == engine.extract(payloads[i])


# -- configuration -----------------------------------------------------------------
def test_refuses_to_start_without_key(tmp_path):
    with pytest.raises(ConfigError, match="IMGMETA_PRIVATE_KEY"):
        Settings.from_env({}, data_dir=tmp_path)


def test_cli_refuses_to_start_without_key_and_never_prints_it(tmp_path, monkeypatch, capsys):
    from engine.cli import main

    monkeypatch.delenv("IMGMETA_PRIVATE_KEY", raising=False)
    assert main(["serve", "--data-dir", str(tmp_path)]) == 2
    assert "IMGMETA_PRIVATE_KEY" in capsys.readouterr().err
    monkeypatch.setenv("IMGMETA_PRIVATE_KEY", "sekrit_value_123")
    monkeypatch.setenv("IMGMETA_MAX_UPLOAD_BYTES", "lots")
    assert main(["serve", "--data-dir", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "sekrit_value_123" not in captured.err + captured.out


def test_imgmeta_serve_subprocess_on_loopback_never_logs_key(tmp_path):
    import os
    import subprocess
    import sys

    key = "private_cli_" + os.urandom(8).hex()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, IMGMETA_PRIVATE_KEY=key, IMGMETA_WORKERS="1")
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--host", "127.0.0.1", "--port",
                                 str(port), "--data-dir", str(tmp_path / "data")],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    httpx.get(url + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.1)
            up = httpx.post(url + "/api/v1/files/upload", auth=(key, "x"), files={"file": ("a.jpg", make_jpeg(77))},
                            data={"fileName": "a.jpg"}, timeout=30)
            assert up.status_code == 200
            assert httpx.get(f"{url}/v1/files/{up.json()['fileId']}/metadata", auth=("nope", key)).status_code == 401
        finally:
            proc.terminate()
            proc.wait(30)
    text = log.read_text()
    assert "127.0.0.1" in text and key not in text


def test_store_survives_reopen_and_sweeps_leftovers(tmp_path):
    store = Store.open(tmp_path)
    staged = store.stage(b"orphan bytes")
    store.discard(staged)
    orphan = store.stage(b"left by a crash")  # staged, never committed
    store.close()
    store = Store.open(tmp_path)
    assert not orphan.tmp_path.exists() and store.count() == 0
    store.close()


def test_store_sweeps_objects_without_record(tmp_path):
    store = Store.open(tmp_path)
    staged = store.stage(b"written, fsynced, renamed, then the process died")
    final = store.object_path(staged.sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    staged.tmp_path.rename(final)
    store.close()
    store = Store.open(tmp_path)
    assert not final.exists() and store.object_count() == 0
    store.close()


REPO_SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def _every_sample():
    files = sorted(p for p in REPO_SAMPLES.glob("*") if p.suffix not in (".json", ".md", ".py"))
    files += sorted(p for p in SHARED.glob("*") if p.is_file() and p.suffix not in (".json", ".md"))
    return files


# A BYTE-typed UserComment (SPEC: integers) meets the SDK's ``str`` annotation; the SDK does
# not validate answers, so it keeps the value and pydantic only warns when dumping it.
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@pytest.mark.skipif(not _every_sample(), reason="neither data/samples nor shared samples are present")
def test_every_sample_round_trips_exactly(live, sdk, http):
    """Upload each sample; the GET answer is extract() of its bytes (or the same error kind)."""
    from engine.errors import MetadataError

    checked = 0
    for path in _every_sample():
        data = path.read_bytes()
        r = http.post("/api/v1/files/upload", files={"file": (path.name, data)},
                      data={"fileName": path.name, "folder": "/roundtrip"})
        assert r.status_code == 200, (path.name, r.text)
        got = http.get(f"/v1/files/{r.json()['fileId']}/metadata")
        try:
            want = engine.extract(data)
        except MetadataError as e:
            assert got.status_code == 400 and got.json()["reason"] == e.kind, path.name
            continue
        assert got.status_code == 200 and json.loads(got.content) == want, path.name
        assert sdk.files.metadata.get(r.json()["fileId"]).to_dict() == want, path.name
        checked += 1
    assert checked >= 3


def test_json_body_is_the_stored_bytes(http):
    data = make_jpeg(9)
    up = http.post("/api/v1/files/upload", files={"file": ("j.jpg", data)}, data={"fileName": "j.jpg"}).json()
    r = http.get(f"/v1/files/{up['fileId']}/metadata")
    assert r.headers["content-type"] == "application/json"
    assert json.loads(r.content) == engine.extract(data)


def test_extract_pool_times_out_and_recovers_from_a_crashed_worker():
    import asyncio
    import os

    from engine.server.worker import ExtractPool

    pool = ExtractPool(1, timeout=30)
    try:
        pool.warm_up()
        data = make_jpeg(5)
        ok = asyncio.run(pool.run(data))
        assert json.loads(ok.metadata) == engine.extract(data)
        pool._pool.submit(os._exit, 1)  # a worker dies, as on a decoder segfault
        time.sleep(0.5)
        crashed = asyncio.run(pool.run(data))
        assert crashed.metadata is None and json.loads(crashed.error)["reason"] == "crash"
        again = asyncio.run(pool.run(data))  # a fresh pool took over
        assert again.metadata == ok.metadata
        pool.timeout = 1e-6
        late = asyncio.run(pool.run(data))
        assert json.loads(late.error)["reason"] == "timeout"
    finally:
        pool.shutdown()
