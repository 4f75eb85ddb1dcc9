"""The follow-up part of the debrief and the dates the wave pages name (issue 21).

In a study with waves the debrief says what the study chose (`follow_up`): a personal
follow-up link to keep (`code`), or that the campaign may invite them (`invitation`),
each with the date the next wave opens; while a wave is open it links to it. The part
differs per participant (their link, their date), so the cached debrief carries a mark
that `fill_follow_up` replaces (framelab.web.participant.pages).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from babel.core import UnknownLocaleError
from babel.dates import format_date
from flask import render_template, url_for
from markupsafe import Markup

from framelab.clock import now
from framelab.domain.steps import PageState
from framelab.domain.waves import next_window
from framelab.web.i18n import interface_text, use_language

FOLLOW_UP_MARK = "f" + secrets.token_hex(16)


def long_date(moment: datetime, lang: str) -> str:
    """`moment`'s date (UTC) as people read it in `lang`; ISO 8601 where babel has no locale."""
    try:
        return format_date(moment.date(), format="long", locale=lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return moment.date().isoformat()


def follow_up_url(token: str) -> str:
    """The follow-up link of a token, absolute (what a participant keeps)."""
    return url_for("participant.wave", code=token, _external=True)


def follow_up_slot(state: PageState) -> Markup | None:
    """What the debrief template puts where the follow-up part goes (None: no waves)."""
    if state.step != "debrief" or not state.spec.waves:
        return None
    return Markup(FOLLOW_UP_MARK)


def follow_up_html(state: PageState) -> str:
    """The participant's follow-up part of the debrief ('' when no wave is left to come)."""
    link = state.follow_up
    if link is None:
        return ""
    span = next_window(state.spec.waves or [], link.completed_at, now())
    if span is None:
        return ""
    use_language(state.language, interface_text(state.spec, state.language))
    return render_template(
        "participant/_follow_up.html",
        mode=state.spec.follow_up_by,
        url=follow_up_url(link.token),
        opens=long_date(span.opens, state.language),
        is_open=span.state(now()) == "open",
    )


def fill_follow_up(html: str, state: PageState) -> str:
    """`html` with the follow-up mark replaced by this participant's part."""
    if FOLLOW_UP_MARK not in html:
        return html
    return html.replace(FOLLOW_UP_MARK, follow_up_html(state))
