"""ImageKit-compatible HTTP API (``imgmeta serve``).

Needs the ``server`` extra (FastAPI, uvicorn, python-multipart, httpx). See
``docs/server.md`` for the endpoints, settings and security model.

>>> from engine.server import cli_serve  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys

__all__ = ["cli_serve", "create_app", "Settings"]


def __getattr__(name):
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(name)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cli_serve(args: argparse.Namespace) -> int:
    """Run the server: ``imgmeta serve --host 127.0.0.1 --port 8000 --data-dir DIR``.

    Returns 2 (usage error) when ``IMGMETA_PRIVATE_KEY`` is missing or a setting
    is invalid; the key itself is never printed or logged.
    """
    from .settings import ConfigError, Settings

    try:
        settings = Settings.from_env(data_dir=args.data_dir, host=args.host, port=args.port)
    except ConfigError as e:
        print(f"imgmeta serve: {e}", file=sys.stderr)
        return 2
    try:
        import uvicorn

        from .app import create_app
    except ImportError as e:  # pragma: no cover - extra not installed
        print(f"imgmeta serve: the server extra is not installed ({e}); pip install 'imgmeta[server]'",
              file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    if not _is_loopback(args.host):
        logging.getLogger("imgmeta.server").warning(
            "listening on %s: HTTP Basic sends the key in clear text, put TLS in front", args.host)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info",
                access_log=False, server_header=False, proxy_headers=False)
    return 0
