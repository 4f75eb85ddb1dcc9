"""Error pages (400, 404, 405, 413, 500, expired form): friendly for participants, precise for staff.

Participants get a short page in their language. Studio pages are read by staff, who
need to know what failed and where to look: the studio's error pages name the page,
the reason when it is one of framelab's own messages (ValueError/LookupError name
the bad field), and the reference of the server log entry that holds the details.
No traceback or other exception text ever reaches a page; the 500 handler logs the
exception server-side under that reference (without client details).

A request whose Host header cannot be used (a label over 63 characters) has no URL
adapter, so no page can build a link: its 400 page is drawn from the plain templates,
which link nowhere.
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from framelab.web.i18n import page_chrome

STUDIO = "studio"
# What a studio page produces, for "<what> could not be built" (default: this page).
STUDIO_PAGES = {
    "studio.results": "The report",
    "studio.download_bundle": "The bundle",
    "studio.download": "The export",
    "studio.dashboard": "The dashboard",
    "studio.downloads": "The downloads page",
    "studio.power": "The power planner",
    "studio.preview": "The participant preview",
    "studio.preview_index": "The participant preview",
    "studio.overview": "The study overview",
    "studio.download_yaml": "The study file",
}


def render_error(
    status: int, heading: str, message: str, hint: str | None = None
) -> tuple[str, int]:
    """An error page in the request's language."""
    html = render_template(
        "errors/error.html" if can_build_urls() else "errors/error_plain.html",
        ui=page_chrome(),
        page_title=heading,
        heading=heading,
        message=message,
        hint=hint,
    )
    return html, status


def can_build_urls() -> bool:
    """False when the request has no URL adapter (its Host header could not be used)."""
    return request_ctx.url_adapter is not None


def is_studio_request() -> bool:
    """True for a request to the studio (a staff page), matched or not."""
    if request.blueprint == STUDIO:
        return True
    studio = current_app.blueprints.get(STUDIO)
    prefix = (studio.url_prefix or "").rstrip("/") if studio is not None else ""
    return bool(prefix) and (request.path == prefix or request.path.startswith(prefix + "/"))


def render_staff_error(
    status: int, heading: str, message: str, hint: str | None = None, reference: str | None = None
) -> tuple[str, int]:
    """A studio error page: what failed, what did not change, where to look."""
    context = {"heading": heading, "message": message, "hint": hint, "reference": reference}
    if not can_build_urls():
        return render_template("errors/studio_error_plain.html", **context), status
    try:
        return render_template("errors/studio_error.html", **context), status
    except Exception:  # the studio chrome itself failed (database down?)
        current_app.logger.exception("studio error page %s could not use the studio layout", status)
        return render_template("errors/studio_error_plain.html", **context), status


def _bad_request(_error: HTTPException) -> tuple[str, int]:
    if is_studio_request():
        return render_staff_error(
            400,
            "The request could not be used",
            f"The server could not read what the browser sent to {request.path}.",
            "Go back, reload the page and try again; nothing was changed by this request.",
        )
    return render_error(
        400,
        _("Something was wrong with that request"),
        _("We could not use what your browser sent. Please go back and try again."),
    )


def _expired_form(_error: CSRFError) -> tuple[str, int]:
    if is_studio_request():
        return render_staff_error(
            400,
            "The form has expired",
            "The form was sent without a valid security token: it is older than your "
            "sign-in session, or it came from another page or site.",
            "Nothing was saved. Reload the page, make the change again and send it.",
        )
    if request.method == "POST" and not request.cookies and request.path.startswith("/s/"):
        # The study link's consent is the one participant form checked against a cookie
        # (the consent page's session); a browser that sends none refuses cookies, and
        # reloading will not help (issue 25: it read "This page has expired").
        return render_error(
            400,
            _("Cookies are needed to take part"),
            _(
                "Your browser did not send back the cookie this study uses to keep your "
                "answers together, so your consent could not be saved."
            ),
            _(
                "Please allow cookies for this site in your browser's settings, then open "
                "the study link again."
            ),
        )
    return render_error(
        400,
        _("This page has expired"),
        _("For your security, this form can only be sent from the page it came from."),
        _("Please go back, reload the page and send it again. Your earlier answers are saved."),
    )


