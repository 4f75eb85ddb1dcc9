"""Participant pages: a view parses the request, calls one service, renders or redirects.

URLs: `/s/<slug>` is the study link (consent); `/s/<slug>/p/<code>` is the
participant's page, always showing their current step (it is also the resume
link); forms post there with a hidden `step`, and a valid post redirects back
(post/redirect/get), so reloads and the back button never resend answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from framelab.db.direct import for_session
from framelab.services.campaigns import Entry, entry
from framelab.services.enrolment import start_participant
from framelab.services.errors import ParticipantNotFound
from framelab.services.flow import (
    consent_from_link,
    current_page,
    participant_slug,
    set_language,
    steps_for,
    submit_step,
    withdraw,
)
from framelab.services.rehearsal import HEADER as REHEARSAL_HEADER
from framelab.services.rehearsal import check_rehearsal_token
from framelab.services.studies import (
    LoadedStudy,
    StudyClosed,
    StudyNotFound,
    open_study_for_participants,
)
from framelab.services.study_language import study_language
from framelab.web.database import db_engine, db_session
from framelab.web.errors import render_error
from framelab.web.extensions import csrf
from framelab.web.i18n import (
    DEFAULT_LANGUAGE,
    UI_LANGUAGES,
    InterfaceText,
    choose_language,
    interface_text,
    page_chrome,
    resolve_language_with,
    use_language,
)
from framelab.web.participant.pages import (
    page_url,
    page_view,
    participant_page,
    render_page,
    render_withdraw_confirmation,
    study_link_page,
)
from framelab.web.security import check_participant_form, participant_form_token

bp = Blueprint("participant", __name__)

PANEL_PARAMETERS = ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "workerId", "assignmentId")
_PANEL_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_SOURCE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SESSION_CODES = "participants"


def _now() -> datetime:
    # Tests and the simulator may put a clock in the config to control page times.
    clock = current_app.config.get("FRAMELAB_CLOCK")
    return clock() if clock is not None else datetime.now(UTC)


def _panel_parameters() -> dict[str, str]:
    return {
        key: value
        for key in PANEL_PARAMETERS
        if (value := request.args.get(key, "").strip()) and _PANEL_VALUE.match(value)
    }


def _source() -> str | None:
    value = request.args.get("src", "").strip()
    return value if _SOURCE.match(value) else None


def _rehearsal(slug: str) -> bool:
    """Whether the simulator sent this request (a valid rehearsal token for this study).

    A request claiming to be a rehearsal with a token that is not valid is refused: it
    must not become a real participant by accident (a rotated key, an expired token).
    """
    token = request.headers.get(REHEARSAL_HEADER)
    if token is None:
        return False
    # Expiry is wall-clock time, never the simulator's virtual clock (FRAMELAB_CLOCK).
    secret = current_app.config["SECRET_KEY"]
    if not check_rehearsal_token(secret, slug, token, now=datetime.now(UTC)):
        abort(403)
    return True


def _remember(slug: str, code: str) -> None:
    codes = dict(session.get(_SESSION_CODES, {}))
    if codes.get(slug) != code:
        codes[slug] = code
        session[_SESSION_CODES] = codes


def _forget(slug: str) -> None:
    codes = dict(session.get(_SESSION_CODES, {}))
    if codes.pop(slug, None) is not None:
        session[_SESSION_CODES] = codes


def _remembered(slug: str) -> str | None:
    return session.get(_SESSION_CODES, {}).get(slug)


def _error_page_language() -> tuple[str, InterfaceText | None] | None:
    """An error page on a study's address speaks the participant's or the study's language."""
    args = request.view_args or {}
    slug = args.get("slug")
    try:
        found = study_language(db_session(), slug, args.get("code")) if slug else None
    except SQLAlchemyError:
        # The page explains a database failure: the browser's language will do.
        return None
    if found is None:
        return None
    spec, lang = found
    if lang not in spec.languages:
        lang = choose_language(spec.languages, spec.default_language)
    return lang, interface_text(spec, lang)


resolve_language_with(bp.name, _error_page_language)


def _unavailable(error: Exception) -> tuple[str, int]:
    if isinstance(error, StudyClosed):
        return render_error(
            400,
            _("This study is not open"),
            _("This study is not accepting answers right now. Thank you for your interest."),
        )
    return render_error(
        404,
        _("Study not found"),
        _("We could not find this study. Please check the link you were given."),
    )


