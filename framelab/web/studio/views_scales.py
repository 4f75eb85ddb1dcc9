"""Studio pages of the scales: value scores averaged from ticked questions (add, edit,
remove). Usable without JavaScript; they share the question editor's save and page."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_wtf import FlaskForm

from framelab.domain.builder import build_scales as bs
from framelab.domain.builder.build_scales import scale_references
from framelab.domain.study import Study
from framelab.services.study_versions import LoadedStudy
from framelab.web.studio.auth import require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.forms import place_errors
from framelab.web.studio.forms_scales import scale_form
from framelab.web.studio.views_questions import (
    Errors,
    editor_page,
    per_language,
    remove_page,
    save_spec,
)


@bp.route("/<slug>/scales", methods=["GET", "POST"])
@require_role("edit")
def scales(study: LoadedStudy) -> Any:
    return _scale_page(study, None, "studio/questions_scales.html")


def _scale_page(study: LoadedStudy, scale: Any, template: str) -> Any:
    """The new-scale form (scale None) or one scale's form: save, or show the errors in place."""
    spec = study.spec
    scale_id = scale.id if scale is not None else None
    form_class, places = scale_form(spec, scale)
    form = form_class()
    errors: dict[str, list[str]] = {}
    other: Errors = []
    locked = None
    if request.method == "POST" and form.validate_on_submit():
        ok, problems, locked = save_spec(study, lambda: _apply_scale(spec, form, scale_id))
        if ok:
            if scale_id is None:
                flash(f"Scale {form.scale_id.data.strip()} added.", "info")
            else:
                flash(f"Scale {scale_id} saved.", "info")
            return redirect(url_for("studio.scales", slug=study.slug))
        errors, other = place_errors(problems, places)
    extra = {"scale": scale} if scale is not None else {}
    return editor_page(
        study,
        template,
        "studio.scales",
        422 if request.method == "POST" else 200,
        form=form,
        field_errors=errors,
        other_errors=other,
        locked=locked,
        **extra,
    )


def _apply_scale(spec: Study, form: FlaskForm, scale_id: str | None) -> Study:
    return bs.save_scale(
        spec,
        scale_id or (form.scale_id.data or "").strip(),
        form.members.data or [],
        form.reverse.data or [],
        form.value.data or None,
        label=per_language(form, spec, "label"),
        desired=form.desired.data,
        new=scale_id is None,
    )


def _scale(spec: Study, scale_id: str) -> Any:
    if scale_id not in {s.id for s in spec.scales}:
        abort(404)
    return spec.scale(scale_id)


@bp.route("/<slug>/scales/<scale_id>", methods=["GET", "POST"])
@require_role("edit")
def edit_scale(study: LoadedStudy, scale_id: str) -> Any:
    return _scale_page(study, _scale(study.spec, scale_id), "studio/questions_scale_edit.html")


@bp.route("/<slug>/scales/<scale_id>/remove", methods=["GET", "POST"])
@require_role("edit")
def remove_scale(study: LoadedStudy, scale_id: str) -> Any:
    spec = study.spec
    return remove_page(
        study,
        "scale",
        _scale(spec, scale_id),
        scale_references(spec, scale_id),
        lambda drop: bs.remove_scale(spec, scale_id, drop),
        "studio.scales",
    )
