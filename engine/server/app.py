"""The HTTP API: ImageKit's metadata endpoints, self-hosted.

=======  ==============================  =========================================
method   path                            answer
=======  ==============================  =========================================
POST     ``/api/v1/files/upload``        the file object (``metadata`` on request)
GET      ``/v1/files/{fileId}/metadata`` the metadata object (SPEC.md)
GET      ``/v1/files/{fileId}/details``  the file object
GET      ``/v1/files``                   file objects of one folder
DELETE   ``/v1/files/{fileId}``          204
GET      ``/v1/metadata?url=``           metadata of an allow-listed remote image
=======  ==============================  =========================================

Every path but ``/docs``, ``/redoc``, ``/openapi.json`` and ``/healthz`` needs
the private key (:mod:`.auth`). Errors are ``{"message": ..., "help": ...}``.

Examples
--------
>>> import tempfile
>>> from engine.server.settings import Settings
>>> app = create_app(Settings(private_key="k", data_dir=tempfile.mkdtemp(), workers=1))
>>> sorted(r.path for r in app.fastapi.routes if r.path.startswith(("/v1", "/api")))  # doctest: +NORMALIZE_WHITESPACE
['/api/v1/files/upload', '/v1/files', '/v1/files/{fileId}', '/v1/files/{fileId}/details',
 '/v1/files/{fileId}/metadata', '/v1/metadata']
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
from typing import Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from . import remote
from .auth import BasicAuthMiddleware
from .errors import ApiError, error_body, not_found, too_large
from .settings import Settings
from .storage import SORTS, Record, Store, StorageError
from .worker import ExtractPool

log = logging.getLogger("imgmeta.server")

JSON = "application/json"
MIME = {
    "jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
    "tiff": "image/tiff", "bmp": "image/bmp", "ico": "image/vnd.microsoft.icon",
    "heic": "image/heic", "avif": "image/avif",
}
RESPONSE_FIELDS = frozenset({"tags", "customCoordinates", "isPrivateFile", "embeddedMetadata", "isPublished",
                             "customMetadata", "metadata", "selectedFieldsSchema"})
#: multipart overhead allowed on top of the upload limit before the body is cut off
FORM_OVERHEAD = 256 * 1024


def _json(obj, status: int = 200) -> Response:
    return Response(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(), status, media_type=JSON)


def _bool_field(value, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    v = str(value).strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise ApiError(400, f"{name} must be true or false")


def _list_field(value) -> list[str]:
    if value is None:
        return []
    value = str(value).strip()
    if value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            raise ApiError(400, "tags must be a comma-separated list") from None
        return [str(i).strip() for i in items if str(i).strip()]
    return [t.strip() for t in value.split(",") if t.strip()]


# -- response shapes -----------------------------------------------------------
def _urls(rec: Record, endpoint: str) -> tuple[str, str | None]:
    url = endpoint + rec.file_path
    thumb = f"{endpoint}/tr:n-ik_ml_thumbnail{rec.file_path}" if rec.file_type == "image" else None
    return url, thumb


def file_object(rec: Record, endpoint: str) -> dict:
    """ImageKit's ``File`` (``GET /v1/files/{fileId}/details``, items of ``GET /v1/files``)."""
    url, thumb = _urls(rec, endpoint)
    return {
        "type": "file",
        "name": rec.name,
        "createdAt": rec.created_at,
        "updatedAt": rec.updated_at,
        "fileId": rec.file_id,
        "tags": rec.tags,
        "AITags": None,
        "versionInfo": {"id": rec.version_id, "name": f"Version {rec.version}"},
        "customCoordinates": None,
        "customMetadata": {},
        "isPrivateFile": False,
        "isPublished": True,
        "url": url,
        "thumbnail": thumb,
        "fileType": rec.file_type,
        "filePath": rec.file_path,
        "height": rec.height,
        "width": rec.width,
        "size": rec.size,
        "hasAlpha": rec.has_alpha,
        "mime": MIME.get(rec.format or "", "application/octet-stream"),
    }


def upload_object(rec: Record, endpoint: str, fields: set[str], metadata: bytes | None) -> bytes:
    """ImageKit's ``FileUploadResponse`` as JSON bytes; the stored metadata is spliced in as is."""
    url, thumb = _urls(rec, endpoint)
    obj = {
        "fileId": rec.file_id,
        "name": rec.name,
        "size": rec.size,
        "versionInfo": {"id": rec.version_id, "name": f"Version {rec.version}"},
        "filePath": rec.file_path,
        "url": url,
        "fileType": rec.file_type,
        "height": rec.height,
        "width": rec.width,
        "thumbnailUrl": thumb,
        "AITags": None,
    }
    optional = {"tags": rec.tags, "customCoordinates": None, "isPrivateFile": False, "isPublished": True,
                "customMetadata": {}}
    for key, value in optional.items():
        if key in fields:
            obj[key] = value
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    if "metadata" in fields and metadata is not None:
        body = body[:-1] + b',"metadata":' + metadata + b"}"
    return body


