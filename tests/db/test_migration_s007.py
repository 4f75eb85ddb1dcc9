"""Migration s007 (account security) on a database created by the previous release (s006).

The previous release's database is built by its own migrations (up to s006) and filled
with SQL of that schema: a study with its owner (an argon2 hash made by that release)
and a viewer, and a participant half-way through. After the upgrade the owner still
signs in with the old password (no forced change: it was their own), keeps the role
and, having owned a study, may still create studies; the viewer may not; nobody is
locked out or signed in to two-factor; the participant resumes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher

from framelab.db import models as m
from framelab.db.accounts import User
from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory
from framelab.services import accounts, signin
from framelab.services.flow import current_page, submit_step
from tests.factories import make_study, valid_answers

BEFORE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
OLD_PASSWORD = "an old password of theirs"
SPEC = make_study(target_n=50)


def _previous_release(url: str) -> None:
    upgrade(url, "s006")
    old_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(OLD_PASSWORD)
    engine = make_engine(url)
    naive = BEFORE.replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO study (id, slug, title, status, current_version, salt, created_at, "
                "updated_at) VALUES (1, :slug, 'T', 'live', 1, 'old-salt', :t, :t)"
            ),
            {"slug": SPEC.slug, "t": naive},
        )
        conn.execute(
            sa.text(
                "INSERT INTO study_version (id, study_id, version, spec_json, spec_hash, "
                "created_at, locked_at) VALUES (1, 1, 1, :spec, :hash, :t, :t)"
            ),
            {"spec": SPEC.canonical_json(), "hash": SPEC.content_hash(), "t": naive},
        )
        for uid, email in ((1, "owner@example.org"), (2, "viewer@example.org")):
            conn.execute(
                sa.text(
                    "INSERT INTO account (id, email, password_hash, is_admin, is_active, "
                    "created_at) VALUES (:id, :email, :hash, :no, :yes, :t)"
                ),
                {"id": uid, "email": email, "hash": old_hash, "no": False, "yes": True, "t": naive},
            )
        for uid, role in ((1, "owner"), (2, "viewer")):
            conn.execute(
                sa.text(
                    "INSERT INTO study_membership (user_id, study_id, role, created_at) "
                    "VALUES (:uid, 1, :role, :t)"
                ),
                {"uid": uid, "role": role, "t": naive},
            )
        conn.execute(
            sa.text(
                "INSERT INTO participant (code, study_id, study_version_id, spec_hash, language, "
                "status, step, pilot, attention_failed, speeder, honeypot, rehearsal, "
                "started_at) VALUES ('resume-me-123456', 1, 1, :hash, 'en', 'started', "
                "'consent', :no, :no, :no, :no, :no, :t)"
            ),
            {"hash": SPEC.content_hash(), "no": False, "t": naive},
        )
    engine.dispose()


def test_s007_keeps_accounts_signing_in_with_their_roles_and_grants_creation_to_owners(
    database_url, monkeypatch
):
    _previous_release(database_url)
    assert upgrade(database_url) == head_revision()
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        with make_session_factory(engine)() as session:
            result = signin.authenticate(session, "owner@example.org", OLD_PASSWORD, now=AFTER)
            assert result.outcome == "signed_in"
            owner = result.account
            assert owner.can_create_studies and not owner.must_change_password
            assert owner.session_version == 0 and not owner.two_factor
            viewer = signin.authenticate(session, "viewer@example.org", OLD_PASSWORD, now=AFTER)
            assert viewer.outcome == "signed_in" and not viewer.account.can_create_studies
            assert accounts.role_on_study(session, owner, 1) == "owner"
            assert accounts.role_on_study(session, viewer.account, 1) == "viewer"
            rows = session.execute(sa.select(User.failed_logins, User.login_delay_until)).all()
            assert rows == [(0, None), (0, None)]
            # The half-way participant resumes after the upgrade.
            code, t = "resume-me-123456", AFTER
            assert current_page(session, code, now=t).step == "consent"
            assert submit_step(session, code, "consent", {"consent": "yes"}, now=t).ok
            step = current_page(session, code, now=t).step
            t += timedelta(seconds=30)
            assert submit_step(session, code, step, valid_answers(SPEC, step), now=t).ok
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(m.Participant)) == 1
    finally:
        engine.dispose()
