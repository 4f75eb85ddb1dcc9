"""Studio pages that run a study: lifecycle, dashboard, results, power planner, downloads."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, url_for

from framelab.clock import now
from framelab.domain.monitoring import monitoring_summary
from framelab.domain.study import StudyError
from framelab.services import audit, bundle, study_lifecycle, study_versions
from framelab.services.codebook import codebook_file
from framelab.services.dashboard import dashboard as dashboard_figures
from framelab.services.dashboard import is_interim
from framelab.services.export import EXPORT_FORMATS, write_export
from framelab.services.live import live_results
from framelab.services.power_planner import (
    TYPICAL_DIFFERENCE,
    TYPICAL_SD,
    default_n_per_arm,
    plan_power,
    simulated_power,
)
from framelab.services.study_lifecycle import LifecycleError
from framelab.services.study_versions import LoadedStudy, StudyConflict
from framelab.web.durations import duration_text
from framelab.web.i18n import language_name
from framelab.web.studio.auth import can, current_account, require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms import ActionForm
from framelab.web.studio.forms_plan import PowerForm
from framelab.web.studio.views_launch import close_confirmed, launch_confirmed
from framelab.web.studio.views_review import review_required

# The report is one self-contained file with inline CSS and SVG and no script at all:
# its inline styles are allowed, scripts and every other source stay forbidden.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
bp.add_app_template_filter(duration_text, "duration")
# The plan's monitoring in plain sentences (plan and launch pages, before launch).
bp.add_app_template_global(monitoring_summary, "monitoring_summary")
DOWNLOADS = {
    "csv": ("tidy data (CSV)", "text/csv", "csv"),
    "parquet": ("tidy data (Parquet)", "application/vnd.apache.parquet", "parquet"),
    "sav": ("tidy data with labels (SPSS)", "application/x-spss-sav", "sav"),
    "dta": ("tidy data with labels (Stata)", "application/x-stata-dta", "dta"),
    "long-csv": ("long data, one row per answer (CSV)", "text/csv", "csv"),
    "codebook-json": ("codebook (JSON)", "application/json", "json"),
    "codebook-md": ("codebook (Markdown)", "text/markdown", "md"),
}


@bp.route("/<slug>/status/<action>", methods=["POST"])
@require_role("manage")
def change_status(study: LoadedStudy, action: str) -> Any:
    if action not in study_lifecycle.ACTIONS:
        abort(404)
    if (
        action == "live"
        and study.status in study_lifecycle.ACTIONS["live"][0]
        and not launch_confirmed()
    ):
        # Launching locks the study: only from the launch page, with its box ticked.
        flash("Going live needs confirmation: check what it locks, then tick the box.", "error")
        return redirect(url_for("studio.launch", slug=study.slug))
    if action == "close" and not close_confirmed():
        flash("Closing needs confirmation: tick the box next to Close now.", "error")
        return redirect(url_for("studio.overview", slug=study.slug) + "#close-now")
    if ActionForm().validate_on_submit():
        try:
            changed = study_lifecycle.change_status(
                session(), study.slug, action, now=now(), require_review=review_required()
            )
            flash(f"{study.slug} is now {changed.status}.", "info")
        except study_lifecycle.ReviewRequired as exc:
            flash(str(exc), "error")
            return redirect(url_for("studio.review_page", slug=study.slug))
        except (LifecycleError, StudyConflict) as exc:
            flash(str(exc), "error")
    return redirect(url_for("studio.overview", slug=study.slug))


@bp.route("/<slug>/new-version", methods=["POST"])
@require_role("edit")
def new_version(study: LoadedStudy) -> Any:
    if not ActionForm().validate_on_submit():
        return redirect(url_for("studio.overview", slug=study.slug))
    try:
        created = study_lifecycle.new_version(
            session(), study.slug, account=current_account(), now=now()
        )
    except StudyError as exc:
        flash(str(exc), "error")
        return redirect(url_for("studio.overview", slug=study.slug))
    flash(
        f"New version {created.slug} created as a draft; {study.slug} and its data are "
        "unchanged, and the campaign's link keeps taking people into it until the new "
        "version goes live.",
        "info",
    )
    return redirect(url_for("studio.overview", slug=created.slug))


@bp.route("/<slug>/dashboard")
@require_role("view")
def dashboard(study: LoadedStudy) -> str:
    # the live view's drawing and words (analysis.report: no matplotlib, imported on use)
    from analysis.report.interim_words import decision_sentence, overall_sentence
    from analysis.report.sequence_plot import sequence_svg

    study_lifecycle.close_if_target_reached(session(), study.slug, now=now())
    study = study_versions.get_study(session(), study.slug)
    figures = dashboard_figures(session(), study)
    return render_study(
        "studio/dashboard.html",
        study,
        "studio.dashboard",
        d=figures,
        report_languages=bundle.report_languages(study),
        language_name=language_name,
        live=_live_views(study, figures),
        sequence_svg=sequence_svg,
        decision_sentence=decision_sentence,
        overall_sentence=overall_sentence,
    )


def _live_views(study: LoadedStudy, figures: Any) -> list[tuple[str, Any]]:
    """The anytime-valid live views (results permission only, before the target):
    ("real" | "rehearsal", LiveResults, or the reason none is drawn)."""
    if not can("results") or figures.results_visible:
        return []
    views = []
    for kind, rehearsal, present in (
        ("real", False, figures.total.completed),
        ("rehearsal", True, figures.rehearsal_completed),
    ):
        if not present and rehearsal:
            continue
        try:
            found = live_results(session(), study, rehearsal=rehearsal, now=now())
        except bundle.ReportUnavailable as missing:
            found = missing.sentence()
        views.append((kind, found if found is not None else "No completed participants yet."))
    return views


@bp.route("/<slug>/live.json")
@require_role("results")
def live_json(study: LoadedStudy) -> Any:
    """The live view's interim results as JSON (`?rehearsal=1`: the simulated participants)."""
    rehearsal = request.args.get("rehearsal") == "1"
    if not rehearsal and dashboard_figures(session(), study).results_visible:
        abort(404)  # complete: the final report holds the results
    try:
        found = live_results(session(), study, rehearsal=rehearsal, now=now())
    except bundle.ReportUnavailable as missing:
        found = None
        current_app.logger.warning("live view of %s not built: %s", study.slug, missing.reason)
    results = found.results if found is not None else {"meta": {"interim": True}, "sequential": []}
    kind = "rehearsal-" if rehearsal else ""
    name = f"{study.slug}-{kind}interim-results.json"
    _audit_export(study, name)
    return Response(
        json.dumps(results, indent=2, ensure_ascii=False, default=str),
        mimetype="application/json",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@bp.route("/<slug>/results/interim")
@require_role("results")
def interim_report(study: LoadedStudy) -> Any:
    """The interim report: the anytime-valid section only, headed INTERIM."""
    rehearsal = request.args.get("rehearsal") == "1"
    if not rehearsal and dashboard_figures(session(), study).results_visible:
        return redirect(url_for("studio.results", slug=study.slug))
    try:
        found = live_results(session(), study, rehearsal=rehearsal, now=now())
    except bundle.ReportUnavailable as missing:
        return render_study(
            "studio/report_unavailable.html", study, "studio.dashboard", missing=missing
        )
    if found is None:
        missing = bundle.ReportUnavailable("there are no completed participants yet", None)
        return render_study(
            "studio/report_unavailable.html", study, "studio.dashboard", missing=missing
        )
    return Response(
        found.html, mimetype="text/html", headers={"Content-Security-Policy": REPORT_CSP}
    )


@bp.route("/<slug>/results")
@require_role("results")
def results(study: LoadedStudy) -> Any:
    figures = dashboard_figures(session(), study)
    if not figures.results_visible:
        return render_study("studio/results_hidden.html", study, "studio.dashboard", d=figures)
    return _report(study, rehearsal=False)


@bp.route("/<slug>/results/rehearsal")
@require_role("results")
def rehearsal_report(study: LoadedStudy) -> Any:
    """The plan run on the simulated participants alone, stamped REHEARSAL (no target gate)."""
    return _report(study, rehearsal=True)


def _report(study: LoadedStudy, *, rehearsal: bool) -> Any:
    """The report in the language asked for (?lang=), or a staff page saying what is missing."""
    lang = request.args.get("lang")
    if lang is not None and lang not in bundle.report_languages(study):
        abort(404)
    try:
        html = bundle.report_html(session(), study, lang=lang, rehearsal=rehearsal, now=now())
    except bundle.ReportUnavailable as missing:
        current_app.logger.warning("report of %s not built: %s", study.slug, missing.reason)
        return render_study(
            "studio/report_unavailable.html", study, "studio.dashboard", missing=missing
        )
    return Response(html, mimetype="text/html", headers={"Content-Security-Policy": REPORT_CSP})


@bp.route("/<slug>/power")
@require_role("view")
def power(study: LoadedStudy) -> str:
    spec = study.spec
    form = PowerForm(request.args)
    if not request.args:
        form = PowerForm()
        form.n_per_arm.data = default_n_per_arm(spec)
        form.alpha.data = spec.analysis.alpha
        form.correction.data = (
            spec.analysis.correction if spec.analysis.correction != "bh" else "holm"
        )
    plan = simulated = None
    if form.validate():
        effect = float(form.effect.data)
        if form.difference.data and form.outcome_sd.data:
            # Points and SD, when both are given, say the same thing as d in campaign units.
            effect = round(float(form.difference.data) / float(form.outcome_sd.data), 3)
        plan = plan_power(
            spec,
            effect_d=effect,
            per_arm=form.n_per_arm.data or default_n_per_arm(spec),
            alpha=float(form.alpha.data),
            correction=form.correction.data,
            attrition=float(form.attrition.data) / 100,
        )
        simulated = simulated_power(
            spec,
            effect_d=effect,
            per_arm=form.n_per_arm.data or default_n_per_arm(spec),
            attrition=float(form.attrition.data) / 100,
            covariate_r2=float(form.r2.data or 0),
        )
    return render_study(
        "studio/power.html",
        study,
        "studio.power",
        form=form,
        plan=plan,
        simulated=simulated,
        typical_sd=TYPICAL_SD,
        typical_difference=TYPICAL_DIFFERENCE,
    )


def _audit_export(study: LoadedStudy, name: str) -> None:
    """Record who downloaded which file (the audit trail's "exported")."""
    audit.record_export(session(), study.id, name, now=now(), spec_hash=study.spec_hash)


def _export_bytes(study: LoadedStudy, fmt: str, extension: str, **options: bool) -> bytes:
    """The study's export in `fmt` (`options` as `write_export` takes them), as bytes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{study.slug}.{extension}"
        write_export(session(), study.slug, fmt, path, **options)
        return path.read_bytes()


def _attachment(data: bytes, mimetype: str, name: str) -> Response:
    """`data` sent as a download named `name`."""
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/<slug>/downloads")
@require_role("view")
def downloads(study: LoadedStudy) -> str:
    figures = dashboard_figures(session(), study)
    return render_study(
        "studio/downloads.html",
        study,
        "studio.downloads",
        downloads=DOWNLOADS,
        audit_formats=AUDIT_FORMATS,
        d=figures,
        action_form=ActionForm(),
    )


# Data files an owner may ask for with exact times (an audit export).
AUDIT_FORMATS = ("csv", "parquet", "sav", "dta", "long-csv")
CONFIRM_EXACT = "confirm_exact_times"


@bp.route("/<slug>/audit-export", methods=["POST"])
@require_role("manage")
def audit_export(study: LoadedStudy) -> Any:
    """An audit export: exact times, for the owner only, confirmed, in the audit trail."""
    fmt = request.form.get("format", "")
    if fmt not in AUDIT_FORMATS:
        abort(400)
    if not ActionForm().validate_on_submit() or request.form.get(CONFIRM_EXACT) != "yes":
        flash(
            "An export with exact times needs its box ticked: exact times can tie a row to a "
            "panel's or an SMS service's records.",
            "error",
        )
        return redirect(url_for("studio.downloads", slug=study.slug) + "#audit-export")
    _label, mimetype, extension = DOWNLOADS[fmt]
    data = _export_bytes(study, fmt, extension, exact_times=True)
    long = "-long" if fmt == "long-csv" else ""
    interim = "-interim" if is_interim(session(), study) else ""
    name = f"{study.slug}{long}-AUDIT-exact-times{interim}.{extension}"
    _audit_export(study, f"{name} (exact times, audit export)")
    return _attachment(data, mimetype, name)


@bp.route("/<slug>/download/<fmt>")
@require_role("results")
def download(study: LoadedStudy, fmt: str) -> Response:
    if fmt not in DOWNLOADS or fmt not in EXPORT_FORMATS:
        abort(404)
    _label, mimetype, extension = DOWNLOADS[fmt]
    include_pilot = request.args.get("pilot") == "1"
    data = _export_bytes(study, fmt, extension, include_pilot=include_pilot)
    suffix = "-with-pilot" if include_pilot else ""
    # Before the locked target the name says so, as the file's metadata does (rule 3).
    interim = "-interim" if is_interim(session(), study) else ""
    name = f"{study.slug}{suffix}{'-long' if fmt == 'long-csv' else ''}{interim}.{extension}"
    if fmt.startswith("codebook"):
        name = codebook_file(study.slug, extension)  # the name the .sav/.dta labels give
    _audit_export(study, name)
    return _attachment(data, mimetype, name)


@bp.route("/<slug>/bundle.zip")
@require_role("results")
def download_bundle(study: LoadedStudy) -> Response:
    name = bundle.bundle_name(session(), study)
    data = bundle.build_bundle(session(), study)
    _audit_export(study, name)
    return _attachment(data, "application/zip", name)
