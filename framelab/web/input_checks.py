"""Request input that no database can hold, refused once, before any view runs.

PostgreSQL text cannot hold NUL (U+0000), and no UTF-8 column can hold a lone
surrogate (U+D800..U+DFFF): a NUL in a participant's address, panel id or free-text
answer was a DataError (a 500, reachable anonymously) on PostgreSQL and was stored
as given on SQLite. Rather than each view and service guarding its own fields, one
check before every view reads the path, the query string and the form (field names,
values and uploaded file names) and answers 400 (the address) or 422 (the form) with
the usual error page: participants read that their earlier answers are saved, staff
read which part of the request held the character. Nothing is stored or changed.

Public API::

    unstorable_character(text) -> str | None   # "U+0000" etc., or None
    init_app(app)                              # registers the check before other hooks

The same hook first holds an urlencoded body to the form-text limit (see
``limit_form_text``), since reading the form is what the check does.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, request
from flask_babel import gettext as _

from framelab.web.errors import is_studio_request, render_error, render_staff_error

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_character(text: str) -> str | None:
    """The first character of ``text`` no database can store, as ``U+XXXX``; else None."""
    found = UNSTORABLE.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def _first_problem() -> tuple[int, str, str] | None:
    """(status, where, code point) of the first unstorable character in the request."""
    code = unstorable_character(request.path)
    if code:
        return 400, "The page address", code
    for key, value in request.args.items(multi=True):
        code = unstorable_character(key) or unstorable_character(value)
        if code:
            return 400, "The address's query string", code
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        for key, value in request.form.items(multi=True):
            code = unstorable_character(key) or unstorable_character(value)
            if code:
                return 422, f"The form field {_printable(key)}", code
        for key, upload in request.files.items(multi=True):
            code = unstorable_character(key) or unstorable_character(upload.filename or "")
            if code:
                return 422, f"The name of the uploaded file in {_printable(key)}", code
    return None


def _printable(name: str) -> str:
    return "'" + UNSTORABLE.sub("\ufffd", name)[:60] + "'"


def limit_form_text() -> None:
    """Hold an urlencoded body to MAX_FORM_MEMORY_SIZE, like multipart form text.

    Werkzeug reads an urlencoded body whole and percent-decodes it in memory (its
    max_form_memory_size covers multipart fields only): 3.9 MB of "%5B" took 3 s and
    300 MB on an anonymous participant address. Set before anything reads the form.
    """
    if request.mimetype != "application/x-www-form-urlencoded":
        return
    limit = current_app.config.get("MAX_FORM_MEMORY_SIZE")
    current = request.max_content_length
    if limit is not None and (current is None or current > limit):
        request.max_content_length = limit


def refuse_unstorable_input() -> tuple[str, int] | None:
    """Before every view: the error page when the request holds an unstorable character."""
    limit_form_text()
    problem = _first_problem()
    if problem is None:
        return None
    status, where, code = problem
    if is_studio_request():
        kind = "a NUL character" if code == "U+0000" else "a lone surrogate, not a character"
        return render_staff_error(
            status,
            "The request could not be used",
            f"{where} contains {code} ({kind}), which cannot be stored.",
            "Nothing was changed by this request. Remove the character (it can come from "
            "pasting out of another program) and send it again.",
        )
    return render_error(
        status,
        _("Something was wrong with that request"),
        _("We could not use what your browser sent. Please go back and try again."),
        _("Please go back, reload the page and send it again. Your earlier answers are saved."),
    )


def init_app(app: Flask) -> None:
    """Run the check before every other before-request hook (CSRF, sign-in, rate limits)."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unstorable_input)
