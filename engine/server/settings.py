"""Server configuration, read once from the environment.

Every knob is an environment variable, so the same container image runs
anywhere; :func:`Settings.from_env` reads them and validates them.

``IMGMETA_PRIVATE_KEY`` (required)
    The private API key. Clients send it as the HTTP Basic user name, exactly as
    ImageKit's SDKs do (the password is ignored). The server refuses to start
    without it and never logs it.
``IMGMETA_MAX_UPLOAD_BYTES``
    Largest accepted upload, in bytes (413 past it). Default 25 MiB.
``IMGMETA_REMOTE_ALLOW_HOSTS``
    Comma-separated host names that ``GET /v1/metadata?url=`` may fetch from.
    ``*.example.com`` matches sub-domains. Default empty: the endpoint refuses
    every URL.
``IMGMETA_REMOTE_ALLOW_NETWORKS``
    Comma-separated CIDR blocks (``10.0.0.0/8``, ``127.0.0.1/32``) that an
    allowed host may resolve to even though they are private, loopback or
    link-local. Default empty: such addresses are always refused.
``IMGMETA_REMOTE_MAX_BYTES``
    Largest remote image fetched, in bytes. Default 25 MiB.
``IMGMETA_REMOTE_TIMEOUT``
    Total time budget of one remote fetch, in seconds. Default 10.
``IMGMETA_EXTRACT_TIMEOUT``
    Time budget of one metadata extraction, in seconds. Default 60.
``IMGMETA_WORKERS``
    Extraction worker processes. Default: the number of CPUs.
``IMGMETA_URL_ENDPOINT``
    Prefix of the ``url`` field of file objects (your CDN or file server).
    Default ``http://HOST:PORT`` of this server.

Examples
--------
>>> s = Settings.from_env({"IMGMETA_PRIVATE_KEY": "private_abc"}, data_dir="/tmp/x")
>>> s.max_upload_bytes
26214400
>>> s.remote_allow_hosts
()
>>> "private_abc" in repr(s)
False
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path

MiB = 1024 * 1024


class ConfigError(ValueError):
    """The server's configuration is missing or invalid (it will not start)."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise ConfigError(f"{name} must be > 0, got {value}")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in env.get(name, "").split(",") if p.strip())


@dataclasses.dataclass(frozen=True)
class Settings:
    """Validated server settings (see the module docstring for the variables)."""

    private_key: str = dataclasses.field(repr=False)
    data_dir: Path
    max_upload_bytes: int = 25 * MiB
    remote_allow_hosts: tuple[str, ...] = ()
    remote_allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    remote_max_bytes: int = 25 * MiB
    remote_timeout: float = 10.0
    extract_timeout: float = 60.0
    workers: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    url_endpoint: str = ""

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        data_dir: str | os.PathLike = "./imgmeta-data",
        host: str = "127.0.0.1",
        port: int = 8000,
    ) -> "Settings":
        """Read the settings from ``env`` (default ``os.environ``).

        Raises
        ------
        ConfigError
            When ``IMGMETA_PRIVATE_KEY`` is missing or empty, or a value is invalid.
        """
        env = os.environ if env is None else env
        key = env.get("IMGMETA_PRIVATE_KEY", "")
        if not key.strip():
            raise ConfigError(
                "IMGMETA_PRIVATE_KEY is not set: the server will not start without a private API key"
            )
        try:
            networks = tuple(
                ipaddress.ip_network(n, strict=False) for n in _list(env, "IMGMETA_REMOTE_ALLOW_NETWORKS")
            )
        except ValueError as e:
            raise ConfigError(f"IMGMETA_REMOTE_ALLOW_NETWORKS: {e}") from None
        url_host = f"[{host}]" if ":" in host else host
        return cls(
            private_key=key,
            data_dir=Path(data_dir),
            max_upload_bytes=_int(env, "IMGMETA_MAX_UPLOAD_BYTES", 25 * MiB),
            remote_allow_hosts=tuple(h.lower().rstrip(".") for h in _list(env, "IMGMETA_REMOTE_ALLOW_HOSTS")),
            remote_allow_networks=networks,
            remote_max_bytes=_int(env, "IMGMETA_REMOTE_MAX_BYTES", 25 * MiB),
            remote_timeout=_float(env, "IMGMETA_REMOTE_TIMEOUT", 10.0),
            extract_timeout=_float(env, "IMGMETA_EXTRACT_TIMEOUT", 60.0),
            workers=_int(env, "IMGMETA_WORKERS", os.cpu_count() or 1),
            url_endpoint=(env.get("IMGMETA_URL_ENDPOINT") or f"http://{url_host}:{port}").rstrip("/"),
        )