def _entry(slug: str) -> Entry:
    """Where the campaign's link leads a newcomer now (DECISIONS rule 1)."""
    with for_session(db_engine(), write=False) as db:
        return entry(db, slug)


def _returning(found: Entry, slug: str) -> str | None:
    """The page of a participant this browser already has in the campaign, if any.

    A participant stays on the version they consented to, whichever version the
    campaign's link enrols newcomers into now.
    """
    for key in dict.fromkeys((found.campaign_slug, slug)):
        code = _remembered(key)
        if not code:
            continue
        own = participant_slug(db_engine(), code)
        if own is not None:
            return page_url(own, code)
        _forget(key)  # the browser remembers a participant the database does not have
    return None


def _own_page(participant: Any) -> str:
    return page_url(participant.study_version.study.slug, participant.code)


@bp.route("/s/<slug>", methods=["GET"])
def start(slug: str) -> Response | str | tuple[str, int]:
    """The study link: the consent page (or the participant's own page if they started)."""
    found = _entry(slug)
    back = _returning(found, slug)
    if back:
        return redirect(back)
    panel = _panel_parameters()
    try:
        if panel:
            # A panel link is personal: enrol now, so the same panel id resumes.
            participant = start_participant(
                db_session(),
                found.enrol_slug,
                language=_requested_language(),
                source=_source(),
                panel=panel,
                now=_now(),
                rehearsal=_rehearsal(slug),
            )
            _remember(found.campaign_slug, participant.code)
            return redirect(_own_page(participant))
        loaded = open_study_for_participants(db_engine(), found.enrol_slug)
    except (StudyNotFound, StudyClosed) as error:
        return _unavailable(error)
    return _consent_page(slug, loaded)


def _consent_page(slug: str, loaded: LoadedStudy, errors: Mapping | None = None) -> str:
    spec = loaded.spec
    lang = choose_language(spec.languages, spec.default_language)
    # The consent form posts the link's parameters back, so enrolment sees them.
    kept = {key: request.args[key] for key in (*PANEL_PARAMETERS, "src") if key in request.args}
    action = url_for("participant.consent", slug=slug, lang=lang, **kept)
    if errors:
        page = page_view(spec, "consent", lang, progress=(1, len(steps_for(spec))))
        return render_page(page, action=action, errors=errors)
    return study_link_page(loaded.spec, loaded.spec_hash, lang, action=action, csrf=generate_csrf())


@bp.route("/s/<slug>", methods=["POST"])
def consent(slug: str) -> Response | str | tuple[str, int]:
    """Consent from the study link: enrol and record the answer (one transaction).

    The campaign's link (`slug`) enrols into the version that receives newcomers now;
    the participant's pages then live under that version's own slug.
    """
    found = _entry(slug)
    code = _remembered(found.campaign_slug) or _remembered(slug)
    enrol = found.enrol_slug
    panel = _panel_parameters()
    db = db_engine() if code is None and not panel else db_session()
    try:
        if code is None and not panel:
            code, result = consent_from_link(
                db,
                enrol,
                request.form,
                language=_requested_language(),
                source=_source(),
                now=_now(),
                rehearsal=_rehearsal(slug),
            )
            if code is None:
                return _consent_page(slug, open_study_for_participants(db, enrol), result.errors)
            _remember(found.campaign_slug, code)
            return redirect(page_url(enrol, code))
        if code is None:
            participant = start_participant(
                db,
                enrol,
                language=_requested_language(),
                source=_source(),
                panel=panel,
                now=_now(),
                rehearsal=_rehearsal(slug),
            )
            code = participant.code
            _remember(found.campaign_slug, code)
        own = participant_slug(db, code)
        if own is None:
            raise ParticipantNotFound("participant: no participant with this code")
        result = submit_step(db, code, "consent", request.form, now=_now())
        if result.errors:
            return _participant_page(own, code, errors=result.errors)
    except (StudyNotFound, StudyClosed) as error:
        return _unavailable(error)
    except ParticipantNotFound:
        _forget(found.campaign_slug)
        _forget(slug)
        abort(404)
    return redirect(page_url(own, code))


