"""Friendly error pages (400, 404, 405, 500, expired form) in the participant's language.

No traceback or exception text ever reaches the page; the 500 handler logs the
exception server-side (without client details) and shows a short apology.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from framelab.web.i18n import page_chrome


def render_error(
    status: int, heading: str, message: str, hint: str | None = None
) -> tuple[str, int]:
    """An error page in the request's language."""
    html = render_template(
        "errors/error.html",
        ui=page_chrome(),
        page_title=heading,
        heading=heading,
        message=message,
        hint=hint,
    )
    return html, status


def _bad_request(_error: HTTPException) -> tuple[str, int]:
    return render_error(
        400,
        _("Something was wrong with that request"),
        _("We could not use what your browser sent. Please go back and try again."),
    )


def _expired_form(_error: CSRFError) -> tuple[str, int]:
    return render_error(
        400,
        _("This page has expired"),
        _("For your security, this form can only be sent from the page it came from."),
        _("Please go back, reload the page and send it again. Your earlier answers are saved."),
    )


def _not_found(_error: HTTPException) -> tuple[str, int]:
    return render_error(
        404,
        _("Page not found"),
        _("There is no page at this address. Please check the link you were given."),
    )


def _method_not_allowed(_error: HTTPException) -> tuple[str, int]:
    return render_error(
        405,
        _("Something was wrong with that request"),
        _("We could not use what your browser sent. Please go back and try again."),
    )


def _server_error(_error: InternalServerError) -> tuple[str, int]:
    return render_error(
        500,
        _("Sorry, something went wrong on our side"),
        _("Your earlier answers are saved. Please reload the page in a minute to continue."),
    )


def init_app(app: Flask) -> None:
    """Register the error pages."""
    app.register_error_handler(CSRFError, _expired_form)
    app.register_error_handler(400, _bad_request)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _method_not_allowed)
    app.register_error_handler(InternalServerError, _server_error)
