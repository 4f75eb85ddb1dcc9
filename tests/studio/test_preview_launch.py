"""Issue 14: the participant preview walk-through, the launch confirmation, the lock state
shown before editing, and the target sample of a live study (DECISIONS rule 2).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from framelab.db import full_metadata
from framelab.domain.steps import TERMINAL_STEPS, steps_for
from framelab.services import study_drafts, study_lifecycle
from framelab.services.dashboard import dashboard
from framelab.services.study_drafts import StudyLocked
from framelab.services.study_versions import get_study, lock_hashes
from framelab.web.i18n import language_name
from tests.factories import approve
from tests.studio.conftest import SLUG
from tests.studio.participants import complete_participant

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
BANNER = "Preview — nothing you do here is saved."
CONFIRM = {"confirm_launch": "yes"}


@pytest.fixture
def session(studio_app):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as s:
        yield s


def _row_counts(session) -> dict[str, int]:
    counts = {
        table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in full_metadata().sorted_tables
    }
    session.rollback()
    return counts


def _href(page: str, element_id: str) -> str:
    found = re.search(rf'<a [^>]*id="{element_id}"[^>]* href="([^"]+)"', page) or re.search(
        rf'<a [^>]*href="([^"]+)"[^>]* id="{element_id}"', page
    )
    assert found, f"no link #{element_id}"
    return unescape(found.group(1))


def _bar(page: str) -> str:
    start = page.index('<aside class="preview-bar"')
    return page[start : page.index("</aside>", start)]


def _status(session) -> str:
    status = get_study(session, SLUG).status
    session.rollback()  # SQLite: an open read would block the next request's write
    return status


def texts_after(client) -> str:
    return unescape(client.get(f"/studio/{SLUG}/texts").get_data(as_text=True))


def _launch(client) -> None:
    """The owner launches, after the reviewer's sign-off (DECISIONS rule 9)."""
    from framelab.web.database import EXTENSION_KEY

    with client.application.extensions[EXTENSION_KEY]() as session:
        approve(session, SLUG, now=T0)
    response = client.post(f"/studio/{SLUG}/status/live", data=CONFIRM)
    assert response.status_code == 302


# ---------------------------------------------------------------- preview


def test_walking_every_preview_page_of_every_arm_and_language_stores_nothing(client_for, session):
    spec = get_study(session, SLUG).spec
    session.rollback()
    steps = steps_for(spec)
    assert steps[0] == "consent" and steps[-1] == "debrief" and "message" in steps
    before = _row_counts(session)
    viewer = client_for("viewer@example.org")  # any role may preview
    index = viewer.get(f"/studio/{SLUG}/preview").get_data(as_text=True)
    visited = 0
    for arm in spec.arms:
        for lang in spec.languages:
            start = f"/studio/{SLUG}/preview/{arm.id}/{lang}/consent"
            assert f'href="{start}"' in index
            url, walked = start, []
            while "/preview/" in url and url != f"/studio/{SLUG}/preview":
                response = viewer.get(url)
                assert response.status_code == 200, url
                page = response.get_data(as_text=True)
                assert re.search(rf'<html lang="{lang}" dir="(ltr|rtl)">', page), url
                assert BANNER in page
                # The participant page's form posts nowhere; the buttons submit nothing.
                assert 'method="post"' not in page
                assert 'type="submit"' not in page
                step = url.rsplit("/", 1)[1]
                walked.append(step)
                if step == "message" and arm.frame is not None:
                    assert spec.text(arm.frame.title, lang) in unescape(page)
                url = _href(page, "preview-next")
                visited += 1
            assert walked == steps, (arm.id, lang)
        for lang in spec.languages:
            for step in TERMINAL_STEPS:
                page = viewer.get(f"/studio/{SLUG}/preview/{arm.id}/{lang}/{step}")
                assert page.status_code == 200 and BANNER in page.get_data(as_text=True)
                visited += 1
    assert visited == len(spec.arms) * len(spec.languages) * (len(steps) + len(TERMINAL_STEPS))
    assert _row_counts(session) == before
    assert before["participant"] == 0 and before["response"] == 0


