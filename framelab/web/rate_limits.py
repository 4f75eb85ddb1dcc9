"""Rate limits: sign-in attempts, withdrawals, new participants and unknown codes, per source.

Views declare their limits with the decorators of `framelab.web.extensions.limiter`
(a `RateLimits`), under their `@bp.route`:

- `per_source(setting, scope=...)`: Flask-Limiter's limit of the config's `setting`
  ("10 per minute;50 per hour") per source, counted on POST (studio sign-in and its code
  step: scope "login-source"; the resume and withdraw forms: scope "withdraw").
- `new_participants`: FRAMELAB_ENROL_RATE_LIMIT new participants per source, shared by
  the study link and its consent (scope "enrol"). Sized for carrier NAT: an SMS blast
  reaches hundreds of people a minute behind one mobile carrier's shared address, and a
  lower limit turned real participants away. Bots are told apart by the honeypot field,
  the speeder timing and duplicate panel ids, not by their address; the limit only caps
  a flood from one machine (docs/deploy.md). Loopback sources are exempt: see
  `enrolment_exempt`.
- `code_guesses`: FRAMELAB_CODE_GUESS_RATE_LIMIT unknown participant codes per source,
  on every route that accepts a code (cookie, form, the /r/<code> link, the resume and
  withdraw forms); known codes are never counted. A view says it met an unknown code
  with `framelab.web.security.unknown_code()`.

Counters live in memory by default and in Redis (or any `limits` storage) with
FRAMELAB_RATELIMIT_STORAGE_URI; FRAMELAB_RATELIMIT_ENABLED=0 turns all of it off. The
key is a salted hash of the address, never the address. Per account,
framelab.services.signin counts failures.

Flask-Limiter keeps its storage and its on/off switch on the Limiter object, so one
Limiter shared by two apps would share their counters. `RateLimits.init_app` gives each
app a Limiter of its own (`app.extensions[LIMITER_KEY]`) and binds there the limits the
views declared; at request time a declared view calls its app's bound limit.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask import Flask, current_app, request, session
from flask_babel import gettext as _
from flask_limiter import Limiter
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from framelab.config import DEFAULT_CODE_GUESS_LIMIT, DEFAULT_ENROL_LIMIT, DEFAULT_LOGIN_LIMIT
from framelab.web.errors import render_error
from framelab.web.security import PARTICIPANT_COOKIE, SESSION_CODES, took_unknown_code

LIMITER_KEY = "framelab.limiter"
_BOUND = "framelab.rate_limits"  # app.extensions: the app's bound limits and code-guess items
# The config key of each limit, and its default when the config has none.
LIMIT_SETTINGS: Mapping[str, str] = {
    "LOGIN_RATE_LIMIT": DEFAULT_LOGIN_LIMIT,
    "ENROL_RATE_LIMIT": DEFAULT_ENROL_LIMIT,
    "CODE_GUESS_RATE_LIMIT": DEFAULT_CODE_GUESS_LIMIT,
}

View = Callable[..., Any]
# Makes one declared limit for one app: (the app's Limiter, its config) -> the limited view.
Binder = Callable[[Limiter, Mapping[str, Any]], View]


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


def enrolment_exempt() -> bool:
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


def _names_a_code() -> bool:
    # A request that names no code (the empty resume or withdraw form) is never refused.
    if (request.view_args or {}).get("code") or request.cookies.get(PARTICIPANT_COOKIE):
        return True
    return request.method == "POST" and bool(request.form.get("code"))


def _limit(config: Mapping[str, Any], setting: str) -> str:
    return config.get(setting) or LIMIT_SETTINGS[setting]


class _AppLimits:
    """One app's bound limits (by declaration index) and its parsed code-guess limit."""

    def __init__(self, views: list[View], guesses: list[Any]) -> None:
        self.views = views
        self.guesses = guesses


class RateLimits:
    """The views' rate limits, declared at import and bound to each app by `init_app`."""

    def __init__(self) -> None:
        self._declared: list[tuple[View, Binder]] = []

    def _declare(self, view: View, bind: Binder) -> View:
        index = len(self._declared)
        self._declared.append((view, bind))

        @functools.wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            return current_app.extensions[_BOUND].views[index](*args, **kwargs)

        return limited

    def per_source(
        self, setting: str, *, scope: str, methods: Sequence[str] = ("POST",)
    ) -> Callable[[View], View]:
        """Limit the view's `methods` requests per source to the config's `setting`."""
        if setting not in LIMIT_SETTINGS:
            raise ValueError(f"setting: {setting!r} is not one of {', '.join(LIMIT_SETTINGS)}")

        def decorate(view: View) -> View:
            def bind(limiter: Limiter, config: Mapping[str, Any]) -> View:
                limit = limiter.limit(_limit(config, setting), methods=list(methods), scope=scope)
                return limit(view)

            return self._declare(view, bind)

        return decorate

    def new_participants(self, view: View) -> View:
        """ENROL_RATE_LIMIT new participants per source, shared by every view so marked
        (scope "enrol"); skipped, with all its bookkeeping, when `enrolment_exempt`."""

        def bind(limiter: Limiter, config: Mapping[str, Any]) -> View:
            return limiter.shared_limit(_limit(config, "ENROL_RATE_LIMIT"), scope="enrol")(view)

        limited = self._declare(view, bind)

        @functools.wraps(view)
        def enrolment(*args: Any, **kwargs: Any) -> Any:
            if enrolment_exempt():
                return view(*args, **kwargs)
            return limited(*args, **kwargs)

        return enrolment

    def code_guesses(self, view: View) -> View:
        """Refuse a source's requests once its unknown codes reach CODE_GUESS_RATE_LIMIT.

        Only failed look-ups count (`security.unknown_code`), so hundreds of participants behind one
        carrier's address are never refused for using their own codes. Loopback sources
        are exempt, as for enrolment (`enrolment_exempt`): the operator's own machine.
        """

        @functools.wraps(view)
        def counted(*args: Any, **kwargs: Any) -> Any:
            app = current_app
            limiter: Limiter = app.extensions[LIMITER_KEY]
            if not limiter.enabled or _is_loopback(request.remote_addr) or not _names_a_code():
                return view(*args, **kwargs)
            items = app.extensions[_BOUND].guesses
            key = source_key()
            strategy = limiter.limiter
            if not all(strategy.test(item, "code-guess", key) for item in items):
                raise TooManyRequests()
            try:
                return view(*args, **kwargs)
            finally:
                if took_unknown_code():
                    for item in items:
                        strategy.hit(item, "code-guess", key)

        return counted

    def init_app(self, app: Flask) -> Limiter:
        """Give `app` its own Flask-Limiter (storage from its config) and bind the declared limits."""
        limiter = Limiter(source_key, default_limits=[], key_prefix="framelab")
        limiter.init_app(app)
        views = [bind(limiter, app.config) for _view, bind in self._declared]
        guesses = parse_many(_limit(app.config, "CODE_GUESS_RATE_LIMIT"))
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
        app.extensions[_BOUND] = _AppLimits(views, guesses)
        app.register_error_handler(TooManyRequests, _too_many)
        return limiter


def _too_many(_error: TooManyRequests) -> tuple[str, int]:
    return render_error(
        429,
        _("Too many requests"),
        _("Too many requests came from your connection in a short time."),
        _("Please wait a minute and try again. Your earlier answers are saved."),
    )
