"""Optional two-factor sign-in with time-based one-time codes (TOTP, RFC 6238; pyotp).

A studio account opens data on people who may be at risk, so owners and admins can
add a second factor: an authenticator app holding a secret shared with framelab.
Enrolment shows the secret as text and as an otpauth:// URI (and a QR code in the
studio); it takes effect only once a code made from it is confirmed. A code is
accepted for the current 30-second step and one step either side (clock drift), and
each step only once. Someone who lost their device asks a site admin, who removes
the second factor (`remove`) or runs `framelab reset-password EMAIL --remove-two-factor`.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.accounts import User
from framelab.db.session import writing
from framelab.services.accounts import Account, AccountError, account_of

ISSUER = "framelab studio"
STEP_SECONDS = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    """A random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads (typed in, or from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code equals `code` (now ± DRIFT_STEPS), or None."""
    digits = "".join((code or "").split())
    if len(digits) != 6 or not digits.isascii() or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def enable(session: Session, user_id: int, secret: str, code: str, *, now: datetime) -> Account:
    """Turn on two-factor sign-in once a code from the new secret is confirmed.

    Sessions opened before are ended (their sign-in had no second factor).
    """
    step = matching_step(secret, code, now)
    with writing(session):
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            raise AccountError("account: no such active account")
        if step is None:
            raise AccountError(
                "code: does not match; check the phone's time and type the 6 digits now shown"
            )
        user.totp_secret = secret
        user.totp_last_step = step
        user.session_version = (user.session_version or 0) + 1
        return account_of(user)


def disable(session: Session, user_id: int, code: str, *, now: datetime) -> Account:
    """The account holder turns two-factor sign-in off, with a current code."""
    with writing(session):
        user = session.get(User, user_id)
        if user is None or user.totp_secret is None:
            raise AccountError("code: two-factor sign-in is not on for this account")
        step = matching_step(user.totp_secret, code, now)
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            raise AccountError(
                "code: does not match (or was already used); type the code now shown"
            )
        return remove(session, user_id)


def remove(session: Session, user_id: int) -> Account:
    """An admin removes an account's second factor (lost phone); its sessions end."""
    with writing(session):
        session.execute(
            sa.update(User)
            .where(User.id == user_id)
            .values(
                totp_secret=None,
                totp_last_step=None,
                session_version=User.session_version + 1,
            )
        )
        user = session.get(User, user_id)
        if user is None:
            raise AccountError(f"account: no account with id {user_id}")
        session.refresh(user)
        return account_of(user)