def test_preview_banner_moves_between_steps_arms_and_languages(client_for, session):
    spec = get_study(session, SLUG).spec
    session.rollback()
    owner = client_for("owner@example.org")
    steps = steps_for(spec)
    message = steps.index("message")
    page = owner.get(f"/studio/{SLUG}/preview/care/es/message").get_data(as_text=True)
    bar = _bar(page)
    assert 'lang="en"' in bar  # the banner is studio text inside a Spanish page
    assert f"Page {message + 1} of {len(steps)}: the message" in bar
    assert _href(page, "preview-previous") == f"/studio/{SLUG}/preview/care/es/{steps[message - 1]}"
    assert _href(page, "preview-next") == f"/studio/{SLUG}/preview/care/es/{steps[message + 1]}"
    assert _href(page, "preview-studio") == f"/studio/{SLUG}/"
    # One link per arm to the same step, and one per language to the same step and arm.
    for arm in spec.arms:
        assert f'href="/studio/{SLUG}/preview/{arm.id}/es/message"' in bar
    for lang in spec.languages:
        assert f'href="/studio/{SLUG}/preview/care/{lang}/message"' in bar
        assert language_name(lang) in bar
    assert bar.count('aria-current="page"') == 2  # this arm and this language
    first = owner.get(f"/studio/{SLUG}/preview/care/en/consent").get_data(as_text=True)
    assert 'rel="prev"' not in _bar(first)
    last = owner.get(f"/studio/{SLUG}/preview/care/en/debrief").get_data(as_text=True)
    assert 'rel="next"' not in _bar(last)
    assert _href(last, "preview-next") == f"/studio/{SLUG}/preview"


def test_the_participant_language_switch_in_a_preview_keeps_the_step_and_arm(client_for, session):
    spec = get_study(session, SLUG).spec
    session.rollback()
    owner = client_for("owner@example.org")
    page = owner.get(f"/studio/{SLUG}/preview/care/en/post").get_data(as_text=True)
    # The participant page's own switcher adds ?lang= to this address ...
    assert f'href="/studio/{SLUG}/preview/care/en/post?lang=fr"' in page
    # ... which leads to the same page in that language.
    switched = owner.get(f"/studio/{SLUG}/preview/care/en/post?lang=fr")
    assert switched.status_code == 302
    assert switched.headers["Location"] == f"/studio/{SLUG}/preview/care/fr/post"
    french = owner.get(switched.headers["Location"]).get_data(as_text=True)
    assert '<html lang="fr"' in french
    item = spec.items_for("post")[0]
    assert spec.text(item.text, "fr") in unescape(french)
    # An unknown arm, language or step is not a page.
    for bad in ("nope/en/post", "care/xx/post", "care/en/nope"):
        assert owner.get(f"/studio/{SLUG}/preview/{bad}").status_code == 404


# ---------------------------------------------------------------- launch


def test_the_launch_page_lists_the_hashes_the_links_and_what_stays_editable(client_for, session):
    owner = client_for("owner@example.org")
    assert owner.post(f"/studio/{SLUG}/status/pilot").status_code == 302
    complete_participant(session, SLUG, start=T0, source="newsletter")  # a pilot's channel
    loaded = get_study(session, SLUG)
    session.rollback()
    approve(session, SLUG, now=T0)
    overview = owner.get(f"/studio/{SLUG}/").get_data(as_text=True)
    # "Go live" leads to the confirmation page; nothing on the overview posts it.
    assert _href(overview, "go-live") == f"/studio/{SLUG}/launch"
    assert f"/studio/{SLUG}/status/live" not in overview
    page = unescape(owner.get(f"/studio/{SLUG}/launch").get_data(as_text=True))
    for part, digest in lock_hashes(loaded.spec).items():
        row = re.search(rf'<tr id="lock-{part}">(.*?)</tr>', page, re.S).group(1)
        assert f'<code title="{digest}">{digest[:12]}</code>' in row
    assert loaded.spec_hash[:12] in page
    assert f"{loaded.spec.target_n} completed participants" in page
    link = f"http://localhost/s/{SLUG}"
    assert f'id="launch-study-link" href="{link}"' in page
    for lang in loaded.spec.languages:
        assert f'href="{link}?lang={lang}"' in page
    assert f'class="channel-link" href="{link}?src=newsletter"' in page
    assert 'id="stays-editable"' in page and "consent and debrief texts" in page
    assert f'action="/studio/{SLUG}/status/live"' in page
    assert '<input type="checkbox" id="confirm_launch" name="confirm_launch" value="yes"' in page
    assert '<label for="confirm_launch">' in page
    # Roles that cannot launch see the page without the form.
    editor = client_for("editor@example.org").get(f"/studio/{SLUG}/launch")
    assert editor.status_code == 200
    assert 'id="launch-form"' not in editor.get_data(as_text=True)


