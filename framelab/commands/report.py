"""framelab CLI commands (report): build a study's report straight from the database."""

from __future__ import annotations

from pathlib import Path

import click

from framelab import clock
from framelab.config import database_url_from_env


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
    "--rehearsal",
    is_flag=True,
    help="Analyse only the simulated participants (framelab simulate); the report is "
    "stamped REHEARSAL. Without it, simulated participants are never analysed.",
)
@click.option(
    "--lang",
    "lang",
    default=None,
    help="Language of the campaigner summary, headings and plots (default: the study's "
    "default language); labels come from the study in that language.",
)
@click.option(
    "--database-url",
    default=None,
    help="SQLAlchemy URL (default: FRAMELAB_DATABASE_URL, DATABASE_URL, or instance/framelab.sqlite).",
)
def report(
    study: str,
    out: Path,
    include_pilot: bool,
    rehearsal: bool,
    lang: str | None,
    database_url: str | None,
) -> None:
    """Export STUDY, run its analysis plan and write the HTML report; print its path."""
    import analysis
    from analysis.report import write_report
    from analysis.report.i18n import LANGUAGES
    from framelab.db.session import make_engine, make_session_factory
    from framelab.services.reporting import report_inputs
    from framelab.services.study_versions import StudyNotFound

    if lang is not None and lang not in LANGUAGES:
        raise click.BadParameter(
            f"{lang!r} is not a report language (available: {', '.join(LANGUAGES)})",
            param_hint="--lang",
        )
    engine = make_engine(database_url or database_url_from_env())
    try:
        with make_session_factory(engine)() as session:
            try:
                inputs = report_inputs(
                    session,
                    study,
                    include_pilot=include_pilot,
                    rehearsal=rehearsal,
                    text=False,  # the analysis reads no free text: no text key needed
                    now=clock.now(),
                )
            except StudyNotFound as exc:
                raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    if inputs.data.empty:
        if rehearsal:
            raise click.ClickException(
                f"{study}: no simulated participants to analyse (run `framelab simulate` "
                "first; bots sent while the study was in pilot are pilot rows too: add "
                "--include-pilot)"
            )
        raise click.ClickException(f"{study}: no participants to analyse yet")
    try:
        results = analysis.run(inputs.data, inputs.plan, provenance=inputs.provenance)
    except ValueError as exc:
        raise click.ClickException(
            f"{study}: the analysis plan does not fit the data: {exc}"
        ) from None
    path = write_report(results, out, data=inputs.data_file(), title=inputs.title, lang=lang)
    click.echo(str(path))


COMMANDS: list[click.Command] = [report]
