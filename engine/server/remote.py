"""Fetching a remote image for ``GET /v1/metadata?url=``, without request forgery.

Rules, each checked on the first URL and on every redirect hop:

1. scheme ``http`` or ``https``, no user-info, a host name on the allow-list
   (``IMGMETA_REMOTE_ALLOW_HOSTS``; exact names, or ``*.example.com`` for
   sub-domains; empty by default, so nothing is fetched);
2. the name is resolved here and **every** address must be public (global
   unicast), unless it lies in ``IMGMETA_REMOTE_ALLOW_NETWORKS``; loopback,
   private, link-local (cloud metadata services), multicast and reserved
   addresses are refused;
3. the connection goes to the address that was checked (no second DNS lookup
   that could be rebound), with the original ``Host`` header and TLS name;
4. at most :data:`MAX_REDIRECTS` redirects, each one re-checked;
5. a total time budget and a byte limit on the body (``Content-Length`` checked
   first, then counted while streaming).

Examples
--------
>>> host_allowed("cdn.example.com", ("*.example.com",)), host_allowed("example.com", ("*.example.com",))
(True, False)
>>> address_allowed("127.0.0.1", ()), address_allowed("93.184.215.14", ())
(False, True)
>>> import ipaddress
>>> address_allowed("127.0.0.1", (ipaddress.ip_network("127.0.0.0/8"),))
True
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import urllib.parse

import httpx

from .errors import ApiError

MAX_REDIRECTS = 3


def host_allowed(host: str, allow: tuple[str, ...]) -> bool:
    """Is ``host`` (lower case, no port) on the allow-list?"""
    host = host.lower().rstrip(".")
    for pattern in allow:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def address_allowed(address: str, networks) -> bool:
    """A public unicast address, or one inside an explicitly allowed network."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in networks):
        return True
    return ip.is_global and not ip.is_multicast


async def _resolve(host: str, port: int, networks) -> str:
    """Resolve ``host`` and return one address, refusing if any address is not allowed."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ApiError(400, f"could not resolve host {host!r}") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise ApiError(400, f"could not resolve host {host!r}")
    for addr in addresses:
        if not address_allowed(addr, networks):
            raise ApiError(400, f"host {host!r} resolves to a non-public address, which is not allowed")
    addresses.sort(key=lambda a: ":" in a)  # IPv4 first
    return addresses[0]


def _check_url(url: str, allow_hosts) -> urllib.parse.SplitResult:
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise ApiError(400, "url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(400, "url must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise ApiError(400, "url may not carry credentials")
    if not host_allowed(parts.hostname, allow_hosts):
        raise ApiError(400, f"host {parts.hostname!r} is not on this server's allow-list for remote URLs")
    del port
    return parts


async def fetch(url: str, *, allow_hosts, allow_networks, max_bytes: int, timeout: float) -> bytes:
    """Fetch ``url`` under the rules of the module docstring; returns the body.

    Raises
    ------
    ApiError
        400 for a refused URL, 413 past ``max_bytes``, 502 for an upstream
        failure or status, 504 past ``timeout``.
    """
    if not allow_hosts:
        raise ApiError(400, "remote URLs are disabled on this server (IMGMETA_REMOTE_ALLOW_HOSTS is empty)")
    deadline = time.monotonic() + timeout
    try:
        return await asyncio.wait_for(
            _fetch(url, allow_hosts, allow_networks, max_bytes, deadline), timeout)
    except asyncio.TimeoutError:
        raise ApiError(504, f"fetching the remote URL took longer than {timeout:g} s") from None


async def _fetch(url, allow_hosts, allow_networks, max_bytes, deadline) -> bytes:
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            parts = _check_url(url, allow_hosts)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            address = await _resolve(parts.hostname, port, allow_networks)
            ip_host = f"[{address}]" if ":" in address else address
            pinned = parts._replace(netloc=f"{ip_host}:{port}").geturl()
            host_header = parts.hostname + (f":{parts.port}" if parts.port else "")
            request = client.build_request(
                "GET", pinned, headers={"Host": host_header, "Accept": "image/*", "Accept-Encoding": "identity"},
                extensions={"sni_hostname": parts.hostname,
                            "timeout": {k: max(0.1, deadline - time.monotonic())
                                        for k in ("connect", "read", "write", "pool")}})
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as e:
                raise ApiError(502, f"could not fetch the remote URL: {type(e).__name__}") from None
            try:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    url = urllib.parse.urljoin(url, location)
                    continue
                if response.status_code != 200:
                    raise ApiError(502, f"the remote URL answered HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise ApiError(413, f"the remote file is larger than {max_bytes} bytes")
                body = bytearray()
                try:
                    async for chunk in response.aiter_raw():
                        body += chunk
                        if len(body) > max_bytes:
                            raise ApiError(413, f"the remote file is larger than {max_bytes} bytes")
                except httpx.HTTPError as e:
                    raise ApiError(502, f"could not fetch the remote URL: {type(e).__name__}") from None
                return bytes(body)
            finally:
                await response.aclose()
    raise ApiError(502, f"the remote URL redirected more than {MAX_REDIRECTS} times")
