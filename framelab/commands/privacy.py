"""framelab CLI commands (privacy and audit): erase-study, purge-expired, replay-assignments
(also available as `framelab audit`)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from framelab import clock
from framelab.commands.data import _url, database_option


def _session_factory(database_url: str | None):
    from framelab.db.session import make_engine, make_session_factory

    engine = make_engine(_url(database_url))
    return engine, make_session_factory(engine)


def _parse_now(value: str | None) -> datetime:
    """--now (ISO 8601, for a fixed clock) or the current time, in UTC."""
    if not value:
        return clock.now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"expected an ISO 8601 time such as 2027-01-31T00:00:00+00:00, got {value!r}",
            param_hint="--now",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _delete_recorded_files(session, study_ids: list[int]) -> None:
    from framelab.services import audit
    from framelab.services.erasure import delete_recorded_file, downloads, recorded_export_files

    for record in recorded_export_files(session, study_ids):
        click.echo(f"  export file {record.path}: {delete_recorded_file(record)}")
    elsewhere = [e for e in downloads(session, study_ids) if e.actor != audit.COMMAND_LINE.name]
    if elsewhere:
        click.echo(
            "  downloaded from the studio (delete these copies too; framelab cannot reach them):"
        )
        for entry in elsewhere:
            click.echo(f"    {entry.at:%Y-%m-%d %H:%M} UTC {entry.actor}: {entry.detail}")


def _echo_tombstone(tombstone) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(tombstone.counts.items()))
    click.echo(f"{tombstone.slug}: erased ({counts})")


@click.command("erase-study")
@click.argument("study")
@click.option(
    "--confirm",
    metavar="SLUG",
    default=None,
    help="The study's slug again: erasing cannot be undone.",
)
@database_option
def erase_study(study: str, confirm: str | None, database_url: str | None) -> None:
    """Erase every participant's data of STUDY (and of its later versions), keeping a tombstone.

    Removes answers, page visits, participants (codes, panel pseudonyms, timestamps),
    the assignment log and its counters, and the export files `framelab export` wrote on
    this machine. The study row, its versions (the study file) and its audit trail stay,
    with an "erased" event that gives the counts removed.
    """
    from framelab.services import audit
    from framelab.services.erasure import (
        ErasureError,
        campaign_studies,
        check_erasable,
        erase_studies,
    )
    from framelab.services.study_versions import StudyNotFound

    engine, factory = _session_factory(database_url)
    try:
        with factory() as session:
            try:
                studies = check_erasable(session, study, confirm)
            except StudyNotFound as exc:
                raise click.ClickException(str(exc)) from None
            except ErasureError as exc:
                names = ", ".join(s.slug for s in campaign_studies(session, study))
                raise click.ClickException(f"{exc}; it would erase: {names}") from None
            ids = [s.id for s in studies]
            _delete_recorded_files(session, ids)
            with audit.acting_as(audit.COMMAND_LINE):
                tombstones = erase_studies(session, studies, now=clock.now(), reason="erase-study")
            for tombstone in tombstones:
                _echo_tombstone(tombstone)
    finally:
        engine.dispose()


@click.command("purge-expired")
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="TIME",
    help="Treat this ISO 8601 time as now (default: the current time).",
)
@click.option("--dry-run", is_flag=True, help="List what would be erased; erase nothing.")
@database_option
def purge_expired(now_text: str | None, dry_run: bool, database_url: str | None) -> None:
    """Erase the participant data of every study whose retention period has run out.

    A study's period is its `privacy.retention_days`, counted from when it closed. Run it
    daily (cron or a systemd timer, docs/privacy.md); studies without a period are kept.
    """
    from framelab.services import audit
    from framelab.services.erasure import erase_studies, expired_studies

    now = _parse_now(now_text)
    engine, factory = _session_factory(database_url)
    try:
        with factory() as session:
            expired = expired_studies(session, now=now)
            if not expired:
                click.echo("purge-expired: no study's retention period has run out")
                return
            for study, days in expired:
                if dry_run:
                    click.echo(f"{study.slug}: retention of {days} days has run out (dry run)")
                    continue
                _delete_recorded_files(session, [study.id])
                with audit.acting_as(audit.COMMAND_LINE):
                    (tombstone,) = erase_studies(
                        session, [study], now=now, reason=f"purge-expired (retention {days} days)"
                    )
                _echo_tombstone(tombstone)
    finally:
        engine.dispose()


@click.command("replay-assignments")
@click.argument("study")
@database_option
def replay_assignments(study: str, database_url: str | None) -> None:
    """Replay STUDY's assignment log from its seed and print every divergence.

    Exits with status 1 when the log and the seed disagree (the database was changed
    outside framelab), 0 when every assignment replays.
    """
    from framelab.services.assignment_audit import replay_assignments as replay
    from framelab.services.study_versions import StudyNotFound, get_study

    engine, factory = _session_factory(database_url)
    try:
        with factory() as session:
            try:
                report = replay(session, get_study(session, study))
            except StudyNotFound as exc:
                raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    strata = ", ".join(f"{name} {n}" for name, n in report.strata.items()) or "none"
    if report.ok:
        click.echo(
            f"{study}: {report.assignments} assignments replay from seed {report.seed} "
            f"(strata: {strata})"
        )
        return
    click.echo(
        f"{study}: {len(report.divergences)} divergence(s) in {report.assignments} assignments "
        f"replayed from seed {report.seed}:"
    )
    for line in report.divergences:
        click.echo(f"  {line}")
    raise SystemExit(1)


audit = click.Command(
    "audit",
    callback=replay_assignments.callback,
    params=replay_assignments.params,
    help="The same as replay-assignments: replay STUDY's assignment log from its seed.\n\n"
    "Exits with status 1 when the log and the seed disagree, 0 when every assignment replays.",
    short_help="Replay STUDY's assignment log from its seed (= replay-assignments).",
)

COMMANDS: list[click.Command] = [erase_study, purge_expired, replay_assignments, audit]
