"""Studio accounts: create users, check passwords (argon2id), roles and what each role may do.

Roles are per study. Permissions, not a ladder, because an analyst and an editor each
may do something the other may not:

- view: every role (overview, dashboard, preview, power planner, study YAML)
- edit: owner, editor (texts, arms and frames, items, design, YAML editor, new version)
- translate: owner, editor, translator (the texts of every language, interface strings,
  the translator's file); a translator may do nothing else but view
- plan: owner, analyst (edit and lock the analysis plan)
- results: owner, analyst (outcome results, report, data downloads)
- manage: owner (lifecycle: pilot, live, pause, resume, close; members)

A site admin (the first user, `create-user --admin`) acts as owner on every study and
may create accounts. Creating studies is itself a permission: admins always have it, other
accounts when an admin grants it (`can_create_studies`). Passwords follow the policy of
framelab.services.passwords; sign-in, sessions and reset links are in
framelab.services.signin, two-factor sign-in in framelab.services.two_factor, invitations
to a study in framelab.services.invitations. Services take a Session, own the
transaction and never import Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from framelab.db.accounts import ROLES, StudyMembership, User
from framelab.db.models import Study
from framelab.db.session import reading, writing
from framelab.services.passwords import MIN_PASSWORD_LENGTH as MIN_PASSWORD_LENGTH
from framelab.services.passwords import PasswordRefused, check_password
from framelab.services.study_versions import LoadedStudy, get_study

PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "edit": frozenset({"owner", "editor"}),
    "translate": frozenset({"owner", "editor", "translator"}),
    "plan": frozenset({"owner", "analyst"}),
    "results": frozenset({"owner", "analyst"}),
    "manage": frozenset({"owner"}),
    # Sign-off before launch (DECISIONS rule 9); an admin reviews through an explicit
    # reviewer membership, never as the owner every admin otherwise is.
    "review": frozenset({"reviewer"}),
}
_hasher = PasswordHasher()
_dummy_hashes: dict[tuple[int, int, int], str] = {}


def dummy_hash() -> str:
    # Verifying against this keeps the time of a login for an unknown email the same as
    # for a known one (same parameters), so timing does not reveal which emails exist.
    key = (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = _hasher.hash("framelab-no-such-user")
    return _dummy_hashes[key]


class AccountError(ValueError):
    """A bad account request; the message names the field and what was expected."""


@dataclass(frozen=True)
class Account:
    """A user as the web layer sees it (no password hash, no second-factor secret)."""

    id: int
    email: str
    is_admin: bool
    is_active: bool
    # Effective: admins always may create studies.
    can_create_studies: bool = False
    # Part of the sign-in cookie; a cookie with an older version opens nothing.
    session_version: int = 0
    must_change_password: bool = False
    two_factor: bool = False


def account_of(user: User) -> Account:
    """The web-facing view of a user row."""
    return Account(
        id=user.id,
        email=user.email,
        is_admin=user.is_admin,
        is_active=user.is_active,
        can_create_studies=bool(user.is_admin or user.can_create_studies),
        session_version=user.session_version or 0,
        must_change_password=bool(user.must_change_password),
        two_factor=user.totp_secret is not None,
    )


def normalise_email(email: str) -> str:
    """Lower-cased, trimmed email; raises AccountError when it is not an address."""
    value = (email or "").strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 254:
        raise AccountError(f"email: {email!r} is not an email address (expected name@domain)")
    return value


def hash_password(password: str, *, email: str | None = None) -> str:
    """An argon2id hash of the password; AccountError when the password policy refuses it."""
    try:
        check_password(password, email=email)
    except PasswordRefused as exc:
        raise AccountError(str(exc)) from None
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """True when the password matches the argon2 hash (False for a malformed hash)."""
    try:
        return _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def rehashed(stored: str, password: str) -> str:
    """The stored hash, or a new one when the hasher's parameters have changed since."""
    return _hasher.hash(password) if _hasher.check_needs_rehash(stored) else stored


def create_user(
    session: Session,
    email: str,
    password: str,
    *,
    is_admin: bool = False,
    can_create_studies: bool = False,
    temporary: bool = False,
    now: datetime,
) -> Account:
    """Create an account; raises AccountError for a bad email/password or a taken email.

    `temporary`: the password was chosen by an admin and must be changed at first sign-in.
    """
    address = normalise_email(email)
    user = User(
        email=address,
        password_hash=hash_password(password, email=address),
        is_admin=is_admin,
        is_active=True,
        can_create_studies=can_create_studies,
        must_change_password=temporary,
        session_version=0,
        failed_logins=0,
        password_changed_at=None if temporary else now,
        created_at=now,
    )
    try:
        with writing(session):
            session.add(user)
    except IntegrityError as exc:
        raise AccountError(f"email: an account for {address!r} already exists") from exc
    return account_of(user)


