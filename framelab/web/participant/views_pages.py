"""The participant's pages at the neutral address `/p`: show the current page, post a page.

A participant's own pages keep no session (framelab.web.security.SessionInterface): the
cookie or the form's code says who they are, and their forms carry a token bound to it
instead of Flask-WTF's session token. Forms post to `/p`, and a valid post redirects
back (post/redirect/get), so reloads and the back button never resend answers; a
browser that keeps no cookie is shown its next page right away instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from framelab.clock import now
from framelab.domain.steps import FINISHED_STEPS
from framelab.services.errors import ParticipantNotFound
from framelab.services.flow import current_page, keep_page_draft, set_language, submit_step
from framelab.web import assets
from framelab.web.compression import allow_compression
from framelab.web.database import db_session
from framelab.web.extensions import csrf, limiter
from framelab.web.i18n import (
    DEFAULT_LANGUAGE,
    UI_LANGUAGES,
    page_chrome,
    request_language,
    use_language,
)
from framelab.web.participant.blueprint import bp
from framelab.web.participant.browser import cookie_code, forget_browser, keep, posted_code
from framelab.web.participant.pages import page_url, participant_page
from framelab.web.security import (
    PARTICIPANT_COOKIE,
    check_participant_form,
    participant_form_token,
    unknown_code,
)

# Pages that show the participant code in clear, for copying: never compressed (BREACH).
SHOWS_CODE = frozenset({"debrief"})


def show(
    code: str,
    *,
    errors: Mapping | None = None,
    values: Mapping | None = None,
    language: str | None = None,
) -> Response:
    """The participant's current page; a finished one's tells the browser to forget the site.

    Without `values` (the answers as posted), the page shows its draft, if it has one.
    """
    state = current_page(db_session(), code, now=now())
    if language is not None and language in state.spec.languages:
        state = replace(state, language=language)
    if values is None:
        values = state.draft  # the valid answers of an earlier post that failed
    html = participant_page(
        state, code=code, csrf=participant_form_token(code), errors=errors, values=values
    )
    response = make_response(html)
    if state.step not in SHOWS_CODE:
        # Its code and token are masked per response; the debrief shows the code in clear.
        allow_compression(response)
    if state.step in FINISHED_STEPS:
        return forget_browser(response)
    if cookie_code() != code:
        keep(response, code)
    return response


def resume_page(*, code: str = "", error: str | None = None, status: int = 200) -> Response:
    """Where a browser without the participant cookie lands: continue with the participant code."""
    use_language(request_language(UI_LANGUAGES, DEFAULT_LANGUAGE))
    html = render_template(
        "participant/resume.html",
        ui=page_chrome(),
        page_title=_("Continue the study"),
        action=url_for("participant.resume_with_code"),
        code=code,
        error=error,
    )
    return make_response(html, status)


@bp.route("/p", methods=["GET"])
@limiter.code_guesses
def page() -> Response:
    """The participant's current page; `?lang=` switches their language."""
    code = cookie_code()
    if code is None:
        return resume_page()
    try:
        if request.args.get("lang"):
            set_language(db_session(), code, request.args["lang"])
            return redirect(page_url())
        return show(code)
    except ParticipantNotFound:
        # The browser remembers a participant the database does not have (erased), or a
        # cookie was made up: a guess, counted by the code-guess limit.
        unknown_code()
        response = resume_page()
        response.delete_cookie(PARTICIPANT_COOKIE, path=page_url())
        return response


@bp.route("/p", methods=["POST"])
@limiter.code_guesses
@csrf.exempt
def submit() -> Response:
    """Answers of one page; invalid answers show the page again with the answers kept."""
    return submit_page(posted_code())


def submit_page(code: str | None) -> Response:
    """Apply a page's form for `code` (the form's or the cookie's participant)."""
    if code is None:
        raise CSRFError("The form says for no participant whose page it is.")
    check_participant_form(code)
    try:
        step = request.form.get("step", "")
        result = submit_step(db_session(), code, step, request.form, now=now())
        if result.errors:
            return show(code, errors=result.errors, values=result.values)
        if cookie_code() == code:
            return redirect(page_url())
        # A browser that keeps no cookie gets its next page right away.
        return show(code)
    except ParticipantNotFound:
        unknown_code()
        abort(404)


@bp.route("/p/draft", methods=["POST"])
@limiter.code_guesses
@csrf.exempt
def keep_draft() -> Response:
    """A page's answers sent by the page's script as it is left unsent: kept as its draft.

    The form is the page's own (its code and token), sent with `navigator.sendBeacon`;
    nobody reads the empty answer.
    """
    code = posted_code()
    if code is None:
        raise CSRFError("The form says for no participant whose page it is.")
    check_participant_form(code)
    try:
        keep_page_draft(db_session(), code, request.form.get("step", ""), request.form, now=now())
    except ParticipantNotFound:
        unknown_code()
        abort(404)
    return Response(status=204)


@bp.route("/p/<path:step>", methods=["GET"])
def step_page(step: str) -> Response:
    """A bookmarked or guessed step address: the current step is the only page there is."""
    return redirect(page_url())


@bp.route("/favicon.ico", methods=["GET"])
def favicon() -> Response:
    """The site's icon at the address browsers ask for on a first visit (pages link its hashed URL)."""
    return assets.serve("favicon.ico", cache_control="public, max-age=86400")
