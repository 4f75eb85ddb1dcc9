"""How a participant page is drawn: `render_page`, and the caches of pages everyone sees alike.

What a page shows is built in framelab.web.participant.page_content. `render_page` is the one way a participant page becomes HTML. The participant views
call it with the participant's page state; the studio calls it with `preview=True`
to show any step of any arm in any language exactly as a participant would see it
(the same HTML, except that the form posts nowhere and nothing is recorded).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping

from flask import current_app, get_template_attribute, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from framelab.config import DEFAULT_QUICK_EXIT_URL
from framelab.domain.errors import ValueProblem
from framelab.domain.participant_codes import grouped
from framelab.domain.steps import PageState, steps_for
from framelab.domain.study import Study
from framelab.web.assets import inline_stylesheet, page_assets_version
from framelab.web.compression import mask
from framelab.web.i18n import interface_text, page_chrome, use_language
from framelab.web.participant.follow_up import fill_follow_up, follow_up_html, follow_up_slot
from framelab.web.participant.page_content import (
    PageView,
    page_from_state,
    page_view,
    problem_message,
)


def render_page(
    page: PageView,
    *,
    action: str | None = None,
    withdraw_url: str | None = None,
    errors: Mapping[str, ValueProblem | str] | None = None,
    values: Mapping[str, str] | None = None,
    preview: bool = False,
    code: str | None = None,
    shown_code: str | None = None,
    path: str | None = None,
    csrf: str | None = None,
    template: str = "participant/page.html",
    **context: object,
) -> str:
    """HTML of a participant page; `preview` renders the same page posting nowhere.

    `code` is the participant's code in the forms' hidden field, `shown_code` the code
    shown on the last page for withdrawing later (default: `code`), `withdraw_url` where the last page's withdraw form
    posts, `path` the page's own address for the language links (default: this request's),
    `csrf` the form's CSRF token (default: Flask-WTF's for this session). The studio's
    preview draws the page through its own `template` (which extends the participant
    page and adds its banner) with that template's `context`.
    """
    use_language(page.lang, page.interface)
    by_id = {item.id: item for item in page.items}
    messages = {
        key: problem_message(problem, by_id.get(key)) for key, problem in (errors or {}).items()
    }
    # The summary lists problems in page order and links each to its question.
    error_list = [
        (f"q-{item.id}-1", item.short, messages[item.id])
        for item in page.items
        if item.id in messages
    ] + [(None, "", message) for key, message in messages.items() if key not in by_id]
    unanswered = not messages and not values
    return render_template(
        template,
        questions=_questions_html(page) if unanswered and page.items else None,
        p=page,
        ui=page_chrome(languages=page.languages, study_title=page.study_title, path=path),
        page_title=_page_title(page),
        code=code,
        shown_code=shown_code or code,
        action=action,
        withdraw_url=withdraw_url,
        errors=messages,
        error_list=error_list,
        values={k: str(v) for k, v in (values or {}).items() if v is not None},
        preview=preview,
        quick_exit=quick_exit_url(),
        **({"csrf_token": lambda: csrf} if csrf is not None else {}),
        **context,
    )


def first_page_css() -> Markup:
    """The stylesheet inlined in the first page of a visit (the study link's consent page).

    One round trip less before it paints on a slow link; it prefetches the hashed
    stylesheet for the pages after it, which link it (framelab.web.assets).
    """
    return Markup(inline_stylesheet(current_app))


PAGE_CACHE = "framelab.page_html"
PAGE_CACHE_SIZE = 512
# Stand-ins for what differs between participants on one page: unguessable per process,
# so no study text can contain them, and URL-safe, so URLs carry them unchanged.
_CODE_MARK = "c" + secrets.token_hex(16)
_SHOWN_MARK = "s" + secrets.token_hex(16)
_CSRF_MARK = "t" + secrets.token_hex(16)


def _host() -> tuple[str, str]:
    # What the page's absolute links depend on (the withdraw-later address), read from
    # the WSGI environment directly: request.host_url rebuilds a whole URL.
    environ = request.environ
    return environ.get("wsgi.url_scheme", ""), environ.get("HTTP_HOST") or environ.get(
        "SERVER_NAME", ""
    )


def _cached(key: tuple, draw: Callable[[], str]) -> str:
    cache = current_app.extensions.setdefault(PAGE_CACHE, {})
    html = cache.get(key)
    if html is None:
        html = draw()
        if len(cache) >= PAGE_CACHE_SIZE:
            cache.clear()
        cache[key] = html
    return html


def study_link_page(spec: Study, spec_hash: str, lang: str, *, action: str, csrf: str) -> str:
    """The study link's consent page (no participant yet), drawn once per link and language."""
    key = (
        spec_hash,
        "study-link",
        lang,
        action,
        _host(),
        request.query_string,
        page_assets_version(current_app),
    )

    def draw() -> str:
        page = page_view(spec, "consent", lang, progress=(1, len(steps_for(spec))))
        return render_page(page, action=action, csrf=_CSRF_MARK, inline_css=first_page_css())

    return _cached(key, draw).replace(_CSRF_MARK, csrf)


def participant_page(
    state: PageState,
    *,
    code: str,
    csrf: str,
    errors: Mapping[str, ValueProblem | str] | None = None,
    values: Mapping[str, str] | None = None,
) -> str:
    """The participant's page from `state`, as `render_page` draws it, drawn once per page.

    Everyone on one step of one version, arm and language sees the same page except
    for their code (in the forms' hidden field) and their CSRF token; the page is
    rendered once with stand-ins for both and then only filled in. A page showing
    errors and answers, or with query parameters (kept in the language links), is
    drawn afresh.
    """
    if errors or values or request.args:
        return render_page(
            page_from_state(state),
            action=page_url(),
            withdraw_url=page_url("withdraw"),
            code=mask(code),
            shown_code=grouped(code),
            path=page_url(),
            csrf=mask(csrf),
            errors=errors,
            values=values,
            follow_up=Markup(follow_up_html(state)) if follow_up_slot(state) else None,
        )
    arm = state.arm if state.step == "message" else None
    # The spec hash covers the study's interface strings and register (DECISIONS rule 8).
    # And the static files' versions: the page names them by hash.
    key = (
        state.spec_hash,
        state.step,
        arm,
        state.outcome,
        state.language,
        _host(),
        page_assets_version(current_app),
    )
    html = _cached(
        key,
        lambda: render_page(
            page_from_state(state),
            action=page_url(),
            withdraw_url=page_url("withdraw"),
            code=_CODE_MARK,
            shown_code=_SHOWN_MARK,
            path=page_url(),
            csrf=_CSRF_MARK,
            follow_up=follow_up_slot(state),
        ),
    )
    # The forms' code and token masked afresh in every response (framelab.web.compression),
    # the code shown for copying (debrief) in clear, grouped.
    html = fill_follow_up(html, state)
    return (
        html.replace(_CODE_MARK, mask(code))
        .replace(_CSRF_MARK, mask(csrf))
        .replace(_SHOWN_MARK, grouped(code))
    )


PAGE_PATH = "/p"


def page_url(action: str | None = None) -> str:
    """The neutral address of every participant's pages (or of one of its actions, e.g. withdraw).

    It names neither the study nor the participant: who they are is in their cookie or
    in the form (framelab.web.participant.views).
    """
    base = f"{request.script_root}{PAGE_PATH}"
    return f"{base}/{action}" if action else base


def quick_exit_url() -> str:
    """Where "Leave this page" goes: the config's QUICK_EXIT_URL, or Wikipedia.

    A neutral site, as safety sites for people at risk use; framelab.config takes only an
    http(s) address from FRAMELAB_QUICK_EXIT_URL (anything else falls back to the default).
    """
    return current_app.config.get("QUICK_EXIT_URL") or DEFAULT_QUICK_EXIT_URL


QUESTION_CACHE = "framelab.question_html"
QUESTION_CACHE_SIZE = 256


def _questions_html(page: PageView) -> Markup:
    """The questions of a page before any answer: the same for everyone, so drawn once.

    The pre page of a study has dozens of options; drawing them is most of a request's
    time, and every participant in one language sees exactly the same HTML.
    """
    cache = current_app.extensions.setdefault(QUESTION_CACHE, {})
    # The macro translates interface strings ("optional"): the study's own count too.
    key = (page.items, page.lang, page.interface)
    html = cache.get(key)
    if html is None:
        question = get_template_attribute("participant/_items.html", "question")
        html = Markup("").join(question(item, None, None) for item in page.items)
        if len(cache) >= QUESTION_CACHE_SIZE:
            cache.clear()
        cache[key] = html
    return html


def _page_title(page: PageView) -> str:
    if page.progress:
        index, total = page.progress
        step = _("Step %(index)s of %(total)s", index=index, total=total)
        return f"{step} – {page.study_title}"
    return page.study_title


def render_withdraw_confirmation(state: PageState, *, code: str, csrf: str) -> str:
    """The 'are you sure?' page before a participant's answers are erased."""
    spec = state.spec
    use_language(state.language, interface_text(spec, state.language))
    title = spec.text(spec.page_title, state.language)
    return render_template(
        "participant/withdraw.html",
        ui=page_chrome(languages=(), study_title=title),
        page_title=_("Withdraw from the study?"),
        action=page_url("withdraw"),
        back_url=page_url(),
        code=mask(code),
        csrf_token=lambda: mask(csrf),
    )
