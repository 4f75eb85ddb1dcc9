"""Every page of the study builder in real Chromium, as a campaigner on a phone would use it:
no sideways scroll at 360 px, every control reachable with Tab, no axe-core violation; and the
design page set in one submission, with and without JavaScript (issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from framelab import create_app
from framelab.domain.builder import build_languages
from framelab.services import accounts
from framelab.services.study_versions import get_study
from tests.conftest import run_axe
from tests.factories import make_study, publish, session_factory_for
from tests.members import give_role
from tests.support.live import serve

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "campaigner@example.org", "correct horse battery"
SPEC = make_study()
SLUG = SPEC.slug
# The builder's pages for a draft of the example study (blocked on "ideology", in four
# languages, with Portuguese added so the translation view shows a preset's labels).
PAGES = (
    "frames",
    "frames/care",
    "frames/control",
    "arms/care/settings",
    "arms/care/remove",
    "texts",
    "questions",
    "questions/support",
    "questions/age_group",
    "questions/ideology/remove",
    "scales",
    "scales/care_values",
    "languages",
    "translate/pt",
    "translate/pt/interface",
    "design",
    "plan",
    "power",
    "preview",
    "preview/care/pt/message",
    "to-fill",
)
# What Tab must reach on a page: every control a person can use.
CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex='0']"


@pytest.fixture
def live_server(tmp_path) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'builder-pages.sqlite'}"
    default = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    now = datetime.now(UTC)
    try:
        with session_factory_for(url) as factory, factory() as session:
            publish(session, build_languages.add_language(SPEC, "pt"), status="draft")
            accounts.create_user(session, EMAIL, PASSWORD, now=now)
            study_id = get_study(session, SLUG).id
            session.rollback()
            give_role(session, study_id, EMAIL, "owner", now=now)
    finally:
        accounts._hasher = default
    app = create_app({"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": True})
    with serve(app) as base:
        yield base, url


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/studio/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(f"{base}/studio/")


def unreached_by_tab(page) -> list[str]:
    """Controls shown on the page that pressing Tab from the top never focuses."""
    count = page.evaluate(
        """(selector) => {
          window.__controls = [...document.querySelectorAll(selector)].filter(
            (e) => !e.matches(':disabled') && e.getClientRects().length && !e.closest('[hidden], [inert]')
              && (e.tagName !== 'SUMMARY' || e.parentElement.tagName === 'DETAILS')
              && !(e.closest('details:not([open])') && e.tagName !== 'SUMMARY'));
          window.__reached = new Set();
          // Tab stops once on a group of radio buttons (arrow keys choose within it).
          const key = (e) => e.type === 'radio' ? `radio:${e.form && e.form.action}:${e.name}` : e;
          window.__key = key;
          document.addEventListener('focusin', (event) => window.__reached.add(key(event.target)), true);
          document.activeElement && document.activeElement.blur();
          window.scrollTo(0, 0);
          return window.__controls.length;
        }""",
        CONTROLS,
    )
    for _ in range(count + 20):
        page.keyboard.press("Tab")
        done = page.evaluate(
            "() => window.__controls.every((e) => window.__reached.has(window.__key(e)))"
            " || document.activeElement === document.body && window.__reached.size > 0"
        )
        if done:
            break
    return page.evaluate(
        """() => window.__controls.filter((e) => !window.__reached.has(window.__key(e))).map(
             (e) => e.outerHTML.slice(0, 120))"""
    )


def test_every_builder_page_fits_a_phone_works_by_keyboard_and_passes_axe(
    browser, axe_js, artifacts_dir, live_server
):
    base, _ = live_server
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        sign_in(page, base)
        for path in PAGES:
            response = page.goto(f"{base}/studio/{SLUG}/{path}")
            assert response.status == 200, path
            width = page.evaluate("document.scrollingElement.scrollWidth")
            if width > 360:
                problems.append(f"{path}: {width}px wide at 360")
            problems += [f"{path}: axe {v['id']}: {v['nodes']}" for v in run_axe(page, axe_js)]
            problems += [f"{path}: Tab never reaches {html}" for html in unreached_by_tab(page)]
        page.goto(f"{base}/studio/{SLUG}/frames/care")
        page.screenshot(path=str(artifacts_dir / "frame-editor-360.png"), full_page=True)
    finally:
        context.close()
    assert problems == []


def _design(database_url: str):
    with session_factory_for(database_url) as factory, factory() as session:
        return get_study(session, SLUG).spec.design


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_the_design_page_sets_the_draw_question_and_groups_in_one_submission(
    browser, live_server, javascript
):
    base, database_url = live_server
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, java_script_enabled=javascript
    )
    page = context.new_page()
    posts: list[str] = []
    page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
    try:
        sign_in(page, base)
        page.goto(f"{base}/studio/{SLUG}/design")
        page.check("input[name=scheme][value=simple]")
        if javascript:
            # Only what the choices need is shown: no blocking, no blocks, for a simple draw.
            assert not page.is_visible("#blocking") and not page.is_visible("#blocks")
        page.check("input[name=scheme][value=blocked]")
        page.select_option("#block_by", "age_group")
        # The groups of the question just chosen are there to fill, before any save.
        assert page.is_visible("#strata-age_group")
        assert page.is_visible("#strata-ideology") is not javascript
        for value, group in ((1, "Under 45"), (2, "Under 45"), (3, "Older"), (4, "Older")):
            page.fill(f"#group-age_group-{value}", group)
        posts.clear()
        page.click("#save")
        page.wait_for_load_state()
        assert "Saved." in page.inner_text("main")
    finally:
        context.close()
    assert len(posts) == 1
    design = _design(database_url)
    assert (design.scheme, design.block_by) == ("blocked", "age_group")
    assert design.strata == {"under_45": [1, 2], "older": [3, 4]}


def test_the_translation_column_stays_wide_beside_preset_labels(browser, live_server):
    base, _ = live_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, base)
        page.goto(f"{base}/studio/{SLUG}/translate/pt")
        assert page.locator("tr.prefilled").count() == 7
        widths = page.eval_on_selector_all(
            "table.translate td > input, table.translate td > textarea",
            "(boxes) => boxes.map((box) => box.getBoundingClientRect().width)",
        )
    finally:
        context.close()
    # What the translator types is as wide as the text beside it, give or take.
    assert min(widths) >= 300, min(widths)
