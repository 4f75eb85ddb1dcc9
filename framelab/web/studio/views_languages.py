"""Studio language pages: add or remove a language, translate every text side by side with
the default language, the interface strings and register, and the translator's file.

Adding or removing a language is an edit of the study (owners and editors); translating
is open to translators too, who may change texts and nothing else.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from framelab.clock import now
from framelab.domain.builder import build_languages
from framelab.domain.builder.label_presets import TRANSLATION_NOTE, prefilled_labels
from framelab.domain.builder.translator_files import read_translator_file, texts_csv, texts_po
from framelab.domain.names import text_name
from framelab.domain.study import Study, StudyError
from framelab.domain.translation import (
    CATALOG_REGISTERS,
    SHIPPED_LANGUAGES,
    interface_msgids,
    text_units,
    translation_gaps,
    unchanged_texts,
)
from framelab.services import study_drafts
from framelab.services.study_drafts import StudyLocked
from framelab.services.study_versions import LOCK_PARTS, LoadedStudy
from framelab.web.i18n import language_name, text_direction
from framelab.web.studio.auth import can, require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms import ActionForm

ACTIVE = "studio.languages"
MAX_UPLOAD = 2 * 1024 * 1024


def _save(study: LoadedStudy, spec: Study) -> str | None:
    """Save the edited spec; the reason it was refused, or None."""
    try:
        study_drafts.update_study(session(), study.slug, spec, now=now())
    except StudyLocked as exc:
        return str(exc)
    return None


def _errors(exc: StudyError) -> list[tuple[str, str]]:
    return list(exc.errors)


def _locked_sections(study: LoadedStudy) -> dict[str, str]:
    """Top-level study sections whose texts are locked now -> the lock's name."""
    state = study_drafts.lock_state(session(), study.slug)
    return {
        section: part
        for part, sections in LOCK_PARTS.items()
        if state.is_locked(part)
        for section in sections
    }


def _catalog_text(lang: str, msgid: str) -> str:
    """What framelab's own catalog shows for `msgid` in `lang` ('' when it ships none)."""
    from babel import support

    from framelab.web.i18n import TRANSLATIONS

    if lang.split("-")[0] not in SHIPPED_LANGUAGES:
        return ""
    catalog = support.Translations.load(str(TRANSLATIONS), [lang.split("-")[0]])
    return catalog.gettext(msgid)


@bp.route("/<slug>/languages", methods=["GET"])
@require_role("translate")
def languages(study: LoadedStudy) -> str:
    spec = study.spec
    gaps = translation_gaps(spec)
    per_language = {lang: [g for g in gaps if g.lang == lang] for lang in spec.languages}
    return render_study(
        "studio/languages.html",
        study,
        ACTIVE,
        form=ActionForm(),
        per_language=per_language,
        gaps=gaps,
        language_name=language_name,
        shipped=SHIPPED_LANGUAGES,
        can_edit=can("edit"),
    )


@bp.route("/<slug>/languages/add", methods=["POST"])
@require_role("edit")
def add_language(study: LoadedStudy) -> Response:
    lang = request.form.get("lang", "").strip()
    if ActionForm().validate_on_submit() and lang:
        try:
            refused = _save(study, build_languages.add_language(study.spec, lang))
        except StudyError as exc:
            refused = "; ".join(m for _loc, m in _errors(exc))
        if refused:
            flash(refused, "error")
        else:
            flash(
                f"Added {language_name(lang)} ({lang}): every text is a copy of the default "
                f"language until it is translated.",
                "info",
            )
            return redirect(url_for("studio.translate", slug=study.slug, lang=lang))
    return redirect(url_for("studio.languages", slug=study.slug))


@bp.route("/<slug>/languages/<lang>/remove", methods=["POST"])
@require_role("edit")
def remove_language(study: LoadedStudy, lang: str) -> Response:
    # Destructive: the campaigner types the language code to confirm.
    if ActionForm().validate_on_submit() and request.form.get("confirm", "").strip() == lang:
        try:
            refused = _save(study, build_languages.remove_language(study.spec, lang))
        except StudyError as exc:
            refused = "; ".join(m for _loc, m in _errors(exc))
        flash(refused or f"Removed {lang} and all its texts.", "error" if refused else "info")
    elif request.method == "POST" and request.form:
        flash(f"Type {lang} to confirm removing it.", "error")
    return redirect(url_for("studio.languages", slug=study.slug))


