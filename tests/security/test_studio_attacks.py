"""Issue 16, findings 2 and 3 as a hostile staff member would try them, through the studio's
routes; both now fail and change nothing.

2. "New version" took over another team's study: the next slug was checked untruncated,
   then cut to 64 characters, and publishing updated whatever study had that slug.
3. An editor closed a live study for good by lowering the target sample.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from framelab.db.accounts import StudyMembership, User
from framelab.db.models import Participant
from framelab.services import study_drafts, study_lifecycle
from framelab.services.study_versions import get_study, publish_study
from tests.factories import approve, make_study
from tests.security.conftest import table_rows
from tests.studio.conftest import SLUG
from tests.studio.participants import complete_participant

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ATTACKER = "stranger@example.org"  # owner of other-study only


def _session(app):
    from framelab.web.database import EXTENSION_KEY

    return app.extensions[EXTENSION_KEY]()


def test_finding_2_new_version_never_touches_another_teams_study(studio_app, client_for):
    mine = "b" * 64  # the attacker's own study, a 64-character slug
    victim = "b" * 61 + "-v2"  # what "<mine>-v2" cut to 64 characters used to give
    with _session(studio_app) as session:
        publish_study(session, make_study(slug=victim), status="pilot", now=T0)
        complete_participant(session, victim, start=T0)  # the victim team's pilot data
        publish_study(session, make_study(slug=mine), status="live", now=T0)
        attacker_id = session.scalar(sa.select(User.id).where(User.email == ATTACKER))
        session.add(
            StudyMembership(
                user_id=attacker_id, study_id=get_study(session, mine).id, role="owner",
                created_at=T0,
            )
        )  # fmt: skip
        session.commit()
    before = {k: v for k, v in table_rows(studio_app).items() if k in ("study", "study_membership")}
    attacker = client_for(ATTACKER)
    answer = attacker.post(f"/studio/{mine}/new-version")
    assert answer.status_code == 302
    with _session(studio_app) as session:
        victim_study = get_study(session, victim)
        assert victim_study.status == "pilot"  # not reset to draft
        roles = session.scalars(
            sa.select(StudyMembership.role).where(
                StudyMembership.study_id == victim_study.id,
                StudyMembership.user_id == attacker_id,
            )
        ).all()
        assert roles == []  # the attacker gained no role on the victim's study
        pilots = session.scalar(
            sa.select(sa.func.count())
            .select_from(Participant)
            .where(Participant.study_id == victim_study.id)
        )
        assert pilots == 1
        created = session.scalar(
            sa.select(sa.func.max(sa.literal_column("id"))).select_from(sa.table("study"))
        )
        assert get_study(session, "b" * 61 + "-v3").id == created  # the next free slug
    after = table_rows(studio_app)
    victim_rows = [r for r in before["study"] if victim in str(r)]
    assert victim_rows and all(r in after["study"] for r in victim_rows)
    # The victim's study pages stay closed to the attacker.
    assert attacker.get(f"/studio/{victim}/downloads").status_code == 404
    assert attacker.get(f"/studio/{victim}/download/csv?pilot=1").status_code == 404


def test_finding_3_an_editor_cannot_close_a_live_study_by_lowering_its_target(
    studio_app, client_for
):
    with _session(studio_app) as session:
        loaded = get_study(session, SLUG)
        study_drafts.update_study(
            session, SLUG, study_drafts.replace_sections(loaded.spec, {"target_n": 5}), now=T0
        )
        approve(session, SLUG, now=T0)
        study_lifecycle.change_status(session, SLUG, "live", now=T0)
        for _ in range(2):
            complete_participant(session, SLUG, start=T0)
        session.rollback()
    editor = client_for("editor@example.org")
    for path, data in (
        (f"/studio/{SLUG}/plan/target", {"target_n": "1", "confirm_raise": "yes"}),
        (f"/studio/{SLUG}/texts", {"target_n": "1"}),
        (f"/studio/{SLUG}/status/close", {"confirm_close": "yes"}),
    ):
        editor.post(path, data=data)
    for page in ("dashboard", "", "results"):
        editor.get(f"/studio/{SLUG}/{page}")
    with _session(studio_app) as session:
        after = get_study(session, SLUG)
        assert (after.status, after.spec.target_n) == ("live", 5)
