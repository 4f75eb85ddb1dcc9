"""Reviewer sign-off (DECISIONS rule 9), the audit trail, and campaign versions that keep
their links (DECISIONS rule 1; issue 14 "a new version keeps the campaign's links
working", issue 16 finding 2 and "Reviewer sign-off").

Participants go through the real participant pages (test client), studies through the
studio's services and routes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from framelab.db.models import Participant, Study
from framelab.db.review import AuditEvent
from framelab.db.session import writing
from framelab.domain.study import StudyError
from framelab.services import accounts, audit, campaigns, review, study_drafts, study_lifecycle
from framelab.services.flow import participant_place
from framelab.services.study_versions import get_study
from framelab.web.database import db_session
from tests.factories import REVIEWER_EMAIL, approve, make_study, publish
from tests.members import give_role
from tests.studio.conftest import SLUG

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
OWNER = accounts.Account(id=0, email="owner@example.org", is_admin=False, is_active=True)


@pytest.fixture
def session(studio_app):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as s:
        yield s


def _owner(session) -> accounts.Account:
    return next(a for a in accounts.list_accounts(session) if a.email == "owner@example.org")


def _new_version(session, slug: str, now: datetime):
    created = study_lifecycle.new_version(session, slug, account=_owner(session), now=now)
    session.rollback()
    return created


def _events(session, slug: str) -> list[str]:
    study = get_study(session, slug)
    rows = session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.study_id == study.id).order_by(AuditEvent.id)
    ).all()
    session.rollback()
    return list(rows)


def _edit_title(session, slug: str, title: str, now: datetime) -> None:
    loaded = get_study(session, slug)
    texts = {lang: f"{title} ({lang})" for lang in loaded.spec.languages}
    study_drafts.update_study(
        session, slug, study_drafts.replace_sections(loaded.spec, {"title": texts}), now=now
    )
    session.rollback()  # SQLite: a read left open would block the next request's write


# ---------------------------------------------------------------- reviewer sign-off


def test_a_study_goes_live_only_with_an_approval_of_its_current_spec(session):
    with pytest.raises(study_lifecycle.ReviewRequired, match="no reviewer has approved it yet"):
        study_lifecycle.change_status(session, SLUG, "live", now=T0)
    approve(session, SLUG, now=T0)
    assert review.approved(session, SLUG)
    # An edit after the approval voids it: the approval names the spec it covered.
    _edit_title(session, SLUG, "Edited after approval", T0 + timedelta(minutes=5))
    state = review.review_state(session, SLUG)
    assert state.approval is None and state.voided is not None
    with pytest.raises(study_lifecycle.ReviewRequired, match="edited after the reviewer approved"):
        study_lifecycle.change_status(session, SLUG, "live", now=T0 + timedelta(minutes=6))
    assert get_study(session, SLUG).status == "draft"
    approve(session, SLUG, now=T0 + timedelta(minutes=7))
    assert (
        study_lifecycle.change_status(session, SLUG, "live", now=T0 + timedelta(minutes=8)).status
        == "live"
    )
    # Pausing and resuming a launched study need no new sign-off.
    study_lifecycle.change_status(session, SLUG, "pause", now=T0 + timedelta(hours=1))
    assert (
        study_lifecycle.change_status(session, SLUG, "resume", now=T0 + timedelta(hours=2)).status
        == "live"
    )


def test_the_instance_may_turn_sign_off_off(session):
    changed = study_lifecycle.change_status(session, SLUG, "live", now=T0, require_review=False)
    assert changed.status == "live"


def test_only_a_reviewer_of_the_study_decides_and_only_on_what_they_read(session):
    approve(session, SLUG, now=T0)  # makes the reviewer account and membership
    loaded = get_study(session, SLUG)
    session.rollback()
    owner = _owner(session)
    with pytest.raises(review.ReviewError, match="only a reviewer"):
        review.decide(session, SLUG, owner, "approved", spec_hash=loaded.spec_hash, now=T0)
    reviewer = next(a for a in accounts.list_accounts(session) if a.email == REVIEWER_EMAIL)
    with pytest.raises(review.ReviewError, match="edited while you were reading"):
        review.decide(session, SLUG, reviewer, "approved", spec_hash="0" * 64, now=T0)
    with pytest.raises(review.ReviewError, match="say what needs to change"):
        review.decide(
            session, SLUG, reviewer, "changes_requested", spec_hash=loaded.spec_hash, now=T0
        )
    state = review.decide(
        session, SLUG, reviewer, "changes_requested", spec_hash=loaded.spec_hash,
        comment="The debrief must name a support line.", now=T0 + timedelta(minutes=1),
    )  # fmt: skip
    # The newest decision on the current spec counts: changes requested, no approval.
    assert state.approval is None and state.changes_requested is not None
    with pytest.raises(study_lifecycle.ReviewRequired):
        study_lifecycle.change_status(session, SLUG, "live", now=T0 + timedelta(minutes=2))


def test_an_admin_reviews_through_a_reviewer_membership_only(session):
    admin = next(a for a in accounts.list_accounts(session) if a.is_admin)
    loaded = get_study(session, SLUG)
    session.rollback()
    # An admin is owner of everything, which is not a reviewer.
    with pytest.raises(review.ReviewError):
        review.decide(session, SLUG, admin, "approved", spec_hash=loaded.spec_hash, now=T0)
    assert accounts.role_on_study(session, admin, loaded.id) == "owner"
    give_role(session, loaded.id, admin.email, "reviewer", now=T0)
    # Holding the reviewer role, the admin is this study's reviewer, not its owner.
    assert accounts.role_on_study(session, admin, loaded.id) == "reviewer"
    review.decide(session, SLUG, admin, "approved", spec_hash=loaded.spec_hash, now=T0)
    assert review.approved(session, SLUG)


def test_the_audit_trail_records_edits_approvals_locks_launch_and_close(session):
    owner = _owner(session)
    with audit.acting_as(audit.Actor(owner.id, owner.email)):
        _edit_title(session, SLUG, "Draft two", T0)
        study_lifecycle.lock_plan(session, SLUG, now=T0 + timedelta(minutes=1))
    approve(session, SLUG, now=T0 + timedelta(minutes=2))
    with audit.acting_as(audit.Actor(owner.id, owner.email)):
        study_lifecycle.change_status(session, SLUG, "live", now=T0 + timedelta(minutes=3))
        study_lifecycle.change_status(session, SLUG, "close", now=T0 + timedelta(hours=3))
    assert _events(session, SLUG) == ["edited", "plan_locked", "approved", "launched", "closed"]
    entries = audit.trail(session, [get_study(session, SLUG).id])
    session.rollback()
    who = {e.action: e.actor for e in entries}
    assert who["edited"] == who["launched"] == "owner@example.org"
    assert who["approved"] == REVIEWER_EMAIL
    assert "title" in next(e.detail for e in entries if e.action == "edited")
    # Append-only: an event cannot be changed.
    event = session.scalars(sa.select(AuditEvent)).first()
    event.detail = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        session.flush()
    session.rollback()


def test_the_review_page_shows_the_texts_and_lets_only_reviewers_decide(client_for, session):
    approve(session, SLUG, now=T0)
    _edit_title(session, SLUG, "Edited", T0 + timedelta(minutes=1))
    loaded = get_study(session, SLUG)
    session.rollback()
    owner_page = (
        client_for("owner@example.org").get(f"/studio/{SLUG}/review").get_data(as_text=True)
    )
    assert 'id="review-voided"' in owner_page and 'id="review-form"' not in owner_page
    assert (
        "Tu participación" in owner_page
        or loaded.spec.text(loaded.spec.consent, "en")[:40] in owner_page
    )
    reviewer = client_for(REVIEWER_EMAIL)
    page = reviewer.get(f"/studio/{SLUG}/review").get_data(as_text=True)
    assert 'id="review-form"' in page
    assert f'name="spec_hash" value="{loaded.spec_hash}"' in page
    answer = reviewer.post(
        f"/studio/{SLUG}/review",
        data={"decision": "approved", "spec_hash": loaded.spec_hash, "comment": ""},
    )
    assert answer.status_code == 302
    assert review.approved(session, SLUG)
    # A non-reviewer posting the same form changes nothing.
    _edit_title(session, SLUG, "Edited again", T0 + timedelta(minutes=2))
    fresh = get_study(session, SLUG).spec_hash
    session.rollback()
    client_for("editor@example.org").post(
        f"/studio/{SLUG}/review", data={"decision": "approved", "spec_hash": fresh}
    )
    assert not review.approved(session, SLUG)
    launch = client_for("owner@example.org").get(f"/studio/{SLUG}/launch").get_data(as_text=True)
    assert 'id="launch-needs-review"' in launch and 'id="launch-form"' not in launch


# ---------------------------------------------------------------- campaign versions


def _consent(client, slug: str, **query: str) -> str:
    """Consent on the campaign's link; returns the slug of the version the participant is in.

    Their pages are at the neutral /p whichever version it is (the cookie says who they
    are), so the version is looked up from their code.
    """
    suffix = ("?" + "&".join(f"{k}={v}" for k, v in query.items())) if query else ""
    assert client.get(f"/s/{slug}{suffix}").status_code in (200, 302)
    answer = client.post(f"/s/{slug}{suffix}", data={"consent": "yes"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    assert answer.headers["Location"] == "/p"
    return _version_of(client)


def _code_of(client) -> str:
    return client.get_cookie("p", path="/p").value


def _version_of(client) -> str:
    with client.application.app_context():
        return participant_place(db_session(), _code_of(client)).slug


def _launch(session, slug: str, now: datetime) -> None:
    approve(session, slug, now=now)
    study_lifecycle.change_status(session, slug, "live", now=now)
    session.rollback()


def test_a_new_version_keeps_the_campaigns_link_and_people_stay_on_their_version(
    studio_app, session
):
    _launch(session, SLUG, T0)
    early = studio_app.test_client()
    assert _consent(early, SLUG) == SLUG
    early_code = _code_of(early)
    version = _new_version(session, SLUG, T0 + timedelta(hours=1))
    assert version.slug == f"{SLUG}-v2" and version.status == "draft"
    _edit_title(session, version.slug, "Version 2", T0 + timedelta(hours=1))
    # Until version 2 goes live, the campaign's link still enrols into version 1.
    assert _consent(studio_app.test_client(), SLUG) == SLUG
    _launch(session, version.slug, T0 + timedelta(hours=2))
    found = campaigns.campaign(session, get_study(session, SLUG).id)
    session.rollback()
    assert [v.slug for v in found.versions] == [SLUG, f"{SLUG}-v2"]
    assert found.receiving.slug == f"{SLUG}-v2"
    # Newcomers on the campaign's link (and on version 1's own address) take version 2.
    newcomer = studio_app.test_client()
    assert _consent(newcomer, SLUG) == f"{SLUG}-v2"
    # The early participant returns on the campaign's link and lands on their own page.
    back = early.get(f"/s/{SLUG}")
    assert back.status_code == 302 and back.headers["Location"] == "/p"
    assert _code_of(early) == early_code and _version_of(early) == SLUG
    # Each version keeps its own data: version 1 has its two, version 2 its newcomers.
    counts = dict(
        session.execute(
            sa.select(Study.slug, sa.func.count(Participant.id))
            .join(Participant, Participant.study_id == Study.id)
            .group_by(Study.slug)
        ).all()
    )
    session.rollback()
    assert counts == {SLUG: 2, f"{SLUG}-v2": 1}
    assert _events(session, version.slug)[-1] == "receiving"


def test_a_panel_id_is_one_namespace_across_the_campaigns_versions(studio_app, session):
    _launch(session, SLUG, T0)
    panel = {"PROLIFIC_PID": "5f1e0c0ffee0000000000001"}
    first = studio_app.test_client()
    assert _consent(first, SLUG, **panel) == SLUG
    version = _new_version(session, SLUG, T0)
    _launch(session, version.slug, T0 + timedelta(hours=1))
    again = studio_app.test_client()
    # The same panel id comes back after version 2 opened: enrolled in version 2 like
    # anyone (a panel id never resumes), and recognised across versions as a duplicate.
    assert _consent(again, SLUG, **panel) == version.slug
    flags = dict(
        session.execute(
            sa.select(Participant.code, Participant.duplicate).where(
                Participant.code.in_([_code_of(first), _code_of(again)])
            )
        ).all()
    )
    salts = session.scalars(sa.select(Study.salt).where(Study.slug.like(f"{SLUG}%"))).all()
    session.rollback()
    assert flags == {_code_of(first): False, _code_of(again): True}
    assert len(set(salts)) == 1


def test_a_version_in_pilot_is_reached_at_its_own_address_only(studio_app, session):
    _launch(session, SLUG, T0)
    version = _new_version(session, SLUG, T0)
    study_lifecycle.change_status(session, version.slug, "pilot", now=T0)
    session.rollback()
    assert _consent(studio_app.test_client(), SLUG) == SLUG
    assert _consent(studio_app.test_client(), version.slug) == version.slug
    pilots = session.scalars(
        sa.select(Participant.pilot).join(Study).where(Study.slug == version.slug)
    ).all()
    session.rollback()
    assert pilots == [True]


def test_switching_back_is_an_owners_confirmed_and_audited_action(client_for, studio_app, session):
    _launch(session, SLUG, T0)
    version = _new_version(session, SLUG, T0)
    _launch(session, version.slug, T0 + timedelta(hours=1))
    editor = client_for("editor@example.org")
    assert (
        editor.post(f"/studio/{SLUG}/receive", data={"confirm_receive": "yes"}).status_code == 403
    )
    owner = client_for("owner@example.org")
    overview = owner.get(f"/studio/{SLUG}/").get_data(as_text=True)
    assert 'id="make-receiving"' in overview and f"http://localhost/s/{SLUG}" in overview
    owner.post(f"/studio/{SLUG}/receive", data={})  # not confirmed: nothing changes
    assert campaigns.campaign(session, get_study(session, SLUG).id).receiving.slug == version.slug
    session.rollback()
    owner.post(f"/studio/{SLUG}/receive", data={"confirm_receive": "yes"})
    assert campaigns.campaign(session, get_study(session, SLUG).id).receiving.slug == SLUG
    session.rollback()
    assert _consent(studio_app.test_client(), f"{SLUG}-v2") == SLUG
    trail = owner.get(f"/studio/{SLUG}/audit").get_data(as_text=True)
    assert trail.count('class="audit-receiving"') == 2
    assert "owner@example.org" in trail


def test_new_version_never_takes_another_teams_slug(session):
    """Issue 16 finding 2: the next slug was checked untruncated, then cut to 64 characters."""
    long_slug = "b" * 64
    publish(session, make_study(slug=long_slug), status="draft")
    victim = "b" * 61 + "-v2"  # what cutting "<64 b>-v2" to 64 characters gives
    publish(session, make_study(slug=victim), status="live")
    before = get_study(session, victim)
    session.rollback()
    created = _new_version(session, long_slug, T0)
    assert len(created.slug) <= 64 and created.slug == "b" * 61 + "-v3"
    after = get_study(session, victim)
    session.rollback()
    assert (after.status, after.spec_hash, after.version) == (
        before.status, before.spec_hash, before.version,
    )  # fmt: skip


def test_a_slug_taken_at_the_last_moment_is_refused_without_changing_anything(session):
    root = session.scalar(sa.select(Study).where(Study.slug == SLUG))
    publish(session, make_study(slug=f"{SLUG}-v2"), status="draft")
    root = session.scalar(sa.select(Study).where(Study.slug == SLUG))
    # Inside new_version's writing() block, as production calls it: the error rolls it back.
    with pytest.raises(StudyError, match="just taken"), writing(session):
        campaigns.insert_version_study(session, root, f"{SLUG}-v2", "T", now=T0)
    assert session.scalar(sa.select(sa.func.count()).select_from(Study).where(
        Study.campaign_id.is_not(None))) == 0  # fmt: skip
    session.rollback()


def test_the_launch_page_of_a_version_says_it_takes_over_the_link(client_for, session):
    _launch(session, SLUG, T0)
    version = _new_version(session, SLUG, T0)
    approve(session, version.slug, now=T0)
    page = (
        client_for("owner@example.org").get(f"/studio/{version.slug}/launch").get_data(as_text=True)
    )
    assert 'id="launch-switch"' in page and 'id="launch-form"' in page
    assert re.search(rf'id="launch-study-link" href="http://localhost/s/{SLUG}"', page)


def test_downloads_are_audited_and_the_bundle_carries_the_trail(client_for, session):
    import io
    import json
    import zipfile

    _launch(session, SLUG, T0)
    owner = client_for("owner@example.org")
    assert owner.get(f"/studio/{SLUG}/download/csv").status_code == 200
    archive = owner.get(f"/studio/{SLUG}/bundle.zip")
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.data)) as bundle:
        trail = json.loads(bundle.read(f"{SLUG}/audit_trail.json"))
    actions = [e["action"] for e in trail]
    assert actions[:2] == ["approved", "launched"] and actions[-1] == "exported"
    assert trail[-1]["who"] == "owner@example.org" and trail[-1]["detail"] == f"{SLUG}-interim.csv"
    assert _events(session, SLUG)[-1] == "exported"  # the bundle's own download


def test_a_study_loaded_on_the_command_line_is_audited_as_the_operators(tmp_path):
    from click.testing import CliRunner

    from framelab.cli import main as cli
    from framelab.db.migrate import upgrade
    from framelab.db.session import make_engine

    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    upgrade(url)
    study_file = tmp_path / "study.yaml"
    study_file.write_text(make_study().to_yaml(), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        cli, ["load-study", str(study_file), "--status", "live", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    assert "does not ask for the studio's reviewer sign-off" in result.output
    again = runner.invoke(
        cli, ["load-study", str(study_file), "--status", "live", "--database-url", url]
    )
    assert again.exit_code == 0 and "reviewer sign-off" not in again.output
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(AuditEvent.action, AuditEvent.actor)).all()
    engine.dispose()
    assert rows == [("launched", audit.COMMAND_LINE.name)]
