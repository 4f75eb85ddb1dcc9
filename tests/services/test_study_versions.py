"""Publishing, versioning, locking and opening studies."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from framelab.db.models import StudyVersion
from framelab.services import study_versions
from framelab.services.study_versions import (
    StudyClosed,
    StudyConflict,
    StudyNotFound,
    get_study,
    publish_study,
    set_status,
)
from tests.factories import make_study
from tests.participants import enrol, open_study_link
from tests.services.conftest import NOW


def test_publish_stores_exact_spec_and_hash_and_get_study_reads_it_back(session, example_spec):
    version = publish_study(session, example_spec, status="draft", now=NOW)
    assert version.version == 1
    assert version.spec_hash == example_spec.content_hash()
    assert json.loads(version.spec_json)["slug"] == "torture-ban"
    loaded = get_study(session, "torture-ban")
    assert (loaded.slug, loaded.status, loaded.version) == ("torture-ban", "draft", 1)
    assert loaded.spec.content_hash() == example_spec.content_hash()
    assert loaded.spec_hash == example_spec.content_hash()


def test_publishing_the_same_spec_again_makes_no_new_version(session, example_spec):
    publish_study(session, example_spec, status="draft", now=NOW)
    again = publish_study(session, example_spec, status="pilot", now=NOW)
    assert again.version == 1
    assert get_study(session, "torture-ban").status == "pilot"
    assert session.query(StudyVersion).count() == 1


def test_a_changed_spec_needs_replace_and_then_becomes_version_two(session, example_spec):
    publish_study(session, example_spec, status="draft", now=NOW)
    changed = make_study(target_n=1500)
    with pytest.raises(StudyConflict, match=r"torture-ban: a different version 1 .*--replace"):
        publish_study(session, changed, status="draft", now=NOW)
    version = publish_study(session, changed, status="draft", replace=True, now=NOW)
    assert version.version == 2
    assert get_study(session, "torture-ban").spec.target_n == 1500


def test_going_live_locks_the_version_with_hashes_of_each_part(session, example_spec):
    publish_study(session, example_spec, status="pilot", now=NOW)
    set_status(session, "torture-ban", "live", now=NOW + timedelta(days=1))
    version = session.query(StudyVersion).one()
    assert version.locked_at == NOW + timedelta(days=1)
    assert study_versions.lock_hashes(example_spec) == {
        "frames": version.frames_hash,
        "items": version.items_hash,
        "design": version.design_hash,
        "plan": version.plan_hash,
    }


def test_live_study_with_participants_refuses_a_changed_plan(session, example_spec):
    publish_study(session, example_spec, status="live", now=NOW)
    enrol(session, "torture-ban", language="en", source=None, panel=None, now=NOW)
    changed = make_study(analysis__alpha=0.01)
    with pytest.raises(
        StudyConflict, match=r"locked and participants have answered it; .*changes its plan"
    ):
        publish_study(session, changed, status="live", replace=True, now=NOW)
    assert get_study(session, "torture-ban").version == 1


def test_a_study_that_was_live_cannot_go_back_to_draft(session, example_spec):
    publish_study(session, example_spec, status="live", now=NOW)
    with pytest.raises(
        StudyConflict,
        match=r"status: torture-ban has been live, so it can only be live, paused, closed",
    ):
        set_status(session, "torture-ban", "draft", now=NOW)
    set_status(session, "torture-ban", "paused", now=NOW)
    assert get_study(session, "torture-ban").status == "paused"


def test_unknown_status_is_rejected_with_the_allowed_values(session, example_spec):
    publish_study(session, example_spec, status="draft", now=NOW)
    with pytest.raises(
        ValueError,
        match=r"status: 'open' is not a study status \(expected one of: draft, pilot, live",
    ):
        set_status(session, "torture-ban", "open", now=NOW)


@pytest.mark.parametrize("status", ["draft", "paused", "closed"])
def test_only_pilot_and_live_studies_accept_participants(session, example_spec, status):
    publish_study(session, example_spec, status="live" if status != "draft" else "draft", now=NOW)
    if status != "draft":
        set_status(session, "torture-ban", status, now=NOW)
    with pytest.raises(StudyClosed, match=f"torture-ban: the study is {status}"):
        open_study_link(session, "torture-ban")
    set_status(session, "torture-ban", "live", now=NOW)
    assert open_study_link(session, "torture-ban").status == "live"


def test_unknown_slug_raises_study_not_found(session):
    with pytest.raises(StudyNotFound, match="study: no study with slug 'nope'"):
        get_study(session, "nope")
    with pytest.raises(LookupError):
        open_study_link(session, "nope")
