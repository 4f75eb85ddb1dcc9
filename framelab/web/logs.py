"""Access logging without client addresses or user agents.

Participants may be at risk if it is known that they took part, so by default no
access log is written at all. FRAMELAB_ACCESS_LOG=1 turns one on; it still never
records the client address, the user agent or the referrer.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

from flask import Flask

ACCESS_LOG_ENV = "FRAMELAB_ACCESS_LOG"
# gunicorn's atoms without %(h)s (address), %(a)s (user agent), %(f)s (referrer) and
# without the query string (%(U)s is the path only; panel ids travel in the query).
GUNICORN_ACCESS_FORMAT = '- - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# Werkzeug writes "<address> - - [<time>] <message>" with the address already in the text.
_WERKZEUG_PREFIX = re.compile(r"^(?P<address>\S+) - - \[(?P<time>[^\]]*)\] ")
_WERKZEUG_ACCESS = '"%s" %s %s'


def access_log_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """True when the operator opted in to an access log."""
    value = (os.environ if environ is None else environ).get(ACCESS_LOG_ENV, "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


class WerkzeugAccessFilter(logging.Filter):
    """Drop Werkzeug's request lines, or (opted in) strip the address and query string."""

    def __init__(self, enabled: bool) -> None:
        super().__init__()
        self.enabled = enabled

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            return True
        match = _WERKZEUG_PREFIX.match(record.msg)
        if match is None:
            return True
        rest = record.msg[match.end() :]
        is_access_line = rest.startswith(_WERKZEUG_ACCESS)
        if is_access_line and not self.enabled:
            return False
        record.msg = f"- - [{match['time']}] {rest}"
        if is_access_line and record.args:
            args = list(record.args)
            # "GET /s/x?PROLIFIC_PID=... HTTP/1.1": panel ids travel in the query string.
            args[0] = re.sub(r"\?\S*", "", str(args[0]), count=1)
            record.args = tuple(args)
        return True


def init_app(app: Flask) -> None:
    """Install the filter on Werkzeug's logger (used by `flask run` and `make_server`)."""
    logger = logging.getLogger("werkzeug")
    for existing in list(logger.filters):
        if isinstance(existing, WerkzeugAccessFilter):
            logger.removeFilter(existing)
    logger.addFilter(WerkzeugAccessFilter(access_log_enabled()))


def gunicorn_logging_options(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """gunicorn settings: no access log unless opted in, and then without addresses."""
    if not access_log_enabled(environ):
        return {"accesslog": None}
    return {"accesslog": "-", "access_log_format": GUNICORN_ACCESS_FORMAT}