def test_going_live_needs_the_confirmation_and_locks_what_the_page_listed(client_for, session):
    shown = lock_hashes(get_study(session, SLUG).spec)
    session.rollback()
    owner = client_for("owner@example.org")
    refused = owner.post(f"/studio/{SLUG}/status/live", data={})
    assert refused.status_code == 302
    assert refused.headers["Location"] == f"/studio/{SLUG}/launch"
    assert "Going live needs confirmation" in owner.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    assert _status(session) == "draft"
    assert study_drafts.lock_state(session, SLUG).locked_at is None
    unchecked = owner.post(f"/studio/{SLUG}/status/live", data={"confirm_launch": "on"})
    assert unchecked.headers["Location"] == f"/studio/{SLUG}/launch"
    assert _status(session) == "draft"
    session.rollback()
    _launch(owner)
    assert _status(session) == "live"
    state = study_drafts.lock_state(session, SLUG)
    assert state.locked_at is not None and state.hashes == shown
    # Once live, the page shows what is locked and offers no launch form.
    page = owner.get(f"/studio/{SLUG}/launch").get_data(as_text=True)
    assert 'id="already-live"' in page and 'id="launch-form"' not in page
    # Other lifecycle actions need no launch confirmation.
    assert owner.post(f"/studio/{SLUG}/status/pause").status_code == 302
    assert _status(session) == "paused"


# ---------------------------------------------------------------- lock state before editing


def test_a_live_study_shows_its_locked_fields_read_only_before_any_edit(client_for, session):
    owner = client_for("owner@example.org")
    texts = owner.get(f"/studio/{SLUG}/texts").get_data(as_text=True)
    assert 'id="texts-target-locked"' not in texts and "<fieldset disabled" not in texts
    _launch(owner)
    for path, marker in (
        ("texts", 'id="texts-target-locked"'),
        ("design", 'id="design-locked"'),
        ("plan", 'id="plan-locked"'),
    ):
        page = unescape(owner.get(f"/studio/{SLUG}/{path}").get_data(as_text=True))
        assert marker in page, path
    assert "locked with the design because the study has gone live" in texts_after(owner)
    texts = owner.get(f"/studio/{SLUG}/texts").get_data(as_text=True)
    target = re.search(r'<fieldset disabled id="target">(.*?)</fieldset>', texts, re.S)
    assert target and 'name="target_n"' in target.group(1)
    # The texts still save (as a new version), the disabled target staying as it was.
    loaded = get_study(session, SLUG)
    session.rollback()
    form = {
        f"{key}_{lang}": loaded.spec.text(getattr(loaded.spec, key), lang)
        for key in ("title", "consent", "debrief")
        for lang in loaded.spec.languages
    }
    form["title_en"] = "A new title"
    form["speeder_seconds"] = str(loaded.spec.quality.speeder_seconds or "")
    saved = owner.post(f"/studio/{SLUG}/texts", data=form)
    assert saved.status_code == 302
    after = get_study(session, SLUG)
    session.rollback()
    assert after.spec.text(after.spec.title, "en") == "A new title"
    assert after.spec.target_n == loaded.spec.target_n and after.status == "live"


def test_a_closed_study_shows_its_texts_read_only(client_for, session):
    owner = client_for("owner@example.org")
    _launch(owner)
    owner.post(f"/studio/{SLUG}/status/close", data={"confirm_close": "yes"})
    assert _status(session) == "closed"
    page = owner.get(f"/studio/{SLUG}/texts").get_data(as_text=True)
    assert 'id="texts-locked"' in page and "the study is closed" in page
    assert 'fieldset disabled class="plain" id="texts-fields"' in page
    assert 'value="Save texts"' not in page


# ---------------------------------------------------------------- target after launch


def _live_with(session, client, target: int, completed: int) -> None:
    loaded = get_study(session, SLUG)
    study_drafts.update_study(
        session, SLUG, study_drafts.replace_sections(loaded.spec, {"target_n": target}), now=T0
    )
    session.rollback()
    _launch(client)
    for n in range(completed):
        complete_participant(session, SLUG, start=T0 + timedelta(minutes=5 * n))


def _gate(session) -> tuple[str, int | None, bool]:
    loaded = get_study(session, SLUG)
    figures = dashboard(session, loaded)
    session.rollback()
    return loaded.status, loaded.spec.target_n, figures.results_visible


