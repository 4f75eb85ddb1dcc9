"""The participant code on the last page at 320 px (issue 17): one line, inside the screen.

The code was 24 case-sensitive characters that wrapped at 320 px. It is now 20 Crockford
base32 symbols in groups of four, shown on one line; typed back in lower case at the
withdraw-later address, it is found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from framelab.domain.participant_codes import canonical
from tests.browser.test_participant_browser import SPEC, answer_items
from tests.support.live import serve
from tests.web.conftest import make_app

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}


@pytest.fixture
def live_server(tmp_path) -> Iterator[str]:
    app = make_app(f"sqlite:///{tmp_path / 'code.sqlite'}")
    with serve(app) as url:
        yield url


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_code_fits_one_line_at_320_px_and_is_found_typed_in_lower_case(
    browser, live_server, lang
):
    context = browser.new_context(viewport=NARROW, device_scale_factor=1, locale=lang)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/s/{SPEC.slug}?lang={lang}")
        page.click("button[name=consent][value=yes]")
        for step in ("pre", "message", "post", "intent"):
            if step != "message":
                answer_items(page, step)
            page.click("form.page-form button[type=submit]")
        code = page.locator(".participant-code")
        shown = code.inner_text().strip()
        assert re.fullmatch(r"(?:[0-9A-HJKMNP-TV-Z]{4}-){4}[0-9A-HJKMNP-TV-Z]{4}", shown)
        box = code.bounding_box()
        line = page.evaluate(
            "e => parseFloat(getComputedStyle(e).lineHeight)", code.element_handle()
        )
        assert box["height"] < 1.5 * line, "the code wraps"
        assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"]
        assert page.evaluate("document.scrollingElement.scrollWidth") <= NARROW["width"]
        # Typed back in lower case, as a person might, at the withdraw-later address.
        page.goto(f"{live_server}/withdraw")
        page.fill("#code", shown.lower())
        page.click("form button[type=submit]")
        assert page.locator(".error-summary").count() == 0
        assert page.locator("#code").count() == 0  # withdrawn: the form is gone
        assert canonical(shown.lower()) == shown.replace("-", "")
    finally:
        context.close()
