"""Nothing lost mid-page in real Chromium (issue 21): answers left unsent come back.

A participant answers part of the pre page and leaves it without sending it (another app,
a closed tab): the page's script sends the form to /p/draft with `navigator.sendBeacon`
as the page is hidden, under the pages' Content-Security-Policy. On another phone, with
the participant code, the page shows those answers again; nothing is stored as answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from framelab.db.drafts import PageDraft
from framelab.db.models import Response
from framelab.domain.steps import items_for_step
from tests.browser.test_participant_browser import VIEWPORT, answer_items
from tests.factories import make_study, session_factory_for
from tests.support.live import serve
from tests.web.conftest import make_app

pytestmark = pytest.mark.browser

SPEC = make_study()


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'drafts.sqlite'}"
    app = make_app(url)
    with serve(app) as base:
        # "Leave this page" goes to a site on the internet by default: here, one it can reach.
        app.config["QUICK_EXIT_URL"] = f"{base}/withdraw"
        yield base, url


def _count(url: str, model) -> int:
    with session_factory_for(url) as factory, factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_answers_left_unsent_come_back_on_another_phone(browser, served):
    base, url = served
    phone = browser.new_context(viewport=VIEWPORT, locale="en")
    page = phone.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
    page.goto(f"{base}/s/{SPEC.slug}")
    page.click("button[name=consent][value=yes]")
    page.wait_for_load_state("load")
    page.click("label[for='q-ideology-4']")
    page.click("label[for='q-age_group-2']")
    (cookie,) = [c for c in phone.cookies() if c["name"] == "p"]
    page.goto(f"{base}/withdraw")  # the pre page is left unsent: hidden, then unloaded
    deadline = time.monotonic() + 10
    while _count(url, PageDraft) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _count(url, PageDraft) == 1 and _count(url, Response) == 0
    assert refused == []
    phone.close()

    other = browser.new_context(viewport=VIEWPORT, locale="en")
    try:
        again = other.new_page()
        again.goto(f"{base}/r/{cookie['value']}")
        assert again.locator("input[name=step]").get_attribute("value") == "pre"
        assert again.is_checked("#q-ideology-4") and again.is_checked("#q-age_group-2")
        assert not again.is_checked("#q-support-1")
        # Answering the rest and sending the page stores all of it, and the draft goes.
        answer_items(again, "pre")
        again.click("form.page-form button[type=submit]")
        again.wait_for_load_state("load")
        assert again.locator("input[name=step]").get_attribute("value") == "message"
        assert _count(url, PageDraft) == 0 and _count(url, Response) == len(
            items_for_step(SPEC, "pre")
        )
    finally:
        other.close()


def test_leave_this_page_keeps_no_draft(browser, served):
    base, url = served
    phone = browser.new_context(viewport=VIEWPORT, locale="en")
    try:
        page = phone.new_page()
        page.goto(f"{base}/s/{SPEC.slug}")
        page.click("button[name=consent][value=yes]")
        page.wait_for_load_state("load")
        page.click("label[for='q-ideology-4']")
        page.click("a[data-exit]")
        page.wait_for_url(f"{base}/withdraw")
        # Leaving by any other way sends the draft within moments (above): wait as long.
        time.sleep(2)
        assert _count(url, PageDraft) == 0
        page.go_back()  # the exit replaced the page in the history: nothing to go back to
        assert _count(url, PageDraft) == 0
    finally:
        phone.close()
