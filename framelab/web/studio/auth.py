"""Studio sign-in (Flask-Login, argon2 via services.signin) and the role decorator.

`require_role(permission)` loads the study named by the URL's `slug`, checks the
signed-in user's role on it, and answers 404 (not 403) when the user has no role at
all, so nobody learns that another team's study exists. A role without the
permission gets 403 with a message saying which roles may do it.

Sessions are revocable: the sign-in cookie holds "<account id>:<session version>" and
the user loader accepts it only while the account is active and its version is
unchanged (bumped on sign-out, password change, reset, second-factor changes and
deactivation). An account whose password was set by an admin sees only the password
page until it has chosen its own. Sign-in goes through the per-account back-off of
services.signin; a browser that signed in to an account before carries a signed device
mark (DEVICE_COOKIE) that exempts it from that account's back-off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import UserMixin, current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from framelab.clock import now
from framelab.services import accounts, signin
from framelab.services.accounts import PERMISSIONS, Account, role_allows, study_and_role
from framelab.services.study_versions import StudyNotFound
from framelab.web.database import db_session
from framelab.web.extensions import limiter, login_manager
from framelab.web.studio.blueprint import bp
from framelab.web.studio.forms import LoginForm
from framelab.web.studio.forms_accounts import CodeForm

DEVICE_COOKIE = "framelab_device"
DEVICE_LIFETIME = timedelta(days=180)
# A password that was right waits this long for its second-factor code.
PENDING_CODE_SECONDS = 300
PENDING_CODE = "studio_pending_code"
# Pages an account with an admin-set password may open before changing it.
BEFORE_PASSWORD_CHANGE = frozenset({"studio.account", "studio.logout", "studio.static"})


class StudioUser(UserMixin):
    """The signed-in account as Flask-Login sees it."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.id = account.id
        self.email = account.email
        self.is_admin = account.is_admin

    def get_id(self) -> str:
        # The session version makes every cookie issued before a revocation worthless.
        return f"{self.account.id}:{self.account.session_version}"


def _parse_id(value: str) -> tuple[int, int] | None:
    user_id, sep, version = (value or "").partition(":")
    if not sep or not user_id.isdigit() or not version.isdigit() or len(value) > 40:
        return None
    return int(user_id), int(version)


@login_manager.user_loader
def _load_user(cookie_id: str) -> StudioUser | None:
    parsed = _parse_id(cookie_id)
    if parsed is None:
        return None
    account = accounts.get_account(db_session(), parsed[0])
    if not signin.session_is_current(account, parsed[1]):
        return None
    return StudioUser(account)  # type: ignore[arg-type]


def current_account() -> Account:
    return current_user.account


@bp.before_request
def _own_password_first() -> Any:
    """An admin-set password is changed before any other studio page opens."""
    if request.endpoint in BEFORE_PASSWORD_CHANGE or not current_user.is_authenticated:
        return None
    if current_account().must_change_password:
        flash("Choose your own password before using the studio.", "info")
        return redirect(url_for("studio.account"))
    return None


