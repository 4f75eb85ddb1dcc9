"""Studio sign-in (Flask-Login, argon2 via services.accounts) and the role decorator.

`require_role(permission)` loads the study named by the URL's `slug`, checks the
signed-in user's role on it, and answers 404 (not 403) when the user has no role at
all, so nobody learns that another team's study exists. A role without the
permission gets 403 with a message saying which roles may do it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from framelab.db.models import utcnow
from framelab.services import accounts
from framelab.services.accounts import PERMISSIONS, Account, role_allows, role_on_study
from framelab.services.studies import StudyNotFound, get_study
from framelab.web.database import db_session
from framelab.web.studio.blueprint import bp
from framelab.web.studio.forms import LoginForm

login_manager = LoginManager()
login_manager.login_view = "studio.login"
login_manager.login_message = "Please sign in to use the studio."
login_manager.login_message_category = "info"


class StudioUser(UserMixin):
    """The signed-in account as Flask-Login sees it."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.id = account.id
        self.email = account.email
        self.is_admin = account.is_admin

    def get_id(self) -> str:
        return str(self.account.id)


@login_manager.user_loader
def _load_user(user_id: str) -> StudioUser | None:
    if not user_id.isdigit():
        return None
    account = accounts.get_account(db_session(), int(user_id))
    return StudioUser(account) if account is not None else None


@bp.record_once
def _init_login(state: Any) -> None:
    login_manager.init_app(state.app)


def current_account() -> Account:
    return current_user.account


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
            session = db_session()
            try:
                study = get_study(session, slug)
            except StudyNotFound:
                abort(404)
            finally:
                session.rollback()
            role = role_on_study(session, current_account(), study.id)
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


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        account = accounts.authenticate(
            db_session(), form.email.data or "", form.password.data or "", now=utcnow()
        )
        if account is not None:
            login_user(StudioUser(account))
            return redirect(_safe_next(request.args.get("next")))
        error = "The email or password is not right."
    no_users = accounts.count_users(db_session()) == 0
    status = 401 if error else 200
    return render_template("studio/login.html", form=form, error=error, no_users=no_users), status


login.required_permission = "public"  # type: ignore[attr-defined]


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("studio.login"))


logout.required_permission = "public"  # type: ignore[attr-defined]
