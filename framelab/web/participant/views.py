"""Participant pages: a view parses the request, calls one service, renders or redirects.

Addresses are safe on a shared phone (docs/privacy.md): `/s/<slug>` is the study link
(the consent page); every page after it is at the neutral address `/p`, whichever
study it belongs to. Who the participant is comes from the participant cookie (`p`,
path `/p`, HttpOnly, set when they consent) or, on a form, from its hidden `code`
field; never from the address, so neither the study nor the code lands in the
browser's history. Forms post to `/p` with a token bound to the code, and a valid
post redirects back (post/redirect/get), so reloads and the back button never resend
answers; a browser that keeps no cookie is shown its next page right away instead.

Resuming and withdrawing follow DECISIONS rule 5: the browser's own cookie, or the
participant code (`/r/<code>`, the form at `/p` when the cookie is gone, and the
older `/s/<slug>/p/<code>` links) leads back to a participant's page; a panel id
never does. A panel link shows the consent page like any other link and enrols on
the consent POST; a repeat panel id becomes a participant of its own, flagged as a
duplicate, with the same pages and the same work done (flow.consent_from_link).
When a participant finishes or withdraws, the reply asks the browser to forget this
site (`Clear-Site-Data`); every page has a "leave this page" link.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from framelab.db.direct import for_session
from framelab.domain.participant_codes import candidates
from framelab.services.campaigns import Entry, entry
from framelab.services.errors import ParticipantNotFound
from framelab.services.flow import (
    FINISHED_STEPS,
    consent_from_link,
    current_page,
    is_participant,
    participant_place,
    set_language,
    steps_for,
    submit_step,
    withdraw,
)
from framelab.services.pseudonyms import (
    KEY_FILE_ENV,
    KEY_FILE_NAME,
    TESTING_KEY,
    PseudonymKey,
    PseudonymKeyError,
    load_or_create_key,
    verify_database,
)
from framelab.services.rehearsal import HEADER as REHEARSAL_HEADER
from framelab.services.rehearsal import check_rehearsal_token
from framelab.services.study_language import study_language
from framelab.services.study_versions import (
    LoadedStudy,
    StudyClosed,
    StudyNotFound,
    open_study_for_participants,
)
from framelab.web import assets
from framelab.web.compression import allow_compression, unmask
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
    first_page_css,
    page_url,
    page_view,
    participant_page,
    quick_exit_url,
    render_page,
    render_withdraw_confirmation,
    study_link_page,
)
from framelab.web.security import (
    PARTICIPANT_COOKIE,
    check_participant_form,
    participant_form_token,
    unknown_code,
)

bp = Blueprint("participant", __name__)

PANEL_PARAMETERS = ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "workerId", "assignmentId")
_PANEL_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_SOURCE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_CODE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_SESSION_CODES = "participants"
# What a finished or withdrawn participant's browser is asked to forget of this site. Not
# "cache": pages are never cached (no-store) and clearing the cache can stall the page
# for seconds in some browsers; the cache holds only the stylesheet and script.
CLEAR_SITE_DATA = '"cookies", "storage"'
_KEY_CACHE = "framelab.pseudonym_key"
# Pages that show the participant code in clear, for copying: never compressed (BREACH).
SHOWS_CODE = frozenset({"debrief"})


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


def pseudonym_key() -> PseudonymKey:
    """The instance's pseudonym key chain, checked against the database once per process.

    The key file is PSEUDONYM_KEY_FILE in the config, else FRAMELAB_PSEUDONYM_KEY_FILE,
    else `pseudonym_key` in the instance folder (made on first use). Tests that set
    none use a fixed key, like the fixed testing secret key. A key file replaced on
    disk (a rotation) is read again.
    """
    app = current_app
    configured = app.config.get("PSEUDONYM_KEY_FILE") or os.environ.get(KEY_FILE_ENV, "").strip()
    path = None
    if configured or not app.config.get("TESTING"):
        path = Path(configured) if configured else Path(app.instance_path) / KEY_FILE_NAME
    stamp = _file_stamp(path)
    cached = app.extensions.get(_KEY_CACHE)
    if cached is not None and cached[0] == (path, stamp):
        return cached[1]
    key = TESTING_KEY if path is None else load_or_create_key(path)
    verify_database(db_engine(), key, now=datetime.now(UTC), path=path)
    app.extensions[_KEY_CACHE] = ((path, _file_stamp(path)), key)
    return key


def _file_stamp(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns


# ---------------------------------------------------------------- who this browser is


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


def _cookie_code() -> str | None:
    code = request.cookies.get(PARTICIPANT_COOKIE, "")
    return code if _CODE.match(code) else None


def _posted_code() -> str | None:
    """The participant a form speaks for: its hidden `code` field, else the cookie."""
    # Pages send the code masked per response (framelab.web.compression: BREACH).
    code = unmask(request.form.get("code", "").strip())
    if code:
        return code if _CODE.match(code) else None
    return _cookie_code()


def _keep(response: Response, code: str) -> Response:
    response.set_cookie(
        PARTICIPANT_COOKIE,
        code,
        path=page_url(),
        httponly=True,
        samesite="Lax",
        secure=current_app.session_interface.get_cookie_secure(current_app),
    )
    return response


def _forget_browser(response: Response) -> Response:
    """Ask the browser to forget this site: the participant has finished or withdrawn."""
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    response.delete_cookie(PARTICIPANT_COOKIE, path=page_url())
    return response


def _to_page(code: str) -> Response:
    """To the participant's page at the neutral address, with the cookie that says who they are."""
    return _keep(redirect(page_url()), code)