def require_role(permission: str) -> Callable:
    """Decorator: sign-in required; the user's role on the URL's study must allow `permission`.

    The view receives `study` (LoadedStudy) instead of `slug`; `g.role` holds the role.
    """
    if permission not in PERMISSIONS:
        raise ValueError(
            f"permission: {permission!r} is unknown (expected one of: {', '.join(PERMISSIONS)})"
        )

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, slug: str, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            try:
                study, role = study_and_role(db_session(), current_account(), slug)
            except StudyNotFound:
                abort(404)
            if role is None:
                abort(404)
            g.role = role
            g.study = study
            if not role_allows(role, permission):
                allowed = " or ".join(sorted(PERMISSIONS[permission]))
                return (
                    render_template(
                        "studio/forbidden.html", study=study, role=role, allowed=allowed
                    ),
                    403,
                )
            return view(*args, study=study, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorate


def require_login(view: Callable) -> Callable:
    """Decorator for studio pages that belong to no study (list, new study)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    wrapped.required_permission = "login"  # type: ignore[attr-defined]
    return wrapped


def can(permission: str) -> bool:
    """In templates: may the current user do this on the current study?"""
    return role_allows(g.get("role"), permission)


@bp.app_context_processor
def _studio_helpers() -> dict[str, Any]:
    return {"can": can}


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login would help phishing.
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("studio.index")


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="framelab.studio-device")


def _device_of() -> int | None:
    """The account this browser signed in to before (its signed device mark), or None."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 200:
        return None
    try:
        value = _device_signer().loads(raw, max_age=int(DEVICE_LIFETIME.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        return None
    return value if isinstance(value, int) else None


def _mark_device(response: Response, account_id: int) -> Response:
    response.set_cookie(
        DEVICE_COOKIE,
        _device_signer().dumps(account_id),
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        path=url_for("studio.login"),
        secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response


def _forget_device(response: Response) -> Response:
    response.delete_cookie(DEVICE_COOKIE, path=url_for("studio.login"))
    return response


def _signed_in(account: Account) -> Response:
    session.pop(PENDING_CODE, None)
    login_user(StudioUser(account))
    response = redirect(_safe_next(request.args.get("next")))
    return _mark_device(response, account.id)


def _wait_message(seconds: int) -> str:
    return (
        "This account has had many wrong sign-in attempts, so it is paused for "
        f"{seconds} more second{'s' if seconds != 1 else ''}. If you have signed in from "
        "this browser before, you can sign in now; otherwise wait, or ask a site admin "
        "for a reset link."
    )


def _refused(device_of: int | None, page: str, **context: Any) -> Response:
    html = render_template(page, **context)
    response = current_app.make_response((html, 401))
    # A wrong password with a device mark spends the mark: it cannot be replayed for
    # unlimited guesses without the account's back-off.
    return _forget_device(response) if device_of is not None else response


# Per source only. Per account, failures alone count, with an exponential back-off that
# spares browsers the account signed in from (framelab.services.signin): a count of every
# attempt per account let a stranger lock its owner out.
@bp.route("/login", methods=["GET", "POST"])
@limiter.per_source("LOGIN_RATE_LIMIT", scope="login-source")
def login() -> Any:
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        device_of = _device_of()
        result = signin.authenticate(
            db_session(),
            form.email.data or "",
            form.password.data or "",
            now=now(),
            device_of=device_of,
        )
        if result.outcome == "signed_in" and result.account is not None:
            return _signed_in(result.account)
        if result.outcome == "code_needed" and result.account is not None:
            session[PENDING_CODE] = {
                "id": result.account.id,
                "v": result.account.session_version,
                "at": int(now().timestamp()),
            }
            return redirect(url_for("studio.login_code", next=request.args.get("next")))
        if result.outcome == "wait":
            error, status = _wait_message(result.wait_seconds), 429
        else:
            error = "The email or password is not right."
            no_users = accounts.count_users(db_session()) == 0
            return _refused(
                device_of, "studio/login.html", form=form, error=error, no_users=no_users
            )
    no_users = accounts.count_users(db_session()) == 0
    return render_template("studio/login.html", form=form, error=error, no_users=no_users), status


login.required_permission = "public"  # type: ignore[attr-defined]


def _pending_code() -> tuple[int, int] | None:
    pending = session.get(PENDING_CODE)
    if not isinstance(pending, dict):
        return None
    try:
        user_id, version, at = int(pending["id"]), int(pending["v"]), int(pending["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if not 0 <= now().timestamp() - at <= PENDING_CODE_SECONDS:
        return None
    return user_id, version


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.per_source("LOGIN_RATE_LIMIT", scope="login-source")
def login_code() -> Any:
    """The second step of signing in, for accounts with two-factor sign-in."""
    pending = _pending_code()
    if pending is None:
        session.pop(PENDING_CODE, None)
        flash("Sign in with your email and password first (the code step lasts 5 minutes).")
        return redirect(url_for("studio.login", next=request.args.get("next")))
    form = CodeForm()
    error, status = None, 200
    if form.validate_on_submit():
        device_of = _device_of()
        result = signin.verify_code(
            db_session(), *pending, form.code.data or "", now=now(), device_of=device_of
        )
        if result.outcome == "signed_in" and result.account is not None:
            return _signed_in(result.account)
        if result.outcome == "wait":
            error, status = _wait_message(result.wait_seconds), 429
        else:
            return _refused(
                device_of,
                "studio/login_code.html",
                form=form,
                error="The code is not right. Type the 6 digits your app shows now.",
            )
    return render_template("studio/login_code.html", form=form, error=error), status


login_code.required_permission = "public"  # type: ignore[attr-defined]


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    if current_user.is_authenticated:
        # Ends this cookie and every other copy of it (and other browsers' sessions).
        signin.end_sessions(db_session(), current_account().id)
    logout_user()
    session.pop(PENDING_CODE, None)
    flash("You are signed out.", "info")
    return redirect(url_for("studio.login"))


logout.required_permission = "public"  # type: ignore[attr-defined]
