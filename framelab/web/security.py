"""Security settings of the web app: headers, cookies, secret-key check, rate limits.

`init_app(app)` is called by `create_app` after the blueprints are registered:

- every response carries a strict Content-Security-Policy (no inline script or
  style, nothing from other hosts, `frame-ancestors 'none'`), `nosniff`,
  `Referrer-Policy: no-referrer`, and `Cache-Control: no-store` on pages (a shared
  phone must not show the next person someone's answers from the cache); static files
  are cached a year under content-hashed URLs (framelab.web.assets), and pages are
  compressed only where that leaks no secret (framelab.web.compression);
- the session cookie is HttpOnly and SameSite=Lax, and Secure whenever the request
  came over HTTPS (directly, or through a proxy trusted with FRAMELAB_PROXY_FIX=N);
- a production app refuses to start with a missing, short or well-known secret key;
- Flask-Limiter limits sign-in attempts (password and code) and new participants per
  source, in memory by default and in Redis (or any `limits` storage) when
  FRAMELAB_RATELIMIT_STORAGE_URI is set. The limiter's key is a salted hash of the
  address, never the address. Per account, framelab.services.signin counts failures.

Environment variables (read at start):
- FRAMELAB_PROXY_FIX: number of reverse proxies in front of the app (default 0);
  their X-Forwarded-For/-Proto/-Host are trusted, so addresses and HTTPS are real.
- FRAMELAB_RATELIMIT_STORAGE_URI: e.g. redis://localhost:6379/0 (default memory://).
- FRAMELAB_RATELIMIT_ENABLED: 0 turns rate limiting off (default on).
- FRAMELAB_LOGIN_RATE_LIMIT: default "10 per minute;50 per hour" per source.
- FRAMELAB_CODE_GUESS_RATE_LIMIT: default "10 per minute;50 per hour" unknown
  participant codes per source, on every route that accepts a code (cookie, form, the
  /r/<code> link, the resume and withdraw forms); known codes are never counted.
- FRAMELAB_ENROL_RATE_LIMIT: default "1000 per minute;20000 per hour" new
  participants per source. Sized for carrier NAT: an SMS blast reaches hundreds of
  people a minute behind one mobile carrier's shared address, and a lower limit
  turned real participants away. Bots are told apart by the honeypot field, the
  speeder timing and duplicate panel ids, not by their address; the limit only caps
  a flood from one machine (docs/deploy.md). Loopback sources are exempt: see
  `_enrolment_exempt`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from flask import Flask, Request, current_app, g, has_request_context, request, session
from flask.sessions import NullSession, SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFError
from limits import parse_many
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from framelab.web import assets, compression
from framelab.web.errors import render_error

LIMITER_KEY = "framelab.limiter"
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

DEFAULT_LOGIN_LIMIT = "10 per minute;50 per hour"
# Carrier NAT: hundreds of real participants a minute can share one address (above).
DEFAULT_ENROL_LIMIT = "1000 per minute;20000 per hour"
# endpoint -> (config key of the limit, methods it counts, exemption)
LOGIN_ENDPOINTS = ("studio.login", "studio.login_code")
ENROL_ENDPOINTS = ("participant.start", "participant.consent")
WITHDRAW_ENDPOINTS = ("participant.withdraw_later", "participant.resume_with_code")
# Every route that accepts a participant code (cookie, form, address, typed): failed
# look-ups count against the code-guess limit (docs/privacy.md, "Guessing a participant code").
CODE_ENDPOINTS = (
    "participant.page",
    "participant.submit",
    "participant.confirm_withdraw",
    "participant.do_withdraw",
    "participant.resume",
    "participant.resume_with_code",
    "participant.withdraw_later",
    "participant.old_page",
    "participant.old_submit",
    "participant.old_withdraw",
)
DEFAULT_CODE_GUESS_LIMIT = "10 per minute;50 per hour"
_UNKNOWN_CODE = "framelab_unknown_code"
# The participant views keep each study's participant code in this session key.
SESSION_CODES = "participants"
# The cookie that says whose pages `/p` shows (the participant code; path /p, HttpOnly).
PARTICIPANT_COOKIE = "p"


class InsecureConfiguration(RuntimeError):
    """The app must not start with this configuration; the message says what to change."""


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


def _proxy_count(environ: Mapping[str, str]) -> int:
    raw = environ.get("FRAMELAB_PROXY_FIX", "").strip() or "0"
    try:
        count = int(raw)
    except ValueError:
        raise InsecureConfiguration(
            f"FRAMELAB_PROXY_FIX: expected the number of proxies in front of framelab, got {raw!r}"
        ) from None
    if count < 0:
        raise InsecureConfiguration(f"FRAMELAB_PROXY_FIX: expected 0 or more, got {count}")
    return count


# ---------------------------------------------------------------- rate limits


def source_key() -> str:
    """The rate-limit key of the request's source: a keyed hash, so no address is stored."""
    address = request.remote_addr or "unknown"
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _enrolment_exempt() -> bool:
    """Requests that enrol nobody, and loopback sources, do not count as new participants.

    Loopback is the operator's own machine: the simulator, load tests, or a reverse
    proxy without FRAMELAB_PROXY_FIX, where one shared bucket would turn the limit
    into a lock-out of every participant at once.
    """
    if _is_loopback(request.remote_addr):
        return True
    if request.method == "GET":
        return True  # the study link enrols nobody, panel link or not: the consent does
    # A returning participant (their page, not a new enrolment) is exempt too.
    slug = (request.view_args or {}).get("slug")
    return bool(slug and session.get(SESSION_CODES, {}).get(slug))


