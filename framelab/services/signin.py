"""Signing in to the studio: passwords with a per-account back-off, revocable sessions,
password changes and one-time reset links.

Back-off: each account counts its consecutive failures (wrong passwords and wrong
second-factor codes; a right one resets the count). The first FREE_FAILURES cost
nothing; each further one makes the account wait 1, 2, 4 ... seconds, at most
MAX_DELAY, before the next attempt is even checked (attempts while waiting are
refused unchecked and not counted, so a stranger cannot push the wait further than
the schedule). The wait applies to browsers the account has not signed in from
before: a browser holding the account's device mark (set by the web layer after a
sign-in) is not kept waiting, so a stranger's wrong passwords never lock the owner
out of their own browser. Per-source limits live in the web layer (Flask-Limiter).

Sessions: `Account.session_version` is part of every sign-in cookie; signing out,
changing the password, a reset and deactivation bump it, so every cookie issued
before no longer opens anything.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.accounts import PasswordReset, User
from framelab.db.session import reading, writing
from framelab.services import two_factor
from framelab.services.accounts import (
    Account,
    AccountError,
    account_of,
    dummy_hash,
    hash_password,
    normalise_email,
    rehashed,
    verify_password,
)

FREE_FAILURES = 5
MAX_DELAY = timedelta(minutes=15)
RESET_LINK_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in step.

    outcome: "signed_in", "code_needed" (right password; the second factor is next),
    "refused" (wrong email, password or code), or "wait" (the account's back-off).
    """

    outcome: str
    account: Account | None = None
    wait_seconds: int = 0


REFUSED = SignIn("refused")


def backoff_delay(failures: int) -> timedelta:
    """How long an account waits after `failures` consecutive failures."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - FREE_FAILURES - 1, 20)), MAX_DELAY)


def _wait_seconds(user: User, now: datetime) -> int:
    until = user.login_delay_until
    if until is None or until <= now:
        return 0
    return max(1, int((until - now).total_seconds() + 0.999))


def _record_failure(session: Session, user: User, now: datetime) -> None:
    # One UPDATE, so concurrent failures from several addresses all count. Called inside
    # the caller's writing() block, which commits it even when the caller then refuses.
    session.execute(
        sa.update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
    )
    failures = session.scalar(sa.select(User.failed_logins).where(User.id == user.id)) or 0
    delay = backoff_delay(failures)
    user.login_delay_until = now + delay if delay else None


def _record_success(user: User, now: datetime) -> None:
    user.failed_logins = 0
    user.login_delay_until = None
    user.last_login_at = now


def authenticate(
    session: Session, email: str, password: str, *, now: datetime, device_of: int | None = None
) -> SignIn:
    """Check an email and password; `device_of`: the account id this browser signed in as before."""
    try:
        address = normalise_email(email)
    except AccountError:
        address = ""
    with writing(session):
        user = session.scalar(sa.select(User).where(User.email == address)) if address else None
        if user is not None and device_of != user.id and (wait := _wait_seconds(user, now)):
            return SignIn("wait", wait_seconds=wait)
        right = verify_password(user.password_hash if user is not None else dummy_hash(), password)
        if user is None or not user.is_active:
            return REFUSED
        if not right:
            _record_failure(session, user, now)
            return REFUSED
        user.password_hash = rehashed(user.password_hash, password)
        if user.totp_secret is not None:
            return SignIn("code_needed", account_of(user))
        _record_success(user, now)
        return SignIn("signed_in", account_of(user))


def verify_code(
    session: Session,
    user_id: int,
    session_version: int,
    code: str,
    *,
    now: datetime,
    device_of: int | None = None,
) -> SignIn:
    """The second step for an account with two-factor sign-in: a code from its app."""
    with writing(session):
        user = session.get(User, user_id)
        if (
            user is None
            or not user.is_active
            or user.totp_secret is None
            or user.session_version != session_version
        ):
            return REFUSED
        if device_of != user.id and (wait := _wait_seconds(user, now)):
            return SignIn("wait", wait_seconds=wait)
        step = two_factor.matching_step(user.totp_secret, code, now)
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            _record_failure(session, user, now)
            return REFUSED
        user.totp_last_step = step
        _record_success(user, now)
        return SignIn("signed_in", account_of(user))


def session_is_current(account: Account | None, session_version: int) -> bool:
    """True when a cookie with this session version may still act for the account."""
    return account is not None and account.is_active and account.session_version == session_version


def end_sessions(session: Session, user_id: int) -> None:
    """Sign the account out everywhere: every existing cookie stops working."""
    with writing(session):
        session.execute(
            sa.update(User)
            .where(User.id == user_id)
            .values(session_version=User.session_version + 1)
        )


def change_password(
    session: Session, user_id: int, current: str, new: str, *, now: datetime
) -> Account:
    """Change the account's own password (the current one is checked); ends other sessions."""
    with writing(session):
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            raise AccountError("account: no such active account")
        if wait := _wait_seconds(user, now):
            raise AccountError(
                f"current_password: too many wrong passwords; try again in {wait} seconds"
            )
        right = verify_password(user.password_hash, current)
        if right:
            if new == current:
                raise AccountError("new_password: is the same as the current one; choose a new one")
            return _set_password(user, new, now=now)
        _record_failure(session, user, now)  # committed: the refusal below counts
    raise AccountError("current_password: is not your current password")


