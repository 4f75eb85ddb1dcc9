"""Two HTTP/1.1 clients for the load generator, one browser-like session each (cookies, redirects).

`LeanClient` speaks HTTP/1.1 over asyncio streams directly. It exists because the load
generator shares a 2-core machine with the server it measures: httpx's async client spends
about 3 ms of CPU per request here against about 0.5 ms for this client, which made the
client, not the server, the bottleneck (a bare Flask app looked capped at ~300 requests/s).
`HttpxClient` does the same through httpx, for cross-checking the lean client's figures.

Both only implement what a survey flow needs: GET and form POSTs, Content-Length or chunked
bodies, keep-alive when the server allows it, cookies by name (one host, so domain and path
rules do not matter), and redirects.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

REDIRECTS = {301, 302, 303, 307, 308}


class TransportError(Exception):
    """No (complete) response: refused, reset, timed out — e.g. the server was killed."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str
    url: str

    @property
    def location(self) -> str | None:
        if self.status in REDIRECTS and "location" in self.headers:
            return urljoin(self.url, self.headers["location"])
        return None


def _store_cookie(jar: dict[str, str], header: str) -> None:
    pair, _, attributes = header.partition(";")
    name, _, value = pair.strip().partition("=")
    lowered = attributes.lower().replace(" ", "")
    if "max-age=0" in lowered or "expires=thu,01jan1970" in lowered:
        jar.pop(name, None)
    else:
        jar[name] = value


class LeanClient:
    """A minimal asyncio HTTP/1.1 client holding one participant's cookies and connection."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, url: str, data: dict[str, str] | None = None) -> Response:
        try:
            return await asyncio.wait_for(self._exchange(method, url, data), self.timeout)
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
        ) as exc:
            await self.aclose()
            raise TransportError(f"{method} {url}: {exc!r}") from exc

    async def _exchange(self, method: str, url: str, data: dict[str, str] | None) -> Response:
        absolute = urljoin(self.base_url + "/", url)
        parts = urlsplit(absolute)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        body = urlencode(data).encode() if data is not None else b""
        lines = [
            f"{method} {target} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Accept: text/html",
            "Connection: keep-alive",
        ]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if data is not None:
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body)}")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        writer.write(payload)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                _store_cookie(self.cookies, value)
            headers[name] = value
        if "content-length" in headers:
            content = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            content = await self._read_chunked(reader)
        elif method == "HEAD" or status in (204, 304):
            content = b""
        else:
            content = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.aclose()
        return Response(status, headers, content.decode("utf-8", "replace"), absolute)

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)

    async def aclose(self) -> None:
        if self._streams is not None:
            _, writer = self._streams
            self._streams = None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class HttpxClient:
    """The same interface through httpx (slower; for cross-checks)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(base_url=base_url, timeout=timeout, trust_env=False)

    async def request(self, method: str, url: str, data: dict[str, str] | None = None) -> Response:
        try:
            response = await self._client.request(method, url, data=data)
        except httpx.TransportError as exc:
            raise TransportError(f"{method} {url}: {exc!r}") from exc
        return Response(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.text,
            str(response.url),
        )

    async def aclose(self) -> None:
        await self._client.aclose()


CLIENTS = {"lean": LeanClient, "httpx": HttpxClient}
