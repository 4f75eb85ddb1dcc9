"""The reach page in real Chromium: an owner makes an SMS link and uploads an invitation
list through the forms, downloads the QR code and the CSV of links; participants come
through both links; the dashboard shows the channel and list tables. axe-core must find
no violation on the reach page (empty and filled) and the dashboard."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.owners import EMAIL, PASSWORD, live_study_with_owner
from tests.browser.test_studio_browser import check, take_survey
from tests.factories import make_study

pytestmark = pytest.mark.browser

SPEC = make_study(quality={"min_cell_size": 1})


@pytest.fixture
def live_server(tmp_path) -> Iterator[str]:
    with live_study_with_owner(tmp_path / "reach-browser.sqlite", SPEC) as (base, _url):
        yield base


def test_an_owner_builds_an_sms_link_and_an_invitation_list(
    browser, axe_js, artifacts_dir, live_server, tmp_path
):
    studio = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = studio.new_page()
    problems: list[str] = []
    reach = f"{live_server}/studio/{SPEC.slug}/reach"
    try:
        page.goto(f"{live_server}/studio/login")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.goto(reach)
        check(page, axe_js, artifacts_dir, "01-reach-empty", problems)
        page.select_option("#kind", "sms")
        page.fill("#name", "SMS members")
        page.click("form[action$='/reach/channels'] [type=submit]")
        sms_link = page.locator("#channel-link-table code.channel-url").inner_text()
        assert "/c/" in sms_link
        href = page.locator("#channel-link-table a >> nth=1").get_attribute("href")
        qr = page.request.get(live_server + href)
        assert qr.ok and qr.body().startswith(b"\x89PNG")
        contacts = tmp_path / "members.csv"
        contacts.write_text("name,member_id\nAna,M-1\nBo,M-2\n", encoding="utf-8")
        page.fill("#list_name", "Members")
        page.fill("#column", "member_id")
        page.set_input_files("#file", str(contacts))
        with page.expect_download() as download:
            page.click("form[action$='/reach/lists'] [type=submit]")
        links = download.value.path().read_text(encoding="utf-8").splitlines()
        assert links[0] == "contact_id,link" and len(links) == 3
        page.goto(reach)
        check(page, axe_js, artifacts_dir, "02-reach-filled", problems)

        for link in (sms_link, links[1].split(",")[1]):
            participant = browser.new_context(viewport={"width": 390, "height": 844})
            take_survey(participant.new_page(), link)
            participant.close()

        page.goto(f"{live_server}/studio/{SPEC.slug}/dashboard")
        channels = page.locator("#channel-table").inner_text()
        assert "SMS members" in channels
        assert "Members" in page.locator("#list-table").inner_text()
        check(page, axe_js, artifacts_dir, "03-dashboard", problems)
    finally:
        studio.close()
    assert problems == []
