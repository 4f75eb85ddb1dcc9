"""Channel links and invitation lists for tests, made as the studio makes them (issue 21).

channel_code(app, kind="sms", name="", slug=...) -> str        # the link is /c/<code>
invitation_links(app, *contacts, slug=..., name="Members") -> {contact: "/i/<token>"}
reach_posts(app) -> {endpoint: (url, form)}   # a complete consent form for each link's POST
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from framelab.services import channel_links, recipient_lists
from framelab.services.pseudonyms import TESTING_KEY, verify_database
from framelab.services.study_versions import get_study
from tests.factories import make_study

MADE_AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
SLUG = make_study().slug


def channel_code(app: Flask, kind: str = "sms", name: str = "", *, slug: str = SLUG) -> str:
    """A new channel link of the study `slug` (campaign's); its code."""
    with app.extensions["framelab.db"]() as session:
        study = get_study(session, slug)
        return channel_links.create_channel_link(
            session, study.id, kind=kind, name=name, now=MADE_AT
        ).code


def invitation_links(
    app: Flask, *contacts: str, slug: str = SLUG, name: str = "Members"
) -> dict[str, str]:
    """Upload `contacts` as an invitation list of `slug`; each contact's link path.

    As the studio's upload does, the database first adopts (or checks) the key, so the
    pages that use the key later (the due lists) find its check value."""
    verify_database(app.extensions["framelab.engine"], TESTING_KEY, now=MADE_AT)
    with app.extensions["framelab.db"]() as session:
        study = get_study(session, slug)
        upload = recipient_lists.upload_recipient_list(
            session,
            study.id,
            ("id\n" + "\n".join(contacts) + "\n").encode(),
            name=name,
            column="",
            key=TESTING_KEY,
            link_for=lambda token: f"http://localhost/i/{token}",
            now=MADE_AT,
        )
    rows = [line.split(",") for line in upload.csv.decode().splitlines()[1:]]
    return {contact: link.removeprefix("http://localhost") for contact, link in rows}


def reach_posts(app: Flask) -> dict[str, tuple[str, dict[str, str]]]:
    """A complete consent form for the channel and invitation links' POST rules."""
    consent = {"step": "consent", "consent": "yes"}
    return {
        "participant.channel_consent": (f"/c/{channel_code(app, name='CSRF check')}", consent),
        "participant.invitation_consent": (invitation_links(app, "csrf-1")["csrf-1"], consent),
    }
