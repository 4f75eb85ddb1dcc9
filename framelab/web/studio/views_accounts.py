"""Studio pages about accounts: your account (password, two-factor), reset links, the site
admin's accounts page, and the invitations an account accepts or declines."""

from __future__ import annotations

from typing import Any

import segno
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import login_user

from framelab.clock import now
from framelab.services import accounts, invitations, signin, two_factor
from framelab.services.accounts import AccountError
from framelab.web.studio.auth import StudioUser, current_account, require_login
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import session as db
from framelab.web.studio.forms import AccountForm
from framelab.web.studio.forms_accounts import (
    AccountActionForm,
    ChangePasswordForm,
    CodeForm,
    InvitationForm,
    ResetPasswordForm,
)

PENDING_SECRET = "studio_pending_totp"
ADMIN_ACTIONS = {
    "allow-studies": "may now create studies",
    "deny-studies": "may no longer create studies",
    "deactivate": "is deactivated and signed out everywhere",
    "activate": "is active again",
    "remove-two-factor": "signs in without a second factor now (and was signed out)",
}


def _field_errors(exc: AccountError) -> tuple[str, str]:
    field, _, message = str(exc).partition(": ")
    return field, message


def _stay_signed_in(account: accounts.Account) -> None:
    # This browser's cookie carries the new session version; all other cookies are void.
    login_user(StudioUser(account))


@bp.route("/account", methods=["GET", "POST"])
@require_login
def account() -> Any:
    """Your account: change your password; the state of two-factor sign-in."""
    me = current_account()
    form = ChangePasswordForm()
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            changed = signin.change_password(
                db(), me.id, form.current_password.data or "", form.new_password.data or "",
                now=now(),
            )  # fmt: skip
            _stay_signed_in(changed)
            flash(
                "Password changed. Other browsers signed in to your account are signed out.",
                "info",
            )
            return redirect(url_for("studio.index"))
        except AccountError as exc:
            field, message = _field_errors(exc)
            errors.setdefault(field, []).append(message)
    status = 422 if errors or form.errors else 200
    page = render_template("studio/account.html", form=form, errors=errors, me=me)
    return page, status


def _qr_data_uri(uri: str) -> str:
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@require_login
def two_factor_setup() -> Any:
    """Turn on two-factor sign-in: a new secret (text, URI, QR), confirmed by a code."""
    me = current_account()
    if me.two_factor:
        return render_template("studio/two_factor.html", me=me, form=CodeForm(), secret=None)
    secret = session.get(PENDING_SECRET)
    if not isinstance(secret, str) or len(secret) != 32 or request.method == "GET":
        secret = two_factor.new_secret()
        session[PENDING_SECRET] = secret
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            enabled = two_factor.enable(db(), me.id, secret, form.code.data or "", now=now())
            session.pop(PENDING_SECRET, None)
            _stay_signed_in(enabled)
            flash("Two-factor sign-in is on. Other browsers were signed out.", "info")
            return redirect(url_for("studio.account"))
        except AccountError as exc:
            error = _field_errors(exc)[1]
    uri = two_factor.provisioning_uri(secret, me.email)
    page = render_template(
        "studio/two_factor.html",
        me=me,
        form=form,
        secret=secret,
        grouped=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        uri=uri,
        qr=_qr_data_uri(uri),
        error=error,
    )
    return page, 422 if error or form.errors else 200


@bp.route("/account/two-factor/off", methods=["POST"])
@require_login
def two_factor_off() -> Any:
    form = CodeForm()
    if form.validate_on_submit():
        try:
            changed = two_factor.disable(
                db(), current_account().id, form.code.data or "", now=now()
            )
            _stay_signed_in(changed)
            flash("Two-factor sign-in is off.", "info")
            return redirect(url_for("studio.account"))
        except AccountError as exc:
            flash(_field_errors(exc)[1], "error")
    return redirect(url_for("studio.two_factor_setup"))


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    """A one-time reset link from a site admin: choose a new password (GET changes nothing)."""
    holder = signin.reset_link_account(db(), token, now=now())
    if holder is None:
        return render_template("studio/reset_invalid.html"), 404
    form = ResetPasswordForm()
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            signin.use_reset_link(db(), token, form.new_password.data or "", now=now())
            flash("Your new password is set. Sign in with it.", "info")
            return redirect(url_for("studio.login"))
        except AccountError as exc:
            field, message = _field_errors(exc)
            errors.setdefault(field, []).append(message)
    status = 422 if errors or form.errors else 200
    page = render_template("studio/reset.html", form=form, errors=errors, email=holder.email)
    return page, status


