"""The study link `/s/<slug>`: the consent page, and enrolment on its POST.

A panel link (PROLIFIC_PID=...) shows the consent page like any other link and enrols
on the consent POST; a repeat panel id becomes a participant of its own, flagged as a
duplicate, with the same pages and the same work done (DECISIONS rule 5). A browser
that already has an unfinished participant in the campaign is led back to their page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from flask import abort, current_app, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from framelab.clock import now, system_now
from framelab.domain.steps import FINISHED_STEPS, steps_for
from framelab.services.errors import ParticipantNotFound
from framelab.services.flow import (
    Arrival,
    arrive,
    consent_from_link,
    link_entry,
    submit_step,
)
from framelab.services.pseudonyms import (
    KEY_FILE_NAME,
    TESTING_KEY,
    PseudonymKey,
    PseudonymKeyError,
    load_or_create_key,
    verify_database,
)
from framelab.services.rehearsal import HEADER as REHEARSAL_HEADER
from framelab.services.rehearsal import check_rehearsal_token
from framelab.services.study_versions import LoadedStudy, StudyClosed, StudyNotFound
from framelab.web.database import db_engine, db_session
from framelab.web.errors import render_error
from framelab.web.extensions import limiter
from framelab.web.i18n import request_language
from framelab.web.participant.blueprint import bp
from framelab.web.participant.browser import forget, remember, remembered, remembered_codes, to_page
from framelab.web.participant.pages import (
    first_page_css,
    page_view,
    render_page,
    study_link_page,
)
from framelab.web.participant.views_pages import show

PANEL_PARAMETERS = ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "workerId", "assignmentId")
_PANEL_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_SOURCE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_KEY_CACHE = "framelab.pseudonym_key"


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
    if not check_rehearsal_token(secret, slug, token, now=system_now()):
        abort(403)
    return True


def pseudonym_key() -> PseudonymKey:
    """The instance's pseudonym key chain, checked against the database once per process.

    The key file is PSEUDONYM_KEY_FILE in the config (FRAMELAB_PSEUDONYM_KEY_FILE, read
    by framelab.config), else `pseudonym_key` in the instance folder (made on first use).
    Tests that set none use a fixed key, like the fixed testing secret key. A key file
    replaced on disk (a rotation) is read again.
    """
    app = current_app
    configured = app.config.get("PSEUDONYM_KEY_FILE")
    path = None
    if configured or not app.config.get("TESTING"):
        path = Path(configured) if configured else Path(app.instance_path) / KEY_FILE_NAME
    stamp = _file_stamp(path)
    cached = app.extensions.get(_KEY_CACHE)
    if cached is not None and cached[0] == (path, stamp):
        return cached[1]
    key = TESTING_KEY if path is None else load_or_create_key(path)
    verify_database(db_engine(), key, now=system_now(), path=path)
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


@bp.route("/s/<slug>", methods=["GET"])
@limiter.new_participants
def start(slug: str) -> Response | str | tuple[str, int]:
    """The study link: the consent page, or this browser's own participant's page.

    A panel link (PROLIFIC_PID=...) shows the same consent page and enrols nobody: what
    happens here never depends on whether a panel id took part (DECISIONS rule 5). A
    participant who finished or withdrew is forgotten: whoever holds the phone next
    starts afresh.
    """
    return arrival_reply(slug, arrive(db_session(), slug, remembered_codes()))


def arrival_reply(
    slug: str, arrival: Arrival, action_for: Callable[[str], str] | None = None
) -> Response | str | tuple[str, int]:
    """What a campaign link (`slug`'s, or a channel link's) shows: this browser's own
    participant's page, the consent page (posting to `action_for(lang)`), or why not."""
    for key in arrival.forget:
        forget(key)
    if arrival.returning:
        return to_page(arrival.returning)
    if arrival.study is None:
        return _unavailable(arrival.unavailable)
    return consent_page(slug, arrival.study, action_for=action_for)


def consent_page(
    slug: str,
    loaded: LoadedStudy,
    errors: Mapping | None = None,
    action_for: Callable[[str], str] | None = None,
) -> str:
    """The consent page; its form posts to `action_for(lang)` (default: the study link)."""
    spec = loaded.spec
    lang = request_language(spec.languages, spec.default_language)
    # The consent form posts the link's parameters back, so enrolment sees them.
    kept = {key: request.args[key] for key in (*PANEL_PARAMETERS, "src") if key in request.args}
    action = (
        action_for(lang)
        if action_for is not None
        else url_for("participant.consent", slug=slug, lang=lang, **kept)
    )
    if errors:
        page = page_view(spec, "consent", lang, progress=(1, len(steps_for(spec))))
        return render_page(page, action=action, errors=errors, inline_css=first_page_css())
    return study_link_page(loaded.spec, loaded.spec_hash, lang, action=action, csrf=generate_csrf())


@bp.route("/s/<slug>", methods=["POST"])
@limiter.new_participants
def consent(slug: str) -> Response | str | tuple[str, int]:
    """Consent from the study link: enrol and record the answer (one transaction).

    The campaign's link (`slug`) enrols into the version that receives newcomers now. A
    panel link's ids are stored as keyed pseudonyms; a repeat id is enrolled like anyone
    and flagged as a duplicate, never led to the earlier record.
    """
    return enrol_at_link(slug, source=_source())


def enrol_at_link(
    slug: str,
    *,
    source: str | None,
    channel: int | None = None,
    action_for: Callable[[str], str] | None = None,
) -> Response | str | tuple[str, int]:
    """The consent POST of a campaign link (`slug`): the study link's, or a channel link's
    (`channel`, whose `source` is the link's and whose page posts to `action_for(lang)`)."""
    found, study = link_entry(db_session(), slug)
    code = remembered(found.campaign_slug) or remembered(slug)
    try:
        if code is None:
            if isinstance(study, LookupError):
                raise study
            panel = _panel_parameters()
            code, result = consent_from_link(
                db_session(),
                found.enrol_slug,
                request.form,
                language=_requested_language(),
                source=source,
                now=now(),
                rehearsal=_rehearsal(slug),
                panel=panel,
                key=pseudonym_key() if panel else None,
                channel=channel,
                study=study,
            )
            if code is None:
                return consent_page(slug, study, result.errors, action_for)
            if result.step not in FINISHED_STEPS:
                remember(found.campaign_slug, code)
            return to_page(code)
        # This browser's own participant, answering their consent page again.
        result = submit_step(db_session(), code, "consent", request.form, now=now())
        if result.errors:
            return show(code, errors=result.errors)
    except (StudyNotFound, StudyClosed) as error:
        return _unavailable(error)
    except PseudonymKeyError as error:
        return _key_unavailable(error)
    except ParticipantNotFound:
        forget(found.campaign_slug)
        forget(slug)
        abort(404)
    return to_page(code)


def _requested_language() -> tuple[str, ...]:
    """The languages this newcomer wants, in order: an explicit choice, then the browser's.

    enrolment.newcomer_language takes the first the study has (its own languages, not
    only the interface catalogs framelab ships), else the study's default.
    """
    chosen = (request.args.get("lang", ""), session.get("lang") or "")
    browser = tuple(lang for lang, _quality in request.accept_languages)
    return tuple(lang for lang in (*chosen, *browser) if lang)
