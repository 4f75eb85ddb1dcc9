"""The studio in real Chromium: sign in, create from a study file, confound warning, preview,
go live, take the survey through the printed link in a second context, see the dashboard count it.
Screenshots go to test-artifacts/; axe-core must find no violation on any studio page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from framelab import create_app
from framelab.domain.steps import items_for_step
from framelab.services import accounts
from tests.browser.reviewing import invite_reviewer, reviewer_approves
from tests.conftest import run_axe
from tests.factories import make_study, session_factory_for
from tests.support.live import serve

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "campaigner@example.org", "correct horse battery"
REVIEWER = "ethics@example.org"
SLUG = "browser-study"
SPEC = make_study()  # the torture-ban example the test starts from


@pytest.fixture
def live_server(tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'studio-browser.sqlite'}"
    default = accounts._hasher
    # Cheap argon2 parameters for this fixture account only; verification reads them from the hash.
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        with session_factory_for(url) as factory, factory() as session:
            accounts.create_user(
                session, EMAIL, PASSWORD, can_create_studies=True, now=datetime.now(UTC)
            )
            accounts.create_user(session, REVIEWER, PASSWORD, now=datetime.now(UTC))
    finally:
        accounts._hasher = default
    app = create_app({"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": True})
    with serve(app) as url:
        yield url


def check(page, axe_js: str, artifacts_dir, name: str, problems: list[str]) -> None:
    page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
    for violation in run_axe(page, axe_js):
        problems.append(
            f"{name}: axe {violation['id']} ({violation['impact']}): {violation['nodes']}"
        )


def answer_items(page, spec, step: str, chosen: dict[str, int] | None = None) -> None:
    """Answer the items of `step` as a person would, by their labels: plausible answers,
    the attention check passed, `chosen` answers (item id -> stored value) as given."""
    for item in items_for_step(spec, step):
        if item.type == "slider":
            page.fill(f"#q-{item.id}-1", "60")
        elif item.type == "text":
            page.fill(f"#q-{item.id}-1", "Fine.")
        else:
            values = {"binary": [1, 0], "choice": [o.value for o in item.options or []]}.get(
                item.type
            ) or list(item.allowed_values())
            if chosen and item.id in chosen:
                choice = chosen[item.id]
            elif item.role == "attention_check":
                choice = item.correct
            else:
                choice = values[len(values) // 2]
            page.click(f"label[for='q-{item.id}-{values.index(choice) + 1}']")


def take_survey(page, link: str) -> None:
    """A participant answers every page with plausible answers (attention check passed)."""
    page.goto(link)
    page.click("button[name=consent][value=yes]")
    for step in ("pre", "message", "post", "intent"):
        answer_items(page, SPEC, step)
        page.click("button[type=submit]")
    page.locator(".completion .code").wait_for()


def test_campaigner_drafts_previews_launches_and_sees_the_participant_counted(
    browser, axe_js, artifacts_dir, live_server
):
    studio = browser.new_context(viewport={"width": 1280, "height": 900})
    page = studio.new_page()
    problems: list[str] = []
    try:
        page.goto(f"{live_server}/studio/")
        assert "/studio/login" in page.url
        check(page, axe_js, artifacts_dir, "01-login", problems)
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("#submit")
        check(page, axe_js, artifacts_dir, "02-studies", problems)

        page.click("text=New study")
        check(page, axe_js, artifacts_dir, "03-new", problems)
        # The shipped templates are structure only ("TO FILL" texts); this test needs a
        # complete study, so it starts from the example's study file.
        page.fill("#up-text", SPEC.to_yaml().replace(f"slug: {SPEC.slug}", f"slug: {SLUG}", 1))
        page.click("#up-submit_upload")
        assert page.url.endswith(f"/studio/{SLUG}/")
        check(page, axe_js, artifacts_dir, "04-overview", problems)

        page.click("nav.studynav >> text=Frames")
        # No length warning yet (the example's French 'fairness' frame is one readability
        # band easier than the placebo, which the direct comparison with the control flags).
        assert "longer than" not in page.inner_text("main")
        check(page, axe_js, artifacts_dir, "05-frames", problems)
        page.click("a[href$='/frames/care']")
        # studio.js is deferred: typing before it has run would fire no live check (a
        # person cannot type that fast; under CI load a test can).
        page.wait_for_load_state("load")
        body = page.input_value("#body_en")
        # Twice the text: the live preview (JS) shows the length warning without saving.
        page.fill("#body_en", body + "\n\n" + body)
        warning = page.locator(".confound-warning")
        warning.wait_for(timeout=20_000)
        assert "longer than the other texts" in warning.inner_text()
        check(page, axe_js, artifacts_dir, "06-frame-live-warning", problems)
        page.click("#preview")  # the no-JS path renders the same warning on the server
        assert "longer than the other texts" in page.locator(".confound-warning").inner_text()
        page.click("#save")
        assert page.locator("#confound-warnings").is_visible()
        check(page, axe_js, artifacts_dir, "07-frames-with-warning", problems)

        page.click("a[href*='/preview/care/en/message']")
        assert page.locator(".preview-note").is_visible()
        assert page.locator("#preview-bar").is_visible()
        assert page.locator("article.frame").inner_text().count(body.split("\n")[0][:40]) == 2
        check(page, axe_js, artifacts_dir, "08-preview-as-participant", problems)
        page.click("#preview-next")  # the walk-through goes on after the message
        assert "/preview/care/en/post" in page.url
        page.click("#preview-studio")
        assert page.url.endswith(f"/studio/{SLUG}/")

        page.goto(f"{live_server}/studio/{SLUG}/power")
        assert page.locator("#power-verdict").is_visible()
        check(page, axe_js, artifacts_dir, "09-power", problems)
        for number, section in enumerate(
            ("plan", "texts", "items", "design", "yaml", "members", "preview"), start=1
        ):
            page.goto(f"{live_server}/studio/{SLUG}/{section}")
            check(page, axe_js, artifacts_dir, f"10-{number}-{section}", problems)
        page.goto(f"{live_server}/studio/accounts")  # not an admin: the page says who may
        check(page, axe_js, artifacts_dir, "10-8-accounts-refused", problems)

        # The reviewer signs off (DECISIONS rule 9) before the owner can launch.
        invite_reviewer(page, live_server, SLUG, REVIEWER)
        reviewer_approves(browser, live_server, SLUG, REVIEWER, PASSWORD)
        page.goto(f"{live_server}/studio/{SLUG}/")
        page.click("#go-live")  # the confirmation page: what launching locks, the links
        check(page, axe_js, artifacts_dir, "11-0-launch", problems)
        page.check("#confirm_launch")
        page.click("button:has-text('Go live now')")
        assert page.locator(".studynav .status").inner_text() == "live"
        link = page.locator("#participant-link").inner_text()
        assert link == f"{live_server}/s/{SLUG}"
        check(page, axe_js, artifacts_dir, "11-live-overview", problems)

        participant = browser.new_context(viewport={"width": 360, "height": 740})
        try:
            survey = participant.new_page()
            take_survey(survey, link)
            survey.screenshot(path=str(artifacts_dir / "12-participant-done.png"), full_page=True)
        finally:
            participant.close()

        page.click("nav.studynav >> text=Dashboard")
        assert page.locator("#completed-count").inner_text().startswith("1 of 2000")
        assert "Outcome results stay hidden" in page.locator("#results-reason").inner_text()
        check(page, axe_js, artifacts_dir, "13-dashboard", problems)
        page.click("nav.studynav >> text=Downloads")
        check(page, axe_js, artifacts_dir, "14-downloads", problems)
        page.set_viewport_size({"width": 360, "height": 740})
        page.goto(f"{live_server}/studio/{SLUG}/dashboard")
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 360, f"dashboard is {width}px wide on a phone"
        check(page, axe_js, artifacts_dir, "15-dashboard-phone", problems)
    finally:
        studio.close()
    assert problems == []