def _requested_language() -> str:
    # enrolment.choose_language keeps this only if the study offers it.
    return (
        request.args.get("lang")
        or session.get("lang")
        or request.accept_languages.best_match(UI_LANGUAGES)
        or ""
    )


def _participant_page(slug: str, code: str, **render: Any) -> str:
    state = current_page(db_engine(), code, now=_now())
    if state.spec.slug != slug:
        abort(404)
    return participant_page(
        state, slug=slug, code=code, csrf=participant_form_token(code), **render
    )


# A participant's own pages (below) keep no session (framelab.web.security.SessionInterface):
# the code in the address is who they are, and their forms carry a token bound to it
# instead of Flask-WTF's session token.


@bp.route("/s/<slug>/p/<code>", methods=["GET"])
def page(slug: str, code: str) -> Response | str:
    """The participant's current page (also the resume link); `?lang=` switches language."""
    try:
        if request.args.get("lang"):
            set_language(db_session(), code, request.args["lang"])
            return redirect(page_url(slug, code))
        return _participant_page(slug, code)
    except ParticipantNotFound:
        abort(404)


@bp.route("/s/<slug>/p/<code>", methods=["POST"])
@csrf.exempt
def submit(slug: str, code: str) -> Response | str:
    """Answers of one page; invalid answers show the page again with the answers kept."""
    check_participant_form(code)
    try:
        result = submit_step(
            db_engine(), code, request.form.get("step", ""), request.form, now=_now()
        )
        if not result.errors:
            return redirect(page_url(slug, code))
        return _participant_page(slug, code, errors=result.errors, values=result.values)
    except ParticipantNotFound:
        abort(404)


@bp.route("/s/<slug>/p/<code>/<step>", methods=["GET"])
def step_page(slug: str, code: str, step: str) -> Response:
    """A bookmarked or guessed step URL: the current step is the only page there is."""
    return redirect(page_url(slug, code))


@bp.route("/s/<slug>/p/<code>/withdraw", methods=["GET"])
def confirm_withdraw(slug: str, code: str) -> str:
    """Ask before erasing the participant's answers."""
    try:
        state = current_page(db_session(), code, now=_now())
    except ParticipantNotFound:
        abort(404)
    if state.spec.slug != slug:
        abort(404)
    return render_withdraw_confirmation(
        state,
        action=page_url(slug, code, "withdraw"),
        back_url=page_url(slug, code),
        csrf=participant_form_token(code),
    )


@bp.route("/s/<slug>/p/<code>/withdraw", methods=["POST"])
@csrf.exempt
def do_withdraw(slug: str, code: str) -> Response:
    """Erase the participant's answers (after the confirmation page)."""
    check_participant_form(code)
    if request.form.get("confirm") != "yes":
        return redirect(page_url(slug, code))
    try:
        withdraw(db_session(), code, now=_now())
    except ParticipantNotFound:
        abort(404)
    return redirect(page_url(slug, code))


# Withdrawal later with the participant code (added by the security area).
_CODE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@bp.route("/withdraw", methods=["GET", "POST"])
def withdraw_later() -> str | tuple[str, int]:
    """Withdraw later: the participant enters their code and their answers are erased."""
    use_language(choose_language(UI_LANGUAGES, DEFAULT_LANGUAGE))
    code = " ".join(request.form.get("code", "").split()) if request.method == "POST" else ""
    error = None
    if request.method == "POST":
        try:
            if not _CODE.match(code):
                raise ParticipantNotFound("participant: not a participant code")
            withdraw(db_session(), code, now=_now())
        except ParticipantNotFound:
            error = _("We found no participation with this code. Please check it and try again.")
        else:
            _forget_code(code)
    html = render_template(
        "participant/withdraw_code.html",
        ui=page_chrome(),
        page_title=_("Withdraw from a study"),
        action=url_for("participant.withdraw_later"),
        code=code if error else "",
        error=error,
        done=request.method == "POST" and error is None,
    )
    return (html, 400) if error else html


def _forget_code(code: str) -> None:
    # The browser may still remember the code as its page in some study.
    codes = {k: v for k, v in session.get(_SESSION_CODES, {}).items() if v != code}
    if codes != session.get(_SESSION_CODES, {}):
        session[_SESSION_CODES] = codes
