"""Rehearsal tokens: how the simulator's bots are told apart from people on the study link.

Bots go through the same HTTP pages as participants, so the mark must be something a
participant cannot produce: an HMAC of the study's slug and an expiry time under the
instance's secret key (the key that signs session cookies, held only by the server and
the operator who runs `framelab simulate`). The simulator sends it in the
`X-Framelab-Rehearsal` header of every request; the study link enrols the request as a
rehearsal row only when the token is valid for that study now, and refuses a request
whose token is not (it never becomes a real participant instead). A token leaked by
accident lets its holder add rehearsal rows until it expires, never touch real data.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from framelab.db.models import StudyVersion
from framelab.db.session import reading
from framelab.services.study_versions import get_study

__all__ = ["HEADER", "VALID_FOR", "check_rehearsal_token", "lock_time", "rehearsal_token"]

HEADER = "X-Framelab-Rehearsal"
# Long enough for any simulation run; short enough that a leaked token soon stops working.
VALID_FOR = timedelta(hours=24)
_TOKEN = re.compile(r"^([0-9]{1,12})\.([0-9a-f]{64})$")


def _mac(secret: str, slug: str, expires: int) -> str:
    message = f"framelab-rehearsal\x00{slug}\x00{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def rehearsal_token(
    secret: str, slug: str, *, now: datetime, valid_for: timedelta = VALID_FOR
) -> str:
    """`<expiry unix time>.<HMAC-SHA256 hex>`: enrols rehearsal rows in `slug` until expiry."""
    if not secret:
        raise ValueError("secret: a rehearsal token needs the instance's secret key")
    expires = int((now + valid_for).timestamp())
    return f"{expires}.{_mac(secret, slug, expires)}"


def check_rehearsal_token(secret: str, slug: str, token: str, *, now: datetime) -> bool:
    """Whether `token` was made with `secret` for `slug` and has not expired at `now`."""
    match = _TOKEN.match(token.strip())
    if match is None or not secret:
        return False
    expires = int(match.group(1))
    if expires < now.timestamp():
        return False
    return hmac.compare_digest(match.group(2), _mac(secret, slug, expires))


def lock_time(session: Session, slug: str) -> datetime | None:
    """When the study's current version was locked (plan or launch, the later), else None.

    Simulated clocks start after it, so rehearsal rows are `after_lock` like real ones.
    """
    with reading(session):
        loaded = get_study(session, slug)
        version = session.get(StudyVersion, loaded.version_id)
        times = [t for t in (version.plan_locked_at, version.locked_at) if t is not None]
    return max(times) if times else None
