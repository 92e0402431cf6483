"""ImageKit-style authentication: HTTP Basic, private key as the user name.

ImageKit's SDKs send ``Authorization: Basic base64(private_key + ":" + password)``
where the password is an arbitrary placeholder; the server checks only the user
name, in constant time (:func:`hmac.compare_digest`).

Examples
--------
>>> import base64
>>> header = "Basic " + base64.b64encode(b"private_key_1:anything").decode()
>>> check_basic(header, "private_key_1")
'ok'
>>> check_basic(header, "another_key")
'wrong'
>>> check_basic(None, "private_key_1")
'missing'
"""

from __future__ import annotations

import base64
import binascii
import hmac

from .errors import unauthorized_body

#: Paths that never need the key: the API description carries no user data.
PUBLIC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/healthz"})


def check_basic(header: str | bytes | None, private_key: str) -> str:
    """Check an ``Authorization`` header against the private key.

    Parameters
    ----------
    header : str, bytes or None
        The raw header value.
    private_key : str
        The server's key.

    Returns
    -------
    str
        ``"ok"``, ``"missing"`` (no usable Basic credentials) or ``"wrong"``.
    """
    if not header:
        return "missing"
    if isinstance(header, str):
        header = header.encode("latin-1", "replace")
    scheme, _, token = header.strip().partition(b" ")
    if scheme.lower() != b"basic" or not token:
        return "missing"
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "missing"
    user = decoded.partition(b":")[0]
    if not user:
        return "missing"
    return "ok" if hmac.compare_digest(user, private_key.encode("utf-8")) else "wrong"


class BasicAuthMiddleware:
    """Pure ASGI middleware: every HTTP request but :data:`PUBLIC_PATHS` needs the key.

    Rejected requests get 401, ``WWW-Authenticate: Basic`` and an ImageKit-style
    JSON body; the application below is never called for them, so no data can
    leak through a handler that forgot to check.
    """

    def __init__(self, app, private_key: str):
        self.app = app
        self._key = private_key
        self._bodies = {reason: unauthorized_body(reason) for reason in ("missing", "wrong")}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            return await self.app(scope, receive, send)
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        verdict = check_basic(header, self._key)
        if verdict == "ok":
            return await self.app(scope, receive, send)
        body = self._bodies[verdict]
        await send({
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Basic realm="imgmeta"'),
            ],
        })
        await send({"type": "http.response.body", "body": body})