reset_password.required_permission = "public"  # type: ignore[attr-defined]


def _admin_page(form: AccountForm, error: str | None = None, link: str | None = None) -> Any:
    listing = accounts.list_accounts(db())
    status = 422 if error or form.errors else 200
    page = render_template(
        "studio/accounts.html",
        form=form,
        accounts=listing,
        error=error,
        action_form=AccountActionForm(),
        reset_link=link,
        me=current_account(),
    )
    return page, status


@bp.route("/accounts", methods=["GET", "POST"])
@require_login
def manage_accounts() -> Any:
    """Site admins create accounts and manage them; everyone else is told this is for admins."""
    if not current_account().is_admin:
        return render_template("studio/admin_only.html"), 403
    form = AccountForm()
    if form.validate_on_submit():
        try:
            created = accounts.create_user(
                db(),
                form.email.data or "",
                form.password.data or "",
                is_admin=bool(form.is_admin.data),
                can_create_studies=bool(form.can_create_studies.data),
                temporary=True,
                now=now(),
            )
            flash(
                f"Account {created.email} created. They choose their own password at their "
                "first sign-in.",
                "info",
            )
            return redirect(url_for("studio.manage_accounts"))
        except AccountError as exc:
            return _admin_page(form, str(exc))
    return _admin_page(form)


manage_accounts.required_permission = "admin"  # type: ignore[attr-defined]


@bp.route("/accounts/<int:user_id>", methods=["POST"])
@require_login
def account_action(user_id: int) -> Any:
    """A site admin's action on one account (permissions, deactivation, reset link, 2FA)."""
    me = current_account()
    if not me.is_admin:
        return render_template("studio/admin_only.html"), 403
    form = AccountActionForm()
    if not form.validate_on_submit():
        abort(400)
    action = form.action.data
    try:
        if action == "reset-link":
            token = signin.issue_reset_link(db(), user_id, issued_by=me.email, now=now())
            link = url_for("studio.reset_password", token=token, _external=True)
            return _admin_page(AccountForm(formdata=None), link=link)
        if action in ("allow-studies", "deny-studies"):
            changed = accounts.set_can_create_studies(db(), user_id, action == "allow-studies")
        elif action in ("deactivate", "activate"):
            changed = accounts.set_active(db(), user_id, action == "activate", actor_id=me.id)
        elif action == "remove-two-factor":
            changed = two_factor.remove(db(), user_id)
        else:
            abort(400)
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("studio.manage_accounts"))
    if changed.id == me.id:
        _stay_signed_in(changed)
    flash(f"{changed.email} {ADMIN_ACTIONS[action]}.", "info")
    return redirect(url_for("studio.manage_accounts"))


account_action.required_permission = "admin"  # type: ignore[attr-defined]


@bp.route("/invitations", methods=["POST"])
@require_login
def answer_invitation() -> Any:
    """The invited account accepts (the role starts) or declines an invitation."""
    form = InvitationForm()
    if not form.validate_on_submit() or form.answer.data not in ("accept", "decline"):
        abort(400)
    me = current_account()
    try:
        if form.answer.data == "accept":
            slug = invitations.accept(db(), me, form.invitation_id.data, now=now())
            flash("Invitation accepted: the study is on your list.", "info")
            return redirect(url_for("studio.overview", slug=slug))
        invitations.decline(db(), me, form.invitation_id.data, now=now())
        flash("Invitation declined.", "info")
    except AccountError as exc:
        flash(_field_errors(exc)[1], "error")
    return redirect(url_for("studio.index"))
