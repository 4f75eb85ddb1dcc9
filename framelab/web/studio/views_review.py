"""Reviewer sign-off, the audit trail, and which campaign version receives newcomers.

- `/<slug>/review`: what the reviewer signs off (consent and debrief in every language,
  what is collected and how it will be analysed), the standing decision, and for a
  reviewer the approve / ask-for-changes form. Any later edit voids an approval
  (it names the spec hash), and the page says so.
- `/<slug>/audit`: who edited, approved, locked, launched, closed and exported what, for
  every version of the campaign (owners).
- `/<slug>/receive` (POST, owner, confirmed): make this live version the one the
  campaign's links enrol into (DECISIONS rule 1).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user

from framelab.clock import now
from framelab.domain.study import StudyError
from framelab.services import audit, campaigns, review
from framelab.services.study_versions import LoadedStudy
from framelab.web.studio.auth import current_account, require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms import ActionForm

CONFIRM_RECEIVE = "confirm_receive"


@bp.before_request
def _who_acts() -> None:
    """Audit events of this request name the signed-in account (services read it)."""
    if current_user.is_authenticated:
        account = current_account()
        audit.set_actor(audit.Actor.of(account))
    else:
        audit.set_actor(None)


@bp.teardown_request
def _nobody_acts(_error: BaseException | None) -> None:
    """The actor ends with the request (a thread's next work must not inherit it)."""
    audit.set_actor(None)


def review_required() -> bool:
    """The instance setting (DECISIONS rule 9): sign-off before launch, on by default."""
    return bool(current_app.config.get("REQUIRE_REVIEW", True))


def _collected(study: LoadedStudy) -> dict[str, Any]:
    """What the data plan says is collected, in the words of the study's default language."""
    spec = study.spec
    lang = spec.default_language
    questions = []
    for item in spec.items:
        questions.append(
            {
                "text": spec.text(item.text, lang),
                "phase": " and ".join(
                    "before the message" if phase == "pre" else "after the message"
                    for phase in item.phase
                ),
                "kind": item.type,
                "free_text": item.type == "text",
                "optional": not item.required,
            }
        )
    return {
        "questions": questions,
        "free_text": sum(q["free_text"] for q in questions),
        "completion": spec.completion,
        "outcomes": [*spec.analysis.primary, *spec.analysis.secondary],
    }


@bp.route("/<slug>/review")
@require_role("view")
def review_page(study: LoadedStudy) -> str:
    state = review.review_state(session(), study.slug)
    reviewer = review.is_reviewer(session(), current_account(), study.id)
    return render_study(
        "studio/review.html",
        study,
        "studio.review_page",
        state=state,
        reviewer=reviewer,
        required=review_required(),
        collected=_collected(study),
        form=ActionForm(),
    )


@bp.route("/<slug>/review", methods=["POST"])
@require_role("review")
def review_decide(study: LoadedStudy) -> Any:
    back = redirect(url_for("studio.review_page", slug=study.slug))
    if not ActionForm().validate_on_submit():
        flash("The form expired; please decide again.", "error")
        return back
    decision = request.form.get("decision", "")
    try:
        review.decide(
            session(),
            study.slug,
            current_account(),
            decision,
            spec_hash=request.form.get("spec_hash", ""),
            comment=request.form.get("comment", ""),
            now=now(),
        )
    except review.ReviewError as exc:
        flash(str(exc), "error")
        return back
    flash(
        "Approved: the owner can now launch this exact version."
        if decision == "approved"
        else "Your request for changes is recorded and shown to the study's editors.",
        "info",
    )
    return back


@bp.route("/<slug>/audit")
@require_role("manage")
def audit_trail(study: LoadedStudy) -> str:
    found = campaigns.campaign(session(), study.id)
    entries = audit.trail(session(), found.study_ids)
    return render_study(
        "studio/audit.html", study, "studio.audit_trail", entries=entries, campaign=found
    )


@bp.route("/<slug>/receive", methods=["POST"])
@require_role("manage")
def make_receiving(study: LoadedStudy) -> Any:
    back = redirect(url_for("studio.overview", slug=study.slug))
    if not ActionForm().validate_on_submit():
        return back
    if request.form.get(CONFIRM_RECEIVE) != "yes":
        flash("Switching the campaign's link needs confirmation: tick the box.", "error")
        return back
    try:
        changed = campaigns.make_receiving(session(), study.id, now=now())
    except (campaigns.CampaignError, StudyError) as exc:
        flash(str(exc), "error")
        return back
    if changed:
        flash(f"New participants on the campaign's link now take {study.slug}.", "info")
    return back
