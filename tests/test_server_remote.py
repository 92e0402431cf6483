"""``GET /v1/metadata?url=``: allow-list, no request forgery, size and time limits.

A small image server runs on 127.0.0.1 (a thread); the API server is configured
to allow that host and, explicitly, the loopback network. Everything stays on
loopback.
"""

from __future__ import annotations

import asyncio
import http.server
import ipaddress
import threading
import time

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
imagekitio = pytest.importorskip("imagekitio")

import engine  # noqa: E402
from engine.server import remote  # noqa: E402
from engine.server.errors import ApiError  # noqa: E402
from engine.server.settings import Settings  # noqa: E402

from test_server import KEY, LiveServer, make_jpeg  # noqa: E402

IMAGE = make_jpeg(42, size=(80, 60))
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        port = self.server.server_address[1]
        routes = {
            "/img.jpg": (200, {"Content-Type": "image/jpeg"}, IMAGE),
            "/hop": (302, {"Location": "/img.jpg"}, b""),
            "/away": (302, {"Location": "http://evil.invalid/x.jpg"}, b""),
            "/meta": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/loop": (302, {"Location": f"http://127.0.0.1:{port}/loop"}, b""),
            "/big": (200, {"Content-Type": "image/jpeg"}, b"\xff\xd8" + b"\0" * 300_000),
            "/missing": (404, {}, b"no"),
        }
        if self.path == "/slow":
            time.sleep(3)
            status, headers, body = 200, {}, IMAGE
        elif self.path == "/chunked-big":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"\0" * 65536
            try:
                for _ in range(10):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            return
        else:
            status, headers, body = routes.get(self.path, (404, {}, b""))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up (size limit): expected
            pass


@pytest.fixture(scope="module")
def origin():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    settings = Settings(private_key=KEY, data_dir=tmp_path_factory.mktemp("remote-data"), workers=1,
                        remote_allow_hosts=("127.0.0.1",), remote_allow_networks=LOOPBACK,
                        remote_max_bytes=200_000, remote_timeout=1.5)
    with LiveServer(settings) as srv:
        yield srv


def fetch(url, *, hosts=("127.0.0.1",), networks=LOOPBACK, max_bytes=200_000, timeout=1.5):
    return asyncio.run(remote.fetch(url, allow_hosts=hosts, allow_networks=networks,
                                    max_bytes=max_bytes, timeout=timeout))


def test_sdk_get_from_url_equals_extract(live, origin):
    sdk = imagekitio.ImageKit(private_key=KEY, base_url=live.url, max_retries=0)
    meta = sdk.files.metadata.get_from_url(url=origin + "/img.jpg")
    assert meta.to_dict() == engine.extract(IMAGE)


def test_redirect_within_allowed_host_is_followed(origin):
    assert fetch(origin + "/hop") == IMAGE


@pytest.mark.parametrize("path,status,fragment", [
    ("/away", 400, "allow-list"),
    ("/meta", 400, "allow-list"),
    ("/loop", 502, "redirected more than"),
    ("/big", 413, "larger than"),
    ("/chunked-big", 413, "larger than"),
    ("/missing", 502, "HTTP 404"),
    ("/slow", 504, "longer than"),
])
def test_refusals(origin, path, status, fragment):
    with pytest.raises(ApiError) as err:
        fetch(origin + path)
    assert err.value.status == status and fragment in err.value.message


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/a.jpg",          # allowed name, loopback address, network not allowed
    "http://10.1.2.3/a.jpg",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/a.jpg",
    "http://[::ffff:127.0.0.1]/a.jpg",
    "http://0.0.0.0/a.jpg",
])
def test_private_addresses_refused_unless_network_allowed(url):
    host = httpx.URL(url).host
    with pytest.raises(ApiError) as err:
        fetch(url, hosts=(host,), networks=())
    assert err.value.status == 400 and "non-public" in err.value.message


@pytest.mark.parametrize("url,fragment", [
    ("ftp://127.0.0.1/a.jpg", "http or https"),
    ("file:///etc/passwd", "http or https"),
    ("http://user:pw@127.0.0.1/a.jpg", "credentials"),
    ("http://example.com/a.jpg", "allow-list"),
    ("http://127.0.0.1.evil.test/a.jpg", "allow-list"),
])
def test_bad_urls_refused(url, fragment):
    with pytest.raises(ApiError) as err:
        fetch(url)
    assert err.value.status == 400 and fragment in err.value.message


def test_empty_allow_list_refuses_everything(origin):
    with pytest.raises(ApiError, match="disabled"):
        fetch(origin + "/img.jpg", hosts=())


def test_http_errors_are_imagekit_shaped(live, origin):
    with httpx.Client(base_url=live.url, auth=(KEY, ""), timeout=30) as c:
        r = c.get("/v1/metadata", params={"url": origin + "/away"})
        assert r.status_code == 400 and set(r.json()) == {"message", "help"}
        r = c.get("/v1/metadata", params={"url": origin + "/big"})
        assert r.status_code == 413
        r = c.get("/v1/metadata")
        assert r.status_code == 400


def test_upload_from_allowed_url(live, origin):
    with httpx.Client(base_url=live.url, auth=(KEY, ""), timeout=30) as c:
        r = c.post("/api/v1/files/upload", data={"file": origin + "/img.jpg", "fileName": "r.jpg",
                                                   "responseFields": "metadata"})
        assert r.status_code == 200, r.text
        assert r.json()["metadata"] == engine.extract(IMAGE)