# -- the upload-size guard -----------------------------------------------------
class _BodyTooLarge(ApiError):
    """Raised from ``receive`` inside the handler, so the ApiError handler answers 413."""


class UploadLimitMiddleware:
    """Refuse request bodies past the limit with 413, before they are parsed or spooled.

    A declared ``Content-Length`` over the limit is answered at once (the rest of
    the body is drained, up to a cap, so that the client reads the 413 instead of
    a reset connection); a chunked body is counted and cut off.
    """

    def __init__(self, app, limit: int, drain_cap: int = 64 * 1024 * 1024):
        self.app = app
        self.limit = limit
        self.body_limit = limit + FORM_OVERHEAD
        self.drain_cap = drain_cap

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                break
        if declared is not None and declared > self.body_limit:
            if declared <= self.drain_cap:
                more = True
                while more:
                    message = await receive()
                    more = message.get("more_body", False) and message["type"] == "http.request"
            return await self._reject(send)
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.body_limit:
                    raise _BodyTooLarge(413, too_large(self.limit).message)
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send):
        body = too_large(self.limit).body()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


# -- the application -----------------------------------------------------------
def create_app(settings: Settings, *, warm_up: bool = True):
    """Build the ASGI application (auth and size guard around a FastAPI app).

    The store and the worker pool open in the app's lifespan; the FastAPI app is
    reachable as ``.fastapi`` and its state as ``.fastapi.state`` (``store``, ``pool``).
    """
    state: dict = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # user data: owner only
        store = await run_in_threadpool(Store.open, settings.data_dir)
        pool = ExtractPool(settings.workers, settings.extract_timeout)
        if warm_up:
            await run_in_threadpool(pool.warm_up)
        state.update(store=store, pool=pool)
        app.state.store, app.state.pool = store, pool
        log.info("imgmeta server ready: data dir %s, %d extraction workers", settings.data_dir, pool.workers)
        try:
            yield
        finally:
            await run_in_threadpool(pool.shutdown)
            store.close()

    app = FastAPI(
        title="imgmeta",
        version=__version__,
        summary="ImageKit's metadata API, self-hosted",
        description="Endpoints, field names and status codes follow ImageKit's API, so the official SDKs "
                    "work unchanged with `base_url` pointing here. Auth: HTTP Basic with the private key "
                    "as user name (password ignored).",
        lifespan=lifespan,
    )

    def problem(status: int, body: bytes) -> Response:
        return Response(body, status, media_type=JSON)

    @app.exception_handler(ApiError)
    async def _api_error(request, exc: ApiError):
        return problem(exc.status, exc.body())

    @app.exception_handler(StorageError)
    async def _storage_error(request, exc: StorageError):
        return problem(400, error_body(str(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "The requested resource does not exist."
        return problem(exc.status_code, error_body(message))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc: RequestValidationError):
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ())[1:]) or "request"
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return problem(400, error_body("Invalid request. " + "; ".join(parts)))

    @app.exception_handler(Exception)
    async def _internal_error(request, exc: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return problem(500, error_body("Internal server error."))

    def store() -> Store:
        return state["store"]

    # --- endpoints ---------------------------------------------------------
    @app.get("/v1/files/{fileId}/metadata", tags=["metadata"], summary="Metadata of an uploaded file",
             response_class=Response,
             responses={200: {"content": {JSON: {}}, "description": "the metadata object (SPEC.md)"},
                        404: {"description": "unknown fileId"},
                        400: {"description": "the file is not a readable image"}})
    async def get_metadata(fileId: str):
        # a primary-key lookup in WAL mode (no writer can block it): cheaper on the
        # event loop than a hop to the thread pool; the stored bytes are sent as they are
        row = store().metadata_json(fileId)
        if row is None:
            raise not_found()
        if row[0] is None:
            return Response(row[1], 400, media_type=JSON)
        return Response(row[0], media_type=JSON)

    @app.get("/v1/files/{fileId}/details", tags=["files"], summary="File details",
             responses={404: {"description": "unknown fileId"}})
    def get_details(fileId: str):
        rec = store().get(fileId)
        if rec is None:
            raise not_found()
        return _json(file_object(rec, settings.url_endpoint))

    @app.get("/v1/files", tags=["files"], summary="List files of a folder")
    def list_files(
        path: str | None = Query(None, description="folder, e.g. /products/ (not its sub-folders)"),
        skip: int = Query(0, ge=0),
        limit: int = Query(1000, ge=1, le=1000),
        fileType: Literal["all", "image", "non-image"] = Query("all"),
        sort: str = Query("ASC_CREATED", description="ASC_/DESC_ + NAME, CREATED, UPDATED, HEIGHT, WIDTH, SIZE"),
        type: Literal["file", "all"] = Query("file", description="folders are not listed"),
        searchQuery: str | None = Query(None, description="not supported: 400 when given"),
    ):
        if searchQuery:
            raise ApiError(400, "searchQuery is not supported by this server")
        if sort not in SORTS:
            raise ApiError(400, f"sort must be one of {', '.join(SORTS)}")
        records = store().list(folder=path, file_type=fileType, sort=sort, skip=skip, limit=limit)
        return _json([file_object(r, settings.url_endpoint) for r in records])

    @app.delete("/v1/files/{fileId}", status_code=204, tags=["files"], summary="Delete a file",
                response_class=Response, responses={404: {"description": "unknown fileId"}})
    async def delete_file(fileId: str):
        if not await run_in_threadpool(store().delete, fileId):
            raise not_found()
        return Response(status_code=204)

    @app.get("/v1/metadata", tags=["metadata"], summary="Metadata of an allow-listed remote image",
             response_class=Response, responses={200: {"content": {JSON: {}}}})
    async def get_remote_metadata(url: str = Query(..., description="http(s) URL on the allow-list")):
        data = await remote.fetch(url, allow_hosts=settings.remote_allow_hosts,
                                  allow_networks=settings.remote_allow_networks,
                                  max_bytes=settings.remote_max_bytes, timeout=settings.remote_timeout)
        info = await state["pool"].run(data)
        if info.metadata is None:
            return Response(info.error, 400, media_type=JSON)
        return Response(info.metadata, media_type=JSON)

    upload_schema = {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "fileName"],
            "properties": {
                "file": {"description": "the file (binary), or its base64, or an allow-listed URL",
                         "type": "string", "format": "binary"},
                "fileName": {"type": "string"},
                "folder": {"type": "string", "default": "/"},
                "useUniqueFileName": {"type": "boolean", "default": True},
                "tags": {"type": "string", "description": "comma-separated"},
                "responseFields": {"type": "string", "description": "comma-separated; 'metadata' adds it"},
            }}}}}
    }

    @app.post("/api/v1/files/upload", tags=["files"], summary="Upload a file and compute its metadata",
              response_class=Response, openapi_extra=upload_schema,
              responses={200: {"content": {JSON: {}}}, 400: {"description": "bad input"},
                         413: {"description": "past the upload limit"}})
    async def upload(request: Request):
        limit = settings.max_upload_bytes
        async with request.form(max_files=1, max_fields=64,
                                max_part_size=limit * 4 // 3 + FORM_OVERHEAD) as form:
            file = form.get("file")
            file_name = form.get("fileName")
            if file is None or file == "":
                raise ApiError(400, "Missing file parameter for upload")
            if not isinstance(file_name, str) or not file_name.strip():
                raise ApiError(400, "Missing fileName parameter for upload")
            folder = form.get("folder")
            folder = folder if isinstance(folder, str) else None
            unique = _bool_field(form.get("useUniqueFileName"), "useUniqueFileName", True)
            tags = _list_field(form.get("tags")) or None
            fields = set(_list_field(form.get("responseFields")))
            unknown = fields - RESPONSE_FIELDS
            if unknown:
                raise ApiError(400, f"responseFields has unknown values: {', '.join(sorted(unknown))}")
            if isinstance(file, UploadFile):
                await file.seek(0)
                source = file.file
            else:
                source = await _string_file(file, settings)
            try:
                staged = await run_in_threadpool(store().stage, source, limit=limit)
            except OverflowError:
                raise too_large(limit) from None
        try:
            info = await state["pool"].run(staged.tmp_path)
            rec = await run_in_threadpool(store().commit, staged, name=file_name, folder=folder,
                                          unique=unique, tags=tags, info=info)
        except BaseException:
            store().discard(staged)
            raise
        return Response(upload_object(rec, settings.url_endpoint, fields, info.metadata), media_type=JSON)

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        return Response(b'{"status":"ok"}', media_type=JSON)

    def openapi():
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 description=app.description, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "privateKey": {"type": "http", "scheme": "basic",
                               "description": "user name: the private key; password: anything"}}
            schema["security"] = [{"privateKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    asgi = BasicAuthMiddleware(UploadLimitMiddleware(app, settings.max_upload_bytes), settings.private_key)
    asgi.fastapi = app
    return asgi


async def _string_file(value: str, settings: Settings) -> bytes:
    """``file`` given as text: an allow-listed URL, or base64 (optionally a data URI)."""
    value = value.strip()
    if value.startswith(("http://", "https://")):
        return await remote.fetch(value, allow_hosts=settings.remote_allow_hosts,
                                  allow_networks=settings.remote_allow_networks,
                                  max_bytes=min(settings.remote_max_bytes, settings.max_upload_bytes),
                                  timeout=settings.remote_timeout)
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "file must be a file, its base64, or a URL") from None