def _unless_exempt(limit: Callable[[Callable], Callable]) -> Callable[[Callable], Callable]:
    """`limit` on a view, skipped (with all its bookkeeping) when `_enrolment_exempt`."""

    def decorate(view: Callable) -> Callable:
        limited = limit(view)

        @functools.wraps(view)
        def enrolment(*args: Any, **kwargs: Any) -> Any:
            if _enrolment_exempt():
                return view(*args, **kwargs)
            return limited(*args, **kwargs)

        return enrolment

    return decorate


def unknown_code() -> None:
    """Say that this request named a participant code that does not exist (a possible guess)."""
    setattr(g, _UNKNOWN_CODE, True)


def _names_a_code() -> bool:
    # A request that names no code (the empty resume or withdraw form) is never refused.
    if (request.view_args or {}).get("code") or request.cookies.get(PARTICIPANT_COOKIE):
        return True
    return request.method == "POST" and bool(request.form.get("code"))


def _count_unknown_codes(limiter: Limiter, limit: str) -> Callable[[Callable], Callable]:
    """Refuse a source's requests once its unknown codes reach `limit`; known codes cost nothing.

    Only failed look-ups count, so hundreds of participants behind one carrier's address
    are never refused for using their own codes. Loopback sources are exempt, as for
    enrolment (`_enrolment_exempt`): the operator's own machine.
    """
    items = parse_many(limit)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if not limiter.enabled or _is_loopback(request.remote_addr) or not _names_a_code():
                return view(*args, **kwargs)
            key = source_key()
            strategy = limiter.limiter
            if not all(strategy.test(item, "code-guess", key) for item in items):
                raise TooManyRequests()
            try:
                return view(*args, **kwargs)
            finally:
                if g.pop(_UNKNOWN_CODE, False):
                    for item in items:
                        strategy.hit(item, "code-guess", key)

        return counted

    return decorate


def _limit_setting(app: Flask, name: str, default: str) -> str:
    value = app.config.get(name) or os.environ.get(f"FRAMELAB_{name}", "").strip()
    return value or default


def _wrap(app: Flask, endpoint: str, decorate: Callable[[Callable], Callable]) -> None:
    view = app.view_functions.get(endpoint)
    if view is not None:
        app.view_functions[endpoint] = decorate(view)


def init_limiter(app: Flask, environ: Mapping[str, str] | None = None) -> Limiter:
    """A Flask-Limiter for this app (memory by default, FRAMELAB_RATELIMIT_STORAGE_URI else)."""
    env = os.environ if environ is None else environ
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI",
        env.get("FRAMELAB_RATELIMIT_STORAGE_URI", "").strip() or "memory://",
    )
    enabled = env.get("FRAMELAB_RATELIMIT_ENABLED", "1").strip().lower() not in {
        "0",
        "false",
        "no",
        "off",
    }
    app.config.setdefault("RATELIMIT_ENABLED", enabled)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # One limiter per app: a module-level one would share in-memory counters between apps.
    limiter = Limiter(source_key, app=app, default_limits=[], key_prefix="framelab")
    login = _limit_setting(app, "LOGIN_RATE_LIMIT", DEFAULT_LOGIN_LIMIT)
    enrol = _limit_setting(app, "ENROL_RATE_LIMIT", DEFAULT_ENROL_LIMIT)

    # Per source only. Per account, failures alone count, with an exponential back-off
    # that spares browsers the account signed in from (framelab.services.signin): a
    # count of every attempt per account let a stranger lock its owner out.
    for endpoint in LOGIN_ENDPOINTS:
        _wrap(app, endpoint, limiter.limit(login, methods=["POST"], scope="login-source"))
    for endpoint in ENROL_ENDPOINTS:
        _wrap(app, endpoint, _unless_exempt(limiter.shared_limit(enrol, scope="enrol")))
    for endpoint in WITHDRAW_ENDPOINTS:
        _wrap(app, endpoint, limiter.limit(login, methods=["POST"], scope="withdraw"))
    guesses = _limit_setting(app, "CODE_GUESS_RATE_LIMIT", DEFAULT_CODE_GUESS_LIMIT)
    for endpoint in CODE_ENDPOINTS:
        _wrap(app, endpoint, _count_unknown_codes(limiter, guesses))
    # No default or application limits: the decorated views check their own limits, so
    # Flask-Limiter's before_request check (~0.7 ms on every request) is dropped.
    checks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in checks:  # absent when rate limiting is off
        checks.remove(limiter._check_request_limit)
    if not app.config["RATELIMIT_HEADERS_ENABLED"]:
        # Its after_request hook only adds rate-limit headers (and deducts for
        # `deduct_when` limits, which framelab does not use): with headers off it is
        # pure cost on every response.
        inject = getattr(Limiter, "_Limiter__inject_headers", None)
        after = app.after_request_funcs.get(None, [])
        after[:] = [f for f in after if getattr(f, "func", None) is not inject]
    app.extensions[LIMITER_KEY] = limiter
    return limiter


def _too_many(_error: TooManyRequests) -> tuple[str, int]:
    return render_error(
        429,
        _("Too many requests"),
        _("Too many requests came from your connection in a short time."),
        _("Please wait a minute and try again. Your earlier answers are saved."),
    )


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


def init_app(app: Flask, environ: Mapping[str, str] | None = None) -> None:
    """Check the secret key, trust configured proxies, set cookies, headers and rate limits."""
    env: Mapping[str, Any] = os.environ if environ is None else environ
    check_secret_key(app)
    proxies = _proxy_count(env)
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
    app.register_error_handler(TooManyRequests, _too_many)
    app.add_template_filter(small_cell, "small_cell")
    init_limiter(app, env)
