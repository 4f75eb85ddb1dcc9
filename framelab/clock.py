"""One clock: `now()`, the current time, timezone-aware UTC.

Participant and studio code, commands and the fallback of services (which take `now=`)
all ask `now()`. Outside an app it is the system's time. Inside a request it is the
app's clock when its config has one (`FRAMELAB_CLOCK`, a callable returning an aware
datetime: the simulator's virtual clock, a test's fixed time), installed for the
request by `init_app`; `use(clock)` installs one around any block of code.

`system_now()` is the machine's time whatever clock is installed: for expiries that a
virtual clock must not move (a rehearsal token, a key file checked against the
database). Nothing else calls `datetime.now`.

This module imports no Flask: `init_app` takes the app it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

__all__ = ["CONFIG_KEY", "Clock", "init_app", "now", "system_now", "use"]

Clock = Callable[[], datetime]
# The app config key of an app's clock (not an environment variable).
CONFIG_KEY = "FRAMELAB_CLOCK"

_installed: ContextVar[Clock | None] = ContextVar("framelab_clock", default=None)


def system_now() -> datetime:
    """The machine's current time, timezone-aware UTC, whatever clock is installed."""
    return datetime.now(UTC)


def now() -> datetime:
    """The current time, timezone-aware UTC: the installed clock's, else the system's."""
    clock = _installed.get()
    return system_now() if clock is None else clock()


@contextmanager
def use(clock: Clock | None) -> Iterator[None]:
    """Make `clock` the one `now()` reads inside the block (None: the system's)."""
    token = _installed.set(clock)
    try:
        yield
    finally:
        _installed.reset(token)


_REQUEST_TOKEN = "framelab_clock_token"


def init_app(app: Any) -> None:
    """Install the app's clock (config FRAMELAB_CLOCK) for each of its requests, if it has one.

    An app made without a clock (every served app) gets no hooks at all: the participant
    pages are the hot path, and two hooks a request were measurable there.
    """
    if app.config.get(CONFIG_KEY) is None:
        return
    from flask import g  # only a web app calls this; importing the clock needs no Flask

    def install() -> None:
        clock = app.config.get(CONFIG_KEY)
        if clock is not None:
            setattr(g, _REQUEST_TOKEN, _installed.set(clock))

    def uninstall(_error: BaseException | None = None) -> None:
        token: Token | None = g.pop(_REQUEST_TOKEN, None)
        if token is not None:
            try:
                _installed.reset(token)
            except ValueError:  # torn down in another context (a streamed response)
                _installed.set(None)

    app.before_request(install)
    app.teardown_request(uninstall)