# ---------------------------------------------------------------- error pages


def _error_page_language() -> tuple[str, InterfaceText | None] | None:
    """An error page on a study's address speaks the participant's or the study's language."""
    args = request.view_args or {}
    slug = args.get("slug")
    code = args.get("code") or _cookie_code() or _form_code()
    try:
        if not slug and code:
            place = participant_place(db_engine(), code)
            slug = place.slug if place is not None else None
        found = study_language(db_session(), slug, code) if slug else None
    except SQLAlchemyError:
        # The page explains a database failure: the browser's language will do.
        return None
    if found is None:
        return None
    spec, lang = found
    if lang not in spec.languages:
        lang = choose_language(spec.languages, spec.default_language)
    return lang, interface_text(spec, lang)


def _form_code() -> str | None:
    # Only a form the request already parsed (an error page must not read a body).
    if request.method != "POST" or "form" not in request.__dict__:
        return None
    code = unmask(request.form.get("code", ""))
    return code if _CODE.match(code) else None


resolve_language_with(bp.name, _error_page_language)


@bp.context_processor
def _participant_chrome() -> dict[str, Any]:
    # Every page of this blueprint (its error pages too) has the quick-exit link.
    return {"quick_exit": quick_exit_url()}


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


def _key_unavailable(error: PseudonymKeyError) -> tuple[str, int]:
    current_app.logger.error("participant: the pseudonym key cannot be used: %s", error)
    return render_error(
        503,
        _("This study is not open"),
        _("This study is not accepting answers right now. Thank you for your interest."),
    )


# ---------------------------------------------------------------- the study link


def _entry(slug: str) -> Entry:
    """Where the campaign's link leads a newcomer now (DECISIONS rule 1)."""
    with for_session(db_engine(), write=False) as db:
        return entry(db, slug)


def _returning(found: Entry, slug: str) -> str | None:
    """The code of a participant this browser has in the campaign and who is not finished.

    A participant stays on the version they consented to, whichever version the
    campaign's link enrols newcomers into now. One who finished or withdrew is
    forgotten: whoever holds the phone next starts afresh.
    """
    for key in dict.fromkeys((found.campaign_slug, slug)):
        code = _remembered(key)
        if not code:
            continue
        place = participant_place(db_engine(), code)
        if place is not None and place.step not in FINISHED_STEPS:
            return code
        _forget(key)
    return None


@bp.route("/s/<slug>", methods=["GET"])
def start(slug: str) -> Response | str | tuple[str, int]:
    """The study link: the consent page, or this browser's own participant's page.

    A panel link (PROLIFIC_PID=...) shows the same consent page and enrols nobody: what
    happens here never depends on whether a panel id took part (DECISIONS rule 5).
    """
    found = _entry(slug)
    back = _returning(found, slug)
    if back:
        return _to_page(back)
    try:
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
        return render_page(page, action=action, errors=errors, inline_css=first_page_css())
    return study_link_page(loaded.spec, loaded.spec_hash, lang, action=action, csrf=generate_csrf())


