"""Lifecycle rules: edits in draft, locks when live, pilot data left out, target closes, versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from framelab.domain.builder import editing
from framelab.services import study_drafts, study_lifecycle
from framelab.services.accounts import Account
from framelab.services.dashboard import dashboard
from framelab.services.export import export_tidy
from framelab.services.export_plan import analysis_plan
from framelab.services.study_drafts import StudyLocked
from framelab.services.study_lifecycle import LifecycleError
from framelab.services.study_versions import get_study
from tests.factories import approve, make_study
from tests.participants import export_id_for
from tests.studio.conftest import SLUG
from tests.studio.participants import complete_participant

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def session(studio_app):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as s:
        yield s


def _longer_care_body(spec):
    index = spec.arm_ids.index("care")
    bodies = {
        lang: spec.text(spec.arms[index].frame.body, lang) + " Extra." for lang in spec.languages
    }
    titles = {lang: spec.text(spec.arms[index].frame.title, lang) for lang in spec.languages}
    return editing.edit_frame(spec, index, titles, bodies, spec.arms[index].frame.values)


def test_a_draft_is_edited_in_place_without_new_versions(session):
    before = get_study(session, SLUG)
    after = study_drafts.update_study(session, SLUG, _longer_care_body(before.spec), now=T0)
    assert after.version == before.version
    assert after.spec_hash != before.spec_hash
    assert after.spec.arm("care").frame.body.get("en").endswith("Extra.")


def test_a_live_studys_frame_cannot_be_edited(session):
    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    loaded = get_study(session, SLUG)
    with pytest.raises(
        StudyLocked,
        match=r"arms and frames are locked because the study has gone live.*Create a new version",
    ):
        study_drafts.update_study(session, SLUG, _longer_care_body(loaded.spec), now=T0)
    assert get_study(session, SLUG).spec_hash == loaded.spec_hash


def test_a_live_frame_edit_through_the_studio_is_refused_with_a_clear_message(
    studio_app, client_for, session
):
    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    spec = get_study(session, SLUG).spec
    session.rollback()  # end the read: SQLite's BEGIN IMMEDIATE would block the request
    form = {
        f"title_{lang}": spec.text(spec.arm("care").frame.title, lang) for lang in spec.languages
    }
    form.update({f"body_{lang}": "Completely new text." for lang in spec.languages})
    form.update({"values": "care", "save": "Save frame"})
    response = client_for("owner@example.org").post(f"/studio/{SLUG}/frames/care", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "locked because the study has gone live" in page
    assert "Create a new version" in page
    assert get_study(session, SLUG).spec.arm("care").frame.body.get("en") != "Completely new text."


def test_live_study_still_accepts_unlocked_texts_as_a_new_version(session):
    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    loaded = get_study(session, SLUG)
    complete_participant(session, SLUG, start=T0)
    texts = {
        "debrief": {
            lang: loaded.spec.text(loaded.spec.debrief, lang) + " Thanks."
            for lang in loaded.spec.languages
        }
    }
    edited = editing.edit_texts(
        loaded.spec, texts, loaded.spec.target_n, loaded.spec.quality.speeder_seconds
    )
    after = study_drafts.update_study(session, SLUG, edited, now=T0)
    assert after.version == loaded.version + 1


def test_a_locked_plan_cannot_change_and_the_lock_survives_a_new_version(session):
    study_lifecycle.change_status(session, SLUG, "pilot", now=T0)
    digest = study_lifecycle.lock_plan(session, SLUG, now=T0)
    loaded = get_study(session, SLUG)
    with pytest.raises(StudyLocked, match=r"analysis plan is locked \(pre-registered"):
        study_drafts.update_study(
            session, SLUG, editing.edit_plan(loaded.spec, {"alpha": 0.01}), now=T0
        )
    complete_participant(session, SLUG, start=T0)  # pilot data: the next edit is a new version
    after = study_drafts.update_study(session, SLUG, _longer_care_body(loaded.spec), now=T0)
    assert after.version == loaded.version + 1
    assert study_drafts.lock_state(session, SLUG).hashes["plan"] == digest


def test_a_pilot_participant_is_left_out_of_the_analysis_by_default(session):
    study_lifecycle.change_status(session, SLUG, "pilot", now=T0)
    pilot_code = complete_participant(session, SLUG, start=T0, source="pilot-link")
    approve(session, SLUG, now=T0 + timedelta(hours=1))
    study_lifecycle.change_status(session, SLUG, "live", now=T0 + timedelta(hours=1))
    live_code = complete_participant(session, SLUG, start=T0 + timedelta(hours=2))
    default = export_tidy(session, SLUG)
    assert list(default["participant"]) == [export_id_for(session, live_code)]
    with_pilot = export_tidy(session, SLUG, include_pilot=True)
    assert set(with_pilot["participant"]) == {
        export_id_for(session, pilot_code),
        export_id_for(session, live_code),
    }
    assert analysis_plan(get_study(session, SLUG).spec)["exclude"]["pilot"] is True
    figures = dashboard(session, get_study(session, SLUG))
    assert (figures.total.completed, figures.pilot_completed) == (1, 1)
    # one real participant: counted by source only from a full batch (min_cell_size) on,
    # and the pilot one never
    assert figures.sources == () and figures.sources_pending == 1


def test_status_changes_follow_the_lifecycle(session):
    with pytest.raises(
        LifecycleError, match=r"^status: torture-ban is draft; 'pause' is possible only from live"
    ):
        study_lifecycle.change_status(session, SLUG, "pause", now=T0)
    assert study_lifecycle.change_status(session, SLUG, "pilot", now=T0).status == "pilot"
    approve(session, SLUG, now=T0)
    assert study_lifecycle.change_status(session, SLUG, "live", now=T0).status == "live"
    assert study_lifecycle.change_status(session, SLUG, "pause", now=T0).status == "paused"
    assert study_lifecycle.change_status(session, SLUG, "resume", now=T0).status == "live"
    with pytest.raises(LifecycleError, match="'draft' is possible only from pilot"):
        study_lifecycle.change_status(session, SLUG, "draft", now=T0)
    assert study_lifecycle.change_status(session, SLUG, "close", now=T0).status == "closed"
    assert study_drafts.lock_state(session, SLUG).locked_at is not None


def test_reaching_target_n_closes_the_study_and_shows_results(session):
    loaded = get_study(session, SLUG)
    study_drafts.update_study(
        session, SLUG, study_drafts.replace_sections(loaded.spec, {"target_n": 2}), now=T0
    )
    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    complete_participant(session, SLUG, start=T0)
    assert study_lifecycle.close_if_target_reached(session, SLUG, now=T0) is False
    hidden = dashboard(session, get_study(session, SLUG))
    assert not hidden.results_visible
    assert "1 of 2 completed so far" in hidden.results_reason
    complete_participant(session, SLUG, start=T0 + timedelta(minutes=5))
    # The completion that reached the target closed the study; nothing is left to close.
    assert study_lifecycle.close_if_target_reached(session, SLUG, now=T0) is False
    closed = get_study(session, SLUG)
    assert closed.status == "closed"
    assert dashboard(session, closed).results_visible


def test_new_version_is_a_draft_copy_with_the_same_members(session):
    from framelab.services.accounts import list_members

    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    owner = Account(id=1, email="owner@example.org", is_admin=False, is_active=True)
    copy = study_lifecycle.new_version(session, SLUG, account=owner, now=T0)
    assert (copy.slug, copy.status) == ("torture-ban-v2", "draft")
    assert copy.spec.arms == get_study(session, SLUG).spec.arms
    original = {(m.email, m.role) for m in list_members(session, get_study(session, SLUG).id)}
    assert {(m.email, m.role) for m in list_members(session, copy.id)} == original
    assert (
        study_lifecycle.new_version(session, SLUG, account=owner, now=T0).slug == "torture-ban-v3"
    )


def test_creating_a_study_with_a_taken_slug_names_the_slug_field(session):
    owner = Account(id=1, email="owner@example.org", is_admin=False, is_active=True)
    with pytest.raises(Exception, match=r"slug: 'torture-ban' is already used") as info:
        study_drafts.create_study(session, make_study(), owner=owner, now=T0)
    assert info.value.errors == [
        ("slug", "'torture-ban' is already used by another study; choose another")
    ]


def test_results_open_once_the_target_is_reached_and_are_computed_once_per_dataset(
    session, client_for, monkeypatch
):
    import sys

    import analysis.report
    import analysis.run  # loads the module; the package attribute `analysis.run` is the function

    calls: list[int] = []

    def fake_run(df, plan, *, provenance=None):
        calls.append(len(df))
        return {"rows": len(df), "control": plan["control"], "spec_hash": provenance["spec_hash"]}

    monkeypatch.setattr(sys.modules["analysis.run"], "run", fake_run)
    monkeypatch.setattr(
        analysis.report,
        "render_html",
        lambda results, title=None, lang=None: f"<h1>{title}</h1>{results}",
    )
    loaded = get_study(session, SLUG)
    study_drafts.update_study(
        session, SLUG, study_drafts.replace_sections(loaded.spec, {"target_n": 2}), now=T0
    )
    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    complete_participant(session, SLUG, start=T0)
    session.rollback()
    analyst = client_for("analyst@example.org")
    hidden = analyst.get(f"/studio/{SLUG}/results").get_data(as_text=True)
    assert "1 of 2 completed so far" in hidden and calls == []
    complete_participant(session, SLUG, start=T0 + timedelta(minutes=3))
    session.rollback()
    response = analyst.get(f"/studio/{SLUG}/results")
    # Inline CSS of the self-contained report is allowed; scripts are not.
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    first = response.get_data(as_text=True)
    assert "'rows': 2" in first and "'control': 'control'" in first
    assert analyst.get(f"/studio/{SLUG}/results").get_data(as_text=True) == first
    assert calls == [2]  # the second request used the cached report
    dashboard_page = analyst.get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    assert "planned sample of 2 completed participants has been reached" in dashboard_page
    assert get_study(session, SLUG).status == "closed"
