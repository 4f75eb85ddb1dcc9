"""What a participant page shows, built from the study and the step, in one language.

`page_view` turns a study and a step into a `PageView` (the questions as `ItemView`s,
the message as a `FrameView`); `page_from_state` does so for a participant's page
state or a studio preview's. framelab.web.participant.pages draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _

from framelab.domain.errors import ValueProblem
from framelab.domain.panel import hand_back, outcome_for
from framelab.domain.steps import TERMINAL_STEPS, PageState
from framelab.domain.study import Item, Study
from framelab.web.i18n import InterfaceText, interface_text, use_language
from framelab.web.markdown import render_markdown


@dataclass(frozen=True)
class ItemView:
    """One question as the template draws it."""

    id: str
    kind: str  # choices | slider | text
    text: str
    short: str
    required: bool
    options: tuple[tuple[int, str], ...] = ()
    hint: str | None = None
    min_label: str = ""
    max_label: str = ""
    max_length: int = 2000
    # Whether the page adds "(optional)": not when the question's text already says so.
    mark_optional: bool = False
    # A slider's hint once the script has made its number field a slider.
    slider_hint: str = ""


@dataclass(frozen=True)
class FrameView:
    title: str
    body_html: str


@dataclass(frozen=True)
class PageView:
    """Everything a participant page shows, in one language."""

    step: str
    lang: str
    study_title: str
    progress: tuple[int, int] | None = None
    items: tuple[ItemView, ...] = ()
    frame: FrameView | None = None
    consent_html: str = ""
    debrief_html: str = ""
    completion_code: str | None = None
    redirect_url: str | None = None
    languages: tuple[str, ...] = field(default_factory=tuple)
    # The study's register and interface strings in this language (None: the catalog's).
    interface: InterfaceText | None = None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def item_view(spec: Study, item: Item, lang: str) -> ItemView:
    """The question `item` in `lang` (falling back to the study's default language)."""
    text = spec.text(item.text, lang)
    says_optional = _("optional").casefold() in text.casefold()
    common = {
        "id": item.id,
        "text": text,
        "short": _short(text),
        "required": item.required,
        "mark_optional": not item.required and not says_optional,
    }
    if item.type == "slider":
        # No default answer: without scripts an empty number field, which the script
        # turns into a slider that stays unanswered until it is moved (issue 17).
        return ItemView(
            kind="slider",
            min_label=spec.text(item.min_label, lang),
            max_label=spec.text(item.max_label, lang),
            hint=_("Type a whole number from 0 (the lowest) to 100 (the highest)."),
            slider_hint=_("Move the slider: 0 is the lowest, 100 the highest."),
            **common,
        )
    if item.type == "text":
        return ItemView(kind="text", max_length=item.text_max_length, **common)
    if item.type == "binary":
        yes = spec.text(item.yes_label, lang) or _("Yes")
        no = spec.text(item.no_label, lang) or _("No")
        return ItemView(kind="choices", options=((1, yes), (0, no)), **common)
    if item.type == "choice":
        options = tuple((o.value, spec.text(o.label, lang)) for o in item.options or [])
        return ItemView(kind="choices", options=options, **common)
    points = item.points or 0
    labels = item.labels.get(lang, spec.default_language) if item.labels else []
    if len(labels) == points:
        options = tuple((i + 1, labels[i]) for i in range(points))
    else:
        # Only the end points are labelled: number every point, name the ends.
        ends = {1: labels[0], points: labels[-1]} if labels else {}
        options = tuple(
            (v, f"{v} – {ends[v]}" if v in ends else str(v)) for v in range(1, points + 1)
        )
    return ItemView(kind="choices", options=options, **common)


def page_view(
    spec: Study,
    step: str,
    lang: str,
    *,
    items: Sequence[Item] = (),
    arm_id: str | None = None,
    progress: tuple[int, int] | None = None,
    returns: tuple[str | None, str | None] | None = None,
) -> PageView:
    """The page of `step` for `spec` in `lang`; `arm_id` picks the message on `message`.

    `returns` is the panel's (code, redirect) for the page (framelab.domain.panel), by
    default the outcome `step` stands for. The request's language is set to `lang` first: the items translate interface
    strings (the slider's hint, yes/no), which must not fall back to the browser's.
    """
    interface = interface_text(spec, lang)
    use_language(lang, interface)
    frame = None
    if step == "message" and arm_id is not None:
        arm_frame = spec.arm(arm_id).frame
        if arm_frame is not None:
            frame = FrameView(
                title=spec.text(arm_frame.title, lang),
                body_html=render_markdown(spec.text(arm_frame.body, lang)),
            )
    code, redirect = returns if returns is not None else hand_back(spec, outcome_for(spec, step))
    return PageView(
        step=step,
        lang=lang,
        study_title=spec.text(spec.page_title, lang),
        progress=progress,
        items=tuple(item_view(spec, item, lang) for item in items),
        frame=frame,
        consent_html=render_markdown(spec.text(spec.consent, lang)) if step == "consent" else "",
        debrief_html=render_markdown(spec.text(spec.debrief, lang)) if step == "debrief" else "",
        completion_code=code,
        redirect_url=redirect,
        languages=tuple(spec.languages),
        interface=interface,
    )


def page_from_state(state: PageState) -> PageView:
    """The page for a flow `PageState` (a participant's, or a studio preview's)."""
    terminal = state.step in TERMINAL_STEPS
    return page_view(
        state.spec,
        state.step,
        state.language,
        items=state.items,
        arm_id=state.arm,
        progress=None if terminal or not state.progress[1] else state.progress,
        returns=(state.completion_code, state.redirect_url),
    )


def problem_message(problem: ValueProblem | str, item: ItemView | None = None) -> str:
    """A participant-facing, translated message for an invalid answer."""
    if not isinstance(problem, ValueProblem):
        return str(problem)
    params = problem.params
    if problem.code == "required":
        return _("Please answer this question.")
    if problem.code == "too_long":
        return _("Please shorten your answer to at most %(max)s characters.", max=params.get("max"))
    is_slider = item.kind == "slider" if item is not None else problem.code == "out_of_range"
    if is_slider:
        low, high = params.get("min", 0), params.get("max", 100)
        return _("Please give a whole number from %(min)s to %(max)s.", min=low, max=high)
    return _("Please choose one of the answers.")