@bp.route("/s/<slug>", methods=["POST"])
def consent(slug: str) -> Response | str | tuple[str, int]:
    """Consent from the study link: enrol and record the answer (one transaction).

    The campaign's link (`slug`) enrols into the version that receives newcomers now. A
    panel link's ids are stored as keyed pseudonyms; a repeat id is enrolled like anyone
    and flagged as a duplicate, never led to the earlier record.
    """
    found = _entry(slug)
    code = _remembered(found.campaign_slug) or _remembered(slug)
    enrol = found.enrol_slug
    try:
        if code is None:
            panel = _panel_parameters()
            code, result = consent_from_link(
                db_engine(),
                enrol,
                request.form,
                language=_requested_language(),
                source=_source(),
                now=_now(),
                rehearsal=_rehearsal(slug),
                panel=panel,
                key=pseudonym_key() if panel else None,
            )
            if code is None:
                loaded = open_study_for_participants(db_engine(), enrol)
                return _consent_page(slug, loaded, result.errors)
            if result.step not in FINISHED_STEPS:
                _remember(found.campaign_slug, code)
            return _to_page(code)
        # This browser's own participant, answering their consent page again.
        result = submit_step(db_engine(), code, "consent", request.form, now=_now())
        if result.errors:
            return _show(code, errors=result.errors)
    except (StudyNotFound, StudyClosed) as error:
        return _unavailable(error)
    except PseudonymKeyError as error:
        return _key_unavailable(error)
    except ParticipantNotFound:
        _forget(found.campaign_slug)
        _forget(slug)
        abort(404)
    return _to_page(code)


def _requested_language() -> tuple[str, ...]:
    """The languages this newcomer wants, in order: an explicit choice, then the browser's.

    enrolment.choose_language takes the first the study has (its own languages, not only
    the interface catalogs framelab ships), else the study's default.
    """
    chosen = (request.args.get("lang", ""), session.get("lang") or "")
    browser = tuple(lang for lang, _quality in request.accept_languages)
    return tuple(lang for lang in (*chosen, *browser) if lang)


# ---------------------------------------------------------------- the participant's pages
#
# A participant's own pages keep no session (framelab.web.security.SessionInterface): the
# cookie or the form's code says who they are, and their forms carry a token bound to it
# instead of Flask-WTF's session token.


def _show(
    code: str,
    *,
    errors: Mapping | None = None,
    values: Mapping | None = None,
    language: str | None = None,
) -> Response:
    """The participant's current page; a finished one's tells the browser to forget the site."""
    state = current_page(db_engine(), code, now=_now())
    if language is not None and language in state.spec.languages:
        state = replace(state, language=language)
    html = participant_page(
        state, code=code, csrf=participant_form_token(code), errors=errors, values=values
    )
    response = make_response(html)
    if state.step not in SHOWS_CODE:
        # Its code and token are masked per response; the debrief shows the code in clear.
        allow_compression(response)
    if state.step in FINISHED_STEPS:
        return _forget_browser(response)
    if _cookie_code() != code:
        _keep(response, code)
    return response


def _resume_page(*, code: str = "", error: str | None = None, status: int = 200) -> Response:
    """Where a browser without the participant cookie lands: continue with the participant code."""
    use_language(choose_language(UI_LANGUAGES, DEFAULT_LANGUAGE))
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
def page() -> Response:
    """The participant's current page; `?lang=` switches their language."""
    code = _cookie_code()
    if code is None:
        return _resume_page()
    try:
        if request.args.get("lang"):
            set_language(db_session(), code, request.args["lang"])
            return redirect(page_url())
        return _show(code)
    except ParticipantNotFound:
        # The browser remembers a participant the database does not have (erased), or a
        # cookie was made up: a guess, counted by the code-guess limit.
        unknown_code()
        response = _resume_page()
        response.delete_cookie(PARTICIPANT_COOKIE, path=page_url())
        return response


@bp.route("/p", methods=["POST"])
@csrf.exempt
def submit() -> Response:
    """Answers of one page; invalid answers show the page again with the answers kept."""
    return _submit(_posted_code())


def _submit(code: str | None) -> Response:
    if code is None:
        raise CSRFError("The form says for no participant whose page it is.")
    check_participant_form(code)
    try:
        step = request.form.get("step", "")
        result = submit_step(db_engine(), code, step, request.form, now=_now())
        if result.errors:
            return _show(code, errors=result.errors, values=result.values)
        if _cookie_code() == code:
            return redirect(page_url())
        # A browser that keeps no cookie gets its next page right away.
        return _show(code)
    except ParticipantNotFound:
        unknown_code()
        abort(404)


