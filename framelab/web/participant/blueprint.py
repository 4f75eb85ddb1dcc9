"""The participant blueprint object, its page chrome and the language of its error pages.

Views attach their routes to `bp`: the study link and consent (views_link), the
participant's pages (views_pages), withdrawing and resuming (views_leave).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from sqlalchemy.exc import SQLAlchemyError

from framelab.services.flow import participant_place
from framelab.services.study_language import study_language
from framelab.web.database import db_session
from framelab.web.i18n import InterfaceText, interface_text, request_language, resolve_language_with
from framelab.web.participant.browser import cookie_code, form_code
from framelab.web.participant.pages import quick_exit_url

bp = Blueprint("participant", __name__)


def _error_page_language() -> tuple[str, InterfaceText | None] | None:
    """An error page on a study's address speaks the participant's or the study's language."""
    args = request.view_args or {}
    slug = args.get("slug")
    code = args.get("code") or cookie_code() or form_code()
    try:
        if not slug and code:
            place = participant_place(db_session(), code)
            slug = place.slug if place is not None else None
        found = study_language(db_session(), slug, code) if slug else None
    except SQLAlchemyError:
        # The page explains a database failure: the browser's language will do.
        return None
    if found is None:
        return None
    spec, lang = found
    if lang not in spec.languages:
        lang = request_language(spec.languages, spec.default_language)
    return lang, interface_text(spec, lang)


resolve_language_with(bp.name, _error_page_language)


@bp.context_processor
def _participant_chrome() -> dict[str, Any]:
    # Every page of this blueprint (its error pages too) has the quick-exit link.
    return {"quick_exit": quick_exit_url()}
