"""framelab CLI commands (survey): `simulate` bots through a study, `serve` the app."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import click

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000


@click.command("simulate")
@click.argument("study")
@click.option(
    "--n", "n", type=click.IntRange(min=1), default=100, show_default=True, help="Number of bots."
)
@click.option(
    "--effect",
    "effects",
    multiple=True,
    metavar="ARM=DELTA",
    help="Planted effect on the outcomes, in their units (repeatable).",
)
@click.option(
    "--moderator",
    "moderators",
    multiple=True,
    metavar="ITEM:VALUE:ARM=DELTA",
    help="Extra effect in ARM for bots whose pre answer to ITEM is VALUE (repeatable).",
)
@click.option(
    "--recognition",
    "recognition",
    multiple=True,
    metavar="ARM=P",
    help="Chance that a bot in ARM picks the manipulation-check answer its frame was meant "
    "to evoke (repeatable; other arms 0.6).",
)
@click.option(
    "--wave-effect",
    "wave_effects",
    multiple=True,
    metavar="WAVE:ARM=DELTA",
    help="Planted effect at a follow-up wave (repeatable; default: the --effect of the arm).",
)
@click.option(
    "--return",
    "returns",
    multiple=True,
    metavar="ARM=P",
    help="Chance that a bot in ARM comes back for each follow-up wave (repeatable; other arms 0.7).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bots' answers.")
@click.option(
    "--url",
    default=None,
    help="Base URL of a running server (default: in-process, through the app's WSGI client).",
)
@click.option(
    "--dropout",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Share of bots who leave midway.",
)
@click.option(
    "--attention-fail",
    type=click.FloatRange(0, 1),
    default=0.03,
    show_default=True,
    help="Share of bots who fail the attention check.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 32),
    default=None,
    help="Parallel bot processes (in-process) or threads (--url); default: one per CPU, at most 4.",
)
def simulate(
    study: str,
    n: int,
    effects: tuple[str, ...],
    moderators: tuple[str, ...],
    recognition: tuple[str, ...],
    wave_effects: tuple[str, ...],
    returns: tuple[str, ...],
    seed: int,
    url: str | None,
    dropout: float,
    attention_fail: float,
    jobs: int | None,
) -> None:
    """Send N simulated participants through STUDY's real pages (a design rehearsal).

    The bots are rehearsal rows: never in the study's counts, target or real report;
    `framelab report STUDY --rehearsal` analyses them. With --url, run this where the
    server's secret key is (FRAMELAB_SECRET_KEY or the instance's secret_key file).
    """
    from framelab.simulate import (
        SimulationError,
        parse_effects,
        parse_moderator,
        parse_recognition,
        run_simulation,
    )
    from framelab.simulate.waves import parse_returns, parse_wave_effects

    spec = _study_spec(study)
    try:
        planted = parse_effects(list(effects), spec)
        mods = [parse_moderator(text, spec) for text in moderators]
        recognises = parse_recognition(list(recognition), spec)
        waves_planted = parse_wave_effects(list(wave_effects), spec)
        comes_back = parse_returns(list(returns), spec)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if jobs is None:
        # Starting a process costs about a second; small runs are quicker in one.
        jobs = 1 if n < 200 else min(4, os.cpu_count() or 1)
    try:
        with click.progressbar(length=n, label=f"{n} bots through {study}", file=sys.stderr) as bar:
            summary = run_simulation(
                spec,
                n,
                effects=planted,
                moderators=mods,
                seed=seed,
                dropout=dropout,
                attention_fail=attention_fail,
                recognition=recognises,
                wave_effects=waves_planted,
                returns=comes_back,
                url=url,
                jobs=jobs,
                on_progress=bar.update,
                rehearsal_token=None if url is None else _server_rehearsal_token(study),
            )
    except SimulationError as exc:
        hint = (
            " (HTTP 403 on the study link: the server did not accept the rehearsal token; "
            "run simulate with the server's FRAMELAB_SECRET_KEY or instance folder)"
            if "got 403" in str(exc)
            else ""
        )
        raise click.ClickException(f"a bot got stuck: {exc}{hint}") from None
    arms = ", ".join(f"{arm} {count}" for arm, count in sorted(summary.arms.items()))
    click.echo(
        f"{summary.started} started, {summary.completed} completed, {summary.dropped_out} dropped out, "
        f"{summary.attention_failed} failed the attention check; arms seen: {arms}"
        + (f"; {summary.screened_out} screened out or over quota" if summary.screened_out else "")
        + "".join(f"; {n} came back for wave {w}" for w, n in sorted(summary.returned.items()))
    )


def _server_rehearsal_token(slug: str) -> str:
    """A rehearsal token for a running server: its secret key is this instance's."""
    from framelab import clock
    from framelab.config import existing_secret_key, instance_path_from_env
    from framelab.services.rehearsal import rehearsal_token

    secret = existing_secret_key()
    path = instance_path_from_env() / "secret_key"
    if not secret:
        raise click.ClickException(
            "--url: bots are marked as rehearsal with the server's secret key; set "
            f"FRAMELAB_SECRET_KEY or FRAMELAB_INSTANCE_PATH (no key in {path})"
        )
    # Expiry is wall-clock time, as the server checks it.
    return rehearsal_token(secret, slug, now=clock.system_now())


