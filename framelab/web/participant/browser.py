"""Who this browser is: the participant cookie, a form's code, the codes a session remembers.

Addresses are safe on a shared phone (docs/privacy.md): `/s/<slug>` is the study link
(the consent page); every page after it is at the neutral address `/p`, whichever
study it belongs to. Who the participant is comes from the participant cookie (`p`,
path `/p`, HttpOnly, set when they consent) or, on a form, from its hidden `code`
field; never from the address, so neither the study nor the code lands in the
browser's history. When a participant finishes or withdraws, the reply asks the
browser to forget this site (`Clear-Site-Data`).
"""

from __future__ import annotations

import re

from flask import current_app, redirect, request, session
from werkzeug.wrappers import Response

from framelab.web.compression import unmask
from framelab.web.participant.pages import page_url
from framelab.web.security import PARTICIPANT_COOKIE

CODE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_SESSION_CODES = "participants"
# What a finished or withdrawn participant's browser is asked to forget of this site. Not
# "cache": pages are never cached (no-store) and clearing the cache can stall the page
# for seconds in some browsers; the cache holds only the stylesheet and script.
CLEAR_SITE_DATA = '"cookies", "storage"'


def remember(slug: str, code: str) -> None:
    """Keep this browser's participant of study `slug` in its session (the study link)."""
    codes = dict(session.get(_SESSION_CODES, {}))
    if codes.get(slug) != code:
        codes[slug] = code
        session[_SESSION_CODES] = codes


def forget(slug: str) -> None:
    codes = dict(session.get(_SESSION_CODES, {}))
    if codes.pop(slug, None) is not None:
        session[_SESSION_CODES] = codes


def remembered(slug: str) -> str | None:
    return session.get(_SESSION_CODES, {}).get(slug)


def remembered_codes() -> dict[str, str]:
    """Every participant code this browser's session remembers, by study slug."""
    return dict(session.get(_SESSION_CODES, {}))


def cookie_code() -> str | None:
    code = request.cookies.get(PARTICIPANT_COOKIE, "")
    return code if CODE.match(code) else None


def posted_code() -> str | None:
    """The participant a form speaks for: its hidden `code` field, else the cookie."""
    # Pages send the code masked per response (framelab.web.compression: BREACH).
    code = unmask(request.form.get("code", "").strip())
    if code:
        return code if CODE.match(code) else None
    return cookie_code()


def form_code() -> str | None:
    """The code of a form the request already parsed (an error page must not read a body)."""
    if request.method != "POST" or "form" not in request.__dict__:
        return None
    code = unmask(request.form.get("code", ""))
    return code if CODE.match(code) else None


def keep(response: Response, code: str) -> Response:
    """Set the participant cookie that says who this browser is."""
    response.set_cookie(
        PARTICIPANT_COOKIE,
        code,
        path=page_url(),
        httponly=True,
        samesite="Lax",
        secure=current_app.session_interface.get_cookie_secure(current_app),
    )
    return response


def forget_browser(response: Response) -> Response:
    """Ask the browser to forget this site: the participant has finished or withdrawn."""
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    response.delete_cookie(PARTICIPANT_COOKIE, path=page_url())
    return response


def to_page(code: str) -> Response:
    """To the participant's page at the neutral address, with the cookie that says who they are."""
    return keep(redirect(page_url()), code)
