"""How bots reach the app: in-process through the WSGI test client, or over HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


@dataclass(frozen=True)
class Reply:
    status: int
    location: str | None
    text: str


class Transport(Protocol):
    def new_participant(self) -> Any: ...
    def get(self, client: Any, url: str) -> Reply: ...
    def post(self, client: Any, url: str, data: Mapping[str, str]) -> Reply: ...


class VirtualClock:
    """The time the app sees while bots run in-process: bots 'spend' seconds on pages."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class FlaskTransport:
    """Bots through the app's WSGI test client (the real views, services and database).

    `headers` go with every request (the rehearsal token that marks bots as simulated).
    """

    def __init__(
        self,
        app: Any,
        clock: VirtualClock | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        self.headers = dict(headers or {})

    def new_participant(self) -> Any:
        return self.app.test_client()

    def get(self, client: Any, url: str) -> Reply:
        response = client.get(url, headers=self.headers)
        return Reply(
            response.status_code, response.headers.get("Location"), response.get_data(as_text=True)
        )

    def post(self, client: Any, url: str, data: Mapping[str, str]) -> Reply:
        response = client.post(url, data=dict(data), headers=self.headers)
        return Reply(
            response.status_code, response.headers.get("Location"), response.get_data(as_text=True)
        )


class HttpTransport:
    """Bots over HTTP against a live server (one cookie jar per bot).

    `headers` go with every request (the rehearsal token that marks bots as simulated).
    """

    def __init__(self, base_url: str, headers: Mapping[str, str] | None = None) -> None:
        import httpx

        self._httpx = httpx
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})

    def new_participant(self) -> Any:
        return self._httpx.Client(
            base_url=self.base_url, follow_redirects=False, timeout=30.0, headers=self.headers
        )

    def get(self, client: Any, url: str) -> Reply:
        response = client.get(url)
        return Reply(response.status_code, response.headers.get("location"), response.text)

    def post(self, client: Any, url: str, data: Mapping[str, str]) -> Reply:
        response = client.post(url, data=dict(data))
        return Reply(response.status_code, response.headers.get("location"), response.text)


def simulation_start(
    n: int, now: datetime | None = None, *, after: datetime | None = None
) -> datetime:
    """A virtual start time so that n bots, one after another, end around now.

    Never before `after` (the study's lock): simulated participants start after the
    lock, as real ones do, even if the last bots then finish in the future.
    """
    now = now or datetime.now(UTC)
    start = now - timedelta(seconds=300 * n + 600)
    if after is not None:
        start = max(start, after + timedelta(seconds=1))
    return start