def _study_spec(slug: str):
    """The study's current spec from the configured database."""
    from framelab.config import database_url_from_env
    from framelab.db.session import make_engine, make_session_factory
    from framelab.services.study_versions import StudyNotFound, get_study

    engine = make_engine(database_url_from_env())
    try:
        with make_session_factory(engine)() as session:
            return get_study(session, slug).spec
    except StudyNotFound:
        raise click.ClickException(
            f"study {slug!r}: no such study in the database (load it with `framelab load-study`)"
        ) from None
    finally:
        engine.dispose()


def participant_links(base_url: str) -> list[str]:
    """Links of the studies that accept participants now (pilot or live)."""
    from framelab.config import database_url_from_env
    from framelab.db.session import make_engine, make_session_factory
    from framelab.services.study_versions import list_studies

    engine = make_engine(database_url_from_env())
    try:
        with make_session_factory(engine)() as session:
            studies = list_studies(session)
    finally:
        engine.dispose()
    return [
        f"{base_url}/s/{study.slug}" + ("  (pilot)" if study.status == "pilot" else "")
        for study in studies
        if study.status in ("pilot", "live")
    ]


# Connections one gthread worker holds open, idle kept-alive ones included; past it the
# worker accepts nobody until one closes. Phones in an SMS blast keep theirs open between
# pages for the keep-alive time: at gunicorn's default of 1,000 per worker, 5,000
# participants arriving over 5 minutes held the server at its 2,000 and the rest waited
# in the listen queue, 15% of first pages timing out (benchmarks.burst, issue 22).
WORKER_CONNECTIONS = 10_000


def gunicorn_options(host: str, port: int, workers: int) -> dict[str, object]:
    """gunicorn settings for framelab: gthread workers, no client addresses in any log."""
    from framelab.web.logs import gunicorn_logging_options

    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "worker_connections": WORKER_CONNECTIONS,
        # gthread drops a kept-alive connection whose keep-alive time ran out before a
        # thread got to it, even with a request waiting: at gunicorn's default of 2 s a
        # burst of participants saw connections closed unanswered. 75 s is nginx's default.
        "keepalive": 75,
        "backlog": 2048,
        "timeout": 60,
        "graceful_timeout": 20,
        "errorlog": "-",
        "loglevel": "info",
        **gunicorn_logging_options(),
    }


def plain_http_refusal(host: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Why `framelab serve` must not start on `host`, or None when it may.

    gunicorn here speaks plain HTTP, and a production app's cookies are Secure: browsers
    keep Secure cookies over plain HTTP only from localhost, so a participant reaching
    another address could not consent, withdraw or sign in. Such an address needs an
    HTTPS proxy in front, trusted with FRAMELAB_PROXY_FIX (the proxy's requests say
    HTTPS); development and testing configs send cookies over plain HTTP.
    """
    from framelab.config import load_config

    config = load_config(environ)
    if not config.SESSION_COOKIE_SECURE or _is_loopback(host) or config.PROXY_FIX:
        return None
    return (
        f"refusing to serve plain HTTP on {host}: framelab's cookies are Secure, and "
        "browsers keep them over plain HTTP only from localhost, so participants could not "
        "consent, withdraw or sign in. Put an HTTPS reverse proxy in front and set "
        "FRAMELAB_PROXY_FIX=1 (the number of proxies), or serve on 127.0.0.1 behind it "
        "(docs/deploy.md)."
    )


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def raise_open_files(wanted: int) -> int:
    """Raise this process's soft limit of open files toward `wanted` (never past the hard
    limit; gunicorn's workers inherit it) and return the limit now in force.

    Every connection a worker holds is an open file, and services often start with a soft
    limit of 1,024 (systemd's default) under a hard limit in the hundreds of thousands.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=min(4, max(2, os.cpu_count() or 2)),
    show_default=True,
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve framelab with gunicorn and print the participant links of the open studies."""
    from gunicorn.app.base import BaseApplication

    from framelab import create_app

    refusal = plain_http_refusal(host)
    if refusal:
        raise click.ClickException(refusal)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base_url = f"http://{shown_host}:{port}"
    links = participant_links(base_url)
    click.echo(
        "Participant links:"
        if links
        else "No study is open for participants yet (framelab load-study FILE --status live)."
    )
    for link in links:
        click.echo(f"  {link}")
    click.echo(f"Studio: {base_url}/studio/")
    application = create_app()
    options = gunicorn_options(host, port, workers)
    raise_open_files(workers * WORKER_CONNECTIONS + 1024)

    class _Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    _Server().run()


COMMANDS: list = [simulate, serve]
