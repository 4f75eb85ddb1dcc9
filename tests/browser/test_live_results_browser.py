"""The live (anytime-valid) results in real Chromium (issue 20).

The owner launches a study whose plan declares monitoring (with the reviewer's approval,
DECISIONS rule 9); rehearsal participants take part (rule 4); the analyst's dashboard
shows, per frame, the confidence-sequence plot whose drawn points are the values of
the JSON `sequential` section, and the decision line; a download taken before the
target says "interim" in its name and its metadata (rule 3). Screenshots go to
test-artifacts/; axe-core must find no violation on the dashboard.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from argon2 import PasswordHasher

from framelab import create_app
from framelab.services import accounts
from framelab.services.flow import current_page, submit_step
from framelab.services.study_versions import get_study
from tests.browser.reviewing import invite_reviewer, reviewer_approves
from tests.conftest import run_axe
from tests.factories import make_study, publish, session_factory_for, valid_answers
from tests.members import give_role
from tests.participants import enrol
from tests.support.live import serve

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
OWNER, ANALYST, REVIEWER = "owner@example.org", "analyst@example.org", "ethics@example.org"
MONITORING = {"looks": "anytime", "stop_for_efficacy": True, "stop_for_futility": {"below": 0.1}}
SPEC = make_study(
    analysis={**make_study().analysis.model_dump(mode="json"), "monitoring": MONITORING}
)
REHEARSAL = 80

# The drawn points of every sequence plot, as the page holds them.
POINTS = """() => Object.fromEntries([...document.querySelectorAll('#live-rehearsal svg.sequence')]
  .map(svg => [svg.dataset.arm, [...svg.querySelectorAll('circle.look')].map(c => ({
    look_n: Number(c.dataset.n), estimate: Number(c.dataset.estimate),
    cs_low: Number(c.dataset.csLow), cs_high: Number(c.dataset.csHigh)}))]))"""


@pytest.fixture
def live_server(tmp_path) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path / 'live-results.sqlite'}"
    default = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    now = datetime.now(UTC)
    try:
        with session_factory_for(url) as factory, factory() as session:
            publish(session, SPEC, status="draft")
            study_id = get_study(session, SPEC.slug).id
            session.rollback()
            for email, role in ((OWNER, "owner"), (ANALYST, "analyst")):
                accounts.create_user(session, email, PASSWORD, now=now)
                give_role(session, study_id, email, role, now=now)
            accounts.create_user(session, REVIEWER, PASSWORD, now=now)
    finally:
        accounts._hasher = default
    app = create_app({"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": True})
    with serve(app) as base:
        yield base, url


def _sign_in(context, base: str, email: str):
    page = context.new_page()
    page.goto(f"{base}/studio/login")
    page.wait_for_load_state("load")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    return page


def _rehearse(url: str, n: int) -> None:
    """n rehearsal participants, after the lock; the care frame raises support."""
    rng = np.random.default_rng(5)
    start = datetime.now(UTC)
    with session_factory_for(url) as factory, factory() as session:
        for i in range(n):
            t = start + timedelta(seconds=30 * i)
            code = enrol(
                session, SPEC.slug, language="en", source=None, panel=None, now=t, rehearsal=True
            ).code
            arm = None
            while (page := current_page(session, code, now=t)).step != "debrief":
                t += timedelta(seconds=20)
                arm = arm or getattr(page, "arm", None)
                care = page.step == "post" and arm == "care"
                support = int(rng.integers(5, 8) if care else rng.integers(1, 6))
                form = valid_answers(SPEC, page.step, support=support)
                assert submit_step(session, code, page.step, form, now=t).ok


def test_the_dashboard_plots_the_sequential_section_and_downloads_say_interim(
    browser, axe_js, artifacts_dir, live_server, tmp_path
):
    base, url = live_server
    owner_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        owner = _sign_in(owner_context, base, OWNER)
        invite_reviewer(owner, base, SPEC.slug, REVIEWER)
        reviewer_approves(browser, base, SPEC.slug, REVIEWER, PASSWORD)
        owner.goto(f"{base}/studio/{SPEC.slug}/launch")
        row = owner.inner_text("#lock-monitoring")
        assert "Stop for futility" in row and "2000 completed participants" in row
        owner.check("#confirm_launch")
        owner.click("#launch-form button[type=submit]")
        assert "is now live" in owner.inner_text("main")
    finally:
        owner_context.close()

    _rehearse(url, REHEARSAL)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        page = _sign_in(context, base, ANALYST)
        page.goto(f"{base}/studio/{SPEC.slug}/dashboard")
        page.wait_for_load_state("load")
        page.screenshot(path=str(artifacts_dir / "live-dashboard-1280.png"), full_page=True)
        assert "REHEARSAL" in page.inner_text("#live-rehearsal")
        drawn = page.evaluate(POINTS)
        response = page.request.get(f"{base}/studio/{SPEC.slug}/live.json?rehearsal=1")
        assert response.ok
        results = response.json()
        assert results["meta"]["interim"] is True
        records = {r["arm"]: r for r in results["sequential"]}
        assert set(drawn) == {r["arm"] for r in records.values() if r["path"]}
        assert drawn, "no frame had enough rehearsal participants for a plot"
        for arm, points in drawn.items():
            expected = [
                {k: p[k] for k in ("look_n", "estimate", "cs_low", "cs_high")}
                for p in records[arm]["path"]
            ]
            assert points == expected  # the plotted values are the JSON's, to the last bit
            line = page.inner_text(f"#decision-rehearsal-post_support-{arm}")
            name = page.inner_text(f"#live-rehearsal-table tr[data-arm={arm}] th")
            assert line.startswith(f"{name}: ")
            assert ("you may stop" in line) == (records[arm]["decision"] != "continue")
        care = records["care"]
        assert care["decision"] == "efficacy"
        assert "Care" in page.inner_text("#decision-rehearsal-post_support-care")
        assert "you may stop" in page.inner_text("#decision-rehearsal-post_support-care")
        # the plot is laid out at a readable size
        width = page.eval_on_selector(
            "#live-rehearsal svg.sequence", "e => e.getBoundingClientRect().width"
        )
        assert width > 300
        violations = run_axe(page, axe_js)
        assert violations == [], violations

        page.goto(f"{base}/studio/{SPEC.slug}/downloads")
        page.wait_for_load_state("load")
        assert "interim" in page.inner_text("#interim-downloads")
        with page.expect_download() as info:
            page.click(f"a[href$='/studio/{SPEC.slug}/download/codebook-json']")
        download = info.value
        assert download.suggested_filename.endswith(".json")
        book = json.loads(download.path().read_text(encoding="utf-8"))
        assert book["interim"] is True
        with page.expect_download() as info:
            page.click(f"a[href$='/studio/{SPEC.slug}/download/parquet']")
        download = info.value
        assert download.suggested_filename == f"{SPEC.slug}-interim.parquet"
        import pyarrow.parquet as pq

        meta = pq.read_schema(download.path()).metadata
        assert json.loads(meta[b"framelab"])["interim"] is True
        page.screenshot(path=str(artifacts_dir / "live-downloads.png"), full_page=True)
    finally:
        context.close()
