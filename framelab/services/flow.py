"""The participant step machine: consent -> pre -> message -> post -> intent -> debrief.

`pre` and `intent` (post items with role intent, on their own page after the
other post items) are skipped when a study has no such items; `screened_out`
and `withdrawn` are terminal. The web layer calls `current_page` to render and
`submit_step` to post; a submission for any step other than the participant's
current one changes nothing and answers with the current step, so replays,
double submits, the back button and skipping ahead by URL are harmless. Every
accepted step is committed before `submit_step` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from framelab.db.models import PageVisit, Participant, Response, Study, StudyVersion
from framelab.db.session import begin_read
from framelab.domain.study import Frame, Item, ValueProblem
from framelab.domain.study import Study as StudySpec
from framelab.services.enrolment import (
    assign_in_transaction,
    lock_participant_by_code,
    participant_by_code,
)
from framelab.services.errors import ParticipantNotFound
from framelab.services.responses import AnswerError, store_answers, validate_answers
from framelab.services.studies import LoadedStudy, loaded_version, version_spec

__all__ = [
    "STEPS",
    "TERMINAL_STEPS",
    "PageState",
    "ParticipantNotFound",
    "SubmitResult",
    "current_page",
    "items_for_step",
    "preview_page",
    "steps_for",
    "submit_step",
    "withdraw",
]

STEPS = ("consent", "pre", "message", "post", "intent", "debrief")
TERMINAL_STEPS = ("screened_out", "withdrawn")
ITEM_STEPS = {"pre": "pre", "post": "post", "intent": "post"}
HONEYPOT_FIELD = "website"


@dataclass(frozen=True)
class PageState:
    """Everything a participant page needs; `participant` is None in a studio preview."""

    participant: Participant | None
    code: str | None
    spec: StudySpec
    spec_hash: str
    language: str
    step: str
    status: str
    items: tuple[Item, ...] = ()
    arm: str | None = None
    frame: Frame | None = None
    progress: tuple[int, int] = (0, 0)
    completion_code: str | None = None
    redirect_url: str | None = None
    pilot: bool = False


@dataclass(frozen=True)
class SubmitResult:
    """Outcome of a submission: `ok` when applied; `errors` (item id -> problem) means show the page again."""

    ok: bool
    step: str
    errors: dict[str, ValueProblem] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    stale: bool = False


def steps_for(spec: StudySpec) -> list[str]:
    """The study's steps in order, without pages that would have no items."""
    return [s for s in STEPS if s not in ITEM_STEPS or items_for_step(spec, s)]


def items_for_step(spec: StudySpec, step: str) -> list[Item]:
    """The items asked on `step` (empty for consent, message, debrief)."""
    if step == "pre":
        return spec.items_for("pre")
    if step == "post":
        return [i for i in spec.items_for("post") if i.role != "intent"]
    if step == "intent":
        return [i for i in spec.items_for("post") if i.role == "intent"]
    return []