@bp.route("/p/<path:step>", methods=["GET"])
def step_page(step: str) -> Response:
    """A bookmarked or guessed step address: the current step is the only page there is."""
    return redirect(page_url())


@bp.route("/p/withdraw", methods=["GET"])
def confirm_withdraw() -> Response:
    """Ask before erasing the participant's answers (the page's withdraw link)."""
    code = _cookie_code()
    if code is None:
        return _resume_page()
    return _withdraw_confirmation(code)


def _withdraw_confirmation(code: str) -> Response:
    try:
        state = current_page(db_session(), code, now=_now())
    except ParticipantNotFound:
        unknown_code()
        abort(404)
    return make_response(
        render_withdraw_confirmation(state, code=code, csrf=participant_form_token(code))
    )


@bp.route("/p/withdraw", methods=["POST"])
@csrf.exempt
def do_withdraw() -> Response:
    """Erase the participant's answers (after the confirmation page)."""
    return _withdraw(_posted_code())


def _withdraw(code: str | None) -> Response:
    if code is None:
        raise CSRFError("The form says for no participant whose page it is.")
    check_participant_form(code)
    if request.form.get("confirm") != "yes":
        return _withdraw_confirmation(code)
    try:
        language = withdraw(db_session(), code, now=_now())
        return _show(code, language=language)
    except ParticipantNotFound:
        unknown_code()
        abort(404)


# ---------------------------------------------------------------- resuming with the code


def _known(typed: str) -> str | None:
    """The stored code a typed or linked code means (any case, grouped or not), if it exists.

    A code as a page's form carries it (masked, framelab.web.compression) means the code
    too: a tool that reads it from the form may resume with it.
    """
    for code in candidates(unmask(typed.strip()[:200])):
        if _CODE.match(code) and is_participant(db_engine(), code):
            return code
    unknown_code()
    return None


def _resume(typed: str) -> Response:
    code = _known(typed)
    if code is None:
        abort(404)
    return _to_page(code)


@bp.route("/r/<code>", methods=["GET"])
def resume(code: str) -> Response:
    """The resume link: remember the participant in this browser and open their page."""
    return _resume(code)


@bp.route("/r", methods=["POST"])
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
        return _to_page(code)
    message = _("We found no participation with this code. Please check it and try again.")
    return _resume_page(code=typed[:64], error=message, status=400)


# The addresses of earlier releases, which put the study and the code in the path:
# links people kept still lead to their page, and forms open during an upgrade still post.


@bp.route("/s/<slug>/p/<code>", methods=["GET"])
@bp.route("/s/<slug>/p/<code>/<path:step>", methods=["GET"])
def old_page(slug: str, code: str, step: str = "") -> Response:
    """An old participant address: the resume link it always was."""
    return _resume(code)


@bp.route("/s/<slug>/p/<code>", methods=["POST"])
@csrf.exempt
def old_submit(slug: str, code: str) -> Response:
    return _submit(code if _CODE.match(code) else None)


@bp.route("/s/<slug>/p/<code>/withdraw", methods=["POST"])
@csrf.exempt
def old_withdraw(slug: str, code: str) -> Response:
    return _withdraw(code if _CODE.match(code) else None)


# ---------------------------------------------------------------- withdrawing later


@bp.route("/withdraw", methods=["GET", "POST"])
def withdraw_later() -> Response:
    """Withdraw later: the participant enters their code and their answers are erased."""
    use_language(choose_language(UI_LANGUAGES, DEFAULT_LANGUAGE))
    code = " ".join(request.form.get("code", "").split()) if request.method == "POST" else ""
    error = None
    if request.method == "POST":
        found = _known(code)
        try:
            if found is None:
                raise ParticipantNotFound("participant: not a participant code")
            language = withdraw(db_session(), found, now=_now())
        except ParticipantNotFound:
            error = _("We found no participation with this code. Please check it and try again.")
        else:
            # Once the code says whose it is, the page speaks their study language (with
            # the study's own interface strings), not the browser's (issue 17).
            spec = current_page(db_engine(), found, now=_now()).spec
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
    return _forget_browser(response) if done else response


# ---------------------------------------------------------------- the icon


@bp.route("/favicon.ico", methods=["GET"])
def favicon() -> Response:
    """The site's icon at the address browsers ask for on a first visit (pages link its hashed URL)."""
    return assets.serve("favicon.ico", cache_control="public, max-age=86400")
