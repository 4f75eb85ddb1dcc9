"""Run many bots, in several processes when they go through the in-process app."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import Any

from framelab.domain.study import Study
from framelab.simulate.bots import SimulationSummary, Simulator
from framelab.simulate.effects import Moderator
from framelab.simulate.transport import (
    FlaskTransport,
    HttpTransport,
    VirtualClock,
    simulation_start,
)
from framelab.simulate.waves import WaveSimulator

CHUNK = 25  # bots per task: small enough for a smooth progress bar


def _chunk_job(
    spec_json: str,
    indices: list[int],
    options: Mapping[str, Any],
    app_config: Mapping[str, Any] | None,
    url: str | None,
    start: datetime | None,
    token: str | None,
) -> SimulationSummary:
    """One process's (or thread's) share of the bots."""
    from framelab.domain.study import load_study
    from framelab.services.rehearsal import HEADER, rehearsal_token

    spec = load_study(spec_json)
    clock = None
    if url is None:
        from framelab import create_app

        # Each chunk lives in its own stretch of virtual time, so page times are realistic.
        clock = VirtualClock(start + timedelta(seconds=300 * indices[0]))
        app = create_app({**(app_config or {}), "FRAMELAB_CLOCK": clock})
        # The app's own secret key makes the token: every bot is a rehearsal row.
        token = token or rehearsal_token(app.config["SECRET_KEY"], spec.slug, now=datetime.now(UTC))
        transport: Any = FlaskTransport(app, headers={HEADER: token})
    else:
        assert token is not None
        transport = HttpTransport(url, headers={HEADER: token})
    # Studies with follow-up waves: the bots come back for them (framelab.simulate.waves).
    make = WaveSimulator if spec.waves else Simulator
    simulator = make(spec, transport, clock=clock, **options)
    try:
        return simulator.run(indices)
    finally:
        if url is None:
            app.extensions["framelab.engine"].dispose()


def _lock_time(slug: str, app_config: Mapping[str, Any] | None) -> datetime | None:
    """The study's lock time in the database the in-process app will use."""
    from framelab.config import database_url_from_env
    from framelab.db.session import make_engine, make_session_factory
    from framelab.services.rehearsal import lock_time

    engine = make_engine((app_config or {}).get("DATABASE_URL") or database_url_from_env())
    try:
        with make_session_factory(engine)() as session:
            return lock_time(session, slug)
    finally:
        engine.dispose()


def merge(summaries: list[SimulationSummary]) -> SimulationSummary:
    """One summary of several runs."""
    total = SimulationSummary()
    for part in summaries:
        total.started += part.started
        total.completed += part.completed
        total.dropped_out += part.dropped_out
        total.attention_failed += part.attention_failed
        total.screened_out += part.screened_out
        for arm, count in part.arms.items():
            total.arms[arm] = total.arms.get(arm, 0) + count
        for wave, count in part.returned.items():
            total.returned[wave] = total.returned.get(wave, 0) + count
    return total


def run_simulation(
    spec: Study,
    n: int,
    *,
    effects: Mapping[str, float],
    moderators: list[Moderator] | None = None,
    seed: int = 0,
    dropout: float = 0.05,
    attention_fail: float = 0.03,
    recognition: Mapping[str, float] | None = None,
    app_config: Mapping[str, Any] | None = None,
    url: str | None = None,
    jobs: int = 1,
    on_progress: Callable[[int], None] | None = None,
    rehearsal_token: str | None = None,
    wave_effects: Mapping[str, Mapping[str, float]] | None = None,
    returns: Mapping[str, float] | None = None,
) -> SimulationSummary:
    """Send `n` bots through `spec`: in-process via `create_app(app_config)`, or to `url`.

    Every bot is a rehearsal row (DECISIONS rule 4): it carries a rehearsal token
    (framelab.services.rehearsal), made from the app's secret key in-process and
    required as `rehearsal_token` for a server at `url`. In-process, the virtual
    clock starts after the study's lock.

    With `jobs` > 1 the in-process bots run in that many processes (each with its own
    app and database connections; the database serialises their writes), and HTTP bots
    in that many threads. Bot i answers the same whatever `jobs` is.

    A study with follow-up waves brings the in-process bots back for each wave, days later
    on the virtual clock: `returns` is each arm's chance of coming back, `wave_effects`
    the planted effect per wave and arm (framelab.simulate.waves).
    """
    options = {
        "effects": dict(effects),
        "moderators": list(moderators or []),
        "seed": seed,
        "dropout": dropout,
        "attention_fail": attention_fail,
        "recognition": dict(recognition or {}),
    }
    if spec.waves:
        options["wave_effects"] = {w: dict(e) for w, e in (wave_effects or {}).items()}
        options["returns"] = dict(returns or {})
    spec_json = spec.model_dump_json()
    if url is not None and not rehearsal_token:
        raise ValueError(
            "rehearsal_token: bots sent to a server need its rehearsal token "
            "(framelab simulate makes it from the server's secret key)"
        )
    start = simulation_start(n, after=_lock_time(spec.slug, app_config)) if url is None else None
    chunks = [list(range(i, min(n, i + CHUNK))) for i in range(0, n, CHUNK)]
    if jobs <= 1:
        summaries = []
        for chunk in chunks:
            summaries.append(
                _chunk_job(spec_json, chunk, options, app_config, url, start, rehearsal_token)
            )
            if on_progress is not None:
                on_progress(len(chunk))
        return merge(summaries)
    if url is None:
        # fork would copy the parent's open database connections into the children.
        context = multiprocessing.get_context("spawn")
        pool: Any = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
    else:
        pool = ThreadPoolExecutor(max_workers=jobs)
    summaries = []
    with pool:
        pending = {
            pool.submit(
                _chunk_job, spec_json, chunk, options, app_config, url, start, rehearsal_token
            ): len(chunk)
            for chunk in chunks
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                finished = pending.pop(future)
                summaries.append(future.result())
                if on_progress is not None:
                    on_progress(finished)
    return merge(summaries)