def _not_found(_error: HTTPException) -> tuple[str, int]:
    if is_studio_request():
        return render_staff_error(
            404,
            "No studio page here",
            f"There is no studio page at {request.path}: the address is mistyped, or the "
            "study it names does not exist or does not list you as a member.",
            "Check the address, or open the study from your list of studies.",
        )
    return render_error(
        404,
        _("Page not found"),
        _("There is no page at this address. Please check the link you were given."),
    )


def _method_not_allowed(_error: HTTPException) -> tuple[str, int]:
    if is_studio_request():
        return render_staff_error(
            405,
            "The request could not be used",
            f"{request.path} does not accept a {request.method} request.",
            "Use the page's own buttons and links; nothing was changed by this request.",
        )
    return render_error(
        405,
        _("Something was wrong with that request"),
        _("We could not use what your browser sent. Please go back and try again."),
    )


def _too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    if is_studio_request():
        limit, sent = request.max_content_length, request.content_length
        if limit and sent and sent > limit:
            what = (
                f"{request.path} accepts at most {_megabytes(limit)} per request; "
                f"this one had {_megabytes(sent)}."
            )
        else:
            form_limit = current_app.config.get("MAX_FORM_MEMORY_SIZE") or 0
            what = (
                f"A text field sent to {request.path} is larger than the "
                f"{_megabytes(form_limit)} allowed for form text."
            )
        return render_staff_error(
            413,
            "The request is too large",
            what,
            "Nothing was saved. A study file is tens of kilobytes: check that you chose the "
            "right file. An operator sets the limit with FRAMELAB_MAX_CONTENT_LENGTH.",
        )
    return render_error(
        413,
        _("Something was wrong with that request"),
        _("We could not use what your browser sent. Please go back and try again."),
        _("Please go back, reload the page and send it again. Your earlier answers are saved."),
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


def _staff_reason(error: BaseException | None) -> str:
    """framelab's own messages (ValueError/LookupError name the bad field); else the type."""
    if error is None:
        return "the server stopped the request"
    if isinstance(error, (ValueError, LookupError)) and not isinstance(error, KeyError):
        text = " ".join(str(error).split())
        return f"{text[:500]}" if text else type(error).__name__
    return f"an unexpected {type(error).__name__} (details in the server log)"


def _server_error(error: InternalServerError) -> tuple[str, int]:
    if not is_studio_request():
        return render_error(
            500,
            _("Sorry, something went wrong on our side"),
            _("Your earlier answers are saved. Please reload the page in a minute to continue."),
        )
    reference = secrets.token_hex(6)
    original = getattr(error, "original_exception", None)
    current_app.logger.error(
        "studio error %s: %s %s (%s)",
        reference,
        request.method,
        request.path,
        request.endpoint,
        exc_info=original if isinstance(original, BaseException) else None,
    )
    what = STUDIO_PAGES.get(request.endpoint or "", "This studio page")
    if request.method in ("GET", "HEAD"):
        unchanged = "Opening a page changes nothing: the study's data and plan are unchanged."
    else:
        unchanged = (
            "The change was not completed; the study's pages show what is saved, and the "
            "study's data and plan are otherwise unchanged."
        )
    return render_staff_error(
        500,
        f"{what} could not be built",
        f"{what} could not be built: {_staff_reason(original).rstrip('.')}.",
        f"{unchanged} See the server log entry {reference} for the details.",
        reference,
    )


def init_app(app: Flask) -> None:
    """Register the error pages."""
    app.register_error_handler(CSRFError, _expired_form)
    app.register_error_handler(400, _bad_request)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _method_not_allowed)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(InternalServerError, _server_error)
