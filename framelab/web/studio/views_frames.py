"""Studio frames page: the arms of a study, with the confound check, and the forms that add,
duplicate, reorder, remove and configure them (values, labels, factor levels, control or
placebo, shares and block size). Edits are build_frames functions; texts are written in
the frame editor (views_edit.edit_frame)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request, url_for

from framelab.clock import now
from framelab.domain.builder import build_design, build_frames, editing
from framelab.domain.confounds import check_study, placeholder_locations
from framelab.domain.names import arm_name, place_name
from framelab.domain.study import Study, StudyError
from framelab.domain.values import describe_value
from framelab.services import study_drafts
from framelab.services.study_drafts import StudyLocked
from framelab.services.study_versions import LoadedStudy
from framelab.web.studio.auth import require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms import ActionForm, Places, field_name, place_errors
from framelab.web.studio.forms_frames import (
    add_frame_form,
    allocation_form,
    arm_settings_form,
    factors_form,
    placebo_form,
)

Errors = tuple[dict[str, list[str]], list[tuple[str, str]]]

# op button value -> (edit, what the flash message says was done)
OPS: dict[str, tuple[Callable[[Study, str], Study], str]] = {
    "up": (lambda spec, arm: build_frames.move_arm(spec, arm, -1), "moved up"),
    "down": (lambda spec, arm: build_frames.move_arm(spec, arm, +1), "moved down"),
    "duplicate": (build_frames.duplicate_frame, "duplicated as a variant"),
    "control": (build_frames.make_control, "is now the control"),
    "no_message": (
        lambda spec, arm: build_frames.set_control_message(spec, placebo=False),
        "now shows no message",
    ),
}


def _store(
    study: LoadedStudy, build: Callable[[], Study], places: Places, prefix: str = ""
) -> tuple[LoadedStudy | None, Errors, str | None]:
    """Build the edited spec and save it: the saved study (None when refused), errors placed
    by location (on the form's field names, with its prefix) in plain words, the lock."""
    try:
        saved = study_drafts.update_study(session(), study.slug, build(), now=now())
    except StudyError as exc:
        by_field, rest = place_errors(build_design.plain_errors(exc.errors), places)
        if prefix:
            by_field = {f"{prefix}-{name}": messages for name, messages in by_field.items()}
        return None, (by_field, rest), None
    except StudyLocked as exc:
        return None, ({}, []), str(exc)
    return saved, ({}, []), None


def _forms(spec: Study) -> dict[str, Any]:
    add_class, _ = add_frame_form(spec)
    forms: dict[str, Any] = {"add": add_class(prefix="add")}
    if spec.control_arm.frame is None:
        placebo_class, _ = placebo_form(spec)
        forms["placebo"] = placebo_class(prefix="placebo")
    allocation_class, _ = allocation_form(spec, build_design.block_size_choices(spec))
    forms["allocation"] = allocation_class(prefix="share")
    if spec.design.scheme == "factorial":
        factors_class, _ = factors_form(spec)
        forms["factors"] = factors_class(prefix="factors")
    return forms


def _page(
    study: LoadedStudy,
    forms: dict[str, Any] | None = None,
    errors: dict[str, Errors] | None = None,
    locked: str | None = None,
    status: int = 200,
) -> Any:
    spec = study.spec
    lock = study_drafts.lock_state(session(), study.slug)
    built = _forms(spec)
    built.update(forms or {})
    page = render_study(
        "studio/frames.html",
        study,
        "studio.frames",
        report=check_study(spec),
        lock=lock,
        frames_locked=lock.is_locked("frames"),
        design_locked=lock.is_locked("design"),
        forms=built,
        errors=errors or {},
        locked=locked,
        action_form=ActionForm(),
        field_name=field_name,
        to_fill=len(placeholder_locations(spec)),
        value_help={tag: describe_value(tag, spec.custom_values) for tag in spec.known_values()},
        weights=spec.weights(),
        ops=OPS,
    )
    return page, status


def _index(spec: Study, arm_id: str) -> int:
    if arm_id not in spec.arm_ids:
        abort(404)
    return spec.arm_ids.index(arm_id)


def _back(study: LoadedStudy, anchor: str = "") -> Any:
    return redirect(url_for("studio.frames", slug=study.slug) + (f"#{anchor}" if anchor else ""))


# ------------------------------------------------------------------ pages


@bp.route("/<slug>/frames")
@require_role("view")
def frames(study: LoadedStudy) -> Any:
    return _page(study)


@bp.route("/<slug>/arms/add", methods=["POST"])
@require_role("edit")
def add_frame(study: LoadedStudy) -> Any:
    spec = study.spec
    form_class, places = add_frame_form(spec)
    form = form_class(prefix="add")
    if not form.validate_on_submit():
        return _page(study, {"add": form}, status=422)

    def build() -> Study:
        added = build_frames.add_frame(
            spec,
            names={lang: form[field_name("name", lang)].data or "" for lang in spec.languages},
            factors={
                name: form[field_name("factor", name)].data for name in spec.design.factors or {}
            },
        )
        new_id = added.arms[-1].id
        titles = {lang: form[field_name("title", lang)].data or "" for lang in spec.languages}
        bodies = {lang: form[field_name("body", lang)].data or "" for lang in spec.languages}
        return _with_texts(added, new_id, titles, bodies, form.values.data or [])

    stored, errors, locked = _store(study, build, places, "add")
    if stored is None:
        return _page(study, {"add": form}, {"add": errors}, locked, status=422)
    saved = stored.spec
    arm = saved.arms[-1]
    flash(f"{arm_name(saved, arm.id)} added.", "info")
    return _back(study, f"arm-{arm.id}")


def _with_texts(
    spec: Study, arm_id: str, titles: dict[str, str], bodies: dict[str, str], values: list[str]
) -> Study:
    """The new arm with the texts typed in the add form (empty ones keep the placeholder)."""
    index = spec.arm_ids.index(arm_id)
    frame = spec.arms[index].frame
    titles = {lang: text.strip() or spec.text(frame.title, lang) for lang, text in titles.items()}
    bodies = {lang: text.strip() or spec.text(frame.body, lang) for lang, text in bodies.items()}
    return editing.edit_frame(spec, index, titles, bodies, values)


@bp.route("/<slug>/arms/placebo", methods=["POST"])
@require_role("edit")
def set_placebo(study: LoadedStudy) -> Any:
    spec = study.spec
    if spec.control_arm.frame is not None:
        return _back(study, f"arm-{spec.control_arm.id}")
    form_class, places = placebo_form(spec)
    form = form_class(prefix="placebo")
    if not form.validate_on_submit():
        return _page(study, {"placebo": form}, status=422)

    def build() -> Study:
        with_frame = build_frames.set_control_message(spec, placebo=True)
        index = with_frame.arm_ids.index(spec.control_arm.id)
        texts = {
            key: {
                lang: form[f"placebo_{field_name(key, lang)}"].data or "" for lang in spec.languages
            }
            for key in ("title", "body")
        }
        return editing.edit_frame(with_frame, index, texts["title"], texts["body"], [])

    stored, errors, locked = _store(study, build, places, "placebo")
    if stored is None:
        return _page(study, {"placebo": form}, {"placebo": errors}, locked, status=422)
    flash("The control now shows your placebo text.", "info")
    return _back(study, f"arm-{spec.control_arm.id}")


@bp.route("/<slug>/arms/<arm_id>/change", methods=["POST"])
@require_role("edit")
def change_arm(study: LoadedStudy, arm_id: str) -> Any:
    """One of the arm's buttons (up, down, duplicate, remove, make control, no message)."""
    spec = study.spec
    _index(spec, arm_id)
    op = request.form.get("op", "")
    if op not in OPS or not ActionForm().validate_on_submit():
        return _back(study, f"arm-{arm_id}")
    edit, done = OPS[op]
    name = arm_name(spec, arm_id)
    try:
        edited = edit(spec, arm_id)
        study_drafts.update_study(session(), study.slug, edited, now=now())
    except StudyError as exc:
        for _loc, message in build_design.plain_errors(exc.errors):
            flash(f"{name} was not changed: {message}", "error")
        return _back(study, f"arm-{arm_id}")
    except StudyLocked as exc:
        flash(str(exc), "error")
        return _back(study)
    if op == "duplicate":
        # Straight to the copy's text: a variant is the same text told from a new angle.
        [copy] = [a for a in edited.arm_ids if a not in spec.arm_ids]
        flash(f"{name} {done}: {arm_name(edited, copy)}.", "info")
        return redirect(url_for("studio.edit_frame", slug=study.slug, arm_id=copy))
    renamed = arm_name(edited, arm_id)
    # Unlabelled frames are named by their place, so moving one renames it.
    flash(f"{name} {done}" + (f"; it is now {renamed}." if renamed != name else "."), "info")
    return _back(study, f"arm-{arm_id}")


@bp.route("/<slug>/arms/<arm_id>/remove", methods=["GET", "POST"])
@require_role("edit")
def remove_arm(study: LoadedStudy, arm_id: str) -> Any:
    """Confirm, then remove a frame arm (its texts go with it); shares and blocks follow."""
    spec = study.spec
    index = _index(spec, arm_id)
    error = None
    if request.method == "POST" and request.form.get("confirm") == arm_id:
        if ActionForm().validate_on_submit():
            try:
                study_drafts.update_study(
                    session(), study.slug, build_frames.remove_arm(spec, arm_id), now=now()
                )
            except StudyError as exc:
                error = "; ".join(m for _l, m in build_design.plain_errors(exc.errors))
            except StudyLocked as exc:
                error = str(exc)
            else:
                flash(f"{arm_name(spec, arm_id)} removed.", "info")
                return _back(study, "arms")
    elif request.method == "POST":
        return _back(study, f"arm-{arm_id}")
    lock = study_drafts.lock_state(session(), study.slug)
    page = render_study(
        "studio/arm_remove.html",
        study,
        "studio.frames",
        arm=spec.arms[index],
        error=error,
        frames_locked=lock.is_locked("frames"),
        action_form=ActionForm(),
        after=_after_removal(spec, arm_id),
    )
    return page, 422 if error else 200


def _after_removal(spec: Study, arm_id: str) -> str | None:
    """What the shares and blocks become without the arm, in words (None: not possible)."""
    try:
        after = build_frames.remove_arm(spec, arm_id)
    except StudyError:
        return None
    return (
        f"{len(after.frame_arms)} frame{'s' if len(after.frame_arms) != 1 else ''} remain; "
        f"blocks of {after.block_size()} participants."
    )


@bp.route("/<slug>/arms/<arm_id>/settings", methods=["GET", "POST"])
@require_role("edit")
def arm_settings(study: LoadedStudy, arm_id: str) -> Any:
    """The arm's label in the data, its value tags and its factor levels."""
    spec = study.spec
    index = _index(spec, arm_id)
    form_class, places = arm_settings_form(spec, index)
    form = form_class()
    errors: Errors = ({}, [])
    locked = None
    if request.method == "POST" and form.validate_on_submit():
        arm = spec.arms[index]

        def build() -> Study:
            return build_frames.edit_arm(
                spec,
                arm_id,
                values=None if arm.control else (form.values.data or []),
                factors={
                    name: form[field_name("factor", name)].data
                    for name in spec.design.factors or {}
                }
                if not arm.control and spec.design.scheme == "factorial"
                else None,
                labels={
                    lang: form[field_name("label", lang)].data or "" for lang in spec.languages
                },
            )

        stored, errors, locked = _store(study, build, places)
        if stored is not None:
            saved = stored.spec
            flash(f"Settings of {arm_name(saved, arm_id)} saved.", "info")
            return _back(study, f"arm-{arm_id}")
    lock = study_drafts.lock_state(session(), study.slug)
    failed = bool(errors[0] or errors[1] or locked or form.errors)
    page = render_study(
        "studio/arm_settings.html",
        study,
        "studio.frames",
        form=form,
        arm=spec.arms[index],
        field_errors=errors[0],
        other_errors=errors[1],
        locked=locked,
        frames_locked=lock.is_locked("frames"),
        field_name=field_name,
        default_name=place_name(spec, arm_id),
    )
    return page, 422 if failed else 200


@bp.route("/<slug>/arms/allocation", methods=["POST"])
@require_role("edit")
def set_allocation(study: LoadedStudy) -> Any:
    """Shares (weights) of the arms and the block size; an empty field keeps its value."""
    spec = study.spec
    form_class, places = allocation_form(spec, build_design.block_size_choices(spec))
    form = form_class(prefix="share")
    if not form.validate_on_submit():
        return _page(study, {"allocation": form}, status=422)
    current = spec.weights()
    weights = {
        arm.id: form[field_name("weight", arm.id)].data or current[arm.id] for arm in spec.arms
    }
    block_size = None
    if "block_size" in form and (form.block_size.data or "").isdigit():
        block_size = int(form.block_size.data)
        if build_design.total_weight(weights) != build_design.total_weight(current):
            # The sizes offered fit the old shares; the nearest size fitting the new ones.
            block_size = build_design.fit_block_size(block_size, build_design.total_weight(weights))
    stored, errors, locked = _store(
        study, lambda: build_frames.set_allocation(spec, weights, block_size), places, "share"
    )
    if stored is None:
        return _page(study, {"allocation": form}, {"allocation": errors}, locked, status=422)
    saved = stored.spec
    flash(f"Shares saved; blocks of {saved.block_size()} participants.", "info")
    return _back(study, "allocation")


@bp.route("/<slug>/arms/factors", methods=["POST"])
@require_role("edit")
def set_factor_levels(study: LoadedStudy) -> Any:
    spec = study.spec
    if spec.design.scheme != "factorial":
        return _back(study)
    form_class, places = factors_form(spec)
    form = form_class(prefix="factors")
    if not form.validate_on_submit():
        return _page(study, {"factors": form}, status=422)
    factors = {
        name: [
            level.strip()
            for level in form[field_name("levels", name)].data.split(",")
            if level.strip()
        ]
        for name in spec.design.factors or {}
    }
    stored, errors, locked = _store(
        study, lambda: build_frames.set_factors(spec, factors), places, "factors"
    )
    if stored is None:
        return _page(study, {"factors": form}, {"factors": errors}, locked, status=422)
    flash("Factor levels saved.", "info")
    return _back(study, "factors")
