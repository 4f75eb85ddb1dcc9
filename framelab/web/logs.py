"""Logs without people: no client address, user agent, panel id, participant code or query string.

Participants may be at risk if it is known that they took part, and a log file is
copied, shipped and kept far more casually than the database. So:

- Every log record made in a framelab process (framelab's own loggers, Flask's,
  Werkzeug's, gunicorn's, SQLAlchemy's) is scrubbed as it is made: `install_scrubbing`
  puts a log-record factory in front of Python's, which formats the message and any
  traceback at once and passes them through `scrub`. A record's text never holds a
  value the scrubber did not see, whichever handler writes it. gunicorn's master (its
  own logger class, `framelab.web.gunicorn_log.ScrubbingLogger`) installs it before the
  app is loaded; `create_app` installs it in every process that builds the app.
- By default no access log is written at all. FRAMELAB_ACCESS_LOG=1 turns one on; it
  never has the client address, the user agent, the referrer or the query string.

`scrub` replaces: IPv4 and IPv6 addresses ("[address]"), query strings (dropped: panel
ids travel there), panel-id parameters anywhere (`PROLIFIC_PID=[redacted]`), the code
in a participant's address (`/r/[code]`, `/f/[code]`, `/s/<slug>/p/[code]`) and any other token shaped like a participant
code or a Prolific/MTurk id ("[token]"), user agents ("[user agent]"), and the values
a database error quotes (`[parameters: redacted]`, `Key (code)=(redacted)`). The line
in which gunicorn names the address it listens on is the server's own and is kept.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Mapping
from typing import Any

from flask import Flask

from framelab.config import access_log_from_env
from framelab.domain import participant_codes

# gunicorn's atoms without %(h)s (address), %(a)s (user agent), %(f)s (referrer) and
# without the query string (%(U)s is the path only; panel ids travel in the query).
GUNICORN_ACCESS_FORMAT = '- - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
GUNICORN_LOGGER_CLASS = "framelab.web.gunicorn_log.ScrubbingLogger"
# Werkzeug writes "<address> - - [<time>] <message>" with the address already in the text.
_WERKZEUG_PREFIX = re.compile(r"^(?P<address>\S+) - - \[(?P<time>[^\]]*)\] ")
_WERKZEUG_ACCESS = '"%s" %s %s'

ADDRESS = "[address]"
TOKEN = "[token]"
USER_AGENT = "[user agent]"
PANEL_KEYS = ("PROLIFIC_PID", "workerId", "STUDY_ID", "SESSION_ID", "hitId", "assignmentId")
_KEPT_LINES = ("Listening at: ",)  # gunicorn's own bind address, no client's

_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
_PG_DETAIL = re.compile(r"Key \((?P<columns>[^)]*)\)=\([^\n]*?\)(?= already| is not|\s|$)")
_HEADER_AGENT = re.compile(r"(?im)(user-agent|http_user_agent)(['\"]?\s*[:=,]\s*)[^\n]*")
_PANEL_PARAM = re.compile(
    r"(?i)\b(" + "|".join(PANEL_KEYS) + r")(['\"]?\s*[=:]\s*['\"]?)[^\s&\"',;)]+"
)
_QUERY = re.compile(r"(?<=[\w/.%~\-])\?[^\s\"'<>]+")
# A participant's code in an address: /r/<code> (resume links), /f/<token> (follow-up
# links), /i/<token> (invitation links), /s/<slug>/p/<code>.
_CODE_IN_PATH = re.compile(r"(/r/|/f/|/i/|/s/[^/\s?\"'<>]+/p/)[^/\s?\"'<>]+")
_AGENT = re.compile(
    r"\b(?:Mozilla|AppleWebKit|Chrome|CriOS|Safari|Gecko|Firefox|FxiOS|Edge?|Edg|OPR|Opera"
    r"|Version|Mobile|curl|Wget|okhttp|Dalvik|python-requests|python-httpx|python-urllib)"
    r"/[\w.]+(?:\s*\([^)]*\))?"
    r"|\b[A-Za-z][\w.-]*/\d[\w.]*\s+\([^)]*\)"
)
_CANDIDATE_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{12,64}(?![A-Za-z0-9_-])")
_CAMEL_WORDS = re.compile(r"(?:[A-Z][a-z0-9]+)+")
_PROLIFIC = re.compile(r"[0-9a-f]{24}")
_MTURK = re.compile(r"A[A-Z0-9]{11,20}")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]*\d)")
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?(?![\w:])")


def _token(match: re.Match[str]) -> str:
    """A participant code, a Prolific or MTurk id -> [token]; any other word stays."""
    word = match.group(0)
    has_upper = any(c.isupper() for c in word)
    has_lower = any(c.islower() for c in word)
    if _PROLIFIC.fullmatch(word) or (_MTURK.fullmatch(word) and any(c.isdigit() for c in word)):
        return TOKEN
    # A random URL-safe code (participant codes: 24 characters) mixes upper and lower
    # case; identifiers that do (CamelCase class names) are whole words.
    if len(word) >= 20 and has_upper and has_lower and not _CAMEL_WORDS.fullmatch(word):
        return TOKEN
    # A participant code of the current format (Crockford base32 capitals and digits,
    # grouped with hyphens or not).
    bare = word.replace("-", "")
    if participant_codes.canonical(bare) == bare and not bare.isdigit() and not bare.isalpha():
        return TOKEN
    return word


def _address(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    return ADDRESS


def scrub(text: str) -> str:
    """`text` without client addresses, user agents, panel ids, participant codes, queries."""
    if not text or text.startswith(_KEPT_LINES):
        return text
    text = _PARAMETERS.sub("[parameters: redacted]", text)
    text = _PG_DETAIL.sub(lambda m: f"Key ({m['columns']})=(redacted)", text)
    text = _HEADER_AGENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{USER_AGENT}", text)
    text = _PANEL_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    text = _QUERY.sub("", text)
    text = _CODE_IN_PATH.sub(r"\1[code]", text)
    text = _AGENT.sub(USER_AGENT, text)
    text = _IPV4.sub(_address, text)
    text = _IPV6.sub(_address, text)
    return _CANDIDATE_TOKEN.sub(_token, text)


_FORMATTER = logging.Formatter()


def scrub_record(record: logging.LogRecord) -> None:
    """Format `record`'s message and traceback now, scrubbed; keep the template for filters."""
    template = record.msg
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the template: keep the template alone
        message = str(template)
    record.framelab_template = template if isinstance(template, str) else None
    record.msg = scrub(message)
    record.args = ()
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = scrub(_FORMATTER.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def install_scrubbing() -> None:
    """Scrub every log record this process makes from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "framelab_scrubs", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        scrub_record(record)
        return record

    factory.framelab_scrubs = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class WerkzeugAccessFilter(logging.Filter):
    """Drop Werkzeug's request lines, or (opted in) strip the address and query string."""

    def __init__(self, enabled: bool) -> None:
        super().__init__()
        self.enabled = enabled

    def filter(self, record: logging.LogRecord) -> bool:
        template = getattr(record, "framelab_template", None) or record.msg
        if not isinstance(record.msg, str) or not isinstance(template, str):
            return True
        match = _WERKZEUG_PREFIX.match(record.msg)
        shape = _WERKZEUG_PREFIX.match(template)
        if match is None or shape is None:
            return True
        is_access_line = template[shape.end() :].startswith(_WERKZEUG_ACCESS)
        if is_access_line and not self.enabled:
            return False
        rest = record.msg[match.end() :]
        record.msg = f"- - [{match['time']}] {rest}"
        if is_access_line and record.args:
            args = list(record.args)
            # "GET /s/x?PROLIFIC_PID=... HTTP/1.1": panel ids travel in the query string.
            args[0] = re.sub(r"\?\S*", "", str(args[0]), count=1)
            record.args = tuple(args)
        return True


def init_app(app: Flask) -> None:
    """Scrub this process's log records; filter Werkzeug's request lines (`flask run`),
    kept without address and query string when the config's ACCESS_LOG is on."""
    install_scrubbing()
    logger = logging.getLogger("werkzeug")
    for existing in list(logger.filters):
        if isinstance(existing, WerkzeugAccessFilter):
            logger.removeFilter(existing)
    logger.addFilter(WerkzeugAccessFilter(bool(app.config.get("ACCESS_LOG"))))


def gunicorn_logging_options(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """gunicorn settings: a scrubbing logger, no access log unless opted in (then without
    addresses, user agents or query strings); FRAMELAB_ACCESS_LOG read by framelab.config."""
    options: dict[str, object] = {"logger_class": GUNICORN_LOGGER_CLASS}
    if not access_log_from_env(environ):
        return {**options, "accesslog": None}
    return {**options, "accesslog": "-", "access_log_format": GUNICORN_ACCESS_FORMAT}
