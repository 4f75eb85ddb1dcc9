"""Migration s008 (keyed pseudonyms) on a database created by the previous release (s007).

The previous release's database is built by its own migrations (up to s007) and filled
with SQL of that schema: a live study and two panel participants whose panel, study and
session ids are stored the way that release stored them, `sha256(salt:id)`; one of them
is half-way through. After the upgrade every stored hash is HMAC(key, old hash) under a
key file made with mode 0600, the database keeps the key's check value, the half-way
participant resumes and finishes, and the upgraded rows are what a lookup of the same
panel ids computes now, so a returning id is still recognised (as a duplicate).
"""

from __future__ import annotations

import hashlib
import stat
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from framelab.db import models as m
from framelab.db.migrate import current_revision, head_revision, upgrade
from framelab.db.session import make_engine, make_session_factory
from framelab.services import pseudonyms
from framelab.services.flow import consent_from_link, current_page, submit_step
from tests.factories import make_study, valid_answers

BEFORE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
SALT = "old-salt"
SPEC = make_study(target_n=50)
PEOPLE = {
    # code: (PROLIFIC_PID, STUDY_ID, SESSION_ID, step)
    "resume-me-123456": ("5f0a1b2c3d4e5f6a7b8c9d0e", "st-1", "se-1", "consent"),
    "finished-1234567": ("60aa1b2c3d4e5f6a7b8c9d11", "st-1", "se-2", "debrief"),
}


def _old_hash(value: str) -> str:
    return hashlib.sha256(f"{SALT}:{value}".encode()).hexdigest()


def _previous_release(url: str) -> None:
    upgrade(url, "s007")
    engine = make_engine(url)
    naive = BEFORE.replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO study (id, slug, title, status, current_version, salt, created_at, "
                "updated_at) VALUES (1, :slug, 'T', 'live', 1, :salt, :t, :t)"
            ),
            {"slug": SPEC.slug, "salt": SALT, "t": naive},
        )
        conn.execute(
            sa.text(
                "INSERT INTO study_version (id, study_id, version, spec_json, spec_hash, "
                "created_at, locked_at) VALUES (1, 1, 1, :spec, :hash, :t, :t)"
            ),
            {"spec": SPEC.canonical_json(), "hash": SPEC.content_hash(), "t": naive},
        )
        for code, (pid, study, session, step) in PEOPLE.items():
            conn.execute(
                sa.text(
                    "INSERT INTO participant (code, study_id, study_version_id, spec_hash, "
                    "panel_hash, panel_study_hash, panel_session_hash, source, language, "
                    "status, step, pilot, attention_failed, speeder, honeypot, rehearsal, "
                    "started_at) VALUES (:code, 1, 1, :hash, :p, :st, :se, 'prolific', 'en', "
                    ":status, :step, :no, :no, :no, :no, :no, :t)"
                ),
                {
                    "code": code,
                    "hash": SPEC.content_hash(),
                    "p": _old_hash(pid),
                    "st": _old_hash(study),
                    "se": _old_hash(session),
                    "status": "completed" if step == "debrief" else "started",
                    "step": step,
                    "no": False,
                    "t": naive,
                },
            )
    engine.dispose()


def test_s008_keys_old_panel_hashes_and_their_ids_are_still_recognised(
    database_url, tmp_path, monkeypatch
):
    key_file = tmp_path / "keys" / "pseudonym_key"
    monkeypatch.setenv(pseudonyms.KEY_FILE_ENV, str(key_file))
    _previous_release(database_url)
    assert upgrade(database_url) == head_revision()

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = pseudonyms.load_key(key_file)
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            stored = {
                row.code: row for row in conn.execute(sa.select(m.Participant.__table__)).all()
            }
            check = conn.scalar(sa.select(m.PseudonymCheck.value))
        assert check == key.check
        for code, (pid, study, session, _step) in PEOPLE.items():
            row = stored[code]
            # HMAC(key, old hash), which is what a lookup of the raw id computes now.
            assert row.panel_hash == key.rekey(_old_hash(pid)) == key.pseudonym(SALT, pid)
            assert row.panel_study_hash == key.pseudonym(SALT, study)
            assert row.panel_session_hash == key.pseudonym(SALT, session)
            # The unkeyed hash is gone: a dump plus the salt no longer tests the id.
            assert _old_hash(pid) not in {row.panel_hash, row.panel_study_hash}
            assert row.duplicate is False
        pseudonyms.verify_database(engine, key, now=AFTER)  # the key file belongs to it

        with make_session_factory(engine)() as session:
            # The half-way participant resumes after the upgrade and finishes.
            code, t = "resume-me-123456", AFTER
            assert current_page(session, code, now=t).step == "consent"
            assert submit_step(session, code, "consent", {"consent": "yes"}, now=t).ok
            while (step := current_page(session, code, now=t).step) != "debrief":
                t += timedelta(seconds=30)
                assert submit_step(session, code, step, valid_answers(SPEC, step), now=t).ok
            # The finished one's panel id comes back from another browser: recognised.
            pid = PEOPLE["finished-1234567"][0]
            again, result = consent_from_link(
                session,
                SPEC.slug,
                {"consent": "yes"},
                language="en",
                source=None,
                panel={"PROLIFIC_PID": pid},
                key=key,
                now=t,
            )
            assert result.ok
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(m.Participant.code, m.Participant.duplicate, m.Participant.panel_hash)
            ).all()
        flags = {code: (duplicate, panel) for code, duplicate, panel in rows}
        assert flags[again] == (True, None)
        assert len(rows) == 3
    finally:
        engine.dispose()


def test_s008_leaves_a_database_without_panel_hashes_for_the_app_to_key(
    database_url, tmp_path, monkeypatch
):
    key_file = tmp_path / "pseudonym_key"
    monkeypatch.setenv(pseudonyms.KEY_FILE_ENV, str(key_file))
    upgrade(database_url, "s007")
    assert upgrade(database_url) == head_revision()
    assert not key_file.exists()  # no file made for nothing
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(m.PseudonymCheck)) == 0
        key = pseudonyms.load_or_create_key(key_file)
        pseudonyms.verify_database(engine, key, now=AFTER)  # adopts it
        with pytest.raises(pseudonyms.PseudonymKeyError, match="does not belong"):
            other = pseudonyms.PseudonymKey((b"\x01" * 32,))
            pseudonyms.verify_database(engine, other, now=AFTER)
    finally:
        engine.dispose()
