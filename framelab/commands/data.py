"""framelab CLI commands (data): init-db, load-study, export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from framelab.config import database_url_from_env


def _url(database_url: str | None) -> str:
    return database_url or database_url_from_env()


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


database_option = click.option(
    "--database-url",
    default=None,
    help="SQLAlchemy URL (default: FRAMELAB_DATABASE_URL, DATABASE_URL, or instance/framelab.sqlite).",
)


@click.command("init-db")
@database_option
def init_db(database_url: str | None) -> None:
    """Create or upgrade the database schema (Alembic upgrade head); safe to run again."""
    from framelab.db.migrate import upgrade

    url = _url(database_url)
    revision = upgrade(url)
    click.echo(f"database {_safe_url(url)} at revision {revision}")


@click.command("load-study")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--status",
    type=click.Choice(["draft", "pilot", "live"]),
    default="draft",
    show_default=True,
    help="Status of the study after loading.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Publish a changed file as a new version of an existing study.",
)
@database_option
def load_study(file: Path, status: str, replace: bool, database_url: str | None) -> None:
    """Validate a study file and publish it to the database."""
    import sqlalchemy as sa

    from framelab.db.models import Study
    from framelab.db.session import make_engine, make_session_factory, reading, writing
    from framelab.domain.study import StudyError, load_study_file
    from framelab.services.study_versions import StudyConflict, publish_study

    try:
        spec = load_study_file(file)
    except StudyError as exc:
        for location, message in exc.errors:
            click.echo(f"{location}: {message}" if location else message, err=True)
        raise click.ClickException(
            f"{file}: {len(exc.errors)} problem(s); the study was not loaded"
        ) from None
    engine = make_engine(_url(database_url))
    try:
        with make_session_factory(engine)() as session:
            with reading(session):
                before = session.execute(
                    sa.select(Study.status, Study.current_version).where(Study.slug == spec.slug)
                ).one_or_none()
            try:
                with writing(session):  # the study and its audit event, or neither
                    version = publish_study(session, spec, status=status, replace=replace)
                    if before is None or tuple(before) != (status, version.version):
                        _audit_load(session, version, file, before, status)
            except StudyConflict as exc:
                raise click.ClickException(str(exc)) from None
            click.echo(
                f"{spec.slug}: version {version.version}, status {status}, "
                f"spec_hash {version.spec_hash}"
            )
            if status == "live" and (before is None or before[0] != "live"):
                click.echo(
                    "note: launched from the command line, which does not ask for the studio's "
                    "reviewer sign-off; the audit trail records it as the operator's launch"
                )
    finally:
        engine.dispose()


def _audit_load(session: Any, version: Any, file: Path, before: Any, status: str) -> None:
    """The audit trail's record of a study loaded by the server operator (no commit)."""
    from framelab import clock
    from framelab.services import audit

    if before is None:
        action = "launched" if status == "live" else "created"
    elif before[0] != status:
        action = "launched" if status == "live" else "status"
    else:
        action = "edited"
    audit.record(
        session,
        version.study_id,
        action,
        now=clock.now(),
        detail=f"loaded from {file.name} with framelab load-study (status {status})",
        spec_hash=version.spec_hash,
        actor=audit.COMMAND_LINE,
    )


EXPORT_FORMATS = ("csv", "parquet", "sav", "dta", "long-csv", "codebook-json", "codebook-md")


@click.command("export")
@click.argument("study")
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="csv", show_default=True
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write.",
)
@click.option("--include-pilot", is_flag=True, help="Include pilot participants.")
@click.option(
    "--rehearsal",
    is_flag=True,
    help="Export only the simulated participants (framelab simulate), marked in the "
    "rehearsal column; without it, simulated participants are never exported.",
)
@click.option(
    "--exact-times",
    is_flag=True,
    help="An audit export: exact times instead of times rounded down to the hour (or the "
    "study's privacy.time_precision). Exact times can tie a row to a panel's or an SMS "
    "service's records of when someone took part; the audit trail records this export.",
)
@database_option
def export(
    study: str,
    fmt: str,
    out: Path,
    include_pilot: bool,
    rehearsal: bool,
    exact_times: bool,
    database_url: str | None,
) -> None:
    """Export a study's data (one row per participant, long format) or its codebook.

    Every data export is recorded in the study's audit trail, with the file's path and
    SHA-256 (so that `framelab erase-study` can delete it later).
    """
    from framelab import clock
    from framelab.db.session import make_engine, make_session_factory
    from framelab.services import audit
    from framelab.services.dashboard import is_interim
    from framelab.services.erasure import export_record
    from framelab.services.export import write_export
    from framelab.services.study_versions import StudyNotFound, get_study

    if exact_times:
        click.echo(
            "warning: --exact-times writes exact times, which can tie a row to a panel's or "
            "an SMS service's records of when someone took part. Keep the file on an "
            "encrypted disk and delete it after the audit; the study's audit trail records "
            "this export.",
            err=True,
        )
    engine = make_engine(_url(database_url))
    try:
        with make_session_factory(engine)() as session:
            try:
                rows = write_export(
                    session,
                    study,
                    fmt,
                    out,
                    include_pilot=include_pilot,
                    rehearsal=rehearsal,
                    exact_times=exact_times,
                )
                loaded = get_study(session, study)
            except StudyNotFound as exc:
                raise click.ClickException(str(exc)) from None
            interim = not rehearsal and is_interim(session, loaded)
            kind = fmt + (", exact times (audit export)" if exact_times else "")
            audit.record_export(
                session,
                loaded.id,
                export_record(out, kind),
                now=clock.now(),
                spec_hash=loaded.spec_hash,
                actor=audit.COMMAND_LINE,
            )
    finally:
        engine.dispose()
    what = "codebook" if fmt.startswith("codebook") else f"{rows} rows"
    if rehearsal and not fmt.startswith("codebook"):
        what += " of simulated participants (rehearsal)"
    if exact_times and not fmt.startswith("codebook"):
        what += " with exact times (audit export, recorded in the audit trail)"
    click.echo(f"{study}: wrote {what} to {out}")
    if interim:  # DECISIONS rule 3: the metadata says so; the name is the operator's
        click.echo(
            f"INTERIM: {study} has not reached its planned sample; the file's metadata says so "
            "and only the anytime-valid intervals may be drawn from it (name the file so too, "
            "e.g. with -interim before the extension).",
            err=True,
        )


COMMANDS: list[click.Command] = [init_db, load_study, export]
