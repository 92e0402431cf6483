"""ImageKit-style API errors: ``{"message": ..., "help": ...}`` with a status code.

Examples
--------
>>> e = ApiError(404, "The requested file does not exist.")
>>> e.status, e.body()
(404, b'{"message":"The requested file does not exist.","help":"See docs/server.md of imgmeta for the API reference."}')
"""

from __future__ import annotations

import json

HELP = "See docs/server.md of imgmeta for the API reference."

_UNAUTHORIZED = {
    "missing": "Your request does not contain private API key.",
    "wrong": "Your account cannot be authenticated.",
}


def error_body(message: str, help: str = HELP, **extra) -> bytes:
    """The JSON bytes of an error answer."""
    return json.dumps({"message": message, "help": help, **extra}, separators=(",", ":"),
                      ensure_ascii=False).encode()


def unauthorized_body(reason: str) -> bytes:
    """Body of a 401 for ``reason`` ``"missing"`` or ``"wrong"`` (see :mod:`.auth`)."""
    return error_body(_UNAUTHORIZED[reason])


class ApiError(Exception):
    """An error answer; the app turns it into its status and JSON body.

    Parameters
    ----------
    status : int
        HTTP status (400, 401, 404, 413, 422, 502, 504 ...).
    message : str
        Human-readable, one line, never containing secrets.
    **extra
        Further members of the JSON body (``reason="corrupt"``).
    """

    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def body(self) -> bytes:
        return error_body(self.message, **self.extra)


def not_found() -> ApiError:
    return ApiError(404, "The requested file does not exist.")


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"File size exceeds the maximum upload size of {limit} bytes.")
