"""The report opened from disk in real Chromium, with every network request blocked."""

from __future__ import annotations

import pytest

from analysis.report import write_report
from tests.conftest import run_axe
from tests.report.simulated import simulated_results

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    """A full report: real analysis output on a simulated study with planted effects."""
    return write_report(simulated_results(), tmp_path_factory.mktemp("report"), title="Torture ban")


def _open(browser, report_file, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    url = report_file.as_uri()
    blocked: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url == url:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, blocked, errors


@pytest.mark.parametrize("width", [360, 1280])
def test_report_renders_offline_without_requests_or_console_errors(
    browser, report_file, artifacts_dir, width
):
    page, blocked, errors = _open(browser, report_file, width)
    try:
        assert page.title() == "Torture ban"
        lead = page.locator("#summary p.lead").inner_text()
        assert lead.startswith("The fairness frame raised support for the ban by ")
        # forest x2, standardized, distributions x2, flow, subgroups
        assert page.locator("svg[role=img]").count() >= 7
        # every figure actually laid out with a visible size
        sizes = page.eval_on_selector_all(
            "svg[role=img]", "els => els.map(e => e.getBoundingClientRect().width)"
        )
        assert min(sizes) > 100
        # on a phone the page itself never scrolls sideways: wide tables scroll in their box
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        page.screenshot(path=str(artifacts_dir / f"report-{width}.png"), full_page=True)
        assert blocked == []
        assert errors == []
    finally:
        page.close()


def test_report_has_no_accessibility_violations(browser, report_file, axe_js):
    page, blocked, errors = _open(browser, report_file, 1280)
    try:
        violations = run_axe(page, axe_js)
        assert violations == []
        assert blocked == []
        assert errors == []
    finally:
        page.close()


def test_print_layout_hides_navigation(browser, report_file):
    page, _, _ = _open(browser, report_file, 1280)
    try:
        page.emulate_media(media="print")
        assert page.locator("nav").is_hidden()
        assert page.locator("#appendix").is_visible()
    finally:
        page.close()