@bp.route("/<slug>/translate/<lang>", methods=["GET", "POST"])
@require_role("translate")
def translate(study: LoadedStudy, lang: str) -> Any:
    spec = study.spec
    if lang not in spec.languages:
        abort(404)
    problems: list[tuple[str, str]] = []
    locked = None
    submitted: dict[str, str] = {}
    if request.method == "POST" and ActionForm().validate_on_submit():
        keys = [unit.key for unit in text_units(spec)]
        submitted = {k: request.form[f"t:{k}"] for k in keys if f"t:{k}" in request.form}
        keep = [k for k in keys if request.form.get(f"keep:{k}")]
        try:
            edited = build_languages.save_translation(spec, lang, submitted, keep)
            locked = _save(study, edited)
        except StudyError as exc:
            problems = _errors(exc)
        if not problems and not locked:
            flash(f"Saved the {language_name(lang)} texts.", "info")
            return redirect(url_for("studio.translate", slug=study.slug, lang=lang))
    todo = set(spec.translation.untranslated.get(lang, ())) if spec.translation else set()
    unchanged = set(unchanged_texts(spec, lang))
    presets = prefilled_labels(spec, lang)
    locked_sections = _locked_sections(study)
    rows = [
        {
            "key": unit.key,
            "what": text_name(spec, unit.key),
            "preset": presets.get(unit.key) if unit.key not in todo else None,
            "default": unit.text(spec, spec.default_language) or "",
            "text": submitted.get(unit.key, unit.text(spec, lang) or ""),
            "untranslated": unit.key in todo,
            "unchanged": unit.key in unchanged,
            "long": "\n" in (unit.text(spec, spec.default_language) or "")
            or len(unit.text(spec, spec.default_language) or "") > 80,
            "locked": unit.key.split(".")[0] in locked_sections,
        }
        for unit in text_units(spec)
    ]
    return render_study(
        "studio/translate.html",
        study,
        ACTIVE,
        form=ActionForm(),
        lang=lang,
        rows=rows,
        problems=problems,
        locked=locked,
        missing=sum(r["untranslated"] for r in rows),
        any_locked=any(r["locked"] for r in rows),
        unchanged=sum(r["unchanged"] for r in rows),
        from_presets=sum(r["preset"] is not None for r in rows),
        presets_used=list({r["preset"].key: r["preset"] for r in rows if r["preset"]}.values()),
        translation_note=TRANSLATION_NOTE,
        language_name=language_name,
        direction=text_direction(lang),
        default_direction=text_direction(spec.default_language),
        is_default=lang == spec.default_language,
    )


@bp.route("/<slug>/translate/<lang>/interface", methods=["GET", "POST"])
@require_role("translate")
def translate_interface(study: LoadedStudy, lang: str) -> Any:
    spec = study.spec
    if lang not in spec.languages:
        abort(404)
    problems: list[tuple[str, str]] = []
    locked = None
    if request.method == "POST" and ActionForm().validate_on_submit():
        strings = {m: request.form.get(f"s:{i}", "") for i, m in enumerate(interface_msgids())}
        register = request.form.get("register") or None
        try:
            locked = _save(study, build_languages.save_interface(spec, lang, strings, register))
        except StudyError as exc:
            problems = _errors(exc)
        if not problems and not locked:
            flash(f"Saved the {language_name(lang)} interface strings.", "info")
            return redirect(url_for("studio.translate_interface", slug=study.slug, lang=lang))
    own = spec.translation.interface.get(lang, {}) if spec.translation else {}
    shipped = lang.split("-")[0] in SHIPPED_LANGUAGES
    rows = [
        {
            "index": i,
            "msgid": m,
            "catalog": _catalog_text(lang, m) if shipped else "",
            "own": own.get(m, ""),
        }
        for i, m in enumerate(interface_msgids())
    ]
    registers = CATALOG_REGISTERS.get(lang.split("-")[0], ())
    chosen = spec.translation.registers.get(lang) if spec.translation else None
    return render_study(
        "studio/translate_interface.html",
        study,
        ACTIVE,
        form=ActionForm(),
        lang=lang,
        rows=rows,
        shipped=shipped,
        missing=0 if shipped else sum(not r["own"] for r in rows),
        registers=registers,
        register=chosen or (registers[0] if registers else None),
        problems=problems,
        locked=locked,
        language_name=language_name,
        direction=text_direction(lang),
    )


@bp.route("/<slug>/translations.<fmt>", methods=["GET"])
@require_role("translate")
def translations_file(study: LoadedStudy, fmt: str) -> Response:
    if fmt != "csv":
        abort(404)
    response = Response(texts_csv(study.spec), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{study.slug}-translations.csv"'
    )
    return response


@bp.route("/<slug>/translations/<lang>.po", methods=["GET"])
@require_role("translate")
def translations_po(study: LoadedStudy, lang: str) -> Response:
    try:
        data = texts_po(study.spec, lang)
    except LookupError:
        abort(404)
    response = Response(data, mimetype="text/x-gettext-translation")
    response.headers["Content-Disposition"] = f'attachment; filename="{study.slug}-{lang}.po"'
    return response


@bp.route("/<slug>/translations/import", methods=["POST"])
@require_role("translate")
def import_translations(study: LoadedStudy) -> Any:
    spec = study.spec
    upload = request.files.get("file")
    report: dict[str, Any] = {"problems": [], "locked": None}
    if not ActionForm().validate_on_submit() or upload is None or not upload.filename:
        flash("Choose a CSV or PO file to import.", "error")
        return redirect(url_for("studio.languages", slug=study.slug))
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        flash("The file is larger than 2 MB; is it the right file?", "error")
        return redirect(url_for("studio.languages", slug=study.slug))
    try:
        found = read_translator_file(spec, data, upload.filename, request.form.get("lang") or None)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("studio.languages", slug=study.slug))
    edited = spec
    applied = 0
    for lang in sorted(set(found.texts) | set(found.keep)):
        texts, keep = found.texts.get(lang, {}), found.keep.get(lang, set())
        try:
            edited = build_languages.save_translation(edited, lang, texts, keep)
            applied += len(texts) + len(keep)
        except StudyError as exc:
            found.rejected += [(0, f"{lang}: {loc}: {msg}") for loc, msg in exc.errors]
    for lang, strings in found.interface.items():
        register = edited.translation.registers.get(lang) if edited.translation else None
        try:
            edited = build_languages.save_interface(edited, lang, strings, register)
            applied += len(strings)
        except StudyError as exc:
            found.rejected += [(0, f"{lang}: {loc}: {msg}") for loc, msg in exc.errors]
    if applied:
        report["locked"] = _save(study, edited)
    return render_study(
        "studio/translations_import.html",
        study,
        ACTIVE,
        filename=upload.filename,
        applied=0 if report["locked"] else applied,
        found=found,
        locked=report["locked"],
    ), (200 if not found.rejected and not report["locked"] else 422)
