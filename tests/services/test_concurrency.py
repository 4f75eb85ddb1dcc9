"""Acceptance: 2,000 participants enrol and are assigned at once, race-free.

Each goes the way the pages go: consent from the study link, then the pre page, whose
submit assigns them (framelab.services.participant_store).

Threads: 8 sharing one engine, on SQLite (BEGIN IMMEDIATE serialises the writers).
Processes: 8, each with its own engine, on SQLite (writers queue on the WriterLock's flock,
then BEGIN IMMEDIATE) and PostgreSQL (row lock on block_state).
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from framelab.db.models import AssignmentLog, BlockState, Participant
from framelab.db.session import make_engine, make_session_factory
from framelab.domain.assignment import arm_for_slot, replay
from framelab.services.flow import consent_from_link, current_page, submit_step
from tests.factories import make_study, publish, valid_answers

N = 2000
WORKERS = 8
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


def _ideology(i: int) -> str:
    # Uneven strata: left (1, 2) 40%, centre (3) 20%, right (4, 5) 40%.
    return str(i % 5 + 1)


def enrol_and_assign(factory, indices: range) -> list[str]:
    spec = make_study()
    arms = []
    for i in indices:
        with factory() as session:
            code, consent = consent_from_link(
                session, spec.slug, {"consent": "yes"}, language="en", source="load", now=NOW
            )
            assert consent.ok and consent.step == "pre"
            form = valid_answers(spec, "pre", ideology=_ideology(i))
            assert submit_step(session, code, "pre", form, now=NOW).step == "message"
            arms.append(current_page(session, code, now=NOW).arm)
    return arms


def process_worker(url: str, start: int, stop: int) -> list[str]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        return enrol_and_assign(make_session_factory(engine), range(start, stop))
    finally:
        engine.dispose()


def _chunks() -> list[tuple[int, int]]:
    size = N // WORKERS
    return [(k * size, N if k == WORKERS - 1 else (k + 1) * size) for k in range(WORKERS)]


def check_assignments(factory) -> None:
    spec = make_study()
    with factory() as session:
        people = session.scalars(sa.select(Participant)).all()
        log = session.scalars(sa.select(AssignmentLog).order_by(AssignmentLog.id)).all()
        counters = {s.stratum: s.next_position for s in session.scalars(sa.select(BlockState))}
    assert len(people) == N
    assert all(p.arm is not None and p.status == "assigned" for p in people)
    assert len(log) == N
    # The log names nobody (s010): per stratum and arm it holds exactly the participants.
    assert Counter((row.stratum, row.arm) for row in log) == Counter(
        (p.stratum, p.arm) for p in people
    )

    block = spec.block_size()
    weights = spec.weights()
    total_weight = sum(weights.values())
    by_stratum = defaultdict(list)
    for row in log:
        by_stratum[row.stratum].append(row)
    assert set(by_stratum) == {"left", "centre", "right"}
    for stratum, rows in by_stratum.items():
        # No gaps and no duplicates: positions are exactly 0..n-1 in every stratum.
        positions = sorted(r.position for r in rows)
        assert positions == list(range(len(rows)))
        assert counters[stratum] == len(rows)
        for r in rows:
            assert (r.block_index, r.position_in_block) == divmod(r.position, block)
            slot = arm_for_slot(spec, stratum, r.position)
            assert slot.arm == r.arm
        # Within one block of perfect balance after every arrival, not only at the end.
        counts: Counter[str] = Counter()
        for n, r in enumerate(sorted(rows, key=lambda r: r.position), start=1):
            counts[r.arm] += 1
            for arm, w in weights.items():
                limit = block * w / total_weight
                assert abs(counts[arm] - n * w / total_weight) <= limit, (stratum, n, counts)
    assert Counter(r.stratum for r in log) == {"left": 800, "centre": 400, "right": 800}
    # Replaying the arrival order with the seed reproduces every arm.
    assert replay(spec, [r.stratum for r in log]) == [r.arm for r in log]


@pytest.mark.slow
def test_eight_threads_enrol_and_assign_2000_participants_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'load.sqlite'}"
    from tests.factories import session_factory_for

    with session_factory_for(url) as factory:
        with factory() as session:
            publish(session, make_study())
        errors: list[BaseException] = []

        def run(start: int, stop: int) -> None:
            try:
                enrol_and_assign(factory, range(start, stop))
            except BaseException as exc:  # surfaced below; a thread cannot raise into pytest
                errors.append(exc)

        threads = [threading.Thread(target=run, args=chunk) for chunk in _chunks()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        check_assignments(factory)


@pytest.mark.slow
def test_eight_processes_enrol_and_assign_2000_participants(database_url):
    # On SQLite the processes queue for the one writer on framelab's WriterLock (flock).
    from tests.factories import session_factory_for

    with session_factory_for(database_url) as factory:
        with factory() as session:
            publish(session, make_study())
        # fork: children start in milliseconds with everything imported; the parent's
        # pooled connections are closed first so no child inherits a live socket.
        factory.kw["bind"].dispose()
        # fork with live threads is unsafe (and warns on Python 3.12+); spawn then.
        context = multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")
        with ProcessPoolExecutor(max_workers=WORKERS, mp_context=context) as pool:
            futures = [pool.submit(process_worker, database_url, a, b) for a, b in _chunks()]
            arms = [arm for f in futures for arm in f.result()]
        assert len(arms) == N
        check_assignments(factory)