def test_a_lower_target_after_launch_never_closes_the_study_nor_shows_results(client_for, session):
    owner = client_for("owner@example.org")
    _live_with(session, owner, target=3, completed=2)
    assert _gate(session) == ("live", 3, False)
    # Below the count, from every page that sends a target, even with the confirmation.
    lowered = owner.post(
        f"/studio/{SLUG}/plan/target", data={"target_n": "1", "confirm_raise": "yes"}
    )
    assert lowered.status_code == 302
    assert "can only be raised" in owner.get(lowered.headers["Location"]).get_data(as_text=True)
    loaded = get_study(session, SLUG)
    session.rollback()
    with pytest.raises(StudyLocked, match="only the owner may raise it") as refused:
        study_drafts.update_study(
            session, SLUG, study_drafts.replace_sections(loaded.spec, {"target_n": 1}), now=T0
        )
    assert refused.value.part == "target"
    with pytest.raises(StudyLocked, match="can only be raised"):
        study_lifecycle.raise_target(session, SLUG, 3, now=T0)
    # The dashboard and overview (which close a study at its target) leave it open.
    assert owner.get(f"/studio/{SLUG}/dashboard").status_code == 200
    assert owner.get(f"/studio/{SLUG}/").status_code == 200
    assert _gate(session) == ("live", 3, False)
    assert "Outcome results stay hidden" in owner.get(f"/studio/{SLUG}/results").get_data(
        as_text=True
    )
    # Only the confirmed "close now" closes it.
    overview = owner.get(f"/studio/{SLUG}/").get_data(as_text=True)
    assert '<input type="checkbox" id="confirm_close" name="confirm_close" value="yes"' in overview
    unconfirmed = owner.post(f"/studio/{SLUG}/status/close")
    assert unconfirmed.headers["Location"] == f"/studio/{SLUG}/#close-now"
    assert _gate(session) == ("live", 3, False)
    owner.post(f"/studio/{SLUG}/status/close", data={"confirm_close": "yes"})
    assert _gate(session)[0] == "closed"


def test_raising_the_target_after_launch_is_owner_only_confirmed_and_keeps_the_study_open(
    client_for, session, caplog
):
    owner = client_for("owner@example.org")
    _live_with(session, owner, target=3, completed=2)
    # Someone still answering the version launched with target 3.
    in_flight = complete_participant(session, SLUG, start=T0 + timedelta(hours=1), until="post")
    session.rollback()
    overview = owner.get(f"/studio/{SLUG}/").get_data(as_text=True)
    assert 'id="raise-target"' in overview and 'min="4"' in overview
    analyst = client_for("analyst@example.org")
    assert 'id="raise-target"' not in analyst.get(f"/studio/{SLUG}/").get_data(as_text=True)
    refused = analyst.post(
        f"/studio/{SLUG}/plan/target", data={"target_n": "5", "confirm_raise": "yes"}
    )
    assert "only the owner may raise it" in analyst.get(refused.headers["Location"]).get_data(
        as_text=True
    )
    unconfirmed = owner.post(f"/studio/{SLUG}/plan/target", data={"target_n": "5"})
    assert unconfirmed.headers["Location"] == f"/studio/{SLUG}/#target"
    assert _gate(session) == ("live", 3, False)
    with caplog.at_level("INFO", logger="framelab.audit"):
        raised = owner.post(
            f"/studio/{SLUG}/plan/target", data={"target_n": "5", "confirm_raise": "yes"}
        )
    assert raised.headers["Location"] == f"/studio/{SLUG}/#target"
    assert _gate(session) == ("live", 5, False)
    assert any(
        "target raised: study=torture-ban from=3 to=5" in r.getMessage() for r in caplog.records
    )
    # The participant on the launched version completes as the third: the study stays open.
    from framelab.services.flow import current_page, submit_step
    from tests.factories import valid_answers

    clock = T0 + timedelta(hours=2)
    state = current_page(session, in_flight, now=clock)
    assert state.spec.target_n == 3
    while state.step != "debrief":
        form = valid_answers(state.spec, state.step)
        assert submit_step(session, in_flight, state.step, form, now=clock).ok
        clock += timedelta(seconds=40)
        state = current_page(session, in_flight, now=clock)
    session.rollback()
    assert owner.get(f"/studio/{SLUG}/dashboard").status_code == 200
    assert _gate(session) == ("live", 5, False)
    # The new target closes it when reached, and only then are results shown.
    for n in range(2):
        complete_participant(session, SLUG, start=T0 + timedelta(hours=3, minutes=5 * n))
    assert _gate(session) == ("closed", 5, True)
