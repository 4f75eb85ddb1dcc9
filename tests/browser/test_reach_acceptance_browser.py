"""Issue 21's acceptance, in real Chromium from the studio to the dashboard.

An owner builds an SMS link and an invitation list of 200 recipients through the reach
page. Twenty invited participants take the study on a phone-sized screen through their
own links: two of them stop half-way and come back through the same link in a new
browser (resumed, not enrolled again), one is screened out, three fill the quota of
the "left" cell and the next "left" one is turned away as over quota. Two people come
through the SMS link, one of whom refuses the consent. Every way out shows the panel's
code and its return link, and only on the page that follows the saved state. The
dashboard then counts the SMS channel and the list, and no contact id is stored.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from framelab.db.models import AssignmentLog, Participant
from framelab.testing.forms import page_step
from tests.browser.owners import EMAIL, PASSWORD, live_study_with_owner
from tests.browser.test_studio_browser import answer_items, check
from tests.factories import small_study

pytestmark = pytest.mark.browser

CC = "https://app.prolific.com/submissions/complete?cc="
OUTCOMES = {
    "completed": "C1DONE",
    "screened_out": "C2SCRN",
    "over_quota": "C3FULL",
    "consent_refused": "C4NOPE",
}
SPEC = small_study(
    screener={"items": ["ideology"], "screen_out": {"item": "ideology", "in": [3]}},
    quota={"ideology": {"left": 3}},
    panel={
        "name": "prolific",
        "outcomes": {k: {"code": c, "redirect": CC + c} for k, c in OUTCOMES.items()},
    },
    quality={"min_cell_size": 1},
)
RECIPIENTS = [f"member-{n:04d}" for n in range(1, 201)]
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def live_server(tmp_path) -> Iterator[tuple[str, str]]:
    with live_study_with_owner(tmp_path / "reach-acceptance.sqlite", SPEC) as served:
        yield served


def answer_page(page, step: str, ideology: int) -> None:
    """Answer the items of `step` (the ideology item as given) and send the page."""
    answer_items(page, SPEC, step, {"ideology": ideology})
    page.click("button[type=submit]")


def walk(page, link: str, ideology: int, *, stop_after: str | None = None) -> str:
    """Open `link`, consent if asked, answer until a page without a step form; the last
    step seen (or `stop_after`'s, once that page is submitted)."""
    page.goto(link)
    steps = []
    while True:
        step = page_step(page.content())
        if step is None:
            return steps[-1] if steps else ""
        steps.append(step)
        if step == "consent":
            page.click("button[name=consent][value=yes]")
        else:
            answer_page(page, step, ideology)
        page.wait_for_load_state()
        if step == stop_after:
            return step


def panel_return(page) -> tuple[str, str]:
    """The code shown and the return button's address."""
    return page.locator(".code").first.inner_text().strip(), page.locator(
        "a.panel-return"
    ).get_attribute("href")


def test_links_lists_screener_quota_and_panel_outcomes_from_studio_to_dashboard(
    browser, axe_js, artifacts_dir, live_server, tmp_path
):
    base, url = live_server
    problems: list[str] = []
    studio = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = studio.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{base}/studio/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("#submit")

    # The owner builds the SMS link and uploads the list of 200 members.
    page.goto(f"{base}/studio/{SPEC.slug}/reach")
    page.select_option("#kind", "sms")
    page.fill("#name", "SMS network")
    page.click("form[action$='/reach/channels'] [type=submit]")
    sms = page.locator("#channel-link-table code.channel-url").inner_text()
    assert "/c/" in sms and "src=" not in sms
    members = tmp_path / "members.csv"
    members.write_text("member_id\n" + "\n".join(RECIPIENTS) + "\n", encoding="utf-8")
    page.fill("#list_name", "Urgent action members")
    page.fill("#column", "member_id")
    page.set_input_files("#file", str(members))
    with page.expect_download() as download:
        page.click("form[action$='/reach/lists'] [type=submit]")
    rows = download.value.path().read_text(encoding="utf-8").splitlines()
    assert rows[0] == "contact_id,link" and len(rows) == 201
    links = dict(row.split(",") for row in rows[1:])
    assert sorted(links) == RECIPIENTS and len(set(links.values())) == 200

    def phone():
        return browser.new_context(viewport=PHONE, locale="en-US").new_page()

    seen: dict[str, tuple[str, str]] = {}
    # Twenty invited participants: 3 fill the "left" cell, the 4th "left" is over quota,
    # one is screened out ("centre"), fifteen are on the right; two of those stop after
    # the screener and come back through the same link in a new browser.
    plan = [1, 2, 1, 2, 3] + [4, 5] * 7 + [4]
    assert len(plan) == 20
    for n, ideology in enumerate(plan):
        link = links[RECIPIENTS[n]]
        participant = phone()
        if n in (6, 7):
            assert walk(participant, link, ideology, stop_after="screener") == "screener"
            participant.context.close()
            participant = phone()  # another browser: no cookie, only the link
        last = walk(participant, link, ideology)
        if n == 0:
            check(participant, axe_js, artifacts_dir, "reach-01-completed-phone", problems)
        outcome = {3: "over_quota", 4: "screened_out", 5: "completed"}.get(n)
        if outcome:
            seen[outcome] = panel_return(participant)
            # The outcome page asked the browser to forget the study: a reload (someone
            # else picking up the phone) shows nothing of it (docs/panels.md).
            participant.reload()
            left = participant.content()
            assert seen[outcome][0] not in left and "panel-return" not in left
        if n == 3:
            assert last == "screener"  # the quota is checked on the page that answers it
            check(participant, axe_js, artifacts_dir, "reach-02-over-quota-phone", problems)
        if n == 4:
            check(participant, axe_js, artifacts_dir, "reach-03-screened-out-phone", problems)
        participant.context.close()

    # Through the SMS link: one refuses the consent, one takes part.
    refuser = phone()
    refuser.goto(sms)
    refuser.click("button[name=consent][value=no]")
    refuser.wait_for_load_state()
    seen["consent_refused"] = panel_return(refuser)
    check(refuser, axe_js, artifacts_dir, "reach-04-refused-phone", problems)
    refuser.context.close()
    taker = phone()
    walk(taker, sms, 5)
    taker.context.close()

    for outcome, code in OUTCOMES.items():
        assert seen[outcome] == (code, CC + code), outcome

    # The database: 20 invited participants (the two who came back were resumed), two
    # from the SMS link with its source, 3 + 15 + 1 assigned, nobody turned away assigned.
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        people = conn.execute(
            sa.select(Participant.step, Participant.status, Participant.arm, Participant.source)
        ).all()
        assigned = conn.scalar(sa.select(sa.func.count()).select_from(AssignmentLog))
        dump = "\n".join(
            str(row)
            for table in sa.inspect(conn).get_table_names()
            for row in conn.execute(sa.text(f"SELECT * FROM {table}"))
        )
    engine.dispose()
    assert len(people) == 22
    steps = sorted(p.step for p in people)
    assert steps.count("debrief") == 3 + 15 + 1
    assert steps.count("over_quota") == 1 and steps.count("ineligible") == 1
    assert steps.count("screened_out") == 1  # the refused consent
    assert assigned == 19
    assert all(p.arm is None for p in people if p.step in ("over_quota", "ineligible"))
    assert not any(r in dump for r in RECIPIENTS)  # only keyed pseudonyms are stored

    # The dashboard counts the channel and the list.
    page.goto(f"{base}/studio/{SPEC.slug}/dashboard")
    channels = page.locator("#channel-table").inner_text()
    lists = page.locator("#list-table").inner_text()
    check(page, axe_js, artifacts_dir, "reach-05-dashboard", problems)
    page.screenshot(path=str(artifacts_dir / "reach-dashboard.png"), full_page=True)
    (artifacts_dir / "reach-dashboard.txt").write_text(channels + "\n\n" + lists, encoding="utf-8")
    sms_row = next(line for line in channels.splitlines() if "SMS network" in line)
    list_row = next(line for line in lists.splitlines() if "Urgent action members" in line)
    # Opened, consented, completed, not finished: two opened it, one refused the consent.
    assert sms_row.split("\t")[1:] == ["2", "1", "1", "0"], channels
    assert (
        "refused the consent: 1; screened out by the screener: 1; arrived when their quota "
        "cell was full: 1."
    ) in page.locator("#screening-counts").inner_text()
    # Invited, consented, completed, response rate: the two who came back count once.
    assert list_row.split("\t")[1:] == ["200", "20", "18", "10%"], lists
    studio.close()
    assert problems == []
