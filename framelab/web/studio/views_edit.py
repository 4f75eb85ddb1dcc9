"""Studio editor pages: frames (with the confound check and preview), texts, questions,
design and analysis plan (and its lock). The participant preview is in views_preview."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_wtf import FlaskForm

from framelab.clock import now
from framelab.domain.builder import build_design, editing
from framelab.domain.confounds import check_study
from framelab.domain.names import arm_name
from framelab.domain.study import Study, StudyError
from framelab.services import study_drafts, study_lifecycle
from framelab.services.accounts import role_allows
from framelab.services.study_drafts import StudyLocked
from framelab.services.study_lifecycle import LifecycleError
from framelab.services.study_versions import LoadedStudy
from framelab.web.durations import duration_text
from framelab.web.markdown import render_markdown
from framelab.web.studio.auth import current_account, require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms import ActionForm, Places, field_name, place_errors, texts_form
from framelab.web.studio.forms_frames import (
    blocking_questions,
    frame_form,
    group_field,
    plain_design_form,
)
from framelab.web.studio.forms_plan import TargetForm, plan_form

# The confirmation box of the owner's "raise the target" form (overview page).
CONFIRM_RAISE = "confirm_raise"
# Owner actions on a live study that the rules want audited (DECISIONS rule 2).
AUDIT = logging.getLogger("framelab.audit")


def _save(
    study: LoadedStudy, form: FlaskForm, places: Places, build: Callable[[], Study]
) -> tuple[bool, dict[str, list[str]], list[tuple[str, str]], str | None]:
    """Validate the form, build the edited spec and save it; errors placed by location."""
    if not form.validate_on_submit():
        return False, {}, [], None
    try:
        study_drafts.update_study(session(), study.slug, build(), now=now())
    except StudyError as exc:
        by_field, rest = place_errors(exc.errors, places)
        return False, by_field, rest, None
    except StudyLocked as exc:
        return False, {}, [], str(exc)
    return True, {}, [], None


def _per_language(form: FlaskForm, spec: Study, prefix: str) -> dict[str, str]:
    return {lang: form[field_name(prefix, lang)].data or "" for lang in spec.languages}


def _frame_form(spec: Study, arm_id: str) -> tuple[int, FlaskForm, Places]:
    """The index of the frame arm `arm_id` (404 if none) and its frame form on this request."""
    for index, arm in enumerate(spec.arms):
        if arm.id == arm_id and arm.frame is not None:
            form_class, places = frame_form(spec, index)
            return index, form_class(), places
    abort(404)


# ------------------------------------------------------------------ frames


# The frames list and its arm forms are in views_frames.


@bp.route("/<slug>/frames/<arm_id>", methods=["GET", "POST"])
@require_role("edit")
def edit_frame(study: LoadedStudy, arm_id: str) -> Any:
    spec = study.spec
    index, form, places = _frame_form(spec, arm_id)
    errors: dict[str, list[str]] = {}
    other: list[tuple[str, str]] = []
    locked = None
    preview = None

    def build() -> Study:
        return editing.edit_frame(
            spec,
            index,
            _per_language(form, spec, "title"),
            _per_language(form, spec, "body"),
            form.values.data or [],
        )

    if request.method == "POST" and form.preview.data and form.validate_on_submit():
        try:
            draft = build()
            preview = _frame_preview(draft, arm_id)
        except StudyError as exc:
            errors, other = place_errors(exc.errors, places)
    elif request.method == "POST":
        ok, errors, other, locked = _save(study, form, places, build)
        if ok:
            flash(f"{arm_name(spec, arm_id)} saved.", "info")
            return redirect(url_for("studio.frames", slug=study.slug) + f"#arm-{arm_id}")
    if preview is None:
        preview = _frame_preview(spec, arm_id)
    failed = bool(errors or other or locked or form.errors)
    page = render_study(
        "studio/frame_edit.html",
        study,
        "studio.frames",
        form=form,
        arm=spec.arms[index],
        field_errors=errors,
        other_errors=other,
        locked=locked,
        preview=preview,
        field_name=field_name,
    )
    return page, 422 if failed else 200


def _frame_preview(spec: Study, arm_id: str) -> dict[str, Any]:
    """Rendered message per language and the confound figures/warnings for this arm."""
    report = check_study(spec)
    frame = spec.arm(arm_id).frame
    return {
        "html": {
            lang: render_markdown(spec.text(frame.body, lang)) if frame else ""
            for lang in spec.languages
        },
        "titles": {lang: spec.text(frame.title, lang) if frame else "" for lang in spec.languages},
        "metrics": [m for m in report.metrics if m.arm == arm_id],
        "warnings": report.warnings_for(arm_id),
    }


@bp.route("/<slug>/frames/<arm_id>/check", methods=["POST"])
@require_role("edit")
def check_frame(study: LoadedStudy, arm_id: str) -> Any:
    """JSON for the progressive live preview: rendered Markdown, figures and warnings."""
    spec = study.spec
    index, form, places = _frame_form(spec, arm_id)
    if not form.validate_on_submit():
        return jsonify({"ok": False, "errors": form.errors}), 422
    try:
        draft = editing.edit_frame(
            spec,
            index,
            _per_language(form, spec, "title"),
            _per_language(form, spec, "body"),
            form.values.data or [],
        )
    except StudyError as exc:
        by_field, rest = place_errors(exc.errors, places)
        return jsonify({"ok": False, "errors": by_field, "other": rest}), 422
    preview = _frame_preview(draft, arm_id)
    return jsonify(
        {
            "ok": True,
            "html": {lang: str(html) for lang, html in preview["html"].items()},
            "metrics": [
                {
                    "language": m.language,
                    "words": m.words,
                    "reading_seconds": m.reading_seconds,
                    "reading_time": duration_text(m.reading_seconds),
                    "readability": m.readability,
                    "readability_label": m.readability_label,
                }
                for m in preview["metrics"]
            ],
            "warnings": [w.message for w in preview["warnings"]],
        }
    )


# ------------------------------------------------------------------ other sections


def _section(
    study: LoadedStudy,
    builder: Callable,
    template: str,
    active: str,
    apply: Callable,
    **extra: Any,
) -> Any:
    form_class, places = builder(study.spec)
    form = form_class()
    errors: dict[str, list[str]] = {}
    other: list[tuple[str, str]] = []
    locked = None
    if request.method == "POST":
        ok, errors, other, locked = _save(study, form, places, lambda: apply(study.spec, form))
        if ok:
            flash("Saved.", "info")
            return redirect(url_for(active, slug=study.slug))
    failed = bool(errors or other or locked or form.errors)
    page = render_study(
        template,
        study,
        active,
        form=form,
        field_errors=errors,
        other_errors=other,
        locked=locked,
        field_name=field_name,
        lock=study_drafts.lock_state(session(), study.slug),
        action_form=ActionForm(),
        **extra,
    )
    return page, 422 if failed else 200


def _apply_texts(spec: Study, form: FlaskForm, *, target_locked: bool = False) -> Study:
    texts = {key: _per_language(form, spec, key) for key in ("title", "consent", "debrief")}
    # A live study's target is a disabled field (not sent): it stays as it is.
    target = spec.target_n if target_locked else form.target_n.data
    return editing.edit_texts(spec, texts, target, form.speeder_seconds.data)


def _apply_plan(
    spec: Study, form: FlaskForm, *, plan_locked: bool = False, target_locked: bool = False
) -> Study:
    # Read-only parts are disabled fields, which browsers do not send: they stay as they are.
    if plan_locked:
        return spec if target_locked else editing.set_target(spec, form.target_n.data)
    plan = {
        name: form[name].data or []
        for name in ("primary", "secondary", "covariates", "moderators", "exclude")
    }
    plan["alpha"] = float(form.alpha.data)
    plan["correction"] = form.correction.data
    edited = editing.edit_plan(spec, plan)
    return edited if target_locked else editing.set_target(edited, form.target_n.data)


def _design_form(spec: Study) -> tuple[type[FlaskForm], Places]:
    return plain_design_form(spec, build_design.block_size_choices(spec))


def _apply_design(spec: Study, form: FlaskForm) -> Study:
    # The groups typed for the question chosen in the same submission (every blocking
    # question has its own group fields, so nothing needs saving first).
    block_by = form.block_by.data or None
    groups = None
    if form.scheme.data == "blocked" and block_by:
        values = spec.item(block_by).allowed_values() or []
        names = [group_field(block_by, v) for v in values]
        if all(name in form for name in names):
            groups = {v: form[name].data or "" for v, name in zip(values, names, strict=True)}
    size = form["block_size"].data
    return build_design.edit_design(
        spec,
        scheme=form.scheme.data,
        seed=form.seed.data,
        block_by=block_by,
        groups=groups,
        block_size=int(size) if size and str(size).isdigit() else None,
    )


@bp.route("/<slug>/texts", methods=["GET", "POST"])
@require_role("edit")
def texts(study: LoadedStudy) -> Any:
    lock = study_drafts.lock_state(session(), study.slug)
    apply = partial(_apply_texts, target_locked=lock.locked_at is not None)
    return _section(study, texts_form, "studio/texts.html", "studio.texts", apply)


@bp.route("/<slug>/items")
@require_role("edit")
def items(study: LoadedStudy) -> Any:
    """The former wording-only question page: the question editor replaced it."""
    return redirect(url_for("studio.questions", slug=study.slug), code=301)


@bp.route("/<slug>/design", methods=["GET", "POST"])
@require_role("edit")
def design(study: LoadedStudy) -> Any:
    return _section(
        study,
        _design_form,
        "studio/design.html",
        "studio.design",
        _apply_design,
        blocking_questions=blocking_questions(study.spec),
        group_field=group_field,
    )


@bp.route("/<slug>/plan", methods=["GET", "POST"])
@require_role("plan")
def plan(study: LoadedStudy) -> Any:
    lock = study_drafts.lock_state(session(), study.slug)
    apply = partial(
        _apply_plan, plan_locked=lock.is_locked("plan"), target_locked=lock.locked_at is not None
    )
    return _section(study, plan_form, "studio/plan.html", "studio.plan", apply)


@bp.route("/<slug>/plan/target", methods=["POST"])
@require_role("plan")
def use_target(study: LoadedStudy) -> Any:
    """The target sample: "use this number" before launch; after launch, the owner's raise.

    After launch (DECISIONS rule 2) the target only goes up, only by the owner, only with
    the confirmation box of the overview's form: a lower one would show results before
    the planned sample and close the study without a confirmed "close now".
    """
    form = TargetForm()
    back = redirect(url_for("studio.plan", slug=study.slug) + "#target_n")
    if not form.validate_on_submit():
        flash("No target sample was sent; enter it on this page.", "error")
        return back
    try:
        study_drafts.set_target(session(), study.slug, form.target_n.data, now=now())
    except StudyLocked as exc:
        if exc.part == "target":  # launched: only the owner's confirmed raise
            return _raise_target(study, form.target_n.data, back)
        flash(str(exc), "error")
        return back
    except StudyError as exc:
        flash(str(exc), "error")
        return back
    flash(f"Target sample set to {form.target_n.data} completed participants.", "info")
    return back


def _raise_target(study: LoadedStudy, target_n: int, back: Any) -> Any:
    if not role_allows(g.get("role"), "manage"):
        flash(
            "The study is live: its target sample is locked with the design and only the "
            "owner may raise it, from the overview page.",
            "error",
        )
        return back
    overview = redirect(url_for("studio.overview", slug=study.slug) + "#target")
    if request.form.get(CONFIRM_RAISE) != "yes":
        flash(
            "The study is live: raising its target sample needs the confirmation box of the "
            "form on the overview page. Nothing was changed.",
            "error",
        )
        return overview
    before = study.spec.target_n
    try:
        study_lifecycle.raise_target(session(), study.slug, target_n, now=now())
    except (StudyError, StudyLocked, LifecycleError) as exc:
        flash(str(exc), "error")
        return overview
    AUDIT.info(
        "target raised: study=%s from=%s to=%s account=%s",
        study.slug,
        before,
        target_n,
        current_account().id,
    )
    flash(
        f"Target sample raised from {before} to {target_n} completed participants. The study "
        "stays open and the results stay hidden until the new target is reached.",
        "info",
    )
    return overview


@bp.route("/<slug>/plan/lock", methods=["POST"])
@require_role("plan")
def lock_plan(study: LoadedStudy) -> Any:
    if ActionForm().validate_on_submit():
        digest = study_lifecycle.lock_plan(session(), study.slug, now=now())
        flash(f"Analysis plan locked (pre-registered), hash {digest[:12]}.", "info")
    return redirect(url_for("studio.plan", slug=study.slug))


# The participant preview is in views_preview.
