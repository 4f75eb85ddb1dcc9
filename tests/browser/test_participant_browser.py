"""The example study in real Chromium at 360x740, in English and Arabic: screenshots and axe-core."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from framelab.domain.steps import items_for_step
from tests.conftest import run_axe
from tests.factories import make_study
from tests.support.live import serve
from tests.web.conftest import make_app

pytestmark = pytest.mark.browser

SPEC = make_study()
VIEWPORT = {"width": 360, "height": 740}


@pytest.fixture
def live_server(tmp_path) -> Iterator[str]:
    """The app served by Werkzeug on 127.0.0.1 on a free port, in a thread."""
    app = make_app(f"sqlite:///{tmp_path / 'browser.sqlite'}")
    with serve(app) as url:
        # "Leave this page" goes to a site on the internet by default: here, one it can reach.
        app.config["QUICK_EXIT_URL"] = f"{url}/withdraw"
        yield url


def check_page(
    page, axe_js: str, artifacts_dir, name: str, problems: list[str], scripts_off=None
) -> None:
    """Screenshot, no horizontal scrolling at 360 px, and no axe-core violations."""
    page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    if width > VIEWPORT["width"]:
        problems.append(f"{name}: page is {width}px wide at a 360px viewport")
    if scripts_off is not None:
        # axe needs timers, which do not run while scripts are off: on just for the check.
        scripts_off.send("Emulation.setScriptExecutionDisabled", {"value": False})
    violations = run_axe(page, axe_js)
    if scripts_off is not None:
        scripts_off.send("Emulation.setScriptExecutionDisabled", {"value": True})
    for violation in violations:
        problems.append(
            f"{name}: axe {violation['id']} ({violation['impact']}): {violation['nodes']}"
        )


def answer_items(page, step: str, skip: str | None = None) -> None:
    """Answer every question of `step` the way a person would: tap labels, drag, type."""
    page.wait_for_load_state("load")  # the slider is made by the deferred script
    for item in items_for_step(SPEC, step):
        if item.id == skip:
            continue
        if item.type == "slider":
            page.fill(f"#q-{item.id}-1", "70")
        elif item.type == "text":
            page.fill(f"#q-{item.id}-1", "Clear and short.")
        else:
            values = [o.value for o in item.options] if item.type == "choice" else None
            if item.type == "binary":
                values = [1, 0]
            if values is None:
                values = item.allowed_values()
            choice = item.correct if item.role == "attention_check" else values[len(values) // 2]
            page.click(f"label[for='q-{item.id}-{values.index(choice) + 1}']")


@pytest.mark.parametrize(
    ("lang", "javascript"), [("en", False), ("ar", True)], ids=["en-no-javascript", "ar"]
)
def test_example_study_completes_on_a_small_phone_with_no_accessibility_violations(
    browser, axe_js, artifacts_dir, live_server, lang, javascript
):
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, locale=lang)
    page = context.new_page()
    problems: list[str] = []
    scripts_off = None
    if not javascript:
        # English runs with the pages' JavaScript off: they must work without it.
        scripts_off = context.new_cdp_session(page)
        scripts_off.send("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        page.goto(f"{live_server}/s/{SPEC.slug}?lang={lang}")
        direction = "rtl" if lang == "ar" else "ltr"
        assert page.get_attribute("html", "dir") == direction
        assert page.get_attribute("html", "lang") == lang
        check_page(page, axe_js, artifacts_dir, f"{lang}-1-consent", problems, scripts_off)
        page.click("button[name=consent][value=yes]")

        # One answer left out first: the page comes back with the error announced.
        answer_items(page, "pre", skip="support")
        page.click("button[type=submit]")
        assert page.locator("#err-support").is_visible()
        assert page.locator("[role=alert]").count() == 1
        check_page(page, axe_js, artifacts_dir, f"{lang}-2-pre-error", problems, scripts_off)
        answer_items(page, "pre")
        page.click("button[type=submit]")

        assert page.locator("article.frame h2").count() == 1
        check_page(page, axe_js, artifacts_dir, f"{lang}-3-message", problems, scripts_off)
        page.click("button[type=submit]")
        for number, step in ((4, "post"), (5, "intent")):
            check_page(
                page, axe_js, artifacts_dir, f"{lang}-{number}-{step}", problems, scripts_off
            )
            answer_items(page, step)
            if step == "intent":
                # The slider exists only through the small script (without it, a number
                # field): proof that scripts were really off in the no-JavaScript run.
                sliders = page.locator("input[type=range]")
                if javascript:
                    assert sliders.count() == 1
                    assert page.locator(".scale output").first.inner_text() == "70"
                else:
                    assert sliders.count() == 0
                    assert page.input_value("#q-donate-1") == "70"
            page.click("button[type=submit]")

        assert page.locator(".completion .code").inner_text() == SPEC.completion.code
        check_page(page, axe_js, artifacts_dir, f"{lang}-6-debrief", problems, scripts_off)
        # The debrief's withdraw button is a form carrying the code (the browser was just
        # told to forget the participant).
        page.click("form[action$='/p/withdraw'] button")
        check_page(page, axe_js, artifacts_dir, f"{lang}-7-withdraw-confirm", problems, scripts_off)
        page.click("button[name=confirm]")
        check_page(page, axe_js, artifacts_dir, f"{lang}-8-withdrawn", problems, scripts_off)
        page.goto(f"{live_server}/s/no-such-study?lang={lang}")
        check_page(page, axe_js, artifacts_dir, f"{lang}-9-not-found", problems, scripts_off)
        # "Leave this page" works without scripts (a plain link); with them it replaces
        # the page in the history, so the back button does not return to the study.
        page.goto(f"{live_server}/s/{SPEC.slug}?lang={lang}")
        entries = page.evaluate("history.length")
        page.click("a[data-exit]")
        page.wait_for_url(f"{live_server}/withdraw")
        assert page.evaluate("history.length") == entries + (0 if javascript else 1)
    finally:
        context.close()
    assert problems == []
