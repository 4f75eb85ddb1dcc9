"""The studio's reach page: channel links with QR codes, invitation lists (issue 21)."""

from __future__ import annotations

import io
import logging

import pytest
import sqlalchemy as sa

from framelab.db.reach import ChannelLink, Recipient, RecipientList
from framelab.testing.forms import csrf_token
from tests.studio.conftest import SLUG, build_app, copy_database, sign_in

BASE = f"/studio/{SLUG}/reach"


def _rows(app, model):
    with app.extensions["framelab.db"]() as session:
        return list(session.scalars(sa.select(model)))


def _upload(client, text: bytes | str, *, name="Members", column="", **extra):
    data = text.encode() if isinstance(text, str) else text
    form = {"list_name": name, "column": column, "file": (io.BytesIO(data), "list.csv"), **extra}
    return client.post(f"{BASE}/lists", data=form, content_type="multipart/form-data")


def test_an_owner_makes_a_channel_link_and_downloads_its_qr_codes(studio_app, client_for):
    owner = client_for("owner@example.org")
    page = owner.get(BASE)
    assert page.status_code == 200
    assert "No channel links yet" in page.get_data(as_text=True)
    made = owner.post(f"{BASE}/channels", data={"kind": "sms", "name": "SMS members"})
    assert made.status_code == 302
    (link,) = _rows(studio_app, ChannelLink)
    assert (link.name, link.source, link.kind) == ("SMS members", "sms-members", "sms")
    html = owner.get(BASE).get_data(as_text=True)
    assert f"http://localhost/c/{link.code}" in html
    svg = owner.get(f"{BASE}/qr?link={link.code}&format=svg")
    png = owner.get(f"{BASE}/qr?link={link.code}&format=png")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert png.mimetype == "image/png" and png.data.startswith(b"\x89PNG")
    assert "attachment" in png.headers["Content-Disposition"]
    assert owner.get(f"{BASE}/qr?link=zzzzzzz&format=svg").status_code == 404
    for query in (f"link={link.code}&format=gif", "link=%3Cx%3E", ""):
        assert owner.get(f"{BASE}/qr?{query}").status_code == 400
    # A second link of the same name (or source) is refused with the reason next to the field.
    again = owner.post(f"{BASE}/channels", data={"kind": "custom", "name": "sms  Members"})
    assert again.status_code == 422
    assert "already has a link named" in again.get_data(as_text=True)
    assert len(_rows(studio_app, ChannelLink)) == 1


def test_every_version_shows_the_campaign_links_and_a_viewer_cannot_make_one(
    studio_app, client_for
):
    client_for("owner@example.org").post(f"{BASE}/channels", data={"kind": "poster", "name": ""})
    viewer = client_for("viewer@example.org")
    html = viewer.get(BASE).get_data(as_text=True)
    assert "Poster (QR code)" in html and "Make a channel link" not in html
    assert viewer.post(f"{BASE}/channels", data={"kind": "sms"}).status_code == 403
    editor = client_for("editor@example.org")
    assert _upload(editor, "id\nm-1\n").status_code == 403  # lists are the owner's
    assert _rows(studio_app, Recipient) == []


def test_an_upload_answers_with_the_csv_of_links(studio_app, client_for):
    owner = client_for("owner@example.org")
    response = _upload(owner, "name,member_id\nAna,M-1\nBo,M-2\n", column="member_id")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "contact_id,link" and [line.split(",")[0] for line in lines[1:]] == [
        "M-1",
        "M-2",
    ]
    assert all(",http://localhost/i/" in line for line in lines[1:])
    again = _upload(owner, "member_id\nM-2\nM-3\n", name="Second")
    assert again.get_data(as_text=True).splitlines()[1] == lines[2]  # same contact, same link
    assert len(_rows(studio_app, Recipient)) == 3
    html = owner.get(BASE).get_data(as_text=True)
    assert "Members" in html and "Second" in html


@pytest.mark.parametrize(
    ("content", "column", "message"),
    [
        (b"", "", "Choose a CSV file"),
        (b"a,b\n1,2\n", "", "several columns"),
        (b"id\n1\n", "phone", "no column"),
        (b"id\n\xff\xfe\n", "", "not UTF-8"),
        (b"id\nok\n,\n=HYPERLINK()\n", "", "Nothing was stored"),
        (b"\x00\x01\x02", "", "not"),
    ],
)
def test_a_refused_upload_says_why_keeps_the_form_and_stores_nothing(
    studio_app, client_for, content, column, message
):
    owner = client_for("owner@example.org")
    if content:
        response = _upload(owner, content, name="Kept name", column=column)
    else:
        response = owner.post(
            f"{BASE}/lists",
            data={"list_name": "Kept name", "column": column},
            content_type="multipart/form-data",
        )
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:500]
    assert message in html
    assert 'value="Kept name"' in html
    assert _rows(studio_app, Recipient) == [] and _rows(studio_app, RecipientList) == []


def test_reach_forms_need_their_csrf_token(tmp_path, studio_template):
    app = build_app(copy_database(studio_template, tmp_path / "csrf.sqlite"), WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        sign_in(client, app, "owner@example.org")
        assert client.post(f"{BASE}/channels", data={"kind": "sms"}).status_code == 400
        assert _upload(client, "id\nm-1\n").status_code == 400
        assert _rows(app, ChannelLink) == [] and _rows(app, Recipient) == []
        token = csrf_token(client.get(BASE).get_data(as_text=True))
        made = client.post(f"{BASE}/channels", data={"kind": "sms", "csrf_token": token})
        assert made.status_code == 302
        assert _upload(client, "id\nm-1\n", csrf_token=token).status_code == 200
    finally:
        app.extensions["framelab.engine"].dispose()


def test_the_reach_page_labels_every_field(studio_app, client_for):
    html = client_for("owner@example.org").get(BASE).get_data(as_text=True)
    for field in ("kind", "name", "list_name", "column", "file"):
        assert f'<label for="{field}">' in html, field
    assert 'enctype="multipart/form-data"' in html


def test_no_contact_id_reaches_the_database_or_the_logs(studio_app, client_for, caplog):
    contacts = ["+44 7700 900123", "ana.silva@example.org", "CRM-000042"]
    caplog.set_level(logging.DEBUG)
    owner = client_for("owner@example.org")
    response = _upload(owner, "contact\n" + "\n".join(contacts) + "\n")
    assert response.status_code == 200
    assert all(c in response.get_data(as_text=True) for c in contacts)  # the campaign's file
    dump = []
    with studio_app.extensions["framelab.engine"].connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                dump.append(" ".join(str(v) for v in row))
    text = "\n".join(dump)
    assert len(_rows(studio_app, Recipient)) == 3
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for contact in contacts:
        for variant in (contact, contact.replace(" ", ""), "7700900123", "ana.silva"):
            assert variant not in text, variant
            assert variant not in logged, variant


def test_the_dashboard_shows_the_channel_and_list_tables(studio_app, client_for):
    owner = client_for("owner@example.org")
    dashboard = owner.get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    assert "Channel links (whole campaign)" not in dashboard
    owner.post(f"{BASE}/channels", data={"kind": "whatsapp", "name": "WhatsApp groups"})
    _upload(owner, "id\n" + "\n".join(f"m{i}" for i in range(12)) + "\n", name="Members")
    dashboard = owner.get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    assert "Channel links (whole campaign)" in dashboard and "WhatsApp groups" in dashboard
    assert "Invitation lists (whole campaign)" in dashboard
    assert "<td>12</td>" in dashboard  # invited; no one has answered yet