def _aware(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def _progress(spec: StudySpec, step: str) -> tuple[int, int]:
    steps = steps_for(spec)
    return (steps.index(step) + 1, len(steps)) if step in steps else (len(steps), len(steps))


def _state(
    participant: Participant | None, spec: StudySpec, spec_hash: str, step: str, **kw
) -> PageState:
    frame = None
    arm = kw.pop("arm", None)
    if step == "message" and arm is not None:
        frame = spec.arm(arm).frame
    completion = spec.completion
    done = step == "debrief" and completion is not None
    return PageState(
        participant=participant,
        code=participant.code if participant else None,
        spec=spec,
        spec_hash=spec_hash,
        step=step,
        items=tuple(items_for_step(spec, step)),
        arm=arm,
        frame=frame,
        progress=_progress(spec, step),
        completion_code=completion.code if done else None,
        redirect_url=completion.redirect_url if done else None,
        **kw,
    )


def preview_page(spec: StudySpec, step: str, *, language: str, arm: str | None = None) -> PageState:
    """A page as a participant would see it, built without a database (studio preview)."""
    if step not in STEPS + TERMINAL_STEPS:
        raise ValueError(
            f"step: {step!r} is not a step (steps: {', '.join(STEPS + TERMINAL_STEPS)})"
        )
    if step == "message" and arm is None:
        arm = spec.control_arm.id
    return _state(
        None, spec, spec.content_hash(), step, language=language, status="preview", arm=arm
    )


def _page_for(participant: Participant, spec: StudySpec, spec_hash: str) -> PageState:
    return _state(
        participant,
        spec,
        spec_hash,
        participant.step,
        language=participant.language,
        status=participant.status,
        arm=participant.arm,
        pilot=participant.pilot,
    )


def _visit_upsert(insert) -> sa.Executable:
    # A new visit row is inserted; an existing one keeps what it has (its first showing,
    # its first submit) and only gains a submit time and seconds it did not have yet.
    c = PageVisit.__table__.c
    stmt = insert(PageVisit).values(
        participant_id=sa.bindparam("pid"),
        step=sa.bindparam("step"),
        shown_at=sa.bindparam("shown", type_=c.shown_at.type),
        submitted_at=sa.bindparam("done", type_=c.submitted_at.type),
        seconds=sa.bindparam("seconds", type_=sa.Float),
    )
    return stmt.on_conflict_do_update(
        index_elements=["participant_id", "step"],
        set_={
            "submitted_at": sa.func.coalesce(c.submitted_at, stmt.excluded.submitted_at),
            "seconds": sa.func.coalesce(c.seconds, stmt.excluded.seconds),
        },
    )


# Built once per dialect, executed with Core (a multi-VALUES insert would be compiled
# anew on every call; executemany of one row statement is cached and, on PostgreSQL,
# pipelined into one round trip).
_VISIT_UPSERT = {
    "postgresql": _visit_upsert(postgresql.insert),
    "sqlite": _visit_upsert(sqlite.insert),
}


def _record_shown(session: Session, participant: Participant, step: str, now: datetime) -> None:
    params = {"pid": participant.id, "step": step, "shown": now, "done": None, "seconds": None}
    session.connection().execute(_VISIT_UPSERT[session.get_bind().dialect.name], params)


# One statement finds the participant, their study version (the spec is cached per process
# by hash) and the page visit of their current step; with FOR UPDATE OF participant on
# PostgreSQL for a submit (SQLite's BEGIN IMMEDIATE already holds the write lock).
_LOOKUP = (
    sa.select(
        Participant,
        StudyVersion.spec_hash,
        StudyVersion.version,
        Study.slug,
        Study.status,
        PageVisit.shown_at,
        PageVisit.submitted_at,
    )
    .join(StudyVersion, StudyVersion.id == Participant.study_version_id)
    .join(Study, Study.id == StudyVersion.study_id)
    .outerjoin(
        PageVisit,
        sa.and_(PageVisit.participant_id == Participant.id, PageVisit.step == Participant.step),
    )
    .where(Participant.code == sa.bindparam("code"))
    .execution_options(populate_existing=True)
)
_LOOKUP_FOR_UPDATE = _LOOKUP.with_for_update(of=Participant)


@dataclass(frozen=True)
class _Found:
    participant: Participant
    loaded: LoadedStudy
    shown_at: datetime | None  # of the current step's page, None if never recorded
    submitted_at: datetime | None


def _find(session: Session, code: str, *, lock: bool) -> _Found:
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = _LOOKUP_FOR_UPDATE if lock and postgres else _LOOKUP
    row = session.execute(statement, {"code": code}).one_or_none()
    if row is None:
        raise ParticipantNotFound("participant: no participant with this code")
    participant, spec_hash, version, slug, status, shown_at, submitted_at = row
    loaded = LoadedStudy(
        id=participant.study_id,
        slug=slug,
        status=status,
        version=version,
        spec=version_spec(session, participant.study_version_id, spec_hash),
        spec_hash=spec_hash,
        version_id=participant.study_version_id,
    )
    return _Found(participant, loaded, shown_at, submitted_at)


def current_page(session: Session, code: str, *, now: datetime) -> PageState:
    """The participant's current page, read-only when its first showing is already recorded.

    A submit records when the next page is first shown (time on page), so showing a page
    normally writes nothing (`begin_read`: on SQLite a deferred transaction that never waits
    for the write lock, on PostgreSQL autocommit). Only a page whose showing was not recorded yet (a participant
    enrolled from a panel link, before their first page) or data from before assignment
    moved into the step change take the write path.
    """
    now = _aware(now)
    try:
        begin_read(session)
        found = _find(session, code, lock=False)
        participant = found.participant
        needs_arm = participant.step == "message" and participant.arm is None
        if needs_arm or (participant.step in STEPS and found.shown_at is None):
            # A read-only start cannot become a writer (SQLite: busy snapshot; PostgreSQL: autocommit).
            session.rollback()
            found = _find(session, code, lock=True)
            participant = found.participant
            if participant.step == "message" and participant.arm is None:
                assign_in_transaction(session, participant, found.loaded, now=now)
            if participant.step in STEPS:
                _record_shown(session, participant, participant.step, now)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return _page_for(participant, found.loaded.spec, found.loaded.spec_hash)


def _close_visit(
    session: Session, found: _Found, step: str, now: datetime, *, shown_next: str | None = None
) -> None:
    """Record the submit of `step` (time on page) and the first showing of `shown_next`."""
    seconds = None
    if found.shown_at is not None and found.submitted_at is None:
        seconds = max(0.0, (now - _aware(found.shown_at)).total_seconds())
    # Without a recorded showing (a bot, or a form resubmitted) the visit is just the submit.
    pid = found.participant.id
    rows = [{"pid": pid, "step": step, "shown": now, "done": now, "seconds": seconds}]
    if shown_next is not None:
        rows.append({"pid": pid, "step": shown_next, "shown": now, "done": None, "seconds": None})
    session.connection().execute(_VISIT_UPSERT[session.get_bind().dialect.name], rows)


def _next_step(spec: StudySpec, step: str) -> str:
    steps = steps_for(spec)
    return steps[min(steps.index(step) + 1, len(steps) - 1)]


def submit_step(
    session: Session, code: str, step: str, form: Mapping[str, str], *, now: datetime
) -> SubmitResult:
    """Apply one page's form if `step` is the participant's current step; commit before returning."""
    now = _aware(now)
    try:
        found = _find(session, code, lock=True)
        participant, loaded = found.participant, found.loaded
        if step != participant.step or step not in STEPS or step == "debrief":
            current = participant.step
            session.rollback()
            return SubmitResult(ok=False, step=current, stale=True)
        spec = loaded.spec
        following = _next_step(spec, step)
        if (form.get(HONEYPOT_FIELD) or "").strip():
            participant.honeypot = True
        if step == "consent":
            answer = (form.get("consent") or "").strip().lower()
            if answer not in ("yes", "no"):
                session.rollback()
                problem = ValueProblem("required", "consent: choose yes or no", {"item": "consent"})
                return SubmitResult(ok=False, step=step, errors={"consent": problem})
            if answer == "no":
                _close_visit(session, found, step, now)
                participant.status = "screened_out"
                participant.step = "screened_out"
                session.commit()
                return SubmitResult(ok=True, step="screened_out")
            participant.consented_at = now
        elif step in ITEM_STEPS:
            items = items_for_step(spec, step)
            kept = {i.id: str(form.get(i.id) or "") for i in items}
            try:
                values = validate_answers(items, form)
            except AnswerError as exc:
                session.rollback()
                return SubmitResult(ok=False, step=step, errors=exc.errors, values=kept)
            store_answers(session, participant, ITEM_STEPS[step], values, items=items, now=now)
        if following == "message" and participant.arm is None:
            assign_in_transaction(session, participant, loaded, now=now)
        if following == "debrief":
            _complete(participant, spec, now)
        participant.step = following
        # The next page is shown right after this commit (post/redirect/get): its first
        # showing is recorded here, so showing it is a read.
        _close_visit(session, found, step, now, shown_next=following)
        session.commit()
        return SubmitResult(ok=True, step=following)
    except Exception:
        session.rollback()
        raise


def _complete(participant: Participant, spec: StudySpec, now: datetime) -> None:
    participant.status = "completed"
    participant.completed_at = now
    duration = max(0.0, (now - participant.started_at).total_seconds())
    participant.duration_seconds = duration
    threshold = spec.quality.speeder_seconds
    participant.speeder = threshold is not None and duration < threshold


def set_language(session: Session, code: str, language: str) -> str:
    """Switch a participant's language (to one the study offers); returns the language used."""
    from framelab.services.enrolment import choose_language

    try:
        participant = participant_by_code(session, code)
        spec = loaded_version(session, participant.study_version_id).spec
        participant.language = choose_language(spec, language) if language else participant.language
        session.commit()
        return participant.language
    except Exception:
        session.rollback()
        raise


def withdraw(session: Session, code: str, *, now: datetime) -> None:
    """Erase the participant's answers and page times and mark them withdrawn (the log row stays)."""
    now = _aware(now)
    try:
        participant = lock_participant_by_code(session, code)
        session.execute(sa.delete(Response).where(Response.participant_id == participant.id))
        session.execute(sa.delete(PageVisit).where(PageVisit.participant_id == participant.id))
        if participant.status != "withdrawn":
            participant.withdrawn_at = now
        participant.status = "withdrawn"
        participant.step = "withdrawn"
        # These flags were derived from the erased answers.
        participant.attention_failed = False
        participant.speeder = False
        participant.duration_seconds = None
        session.commit()
    except Exception:
        session.rollback()
        raise
