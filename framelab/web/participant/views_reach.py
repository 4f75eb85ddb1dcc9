"""Channel links `/c/<code>` and invitation links `/i/<token>` (issue 21).

A channel link is the campaign's study link with its source fixed by the link (never
by `?src=`): the same consent page, and enrolment on its POST. An invitation link's
GET only shows the consent page (chat apps' link previews fetch it, and must not use
it up) or leads the participant it enrolled back to their page; its consent POST
enrols, once (DECISIONS rule 5). The token resumes but never withdraws: withdrawing
takes the participant code, as everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import request, url_for
from werkzeug.wrappers import Response

from framelab.clock import now
from framelab.domain.steps import FINISHED_STEPS, steps_for
from framelab.services.participant_store.reach import (
    InvitationWithdrawn,
    LinkNotFound,
    channel_arrival,
    channel_entry,
    consent_from_invitation,
    invitation,
)
from framelab.services.rehearsal import HEADER as REHEARSAL_HEADER
from framelab.services.study_versions import LoadedStudy, StudyClosed, StudyNotFound
from framelab.web.database import db_session
from framelab.web.extensions import limiter
from framelab.web.i18n import request_language
from framelab.web.participant.blueprint import bp
from framelab.web.participant.browser import remember, remembered_codes, to_page
from framelab.web.participant.pages import first_page_css, page_view, render_page
from framelab.web.participant.views_link import (
    _requested_language,
    _unavailable,
    arrival_reply,
    enrol_at_link,
)

CHANNEL_CODE = re.compile(r"^[A-Za-z0-9]{4,16}$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def _not_found() -> tuple[str, int]:
    # The study link's own page for a link it does not know (the same words, translated).
    return _unavailable(StudyNotFound("link: no channel or invitation link of this address"))


@bp.route("/c/<code>", methods=["GET"])
@limiter.new_participants
def channel(code: str) -> Response | str | tuple[str, int]:
    """A channel link: the campaign's consent page, or this browser's own participant's page."""
    if not CHANNEL_CODE.match(code):
        return _not_found()
    code = code.lower()
    counted = REHEARSAL_HEADER not in request.headers  # the simulator's visits are not counted
    try:
        link, arrival = channel_arrival(db_session(), code, remembered_codes(), count=counted)
    except LinkNotFound:
        return _not_found()
    return arrival_reply(link.slug, arrival, _channel_action(code))


def _channel_action(code: str):
    return lambda lang: url_for("participant.channel_consent", code=code, lang=lang)


@bp.route("/c/<code>", methods=["POST"])
@limiter.new_participants
def channel_consent(code: str) -> Response | str | tuple[str, int]:
    """Consent from a channel link: enrol with the link's source (one transaction)."""
    if not CHANNEL_CODE.match(code):
        return _not_found()
    code = code.lower()
    try:
        link = channel_entry(db_session(), code)
    except LinkNotFound:
        return _not_found()
    return enrol_at_link(
        link.slug, source=link.source, channel=link.id, action_for=_channel_action(code)
    )


def _invitation_page(token: str, loaded: LoadedStudy, errors: Mapping | None = None) -> str:
    """The consent page of an invitation link (drawn per request: never cached per token)."""
    spec = loaded.spec
    lang = request_language(spec.languages, spec.default_language)
    page = page_view(spec, "consent", lang, progress=(1, len(steps_for(spec))))
    action = url_for("participant.invitation_consent", token=token, lang=lang)
    return render_page(page, action=action, errors=errors, inline_css=first_page_css())


def _withdrawn() -> tuple[str, int]:
    # Its participant withdrew: the link takes nobody in again (the study link's words).
    return _unavailable(StudyClosed("invitation", "withdrawn"))


@bp.route("/i/<token>", methods=["GET"])
@limiter.new_participants
def invited(token: str) -> Response | str | tuple[str, int]:
    """An invitation link: the consent page (enrolling nobody), or its participant's page."""
    if not TOKEN.match(token):
        return _not_found()
    try:
        found = invitation(db_session(), token)
    except LinkNotFound:
        return _not_found()
    except InvitationWithdrawn:
        return _withdrawn()
    if found.code is not None:
        return _resume(found.slug, found.code)
    if found.study is None:
        return _unavailable(found.unavailable)
    return _invitation_page(token, found.study)


def _resume(slug: str, code: str) -> Response:
    # The participant code stays the participant's; the browser now remembers them too.
    remember(slug, code)
    return to_page(code)


@bp.route("/i/<token>", methods=["POST"])
@limiter.new_participants
def invitation_consent(token: str) -> Response | str | tuple[str, int]:
    """Consent on an invitation link: enrol its recipient once, else lead them back."""
    if not TOKEN.match(token):
        return _not_found()
    try:
        slug, code, result = consent_from_invitation(
            db_session(), token, request.form, language=_requested_language(), now=now()
        )
        if code is None:
            found = invitation(db_session(), token)
            if found.code is not None:
                return _resume(found.slug, found.code)
            if found.study is None:
                return _unavailable(found.unavailable)
            return _invitation_page(token, found.study, result.errors)
    except LinkNotFound:
        return _not_found()
    except InvitationWithdrawn:
        return _withdrawn()
    except (StudyNotFound, StudyClosed) as error:
        return _unavailable(error)
    if result is not None and result.step in FINISHED_STEPS:
        return to_page(code)  # a "no": nothing to come back to
    return _resume(slug, code)
