"""What the migration tests write into a previous release's database, and read back.

`release_with_one_in_progress(url, revision, spec, code, at)` builds a previous
release's database with a live study and one participant half-way through;
`finish_half_way` walks them to the debrief on the upgraded one.

The rows are plain SQL of the schema every release since s003 shares for these tables
(study and study_version), so they stay true to the database an upgrade starts from.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.migrate import upgrade
from framelab.db.session import make_engine
from framelab.domain.study import Study
from framelab.services.flow import current_page, submit_step
from tests.factories import valid_answers


def insert_live_study(conn: sa.Connection, spec: Study, at: datetime, salt: str = "salt") -> None:
    """Study 1, live, with its first version locked at `at` (a naive UTC time)."""
    conn.execute(
        sa.text(
            "INSERT INTO study (id, slug, title, status, current_version, salt, created_at, "
            "updated_at) VALUES (1, :slug, 'T', 'live', 1, :salt, :t, :t)"
        ),
        {"slug": spec.slug, "salt": salt, "t": at},
    )
    conn.execute(
        sa.text(
            "INSERT INTO study_version (id, study_id, version, spec_json, spec_hash, "
            "created_at, locked_at) VALUES (1, 1, 1, :spec, :hash, :t, :t)"
        ),
        {"spec": spec.canonical_json(), "hash": spec.content_hash(), "t": at},
    )


def finish_half_way(session: Session, spec: Study, code: str, start: datetime) -> datetime:
    """Walk a participant from their current page to the debrief (blocking answer 3);
    returns the time of the last answer."""
    t = start
    while (step := current_page(session, code, now=t).step) != "debrief":
        t += timedelta(seconds=30)
        form = (
            valid_answers(spec, step, ideology="3")
            if step == "pre"
            else (valid_answers(spec, step) if step in ("post", "intent") else {})
        )
        assert submit_step(session, code, step, form, now=t).ok, step
    return t


def release_with_one_in_progress(
    url: str, revision: str, spec: Study, code: str, at: datetime, *, source: str | None = None
):
    """A database built by the migrations up to `revision` holding `spec` live (study 1)
    and participant 1 (`code`, from `source`) consented and on the pre page at `at`
    (aware, UTC)."""
    upgrade(url, revision)
    engine = make_engine(url)
    naive = at.replace(tzinfo=None)
    with engine.begin() as conn:
        insert_live_study(conn, spec, naive)
        conn.execute(
            sa.text(
                "INSERT INTO participant (id, code, study_id, study_version_id, spec_hash, "
                "source, language, status, step, pilot, attention_failed, speeder, honeypot, "
                "rehearsal, duplicate, started_at, consented_at) VALUES (1, :code, 1, 1, "
                ":hash, :source, 'en', 'started', 'pre', :no, :no, :no, :no, :no, :no, :t, :t)"
            ),
            {
                "code": code,
                "hash": spec.content_hash(),
                "source": source,
                "no": False,
                "t": naive,
            },
        )
        if conn.dialect.name == "postgresql":
            for table in ("study", "study_version", "participant"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT MAX(id) FROM {table}))"
                    )
                )
    engine.dispose()
