"""Studio page of the eligibility screener: the questions it asks and who it screens out.

A flat rule (one condition, or any/all of up to four) is edited here; a rule nested
deeper, quotas and panel codes are edited in the study file (docs/study-format.md).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for

from framelab.domain.builder.build_screening import save_screener, screener_rows
from framelab.services.study_versions import LoadedStudy
from framelab.web.studio.auth import require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.forms import place_errors
from framelab.web.studio.forms_screening import ROWS, conditions_of, screener_form
from framelab.web.studio.views_questions import editor_page, save_spec


@bp.route("/<slug>/screening", methods=["GET", "POST"])
@require_role("edit")
def screening(study: LoadedStudy) -> Any:
    spec = study.spec
    rows = screener_rows(spec, most=ROWS)
    form_class, places = screener_form(spec, rows)
    form = form_class()
    errors: dict[str, list[str]] = {}
    other: list[tuple[str, str]] = []
    locked = None
    if request.method == "POST" and rows is not None and form.validate_on_submit():
        conditions, errors = conditions_of(form)
        if not errors:
            ok, problems, locked = save_spec(
                study,
                lambda: save_screener(spec, form.items.data or [], form.combine.data, conditions),
            )
            if ok:
                flash("Screener saved.", "info")
                return redirect(url_for("studio.screening", slug=study.slug))
            errors, other = place_errors(problems, places)
    status = 422 if request.method == "POST" else 200
    shown = {"form": form, "field_errors": errors, "other_errors": other, "locked": locked}
    return editor_page(
        study, "studio/screening.html", "studio.screening", status, nested=rows is None, **shown
    )
