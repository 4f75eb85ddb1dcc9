"""framelab CLI commands (report): build a study's report straight from the database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from framelab.config import database_url_from_env


def report_provenance(loaded: Any, *, include_pilot: bool, exported_at: datetime) -> dict[str, Any]:
    """Where the analysed data came from, recorded in the results' meta.provenance."""
    spec = loaded.spec
    return {
        "study": loaded.slug,
        "study_version": loaded.version,
        "study_status": loaded.status,
        "spec_hash": loaded.spec_hash,
        "design_seed": spec.design.seed,
        "exported_at": exported_at.isoformat(timespec="seconds"),
        "include_pilot": include_pilot,
    }


def plan_for_report(plan: dict[str, Any], *, include_pilot: bool) -> dict[str, Any]:
    """The study's analysis plan; with --include-pilot its pilot exclusion is lifted."""
    if not include_pilot:
        return plan
    exclude = {k: v for k, v in dict(plan.get("exclude") or {}).items() if k != "pilot"}
    return {**plan, "exclude": exclude}


@click.command("report")
@click.argument("study")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write index.html, results.json and effects.csv into.",
)
@click.option(
    "--include-pilot",
    is_flag=True,
    help="Analyse pilot participants too (lifts the plan's pilot exclusion; recorded in the report).",
)
@click.option(
    "--database-url",
    default=None,
    help="SQLAlchemy URL (default: FRAMELAB_DATABASE_URL, DATABASE_URL, or instance/framelab.sqlite).",
)
def report(study: str, out: Path, include_pilot: bool, database_url: str | None) -> None:
    """Export STUDY, run its analysis plan and write the HTML report; print its path."""
    import analysis
    from analysis.report import write_report
    from framelab.db.session import make_engine, make_session_factory
    from framelab.services.export import analysis_plan, export_tidy
    from framelab.services.studies import StudyNotFound, get_study

    engine = make_engine(database_url or database_url_from_env())
    try:
        with make_session_factory(engine)() as session:
            try:
                loaded = get_study(session, study)
            except StudyNotFound as exc:
                raise click.ClickException(str(exc)) from None
            data = export_tidy(session, study, include_pilot=include_pilot)
            exported_at = datetime.now(UTC)
    finally:
        engine.dispose()
    if data.empty:
        raise click.ClickException(f"{study}: no participants to analyse yet")
    plan = plan_for_report(analysis_plan(loaded.spec), include_pilot=include_pilot)
    provenance = report_provenance(loaded, include_pilot=include_pilot, exported_at=exported_at)
    try:
        results = analysis.run(data, plan, provenance=provenance)
    except ValueError as exc:
        raise click.ClickException(
            f"{study}: the analysis plan does not fit the data: {exc}"
        ) from None
    spec = loaded.spec
    title = spec.text(spec.title, spec.default_language)
    path = write_report(results, out, data=data, title=title)
    click.echo(str(path))


COMMANDS: list[click.Command] = [report]
