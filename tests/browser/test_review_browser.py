"""Issue 16 acceptance, reviewer sign-off in real Chromium: an editor edits after a reviewer
approved; the approval is void; the owner cannot launch until the reviewer approves
again; the audit trail shows all four events. axe-core checks every page visited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from framelab import create_app
from framelab.services import accounts
from framelab.services.study_versions import get_study, publish_study
from tests.conftest import run_axe
from tests.factories import make_study, session_factory_for
from tests.members import give_role
from tests.support.live import serve

pytestmark = pytest.mark.browser

PASSWORD = "review-browser-correct-horse-7"
PEOPLE = {
    "owner@example.org": "owner",
    "editor@example.org": "editor",
    "ethics@example.org": "reviewer",
}
SLUG = "torture-ban"


@pytest.fixture
def live_server(tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'review-browser.sqlite'}"
    default = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    now = datetime.now(UTC)
    try:
        with session_factory_for(url) as factory, factory() as session:
            publish_study(session, make_study(), status="draft", now=now)
            study_id = get_study(session, SLUG).id
            session.rollback()
            for email, role in PEOPLE.items():
                accounts.create_user(session, email, PASSWORD, now=now)
                give_role(session, study_id, email, role, now=now)
    finally:
        accounts._hasher = default
    app = create_app({"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": True})
    with serve(app) as base:
        yield base


class Person:
    def __init__(self, browser, base: str, email: str, axe_js: str, artifacts_dir) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.base, self.email, self.axe_js, self.artifacts = base, email, axe_js, artifacts_dir
        self.problems: list[str] = []
        self.page.goto(f"{base}/studio/login")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.page.click("#submit")
        assert "/studio/login" not in self.page.url, self.page.inner_text("main")

    def open(self, path: str, name: str) -> str:
        self.page.goto(f"{self.base}/studio/{SLUG}/{path}")
        self.page.screenshot(path=str(self.artifacts / f"review-{name}.png"), full_page=True)
        for violation in run_axe(self.page, self.axe_js):
            self.problems.append(f"{name}: axe {violation['id']}: {violation['nodes']}")
        return self.page.inner_text("main")


def test_an_edit_after_approval_voids_it_and_launch_waits_for_a_new_one(
    browser, axe_js, artifacts_dir, live_server
):
    owner = Person(browser, live_server, "owner@example.org", axe_js, artifacts_dir)
    editor = Person(browser, live_server, "editor@example.org", axe_js, artifacts_dir)
    reviewer = Person(browser, live_server, "ethics@example.org", axe_js, artifacts_dir)
    try:
        # The reviewer reads the consent, debrief and data plan, and approves.
        text = reviewer.open("review", "1-reviewer-reads")
        assert "What participants agree to" in text and "Data plan" in text
        reviewer.page.click("#review-approve")
        assert "Approved by ethics@example.org" in reviewer.page.inner_text("#review-status")

        # An editor changes the consent text afterwards.
        editor.open("texts", "2-editor-edits")
        field = editor.page.locator("[name=consent_en]")
        field.fill(field.input_value() + "\n\nYou may stop at any time.")
        editor.page.click("#save")
        assert "You may stop at any time." in editor.page.locator("[name=consent_en]").input_value()

        # The approval is void: the owner's launch page refuses and says why.
        text = owner.open("launch", "3-owner-cannot-launch")
        assert "edited after ethics@example.org approved it" in text
        assert owner.page.locator("#launch-form").count() == 0
        review_text = owner.open("review", "4-owner-sees-void")
        assert "no longer counts" in review_text

        # The reviewer approves the edited version; now the owner can launch.
        reviewer.open("review", "5-reviewer-again")
        assert "You may stop at any time." in reviewer.page.inner_text("main")
        reviewer.page.click("#review-approve")
        owner.open("launch", "6-owner-launches")
        owner.page.check("#confirm_launch")
        owner.page.click("#launch-form button[type=submit]")
        assert "is now live" in owner.page.inner_text("main")

        trail = owner.open("audit", "7-audit-trail")
        rows = owner.page.locator("#audit-trail tbody tr")
        actions = [rows.nth(i).get_attribute("class") for i in range(rows.count())]
        assert actions == ["audit-approved", "audit-edited", "audit-approved", "audit-launched"]
        assert "ethics@example.org" in trail and "editor@example.org" in trail
        assert "consent" in trail  # the edit names the section it changed
    finally:
        for person in (owner, editor, reviewer):
            person.context.close()
    problems = owner.problems + editor.problems + reviewer.problems
    assert problems == []
