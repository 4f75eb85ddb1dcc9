"""Leaving and coming back: withdrawing (now or later) and resuming with the participant code.

Resuming and withdrawing follow DECISIONS rule 5: the browser's own cookie, or the
participant code (`/r/<code>`, the form at `/p` when the cookie is gone, and the older
`/s/<slug>/p/<code>` links) leads back to a participant's page; a panel id never does.
"""

from __future__ import annotations

from flask import abort, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from framelab.clock import now
from framelab.domain.participant_codes import candidates
from framelab.services.errors import ParticipantNotFound
from framelab.services.flow import current_page, is_participant, withdraw
from framelab.web.compression import unmask
from framelab.web.database import db_session
from framelab.web.extensions import csrf, limiter
from framelab.web.i18n import (
    DEFAULT_LANGUAGE,
    UI_LANGUAGES,
    interface_text,
    page_chrome,
    request_language,
    use_language,
)
from framelab.web.participant.blueprint import bp
from framelab.web.participant.browser import CODE, cookie_code, forget_browser, posted_code, to_page
from framelab.web.participant.pages import render_withdraw_confirmation
from framelab.web.participant.views_pages import resume_page, show, submit_page
from framelab.web.security import check_participant_form, participant_form_token, unknown_code


@bp.route("/p/withdraw", methods=["GET"])
@limiter.code_guesses
def confirm_withdraw() -> Response:
    """Ask before erasing the participant's answers (the page's withdraw link)."""
    code = cookie_code()
    if code is None:
        return resume_page()
    return _withdraw_confirmation(code)


def _withdraw_confirmation(code: str) -> Response:
    try:
        state = current_page(db_session(), code, now=now())
    except ParticipantNotFound:
        unknown_code()
        abort(404)
    return make_response(
        render_withdraw_confirmation(state, code=code, csrf=participant_form_token(code))
    )


@bp.route("/p/withdraw", methods=["POST"])
@limiter.code_guesses
@csrf.exempt
def do_withdraw() -> Response:
    """Erase the participant's answers (after the confirmation page)."""
    return _withdraw(posted_code())


def _withdraw(code: str | None) -> Response:
    if code is None:
        raise CSRFError("The form says for no participant whose page it is.")
    check_participant_form(code)
    if request.form.get("confirm") != "yes":
        return _withdraw_confirmation(code)
    try:
        language = withdraw(db_session(), code, now=now())
        return show(code, language=language)
    except ParticipantNotFound:
        unknown_code()
        abort(404)


def _known(typed: str) -> str | None:
    """The stored code a typed or linked code means (any case, grouped or not), if it exists.

    A code as a page's form carries it (masked, framelab.web.compression) means the code
    too: a tool that reads it from the form may resume with it.
    """
    for code in candidates(unmask(typed.strip()[:200])):
        if CODE.match(code) and is_participant(db_session(), code):
            return code
    unknown_code()
    return None


def _resume(typed: str) -> Response:
    code = _known(typed)
    if code is None:
        abort(404)
    return to_page(code)


@bp.route("/r/<code>", methods=["GET"])
@limiter.code_guesses
def resume(code: str) -> Response:
    """The resume link: remember the participant in this browser and open their page."""
    return _resume(code)


@bp.route("/r", methods=["POST"])
@limiter.code_guesses
@limiter.per_source("LOGIN_RATE_LIMIT", scope="withdraw")
@csrf.exempt
def resume_with_code() -> Response:
    """The participant code typed into the resume page (rate-limited like sign-in)."""
    # No session on these pages, so no session token: a form from another site is
    # refused by the browser's own word for where it came from.
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        raise CSRFError("The resume form was sent from another site.")
    typed = " ".join(request.form.get("code", "").split())
    code = _known(typed)
    if code is not None:
        return to_page(code)
    message = _("We found no participation with this code. Please check it and try again.")
    return resume_page(code=typed[:64], error=message, status=400)


# The addresses of earlier releases, which put the study and the code in the path:
# links people kept still lead to their page, and forms open during an upgrade still post.


@bp.route("/s/<slug>/p/<code>", methods=["GET"])
@bp.route("/s/<slug>/p/<code>/<path:step>", methods=["GET"])
@limiter.code_guesses
def old_page(slug: str, code: str, step: str = "") -> Response:
    """An old participant address: the resume link it always was."""
    return _resume(code)


@bp.route("/s/<slug>/p/<code>", methods=["POST"])
@limiter.code_guesses
@csrf.exempt
def old_submit(slug: str, code: str) -> Response:
    return submit_page(code if CODE.match(code) else None)


@bp.route("/s/<slug>/p/<code>/withdraw", methods=["POST"])
@limiter.code_guesses
@csrf.exempt
def old_withdraw(slug: str, code: str) -> Response:
    return _withdraw(code if CODE.match(code) else None)


@bp.route("/withdraw", methods=["GET", "POST"])
@limiter.code_guesses
@limiter.per_source("LOGIN_RATE_LIMIT", scope="withdraw")
def withdraw_later() -> Response:
    """Withdraw later: the participant enters their code and their answers are erased."""
    use_language(request_language(UI_LANGUAGES, DEFAULT_LANGUAGE))
    code = " ".join(request.form.get("code", "").split()) if request.method == "POST" else ""
    error = None
    if request.method == "POST":
        found = _known(code)
        try:
            if found is None:
                raise ParticipantNotFound("participant: not a participant code")
            language = withdraw(db_session(), found, now=now())
        except ParticipantNotFound:
            error = _("We found no participation with this code. Please check it and try again.")
        else:
            # Once the code says whose it is, the page speaks their study language (with
            # the study's own interface strings), not the browser's (issue 17).
            spec = current_page(db_session(), found, now=now()).spec
            if language in spec.languages:
                use_language(language, interface_text(spec, language))
    done = request.method == "POST" and error is None
    html = render_template(
        "participant/withdraw_code.html",
        ui=page_chrome(),
        page_title=_("Withdraw from a study"),
        action=url_for("participant.withdraw_later"),
        code=code if error else "",
        error=error,
        done=done,
    )
    response = make_response(html, 400 if error else 200)
    return forget_browser(response) if done else response
