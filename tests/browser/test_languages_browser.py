"""The studio's language pages in real Chromium: add a language, translate beside the default
language, supply buttons and messages for a language framelab does not ship; axe-core finds
no violation; screenshots in test-artifacts/ (the translation view at 1280 and 360 px)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from framelab import create_app
from framelab.services import accounts
from framelab.services.study_versions import get_study
from tests.conftest import run_axe
from tests.factories import make_study, publish, session_factory_for
from tests.members import give_role
from tests.support.live import serve
from tests.web.swahili import SWAHILI

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "campaigner@example.org", "correct horse battery"
SPEC = make_study()


@pytest.fixture
def live_server(tmp_path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'languages-browser.sqlite'}"
    default = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        with session_factory_for(url) as factory, factory() as session:
            publish(session, SPEC, status="draft")
            accounts.create_user(session, EMAIL, PASSWORD, now=datetime.now(UTC))
            study_id = get_study(session, SPEC.slug).id
            session.rollback()
            give_role(session, study_id, EMAIL, "owner", now=datetime.now(UTC))
    finally:
        accounts._hasher = default
    app = create_app({"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": True})
    with serve(app) as base:
        yield base


def test_a_campaigner_adds_and_translates_languages_with_no_accessibility_violation(
    browser, axe_js, artifacts_dir, live_server
):
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def check(name: str) -> None:
        page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
        problems.extend(
            f"{name}: axe {v['id']} ({v['impact']}): {v['nodes']}" for v in run_axe(page, axe_js)
        )

    try:
        page.goto(f"{live_server}/studio/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.goto(f"{live_server}/studio/{SPEC.slug}/")
        page.click("nav.studynav >> text=Languages")
        check("01-languages")
        page.fill("#new-lang", "pt")
        page.click("text=Add language")
        assert page.url.endswith("/translate/pt")
        assert "106 texts to translate" in page.inner_text("main")
        page.fill("input[name='t:title']", "Sem exceções: uma lei contra a tortura")
        check("02-translation-view")
        page.click("text=Save Português texts")
        assert "105 texts to translate" in page.inner_text("main")
        assert page.locator("tr.untranslated").count() == 105
        page.set_viewport_size({"width": 360, "height": 740})
        check("03-translation-view-360")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{live_server}/studio/{SPEC.slug}/languages")
        page.fill("#new-lang", "sw")
        page.click("text=Add language")
        page.click("text=Buttons and messages in Kiswahili")
        assert f"{len(SWAHILI)} still to translate" in page.inner_text("main")
        for index, text in enumerate(SWAHILI.values()):
            page.fill(f"#s-{index}", text)
        page.click("text=Save buttons and messages")
        assert "All supplied." in page.inner_text("main")
        check("04-buttons-and-messages")
    finally:
        context.close()
    assert problems == []
