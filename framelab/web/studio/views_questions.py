"""Studio pages of the question editor (add, edit, change type, reorder, remove); the
scales' pages are in `views_scales`. Usable without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_wtf import FlaskForm

from framelab.clock import now
from framelab.domain.builder import build_question_edit as bqe
from framelab.domain.builder import build_questions as bq
from framelab.domain.builder.label_presets import PRESETS, TRANSLATION_NOTE
from framelab.domain.builder.question_references import item_references, position
from framelab.domain.builder.question_types import change_type
from framelab.domain.study import Study, StudyError
from framelab.services import study_drafts
from framelab.services.study_drafts import StudyLocked
from framelab.services.study_versions import LoadedStudy
from framelab.web.studio.auth import require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms import field_name, place_errors
from framelab.web.studio.forms_question_add import add_question_form
from framelab.web.studio.forms_questions import (
    ROLE_CHOICES,
    TYPE_CHOICES,
    MoveForm,
    RemoveForm,
    edit_question_form,
    option_field,
    remove_field,
    tag_field,
    type_form,
)

Errors = list[tuple[str, str]]


def save_spec(study: LoadedStudy, build: Callable[[], Study]) -> tuple[bool, Errors, str | None]:
    """Build the edited spec and save it: (saved, StudyError pairs, lock message)."""
    try:
        study_drafts.update_study(session(), study.slug, build(), now=now())
    except StudyError as exc:
        return False, exc.errors, None
    except StudyLocked as exc:
        return False, [], str(exc)
    return True, [], None


def lock_note(study: LoadedStudy) -> str | None:
    """Why the questions cannot change now, in one sentence (None when they can)."""
    if study.status == "closed":
        return "The study is closed, so its questions are read-only. Create a new version on the overview page to run it again."
    state = study_drafts.lock_state(session(), study.slug)
    if state.is_locked("items"):
        digest = (state.hashes.get("items") or "")[:12]
        return (
            "The questions and scales are locked because the study has gone live "
            f"(hash {digest}): every participant must answer the same questions. "
            "Create a new version on the overview page to change them."
        )
    return None


def per_language(form: FlaskForm, spec: Study, prefix: str) -> dict[str, str]:
    return {lang: form[field_name(prefix, lang)].data or "" for lang in spec.languages}


def _item(spec: Study, item_id: str) -> int:
    if item_id not in {i.id for i in spec.items}:
        abort(404)
    return position(spec, item_id)


def editor_page(
    study: LoadedStudy, template: str, active: str, status: int = 200, **context: Any
) -> Any:
    context.setdefault("field_errors", {})
    context.setdefault("other_errors", [])
    context.setdefault("locked", None)
    return (
        render_study(
            template,
            study,
            active,
            lock_note=lock_note(study),
            field_name=field_name,
            presets=PRESETS,
            translation_note=TRANSLATION_NOTE,
            type_names=TYPE_CHOICES,
            role_names=ROLE_CHOICES,
            ui_role=bq.ui_role,
            **context,
        ),
        status,
    )


# ------------------------------------------------------------------ the list and adding


@bp.route("/<slug>/questions", methods=["GET", "POST"])
@require_role("edit")
def questions(study: LoadedStudy) -> Any:
    spec = study.spec
    form_class, places = add_question_form(spec)
    form = form_class()
    errors: dict[str, list[str]] = {}
    other: Errors = []
    locked = None
    if request.method == "POST" and form.validate_on_submit():

        def build() -> Study:
            return bq.add_item(
                spec,
                bq.NewQuestion(
                    texts=per_language(form, spec, "text"),
                    type=form.type.data,
                    phase=form.phase.data,
                    role=form.role.data,
                    item_id=form.item_id.data or "",
                    required=bool(form.required.data),
                    preset=form.preset.data or None,
                    options=per_language(form, spec, "options"),
                    value=form.value.data or None,
                    desired=form.desired.data,
                    correct=form.correct.data,
                ),
            )

        added: list[str] = []

        def build_and_note() -> Study:
            edited = build()
            added.append(edited.items[-1].id)
            return edited

        ok, problems, locked = save_spec(study, build_and_note)
        if ok:
            flash(f"Question {added[0]} added at the end of its list.", "info")
            return redirect(url_for("studio.questions", slug=study.slug) + f"#q-{added[0]}")
        errors, other = place_errors(problems, places)
    failed = request.method == "POST"
    return editor_page(
        study,
        "studio/questions.html",
        "studio.questions",
        422 if failed else 200,
        form=form,
        move_form=MoveForm(),
        field_errors=errors,
        other_errors=other,
        locked=locked,
    )


@bp.route("/<slug>/questions/<item_id>/move", methods=["POST"])
@require_role("edit")
def move_question(study: LoadedStudy, item_id: str) -> Any:
    _item(study.spec, item_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    phase = form.phase.data or None
    ok, problems, locked = save_spec(
        study, lambda: bq.move_item(study.spec, item_id, form.direction.data, phase)
    )
    if ok:
        flash(f"Question {item_id} moved {form.direction.data}.", "info")
    else:
        flash(locked or "; ".join(f"{loc}: {msg}" for loc, msg in problems), "error")
    return redirect(url_for("studio.questions", slug=study.slug) + f"#q-{item_id}")


@bp.route("/<slug>/questions/<item_id>/remove", methods=["GET", "POST"])
@require_role("edit")
def remove_question(study: LoadedStudy, item_id: str) -> Any:
    spec = study.spec
    _item(spec, item_id)
    return remove_page(
        study,
        "question",
        spec.item(item_id),
        item_references(spec, item_id),
        lambda drop: bq.remove_item(spec, item_id, drop),
        "studio.questions",
    )


def remove_page(
    study: LoadedStudy,
    what: str,
    target: Any,
    references: Any,
    remove: Callable[[bool], Study],
    endpoint: str,
) -> Any:
    """Remove a question or scale (`what`) on a confirmed POST, else ask with its uses listed.

    `remove(drop)` builds the spec without it (`drop`: its uses go too); `endpoint` is the
    list page it leaves.
    """
    form = RemoveForm()
    other: Errors = []
    locked = None
    if request.method == "POST" and form.confirm.data and form.validate_on_submit():
        drop = bool(form.drop_references.data)
        ok, other, locked = save_spec(study, lambda: remove(drop))
        if ok:
            flash(f"{what.capitalize()} {target.id} removed.", "info")
            return redirect(url_for(endpoint, slug=study.slug))
    return editor_page(
        study,
        "studio/questions_remove.html",
        endpoint,
        422 if request.method == "POST" else 200,
        form=form,
        item=target,
        references=references,
        other_errors=other,
        locked=locked,
        what=what,
        back=url_for(endpoint, slug=study.slug),
    )


# ------------------------------------------------------------------ one question


def _edit_from_form(form: FlaskForm, spec: Study, item_id: str) -> bqe.ItemEdit:
    item = spec.item(item_id)
    edit = bqe.ItemEdit(
        texts=per_language(form, spec, "text"),
        phase=form.phase.data,
        role=form.role.data,
        required=bool(form.required.data),
        value=form.value.data or None,
        desired=form.desired.data,
        correct=form.correct.data,
    )
    edit.label = per_language(form, spec, "label")
    if item.type == "likert":
        edit.points = form.points.data
        edit.preset = form.preset.data or ""
        edit.labels = per_language(form, spec, "labels")
    elif item.type == "slider":
        edit.min_label = per_language(form, spec, "min_label")
        edit.max_label = per_language(form, spec, "max_label")
    elif item.type == "binary":
        edit.yes_label = per_language(form, spec, "yes_label")
        edit.no_label = per_language(form, spec, "no_label")
    elif item.type == "choice":
        for option in item.options or []:
            edit.option_labels[option.value] = {
                lang: form[option_field(option.value, lang)].data or "" for lang in spec.languages
            }
            if form[remove_field(option.value)].data:
                edit.remove_options.add(option.value)
            if item.role == "manipulation_check":
                edit.option_tags[option.value] = form[tag_field(option.value)].data or ""
        edit.new_option = per_language(form, spec, "new_option")
        edit.drop_references = bool(form.drop_references.data)
    else:
        edit.max_length = form.max_length.data
    return edit


@bp.route("/<slug>/questions/<item_id>", methods=["GET", "POST"])
@require_role("edit")
def edit_question(study: LoadedStudy, item_id: str) -> Any:
    spec = study.spec
    index = _item(spec, item_id)
    form_class, places = edit_question_form(spec, spec.items[index], index)
    form = form_class()
    errors: dict[str, list[str]] = {}
    other: Errors = []
    locked = None
    if request.method == "POST" and form.validate_on_submit():
        new_id = (form.item_id.data or "").strip()

        def build() -> Study:
            edited = bqe.edit_item(spec, item_id, _edit_from_form(form, spec, item_id))
            return bq.rename_item(edited, item_id, new_id)

        ok, problems, locked = save_spec(study, build)
        if ok:
            flash(f"Question {new_id} saved.", "info")
            return redirect(url_for("studio.questions", slug=study.slug) + f"#q-{new_id}")
        errors, other = place_errors(problems, places)
    return _edit_page(study, index, form, errors, other, locked, request.method == "POST")


def _edit_page(
    study: LoadedStudy,
    index: int,
    form: FlaskForm,
    errors: dict[str, list[str]],
    other: Errors,
    locked: str | None,
    failed: bool,
    kind_form: FlaskForm | None = None,
) -> Any:
    spec = study.spec
    item = spec.items[index]
    return editor_page(
        study,
        "studio/questions_edit.html",
        "studio.questions",
        422 if failed else 200,
        form=form,
        kind_form=kind_form or type_form(spec, item)(),
        item=item,
        index=index,
        option_field=option_field,
        remove_field=remove_field,
        tag_field=tag_field,
        references=item_references(spec, item.id),
        field_errors=errors,
        other_errors=other,
        locked=locked,
    )


@bp.route("/<slug>/questions/<item_id>/type", methods=["POST"])
@require_role("edit")
def change_question_type(study: LoadedStudy, item_id: str) -> Any:
    spec = study.spec
    index = _item(spec, item_id)
    kind_form = type_form(spec, spec.items[index])()
    other: Errors = []
    locked = None
    if kind_form.validate_on_submit():
        ok, other, locked = save_spec(
            study,
            lambda: change_type(
                spec, item_id, kind_form.new_type.data, kind_form.type_preset.data or None
            ),
        )
        if ok:
            flash(f"Question {item_id} now has the answer kind {kind_form.new_type.data}.", "info")
            return redirect(url_for("studio.edit_question", slug=study.slug, item_id=item_id))
    form_class, _ = edit_question_form(spec, spec.items[index], index)
    return _edit_page(study, index, form_class(formdata=None), {}, other, locked, True, kind_form)
