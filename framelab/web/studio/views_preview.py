"""The participant preview: every page of the study, in order, per arm and language.

A walk-through (consent, the questions before the message, the message of the
chosen arm, the questions after it, the debrief) drawn by the participant renderer
(`framelab.web.participant.pages.render_page` with `preview=True`: the same HTML, the
form posting nowhere) inside a studio banner with Previous/Next, an arm switcher, a
language switcher and the way back to the studio. Every page is a GET built from the
study file alone: no participant is created and no answer is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, redirect, request, url_for

from framelab.domain.names import CONTROL, arm_name
from framelab.domain.steps import TERMINAL_STEPS, preview_page, steps_for
from framelab.domain.study import Study
from framelab.services.study_versions import LoadedStudy
from framelab.web.i18n import language_name
from framelab.web.participant.pages import page_from_state, render_page
from framelab.web.studio.auth import require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study

# What each page is, in the campaigner's words (the banner and the index).
STEP_NAMES = {
    "consent": "consent",
    "screener": "screening questions",
    "pre": "questions before the message",
    "message": "the message",
    "post": "questions after the message",
    "intent": "what would you do (intent questions)",
    "debrief": "debrief and thanks",
    "screened_out": "after saying no to the consent",
    "ineligible": "after being screened out by the screener",
    "over_quota": "after arriving in a full quota cell",
    "withdrawn": "after withdrawing",
}


@dataclass(frozen=True)
class PreviewLink:
    label: str
    href: str
    current: bool = False
    lang: str | None = None


def _url(study: LoadedStudy, arm_id: str, lang: str, step: str) -> str:
    return url_for("studio.preview", slug=study.slug, arm_id=arm_id, lang=lang, step=step)


def _arm_label(spec: Study, arm_id: str) -> str:
    name = arm_name(spec, arm_id)
    return f"{name} (control)" if spec.arm(arm_id).control and name != CONTROL else name


def preview_banner(study: LoadedStudy, arm_id: str, lang: str, step: str) -> dict[str, Any]:
    """What the banner above a previewed page shows, with every link it offers."""
    spec = study.spec
    steps = steps_for(spec)
    index = steps.index(step) if step in steps else None
    previous = next_ = None
    if index is not None and index > 0:
        previous = PreviewLink(
            STEP_NAMES[steps[index - 1]], _url(study, arm_id, lang, steps[index - 1])
        )
    if index is not None and index + 1 < len(steps):
        next_ = PreviewLink(
            STEP_NAMES[steps[index + 1]], _url(study, arm_id, lang, steps[index + 1])
        )
    return {
        "step_name": STEP_NAMES[step],
        "position": (index + 1, len(steps)) if index is not None else None,
        "arm_label": _arm_label(spec, arm_id),
        "language_label": language_name(lang),
        "previous": previous,
        "next": next_,
        "arms": [
            PreviewLink(_arm_label(spec, a.id), _url(study, a.id, lang, step), a.id == arm_id)
            for a in spec.arms
        ],
        "languages": [
            PreviewLink(language_name(code), _url(study, arm_id, code, step), code == lang, code)
            for code in spec.languages
        ],
        "index": url_for("studio.preview_index", slug=study.slug),
        "studio": url_for("studio.overview", slug=study.slug),
    }


@bp.route("/<slug>/preview")
@require_role("view")
def preview_index(study: LoadedStudy) -> str:
    spec = study.spec
    return render_study(
        "studio/preview.html",
        study,
        "studio.overview",
        steps=steps_for(spec),
        terminal=TERMINAL_STEPS,
        step_names=STEP_NAMES,
        arm_label=lambda arm_id: _arm_label(spec, arm_id),
        language_name=language_name,
    )


@bp.route("/<slug>/preview/<arm_id>/<lang>/<step>")
@require_role("view")
def preview(study: LoadedStudy, arm_id: str, lang: str, step: str) -> Any:
    """The participant page exactly as a participant sees it, in the studio's banner."""
    spec = study.spec
    if (
        arm_id not in spec.arm_ids
        or lang not in spec.languages
        or step not in (*steps_for(spec), *TERMINAL_STEPS)
    ):
        abort(404)
    # The participant page's own language links add ?lang=xx to this address: the same
    # page in that language is another preview address.
    asked = request.args.get("lang", "")
    if asked in spec.languages and asked != lang:
        return redirect(_url(study, arm_id, asked, step))
    state = preview_page(spec, step, language=lang, arm=arm_id)
    return render_page(
        page_from_state(state),
        preview=True,
        template="studio/preview_page.html",
        bar=preview_banner(study, arm_id, lang, step),
    )