def get_account(session: Session, user_id: int) -> Account | None:
    """The active account with this id, or None (Flask-Login's user loader)."""
    with reading(session):
        user = session.get(User, user_id)
        return account_of(user) if user is not None and user.is_active else None


def set_can_create_studies(session: Session, user_id: int, allowed: bool) -> Account:
    """Grant or withdraw the permission to create studies (an admin's decision)."""
    with writing(session):
        user = _user(session, user_id)
        user.can_create_studies = allowed
        return account_of(user)


def set_active(session: Session, user_id: int, active: bool, *, actor_id: int) -> Account:
    """Deactivate (every sign-in of the account ends at once) or reactivate an account."""
    if user_id == actor_id and not active:
        raise AccountError("account: you cannot deactivate your own account")
    with writing(session):
        user = _user(session, user_id)
        if user.is_active and not active:
            user.session_version = (user.session_version or 0) + 1
        user.is_active = active
        return account_of(user)


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AccountError(f"account: no account with id {user_id}")
    return user


def account_by_email(session: Session, email: str) -> Account | None:
    """The account with this e-mail (active or not), or None (for admin commands)."""
    address = normalise_email(email)
    with reading(session):
        user = session.scalar(sa.select(User).where(User.email == address))
        return account_of(user) if user is not None else None


def list_accounts(session: Session) -> list[Account]:
    """Every account, by email (for the site admin)."""
    with reading(session):
        return [account_of(u) for u in session.scalars(sa.select(User).order_by(User.email))]


def count_users(session: Session) -> int:
    """How many accounts exist (the login page invites `create-user` when there are none)."""
    with reading(session):
        return session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def role_on_study(session: Session, account: Account, study_id: int) -> str | None:
    """The account's role on the study (admins are owners everywhere), or None.

    An admin who holds the reviewer role on a study is its reviewer there, not its owner
    (DECISIONS rule 9: sign-off is kept apart from launching).
    """
    with reading(session):
        role = session.scalar(
            sa.select(StudyMembership.role).where(
                StudyMembership.user_id == account.id, StudyMembership.study_id == study_id
            )
        )
    if account.is_admin and role != "reviewer":
        return "owner"
    return role


def study_and_role(session: Session, account: Account, slug: str) -> tuple[LoadedStudy, str | None]:
    """The study `slug` and the account's role on it (None: none); raises StudyNotFound."""
    with reading(session):
        study = get_study(session, slug)
        return study, role_on_study(session, account, study.id)


def role_allows(role: str | None, permission: str) -> bool:
    """True when the role has the permission (see the module docstring)."""
    if permission not in PERMISSIONS:
        raise ValueError(
            f"permission: {permission!r} is unknown (expected one of: {', '.join(PERMISSIONS)})"
        )
    return role is not None and role in PERMISSIONS[permission]


def revoke_role(session: Session, study_id: int, user_id: int) -> None:
    """Remove a user's role on the study; the last owner cannot be removed."""
    with writing(session):
        membership = session.scalar(
            sa.select(StudyMembership).where(
                StudyMembership.user_id == user_id, StudyMembership.study_id == study_id
            )
        )
        if membership is None:
            return
        if membership.role == "owner" and _owner_count(session, study_id) <= 1:
            raise AccountError("role: a study needs at least one owner; add another owner first")
        session.delete(membership)


def _owner_count(session: Session, study_id: int) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(StudyMembership)
            .where(StudyMembership.study_id == study_id, StudyMembership.role == "owner")
        )
        or 0
    )


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    role: str


def list_members(session: Session, study_id: int) -> list[Member]:
    """Every account with a role on the study, owners first."""
    with reading(session):
        rows = session.execute(
            sa.select(User.id, User.email, StudyMembership.role)
            .join(StudyMembership, StudyMembership.user_id == User.id)
            .where(StudyMembership.study_id == study_id)
        ).all()
    order = {role: i for i, role in enumerate(ROLES)}
    members = [Member(user_id=r[0], email=r[1], role=r[2]) for r in rows]
    return sorted(members, key=lambda m: (order[m.role], m.email))


@dataclass(frozen=True)
class StudyRef:
    id: int
    slug: str
    title: str
    status: str
    role: str


def studies_for(session: Session, account: Account) -> list[StudyRef]:
    """The studies this account may see, with its role on each, newest first."""
    if account.is_admin:
        query = sa.select(Study.id, Study.slug, Study.title, Study.status, sa.literal("owner"))
    else:
        query = (
            sa.select(Study.id, Study.slug, Study.title, Study.status, StudyMembership.role)
            .join(StudyMembership, StudyMembership.study_id == Study.id)
            .where(StudyMembership.user_id == account.id)
        )
    with reading(session):
        rows = session.execute(query).all()
    refs = [StudyRef(*row) for row in rows]
    return sorted(refs, key=lambda r: -r.id)
