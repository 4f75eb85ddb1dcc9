"""Migration s006 (campaigns, reviewer role, reviews, audit trail) on a database created by
the previous release (s005), per DECISIONS rule 11.

The previous release's database is built by its own migrations (up to s005) and filled
with SQL of that schema: a live study with an owner, one participant who completed and
one half-way through. After the upgrade the study is a campaign of one whose link still
enrols into it, the half-way participant resumes and completes, the owner keeps their
role, a reviewer role can be given, and a new version keeps the campaign's link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from framelab.db import models as m
from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory
from framelab.services import accounts, campaigns, study_lifecycle
from framelab.services.flow import current_page, link_entry, submit_step
from framelab.services.study_versions import get_study, lock_hashes
from tests.factories import approve, make_study, valid_answers

LAUNCHED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ARRIVED = LAUNCHED + timedelta(hours=2)
SPEC = make_study(target_n=50)
OLD_PARTICIPANT = dict(
    study_id=1, study_version_id=1, spec_hash=SPEC.content_hash(), language="en",
    pilot=False, attention_failed=False, speeder=False, honeypot=False, started_at=ARRIVED,
)  # fmt: skip


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None)


def _previous_release(url: str) -> None:
    upgrade(url, "s005")
    hashes = lock_hashes(SPEC)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO study (id, slug, title, status, current_version, salt, created_at, "
                "updated_at) VALUES (1, :slug, 'T', 'live', 1, 'old-salt', :t, :t)"
            ),
            {"slug": SPEC.slug, "t": _naive(LAUNCHED)},
        )
        conn.execute(
            sa.insert(m.StudyVersion.__table__).values(
                id=1, study_id=1, version=1, spec_json=SPEC.canonical_json(),
                spec_hash=SPEC.content_hash(), created_at=LAUNCHED, locked_at=LAUNCHED,
                frames_hash=hashes["frames"], items_hash=hashes["items"],
                design_hash=hashes["design"], plan_hash=hashes["plan"], plan_locked_at=LAUNCHED,
            )
        )  # fmt: skip
        conn.execute(
            sa.text(
                "INSERT INTO account (id, email, password_hash, is_admin, is_active, created_at) "
                "VALUES (1, 'owner@example.org', 'x', false, true, :t)"
            ),
            {"t": _naive(LAUNCHED)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO study_membership (user_id, study_id, role, created_at) "
                "VALUES (1, 1, 'owner', :t)"
            ),
            {"t": _naive(LAUNCHED)},
        )
        for code, status, step in (
            ("done-already-1234", "completed", "debrief"),
            ("resume-me-123456", "started", "consent"),
        ):
            conn.execute(
                sa.insert(m.Participant.__table__).values(
                    code=code, status=status, step=step, **OLD_PARTICIPANT
                )
            )
        if conn.dialect.name == "postgresql":
            # Rows inserted with explicit ids leave the id sequences behind.
            for table in ("study", "study_version", "account"):
                conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1)"))
    engine.dispose()


def _newcomers_go_to(engine) -> str:
    with make_session_factory(engine)() as session:
        entry, _study = link_entry(session, SPEC.slug)
        return entry.enrol_slug


def test_s006_makes_each_study_a_campaign_of_one_that_keeps_its_link_and_participants(
    database_url,
):
    _previous_release(database_url)
    assert upgrade(database_url) == head_revision()
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        factory = make_session_factory(engine)
        with factory() as session:
            study = get_study(session, SPEC.slug)
            found = campaigns.campaign(session, study.id)
            assert [v.slug for v in found.versions] == [SPEC.slug]
            assert found.receiving.slug == SPEC.slug
            session.rollback()
            assert _newcomers_go_to(engine) == SPEC.slug
            # The half-way participant resumes and completes.
            code, t = "resume-me-123456", ARRIVED + timedelta(minutes=1)
            assert submit_step(session, code, "consent", {"consent": "yes"}, now=t).ok
            while (step := current_page(session, code, now=t).step) != "debrief":
                t += timedelta(seconds=30)
                assert submit_step(session, code, step, valid_answers(SPEC, step), now=t).ok
            # Members survive; the reviewer role exists now.
            owner = next(a for a in accounts.list_accounts(session) if a.email.startswith("owner"))
            assert [(x.email, x.role) for x in accounts.list_members(session, study.id)] == [
                ("owner@example.org", "owner")
            ]
            # A new version keeps the campaign's link and its duplicate namespace.
            version = study_lifecycle.new_version(session, SPEC.slug, account=owner, now=t)
            approve(session, version.slug, now=t)
            study_lifecycle.change_status(session, version.slug, "live", now=t)
            session.rollback()
            assert _newcomers_go_to(engine) == version.slug
            salt = session.scalar(sa.select(m.Study.salt).where(m.Study.slug == version.slug))
            assert salt == "old-salt"
            session.rollback()
    finally:
        engine.dispose()


def test_upgrading_an_older_release_keeps_every_answer_visit_assignment_and_role(database_url):
    """Batch migrations rebuild tables on SQLite (s005 the participant table, s007 the
    account table); with foreign keys on, that deleted every answer, page visit and role
    that referenced the rebuilt table, or failed on the assignment log."""
    upgrade(database_url, "s004")
    engine = make_engine(database_url)
    t = _naive(ARRIVED)
    statements = [
        "INSERT INTO study (id, slug, title, status, current_version, salt, created_at, "
        "updated_at) VALUES (1, 'old', 'T', 'live', 1, 's', :t, :t)",
        "INSERT INTO study_version (id, study_id, version, spec_json, spec_hash, created_at) "
        "VALUES (1, 1, 1, '{}', 'h', :t)",
        "INSERT INTO account (id, email, password_hash, is_admin, is_active, created_at) "
        "VALUES (1, 'owner@example.org', 'x', false, true, :t)",
        "INSERT INTO study_membership (user_id, study_id, role, created_at) "
        "VALUES (1, 1, 'owner', :t)",
        "INSERT INTO participant (id, code, study_id, study_version_id, spec_hash, language, "
        "arm, stratum, step, status, pilot, attention_failed, speeder, honeypot, started_at) "
        "VALUES (1, 'code-1234567890', 1, 1, 'h', 'en', 'care', 'all', 'post', 'assigned', "
        "false, false, false, false, :t)",
        "INSERT INTO response (participant_id, item_id, phase, value_int, answered_at) "
        "VALUES (1, 'support', 'pre', 4, :t)",
        "INSERT INTO page_visit (participant_id, step, shown_at) VALUES (1, 'pre', :t)",
        "INSERT INTO assignment_log (participant_id, study_id, arm, stratum, position, "
        "block_index, position_in_block, seed, spec_hash, assigned_at) "
        "VALUES (1, 1, 'care', 'all', 0, 0, 0, 7, 'h', :t)",
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement), {"t": t})
    engine.dispose()
    assert upgrade(database_url) == head_revision()
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            counts = {
                table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
                for table in (
                    "participant", "response", "page_visit", "assignment_log",
                    "study_membership", "account",
                )
            }  # fmt: skip
        assert counts == dict.fromkeys(counts, 1)
    finally:
        engine.dispose()
