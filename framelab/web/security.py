"""Security settings of the web app: headers, cookies, secret-key check, participant form tokens.

`init_app(app)` is called by `create_app`:

- every response carries a strict Content-Security-Policy (no inline script or
  style, nothing from other hosts, `frame-ancestors 'none'`), `nosniff`,
  `Referrer-Policy: no-referrer`, and `Cache-Control: no-store` on pages (a shared
  phone must not show the next person someone's answers from the cache); static files
  are cached a year under content-hashed URLs (framelab.web.assets), and pages are
  compressed only where that leaks no secret (framelab.web.compression);
- the session cookie is HttpOnly and SameSite=Lax, and Secure whenever the request
  came over HTTPS (directly, or through a proxy trusted with FRAMELAB_PROXY_FIX=N);
- a production app refuses to start with a missing, short or well-known secret key;
- participant forms carry a token bound to the participant code (`participant_form_token`).

Rate limits live in framelab.web.rate_limits, declared on the views; settings
(FRAMELAB_PROXY_FIX and the others) are read by framelab.config.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any, NoReturn

from flask import Flask, Request, current_app, g, has_request_context, request
from flask.sessions import NullSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from framelab.config import InsecureConfiguration
from framelab.web import assets, compression

MIN_SECRET_KEY_LENGTH = 32
# Keys that appear in docs, examples and tests; a server using one signs nothing.
KNOWN_SECRET_KEYS = frozenset(
    {
        "framelab-testing-key",
        "dev",
        "development",
        "secret",
        "secret-key",
        "change-me",
        "changeme",
        "please-change-me",
    }
)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
HSTS = "max-age=31536000"

# The participant views keep each study's participant code in this session key.
SESSION_CODES = "participants"
# The cookie that says whose pages `/p` shows (the participant code; path /p, HttpOnly).
PARTICIPANT_COOKIE = "p"


# ---------------------------------------------------------------- secret key


def secret_key_problem(key: object) -> str | None:
    """Why `key` must not sign production cookies, or None when it is acceptable."""
    if not isinstance(key, str | bytes) or not key:
        return "SECRET_KEY is missing"
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    if text.strip().lower() in KNOWN_SECRET_KEYS:
        return "SECRET_KEY is a well-known default value"
    if len(text) < MIN_SECRET_KEY_LENGTH:
        return f"SECRET_KEY has {len(text)} characters (at least {MIN_SECRET_KEY_LENGTH} needed)"
    return None


def check_secret_key(app: Flask) -> None:
    """Raise InsecureConfiguration when a production app has a weak secret key."""
    if app.config.get("TESTING") or app.config.get("ENV") != "production":
        return
    problem = secret_key_problem(app.config.get("SECRET_KEY"))
    if problem:
        raise InsecureConfiguration(
            f"framelab refuses to start in production: {problem}. Set FRAMELAB_SECRET_KEY "
            f"to at least {MIN_SECRET_KEY_LENGTH} random characters, for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, or unset it so "
            "framelab generates one in the instance folder."
        )


# ---------------------------------------------------------------- cookies and headers


# A participant's own pages: /p and what lies below it, the resume links /r and /r/<code>,
# and the addresses of earlier releases, /s/<slug>/p/<code> and below.
PARTICIPANT_PAGE = re.compile(r"^/(?:p|r)(?:/|$)|^/s/[^/]+/p/[^/]+(?:/|$)")
# The app's static files and icon: no session either, so no `Vary: Cookie` keeps a
# browser from reusing its cached copy once a cookie changes.
SESSIONLESS_FILES = re.compile(r"^/(?:static/|favicon\.ico$)")


class NoSession(NullSession):
    """The session of a participant's own page: empty, and an error to write to."""

    def _fail(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(
            "a participant's page keeps no session: its state is in the database, and who "
            "the participant is in their cookie or form (framelab.web.security.PARTICIPANT_PAGE)"
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class SessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose cookie is Secure whenever the request is HTTPS.

    A participant's own pages (PARTICIPANT_PAGE) neither read nor write the session:
    the participant cookie (or a form's code field) says who they are, the database
    where they are, and their forms carry a token bound to the code
    (`participant_form_token`).
    So those pages work with cookies off, and a page does not pay for verifying and
    re-signing a cookie it does not need; the cookie a browser sends along (a studio
    sign-in, the study links it remembers) is left as it is.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)

    def open_session(self, app: Flask, request: Request) -> Any:
        if PARTICIPANT_PAGE.match(request.path) or SESSIONLESS_FILES.match(request.path):
            return NoSession()
        return super().open_session(app, request)


def participant_form_token(code: str) -> str:
    """The CSRF token of a participant's forms: a keyed hash of their participant code.

    Only this server can make it, and only for a page it served to that code's holder;
    a page elsewhere that does not know the code cannot forge it (one that knows the
    code could as well open the participant's page itself: the code is the credential).
    """
    secret = current_app.config["SECRET_KEY"]
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, b"framelab.participant-form\0" + code.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def check_participant_form(code: str) -> None:
    """Raise Flask-WTF's CSRFError (the friendly "page expired" 400) on a wrong token."""
    # Pages send the token masked per response (framelab.web.compression: BREACH).
    given = compression.unmask(request.form.get("csrf_token", ""))
    if not hmac.compare_digest(given.encode(), participant_form_token(code).encode()):
        raise CSRFError("The CSRF token is missing or does not match this page.")


_HEADER_ITEMS = tuple(SECURITY_HEADERS.items())
_HEADER_NAMES = frozenset(name.lower() for name in SECURITY_HEADERS)
_APP_HEADERS = "framelab.security_headers"


def security_headers(style_source: str | None) -> tuple[tuple[str, str], ...]:
    """SECURITY_HEADERS, with `style_source` (the inlined stylesheet's hash) allowed as style."""
    if style_source is None:
        return _HEADER_ITEMS
    policy = CONTENT_SECURITY_POLICY.replace("style-src 'self'", f"style-src 'self' {style_source}")
    return tuple(
        (name, policy if name == "Content-Security-Policy" else value)
        for name, value in _HEADER_ITEMS
    )


def _set_headers(response: Response) -> Response:
    headers = response.headers
    # The policy allows the inlined stylesheet by its hash: the file's current one.
    style = assets.stylesheet_source_hash(current_app)
    cached = current_app.extensions.get(_APP_HEADERS)
    if cached is None or cached[0] != style:
        cached = current_app.extensions[_APP_HEADERS] = (style, security_headers(style))
    items = cached[1]
    if any(name.lower() in _HEADER_NAMES for name, _ in headers.items()):
        for name, value in items:  # a view set some of them itself: keep its own
            headers.setdefault(name, value)
    else:
        headers.extend(items)
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if not _is_static(request):
        # Answers, codes and studio data must not outlive the page in a shared browser.
        headers["Cache-Control"] = "no-store"
    return response


# Served with their own Cache-Control (framelab.web.assets): hold nothing of anyone's.
STATIC_ENDPOINTS = frozenset({"participant.favicon"})


def _is_static(req: Request) -> bool:
    endpoint = req.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static") or endpoint in STATIC_ENDPOINTS


_UNKNOWN_CODE = "framelab_unknown_code"


def unknown_code() -> None:
    """Say that this request named a participant code that does not exist (a possible guess).

    framelab.web.rate_limits counts these per source (`took_unknown_code`).
    """
    setattr(g, _UNKNOWN_CODE, True)


def took_unknown_code() -> bool:
    """Whether `unknown_code` was said in this request (and forget that it was)."""
    return bool(g.pop(_UNKNOWN_CODE, False))


# ---------------------------------------------------------------- small cells


def small_cell(count: int, minimum: int = 0) -> str:
    """A count for display: from 1 to `minimum` - 1 it reads "fewer than `minimum`".

    Subgroup counts in the studio (by stratum, by source) go through this, like the
    analysis package's subgroup results, so that a tiny group cannot be singled out.
    """
    if minimum and 0 < count < minimum:
        return f"fewer than {minimum}"
    return str(count)


# ---------------------------------------------------------------- wiring


def init_app(app: Flask) -> None:
    """Check the secret key, trust configured proxies (PROXY_FIX), set cookies and headers."""
    check_secret_key(app)
    proxies = app.config.get("PROXY_FIX", 0)
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config.get("SESSION_COOKIE_SECURE"))
    app.session_interface = SessionInterface()
    # Static files under hashed URLs, cached a year; compressed pages where that is safe.
    assets.init_app(app)
    compression.init_app(app)
    app.after_request(_set_headers)
    app.add_template_filter(small_cell, "small_cell")
