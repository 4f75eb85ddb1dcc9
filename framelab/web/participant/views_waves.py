"""Follow-up waves at `/f/<token>`: the wave's questions, a come-back date, or a closed page.

The token is the participant's follow-up link (framelab.db.waves), shown at the debrief
or handed out in the campaign's "due" list. It opens these pages only: it may resume
the follow-up, it never withdraws and never opens wave 1's pages (DECISIONS rule 5).
The page is in the participant's language (`?lang=` shows another of the study's),
works without JavaScript, and stores a page's answers all together or not at all
(framelab.services.waves). An unknown token counts as a guessed code.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, make_response, request, url_for
from werkzeug.wrappers import Response

from framelab.clock import now
from framelab.services.errors import ParticipantNotFound
from framelab.services.waves import WavePage, submit_wave, wave_page
from framelab.web.compression import mask
from framelab.web.database import db_session
from framelab.web.extensions import csrf, limiter
from framelab.web.participant.blueprint import bp
from framelab.web.participant.follow_up import long_date
from framelab.web.participant.page_content import page_view
from framelab.web.participant.pages import render_page
from framelab.web.security import check_participant_form, participant_form_token, unknown_code

_FORM_SCOPE = "follow-up:"


def _language(page: WavePage) -> str:
    asked = request.args.get("lang")
    return asked if asked in page.spec.languages else page.language


def _draw(
    page: WavePage,
    token: str,
    *,
    visit: str | None = None,
    errors: Mapping | None = None,
    values: Mapping | None = None,
) -> Response:
    lang = _language(page)
    own = url_for("participant.wave", code=token)
    action = own + (f"?lang={lang}" if request.args.get("lang") == lang else "")
    window = page.visit.window
    html = render_page(
        page_view(page.spec, "wave", lang, items=page.items),
        template="participant/wave.html",
        action=action,
        path=own,
        csrf=mask(participant_form_token(_FORM_SCOPE + token)),
        errors=errors,
        values=values,
        visit=visit or page.visit.kind,
        wave_id=page.wave_id,
        opens=long_date(window.opens, lang) if window is not None else "",
    )
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/f/<code>", methods=["GET"])
@limiter.code_guesses
def wave(code: str) -> Response:
    """The follow-up link: the wave open now, or when to come back, or that it closed."""
    try:
        return _draw(wave_page(db_session(), code, now=now()), code)
    except ParticipantNotFound:
        unknown_code()
        abort(404)


@bp.route("/f/<code>", methods=["POST"])
@limiter.code_guesses
@csrf.exempt
def submit_wave_page(code: str) -> Response:
    """A wave page's answers: saved all together (a thank-you), or the page again."""
    try:
        check_participant_form(_FORM_SCOPE + code)
        result = submit_wave(
            db_session(), code, request.form.get("wave", ""), request.form, now=now()
        )
    except ParticipantNotFound:
        unknown_code()
        abort(404)
    if not result.ok:
        return _draw(result.page, code, errors=result.errors, values=result.values)
    if result.saved:
        return _draw(result.page, code, visit="saved")
    # Nothing stored (answered already, or the window closed meanwhile): what is true now.
    return _draw(wave_page(db_session(), code, now=now()), code)