def _set_password(user: User, password: str, *, now: datetime) -> Account:
    try:
        user.password_hash = hash_password(password, email=user.email)
    except AccountError as exc:
        raise AccountError(str(exc).replace("password:", "new_password:", 1)) from None
    user.must_change_password = False
    user.password_changed_at = now
    user.failed_logins = 0
    user.login_delay_until = None
    user.session_version = (user.session_version or 0) + 1
    return account_of(user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue_reset_link(session: Session, user_id: int, *, issued_by: str, now: datetime) -> str:
    """A new one-time reset token for the account (valid RESET_LINK_LIFETIME, used once).

    Earlier unused links of the account stop working. Only the token's SHA-256 is
    stored: a copy of the database opens no account.
    """
    token = secrets.token_urlsafe(32)
    with writing(session):
        if session.get(User, user_id) is None:
            raise AccountError(f"account: no account with id {user_id}")
        session.execute(
            sa.delete(PasswordReset).where(
                PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None)
            )
        )
        session.add(
            PasswordReset(
                user_id=user_id,
                token_hash=_token_hash(token),
                issued_by=issued_by,
                created_at=now,
                expires_at=now + RESET_LINK_LIFETIME,
            )
        )
    return token


def _valid_reset(session: Session, token: str, now: datetime) -> PasswordReset | None:
    if not token or len(token) > 128:
        return None
    reset = session.scalar(
        sa.select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        return None
    return reset


def reset_link_account(session: Session, token: str, *, now: datetime) -> Account | None:
    """The account a valid (unused, unexpired) reset token is for, else None."""
    with reading(session):
        reset = _valid_reset(session, token, now)
        user = session.get(User, reset.user_id) if reset is not None else None
        return account_of(user) if user is not None and user.is_active else None


def use_reset_link(session: Session, token: str, new: str, *, now: datetime) -> Account:
    """Set a new password through a reset token; the token is then spent."""
    refused = "token: this reset link is not valid (used, expired or replaced)"
    with writing(session):
        reset = _valid_reset(session, token, now)
        user = session.get(User, reset.user_id) if reset is not None else None
        if reset is None or user is None or not user.is_active:
            raise AccountError(refused)
        # Spend the token first: of two requests with one token, only one gets a row.
        spent = session.execute(
            sa.update(PasswordReset)
            .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            raise AccountError(refused)
        return _set_password(user, new, now=now)
