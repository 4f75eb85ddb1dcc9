"""No contact id is kept (issue 21's acceptance): after an invitation list is uploaded and
invited people take part, no phone number, e-mail address or raw contact id is in any
table, in any log record, or in any export; nor is an invitation token in a log line."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from framelab.services.export import write_export
from framelab.services.export_files import EXPORT_FORMATS
from framelab.web.logs import scrub
from tests.factories import make_study
from tests.web.reach import channel_code, invitation_links
from tests.web.test_reach_links import LinkWalker

SPEC = make_study()
CONTACTS = ("+44 7700 900123", "ana.silva@example.org", "CRM-000042", "0049 30 1234567")


def _variants(contact: str) -> set[str]:
    digits = "".join(c for c in contact if c.isdigit())
    found = {contact, contact.replace(" ", ""), contact.split("@")[0]}
    if len(digits) >= 7:
        found.add(digits)
    return found


def _dump(app) -> str:
    lines = []
    with app.extensions["framelab.engine"].connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                lines.append(" ".join(str(value) for value in row))
    return "\n".join(lines)


def test_no_contact_id_is_in_the_database_the_logs_or_the_exports(app, clock, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    links = invitation_links(app, *CONTACTS)
    for contact in CONTACTS[:2]:
        LinkWalker(app.test_client(), links[contact], clock).complete()
    LinkWalker(app.test_client(), f"/c/{channel_code(app)}", clock).complete()
    with app.extensions["framelab.engine"].connect() as conn:
        done = conn.execute(sa.text("SELECT source, status FROM participant ORDER BY id")).all()
    assert [tuple(r) for r in done] == [("invitation", "completed")] * 2 + [("sms", "completed")]
    text = _dump(app)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    exports = []
    with app.extensions["framelab.db"]() as session:
        for fmt in EXPORT_FORMATS:
            path = tmp_path / f"export.{fmt}"
            write_export(session, SPEC.slug, fmt, path)
            exports.append(path.read_bytes())
    assert len(exports) == len(EXPORT_FORMATS) and "invitation" in exports[0].decode()
    for contact in CONTACTS:
        for variant in _variants(contact):
            assert variant not in text, variant
            assert variant not in logged, variant
            assert all(variant.encode() not in data for data in exports), variant


def test_an_invitation_token_in_a_log_line_is_scrubbed():
    token = "Ab3dEfGh1jKlMn0pQrStUv"
    line = f'127.0.0.1 - - "GET /i/{token} HTTP/1.1" 200 - "POST /i/{token.lower()}?lang=en"'
    cleaned = scrub(line)
    assert token not in cleaned and token.lower() not in cleaned
    assert cleaned.count("/i/[code]") == 2
