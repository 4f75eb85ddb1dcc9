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

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from framelab.db.direct import (
    Direct,
    DirectRows,
    DirectStatement,
    NothingWritten,
    direct_read,
    for_session,
    insert_values,
    row_params,
)
from framelab.db.models import (
    PageVisit,
    Participant,
    Response,
    Study,
    StudyVersion,
    new_participant_code,
)
from framelab.domain.study import Frame, Item, ValueProblem
from framelab.domain.study import Study as StudySpec
from framelab.services.enrolment import (
    CAMPAIGN_SALT,
    PANEL_SEEN,
    PanelIds,
    assign_participant,
    choose_language,
    lock_participant_by_code,
    panel_ids,
    participant_by_code,
)
from framelab.services.errors import ParticipantNotFound
from framelab.services.pseudonyms import PseudonymKey
from framelab.services.responses import AnswerError, validate_answers, write_answers
from framelab.services.study_versions import (
    LoadedStudy,
    close_at_target,
    loaded_version,
    open_study,
    version_spec,
)

__all__ = [
    "FINISHED_STEPS",
    "STEPS",
    "TERMINAL_STEPS",
    "PageState",
    "ParticipantNotFound",
    "SubmitResult",
    "consent_from_link",
    "current_page",
    "is_participant",
    "items_for_step",
    "participant_place",
    "preview_page",
    "steps_for",
    "submit_step",
    "withdraw",
]

STEPS = ("consent", "pre", "message", "post", "intent", "debrief")
TERMINAL_STEPS = ("screened_out", "withdrawn")
# Steps after which a participant has nothing left to do here (a shared phone may forget them).
FINISHED_STEPS = ("debrief", *TERMINAL_STEPS)
ITEM_STEPS = {"pre": "pre", "post": "post", "intent": "post"}
HONEYPOT_FIELD = "website"


@dataclass(frozen=True)
class PageState:
    """Everything a participant page needs.

    `participant` is the participant's row as the page was read (id, code, step, status,
    arm, language, ...; a Core row, not an ORM object), None in a studio preview.
    """

    participant: Any
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


@dataclass(frozen=True)
class _Plan:
    """A spec's page sequence and items per step, worked out once per spec."""

    steps: tuple[str, ...]
    items: dict[str, tuple[Item, ...]]


_PLANS: dict[int, tuple[StudySpec, _Plan]] = {}


def _plan(spec: StudySpec) -> _Plan:
    # Specs are immutable and cached per process by hash, so their plan is too (the spec is
    # kept alongside so its id() cannot be reused by another object).
    cached = _PLANS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    pre = tuple(spec.items_for("pre"))
    post = spec.items_for("post")
    items = {
        "pre": pre,
        "post": tuple(i for i in post if i.role != "intent"),
        "intent": tuple(i for i in post if i.role == "intent"),
    }
    plan = _Plan(tuple(s for s in STEPS if s not in ITEM_STEPS or items[s]), items)
    if len(_PLANS) >= 256:
        _PLANS.clear()
    _PLANS[id(spec)] = (spec, plan)
    return plan


def steps_for(spec: StudySpec) -> list[str]:
    """The study's steps in order, without pages that would have no items."""
    return list(_plan(spec).steps)


def items_for_step(spec: StudySpec, step: str) -> list[Item]:
    """The items asked on `step` (empty for consent, message, debrief)."""
    return list(_plan(spec).items.get(step, ()))


def _aware(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def _progress(spec: StudySpec, step: str) -> tuple[int, int]:
    steps = _plan(spec).steps
    return (steps.index(step) + 1, len(steps)) if step in steps else (len(steps), len(steps))


def _state(participant: Any, spec: StudySpec, spec_hash: str, step: str, **kw) -> PageState:
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
        items=_plan(spec).items.get(step, ()),
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


def _page_for(participant: Any, spec: StudySpec, spec_hash: str) -> PageState:
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


_VISIT_TYPES = {
    "pid": PageVisit.__table__.c.participant_id.type,
    "step": PageVisit.__table__.c.step.type,
    "shown": PageVisit.__table__.c.shown_at.type,
    "done": PageVisit.__table__.c.submitted_at.type,
    "seconds": sa.Float(),
}


def _visit_upsert(insert, rows: int) -> sa.Executable:
    # A new visit row is inserted; an existing one keeps what it has (its first showing,
    # its first submit) and only gains a submit time and seconds it did not have yet.
    c = PageVisit.__table__.c
    names = {"pid": "participant_id", "step": "step", "shown": "shown_at"}
    names.update(done="submitted_at", seconds="seconds")
    values = [{names[k]: v for k, v in row.items()} for row in row_params(rows, _VISIT_TYPES)]
    stmt = insert(PageVisit).values(values)
    return stmt.on_conflict_do_update(
        index_elements=["participant_id", "step"],
        set_={
            "submitted_at": sa.func.coalesce(c.submitted_at, stmt.excluded.submitted_at),
            "seconds": sa.func.coalesce(c.seconds, stmt.excluded.seconds),
        },
    )


# One statement per page (compiled once per dialect and number of visits).
_VISIT_UPSERT = {
    "postgresql": DirectRows(functools.partial(_visit_upsert, postgresql.insert)),
    "sqlite": DirectRows(functools.partial(_visit_upsert, sqlite.insert)),
}

_P = Participant.__table__
_V = StudyVersion.__table__
_S = Study.__table__
_PV = PageVisit.__table__

# One statement finds the participant, their study version (the spec is cached per process
# by hash) and the page visit of their current step; with FOR UPDATE OF participant on
# PostgreSQL for a submit (SQLite's BEGIN IMMEDIATE already holds the write lock).
_LOOKUP_SELECT = (
    sa.select(
        _P.c.id,
        _P.c.code,
        _P.c.study_id,
        _P.c.study_version_id,
        _P.c.step,
        _P.c.status,
        _P.c.arm,
        _P.c.language,
        _P.c.pilot,
        _P.c.rehearsal,
        _P.c.duplicate,
        _P.c.started_at,
        _V.c.spec_hash,
        _V.c.version,
        _S.c.slug,
        _S.c.status.label("study_status"),
        _PV.c.shown_at,
        _PV.c.submitted_at,
    )
    .select_from(
        _P.join(_V, _V.c.id == _P.c.study_version_id)
        .join(_S, _S.c.id == _V.c.study_id)
        .outerjoin(_PV, sa.and_(_PV.c.participant_id == _P.c.id, _PV.c.step == _P.c.step))
    )
    .where(_P.c.code == sa.bindparam("code"))
)
_LOOKUP = DirectStatement(_LOOKUP_SELECT)
_LOOKUP_FOR_UPDATE = DirectStatement(_LOOKUP_SELECT.with_for_update(of=_P))
# SET columns come from the values given (compiled once per set of columns).
_UPDATE_PARTICIPANT = DirectStatement(_P.update().where(_P.c.id == sa.bindparam("_pid")))


@dataclass(frozen=True)
class _Found:
    participant: Any  # the lookup's row: id, code, step, status, arm, language, ...
    loaded: LoadedStudy


def _find(db: Direct, code: str, *, lock: bool) -> _Found:
    statement = _LOOKUP_FOR_UPDATE if lock and db.name == "postgresql" else _LOOKUP
    row = db.one_or_none(statement, {"code": code})
    if row is None:
        raise ParticipantNotFound("participant: no participant with this code")
    loaded = LoadedStudy(
        id=row.study_id,
        slug=row.slug,
        status=row.study_status,
        version=row.version,
        spec=version_spec(db, row.study_version_id, row.spec_hash),
        spec_hash=row.spec_hash,
        version_id=row.study_version_id,
    )
    return _Found(row, loaded)


def _update_participant(
    db: Direct, session: Session | Engine, pid: int, changes: Mapping[str, object]
) -> None:
    db.update(_UPDATE_PARTICIPANT, changes, _pid=pid)
    if not isinstance(session, Session):
        return
    # The row changed without the ORM: a copy of it held by the caller's session learns
    # the new values as committed state (no reload, nothing to flush).
    held = session.identity_map.get(session.identity_key(Participant, pid))
    if held is not None:
        for name, value in changes.items():
            set_committed_value(held, name, value)


def current_page(session: Session | Engine, code: str, *, now: datetime) -> PageState:
    """The participant's current page, read-only when its first showing is already recorded.

    A submit records when the next page is first shown (time on page), so showing a page
    normally is one read in autocommit. Only a page whose showing was not recorded yet (a
    participant enrolled from a panel link, before their first page) or data from before
    assignment moved into the step change take a write transaction.

    Like `submit_step` it runs on a connection of its own unless the session is in a
    transaction (see `framelab.db.direct.for_session`).
    """
    now = _aware(now)
    with for_session(session, write=False) as db:
        found = _find(db, code, lock=False)
    row = found.participant
    if (row.step == "message" and row.arm is None) or (row.step in STEPS and row.shown_at is None):
        with for_session(session, write=True) as db:
            found = _find(db, code, lock=True)
            row = found.participant
            if row.step == "message" and row.arm is None:
                changes = _assign(db, found, now=now)
                _update_participant(db, session, row.id, changes)
                row = row._replace(**{k: v for k, v in changes.items() if k in row._fields})
            if row.step in STEPS:
                shown = {"pid": row.id, "step": row.step, "shown": now, "done": None}
                db.insert_rows(_VISIT_UPSERT[db.name], [{**shown, "seconds": None}])
    return _page_for(row, found.loaded.spec, found.loaded.spec_hash)


def _assign(
    db: Direct, found: _Found, *, now: datetime, block_value: object = None
) -> dict[str, object]:
    extra = {} if block_value is None else {"block_value": block_value}
    return assign_participant(
        db,
        participant_id=found.participant.id,
        study_id=found.participant.study_id,
        spec=found.loaded.spec,
        spec_hash=found.loaded.spec_hash,
        now=now,
        duplicate=found.participant.duplicate,
        pilot=found.participant.pilot,
        rehearsal=found.participant.rehearsal,
        **extra,
    )


def _close_visit(
    db: Direct, found: _Found, step: str, now: datetime, *, shown_next: str | None = None
) -> None:
    """Record the submit of `step` (time on page) and the first showing of `shown_next`."""
    row = found.participant
    seconds = None
    if row.shown_at is not None and row.submitted_at is None:
        seconds = max(0.0, (now - _aware(row.shown_at)).total_seconds())
    # Without a recorded showing (a bot, or a form resubmitted) the visit is just the submit.
    rows = [{"pid": row.id, "step": step, "shown": now, "done": now, "seconds": seconds}]
    if shown_next is not None:
        rows.append(
            {"pid": row.id, "step": shown_next, "shown": now, "done": None, "seconds": None}
        )
    db.insert_rows(_VISIT_UPSERT[db.name], rows)


def _next_step(spec: StudySpec, step: str) -> str:
    steps = _plan(spec).steps
    return steps[min(steps.index(step) + 1, len(steps) - 1)]


class _Unchanged(NothingWritten):
    """Leave the write transaction without writing: the result says why."""

    def __init__(self, result: SubmitResult) -> None:
        self.result = result


def submit_step(
    session: Session | Engine, code: str, step: str, form: Mapping[str, str], *, now: datetime
) -> SubmitResult:
    """Apply one page's form if `step` is the participant's current step; commit before returning.

    The page's work (answers, assignment, step change, page times) is one transaction, run
    on the driver's cursor (framelab.db.direct): a participant page is the hot path.
    Anything the caller's session holds of the participant is updated to match.
    """
    now = _aware(now)
    try:
        checked = _checked_before_writing(session, code, step, form)
        with for_session(session, write=True) as db:
            return _submit(db, session, code, step, form, now, checked)
    except _Unchanged as unchanged:
        return unchanged.result


@dataclass(frozen=True)
class _Checked:
    """A page's answers validated before the write transaction, for one spec and step."""

    spec_hash: str
    step: str
    values: dict


def _checked_before_writing(
    session: Session | Engine, code: str, step: str, form: Mapping[str, str]
) -> _Checked | None:
    """On SQLite, validate an answer page before queueing for the one write lock.

    SQLite has a single writer: whatever a submit does inside its transaction, every other
    submit waits for. So the participant's step is read first (autocommit) and the answers
    validated outside it; the transaction then only checks that nothing moved meanwhile.
    An invalid page never takes the write lock. (On PostgreSQL writers do not queue on one
    lock, and the read would be an extra round trip.)
    """
    if step not in ITEM_STEPS:
        return None
    bind = session if isinstance(session, Engine) else session.get_bind()
    if bind.dialect.name != "sqlite" or (isinstance(session, Session) and session.in_transaction()):
        return None
    with direct_read(bind) as db:
        found = _find(db, code, lock=False)
    if found.participant.step != step:
        return None  # stale: the transaction says so
    items = _plan(found.loaded.spec).items[step]
    try:
        values = validate_answers(items, form)
    except AnswerError as exc:
        kept = {i.id: str(form.get(i.id) or "") for i in items}
        raise _Unchanged(
            SubmitResult(ok=False, step=step, errors=exc.errors, values=kept)
        ) from None
    return _Checked(found.loaded.spec_hash, step, values)


def _submit(
    db: Direct,
    session: Session | Engine,
    code: str,
    step: str,
    form: Mapping[str, str],
    now: datetime,
    checked: _Checked | None = None,
) -> SubmitResult:
    found = _find(db, code, lock=True)
    row, spec = found.participant, found.loaded.spec
    if step != row.step or step not in STEPS or step == "debrief":
        raise _Unchanged(SubmitResult(ok=False, step=row.step, stale=True))
    following = _next_step(spec, step)
    changes: dict[str, object] = {}
    if (form.get(HONEYPOT_FIELD) or "").strip():
        changes["honeypot"] = True
    block_value = None
    if step == "consent":
        answer = (form.get("consent") or "").strip().lower()
        if answer not in ("yes", "no"):
            problem = ValueProblem("required", "consent: choose yes or no", {"item": "consent"})
            raise _Unchanged(SubmitResult(ok=False, step=step, errors={"consent": problem}))
        if answer == "no":
            _close_visit(db, found, step, now)
            changes.update(status="screened_out", step="screened_out")
            _update_participant(db, session, row.id, changes)
            return SubmitResult(ok=True, step="screened_out")
        changes["consented_at"] = now
    elif step in ITEM_STEPS:
        items = _plan(spec).items[step]
        if checked is not None and (checked.spec_hash, checked.step) == (
            found.loaded.spec_hash,
            step,
        ):
            values = checked.values
        else:
            try:
                values = validate_answers(items, form)
            except AnswerError as exc:
                kept = {i.id: str(form.get(i.id) or "") for i in items}
                result = SubmitResult(ok=False, step=step, errors=exc.errors, values=kept)
                raise _Unchanged(result) from None
        if write_answers(db, row.id, ITEM_STEPS[step], values, items=items, now=now):
            changes["attention_failed"] = True
        if step == "pre" and spec.design.scheme == "blocked" and spec.design.block_by:
            block_value = values.get(spec.design.block_by)
    if following == "message" and row.arm is None:
        changes.update(_assign(db, found, now=now, block_value=block_value))
    if following == "debrief":
        changes.update(_completion(row.started_at, spec, now))
    changes["step"] = following
    _update_participant(db, session, row.id, changes)
    live = found.loaded.status == "live" and not row.pilot
    if following == "debrief" and live and spec.target_n is not None:
        close_at_target(db, found.loaded.id, spec.target_n, now=now)
    # The next page is shown right after this commit (post/redirect/get): its first
    # showing is recorded here, so showing it is a read.
    _close_visit(db, found, step, now, shown_next=following)
    return SubmitResult(ok=True, step=following)


_ENROL = DirectStatement(
    insert_values(
        _P,
        "code",
        "study_id",
        "study_version_id",
        "spec_hash",
        "panel_hash",
        "panel_study_hash",
        "panel_session_hash",
        "source",
        "language",
        "step",
        "status",
        "pilot",
        "rehearsal",
        "duplicate",
        "attention_failed",
        "speeder",
        "honeypot",
        "started_at",
    )
)
_EXISTS = DirectStatement(sa.select(_P.c.id).where(_P.c.code == sa.bindparam("code")))


def consent_from_link(
    session: Session | Engine,
    slug: str,
    form: Mapping[str, str],
    *,
    language: str | Sequence[str],
    source: str | None,
    now: datetime,
    rehearsal: bool = False,
    panel: Mapping[str, str] | None = None,
    key: PseudonymKey | None = None,
) -> tuple[str | None, SubmitResult]:
    """Enrol a newcomer from the study link and record their consent, in one transaction.

    Returns the new participant's code and the consent page's result. A form without a
    yes or no enrols nobody (code None, the result's errors say what is missing). A
    "no" is kept, as a participant screened out, so refusals are counted. `panel` holds
    a panel link's ids (PROLIFIC_PID, ...), stored as pseudonyms under `key`: a person
    id seen before in the campaign makes a participant of its own flagged as a duplicate
    (DECISIONS rule 5), and the work done is the same statements either way, so neither
    the reply nor its cost tells whether the id took part. Raises StudyNotFound or
    StudyClosed when the study takes nobody now. `rehearsal` marks a simulated
    participant (services.rehearsal: only a valid token sets it).
    """
    now = _aware(now)
    answer = (form.get("consent") or "").strip().lower()
    if answer not in ("yes", "no"):
        problem = ValueProblem("required", "consent: choose yes or no", {"item": "consent"})
        return None, SubmitResult(ok=False, step="consent", errors={"consent": problem})
    for attempt in (1, 2):
        ids = PanelIds()
        try:
            with for_session(session, write=True) as db:
                loaded = open_study(db, slug)
                duplicate = False
                if panel:
                    campaign = db.one_or_none(CAMPAIGN_SALT, {"study_id": loaded.id})
                    ids = panel_ids(panel, campaign.salt, key)
                    if ids.person is not None:
                        # The second attempt follows a race on the unique panel hash (the
                        # same id arrived twice at once on PostgreSQL): the other row won.
                        seen = db.scalar(PANEL_SEEN, {"hash": ids.person, "root": campaign.root})
                        duplicate = attempt == 2 or seen is not None
                code = new_participant_code()
                db.execute(
                    _ENROL,
                    {
                        "code": code,
                        "study_id": loaded.id,
                        "study_version_id": loaded.version_id,
                        "spec_hash": loaded.spec_hash,
                        "panel_hash": None if duplicate else ids.person,
                        "panel_study_hash": ids.study,
                        "panel_session_hash": ids.session,
                        "source": (source or "").strip()[:64] or ids.source,
                        "language": choose_language(loaded.spec, language),
                        "step": "consent",
                        "status": "started",
                        "pilot": loaded.status == "pilot",
                        "rehearsal": rehearsal,
                        "duplicate": duplicate,
                        "attention_failed": False,
                        "speeder": False,
                        "honeypot": False,
                        "started_at": now,
                    },
                )
                return code, _submit(db, session, code, "consent", form, now)
        except IntegrityError:
            if attempt == 2 or ids.person is None:
                raise
    raise AssertionError("unreachable: the second attempt returns or raises")


def is_participant(session: Session | Engine, code: str) -> bool:
    """Whether `code` is a participant's (a browser may remember one the database lost)."""
    with for_session(session, write=False) as db:
        return db.scalar(_EXISTS, {"code": code}) is not None


_PLACE_OF = DirectStatement(
    sa.select(_S.c.slug, _P.c.step)
    .select_from(_P.join(_S, _S.c.id == _P.c.study_id))
    .where(_P.c.code == sa.bindparam("code"))
)


def participant_place(session: Session | Engine, code: str) -> Any:
    """The participant's study (campaign version) slug and step, as a row; None if no such code.

    A participant stays on their version (DECISIONS rule 1), whichever version the
    campaign's link enrols newcomers into now.
    """
    with for_session(session, write=False) as db:
        return db.one_or_none(_PLACE_OF, {"code": code})


def _completion(started_at: datetime, spec: StudySpec, now: datetime) -> dict[str, object]:
    duration = max(0.0, (now - _aware(started_at)).total_seconds())
    threshold = spec.quality.speeder_seconds
    return {
        "status": "completed",
        "completed_at": now,
        "duration_seconds": duration,
        "speeder": threshold is not None and duration < threshold,
    }


def set_language(session: Session, code: str, language: str) -> str:
    """Switch a participant's language (to one the study offers); returns the language used."""
    try:
        participant = participant_by_code(session, code)
        spec = loaded_version(session, participant.study_version_id).spec
        participant.language = choose_language(spec, language) if language else participant.language
        session.commit()
        return participant.language
    except Exception:
        session.rollback()
        raise


def _day(moment: datetime) -> datetime:
    return _aware(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def withdraw(session: Session, code: str, *, now: datetime) -> str:
    """Erase what derives from the participant and mark them withdrawn; returns their language.

    Their answers and page times are deleted; so are their panel pseudonyms, their
    stratum (derived from an erased answer), the quality flags and duration, their
    source and language (back to the study's default), and every timestamp but the day
    they started and the day they withdrew. What stays is what the counts and the
    randomization audit need: the row itself (version, arm, status `withdrawn`, and the
    pilot, rehearsal and duplicate marks that keep it out of real counts) and the code
    they withdrew with. Their slot stays in the assignment log, which names nobody and
    holds no time (migration s010), so nothing joins the erased stratum back to them.
    The language returned is the one they used, for the page that confirms the
    withdrawal.
    """
    now = _aware(now)
    try:
        participant = lock_participant_by_code(session, code)
        language = participant.language
        default = loaded_version(session, participant.study_version_id).spec.default_language
        session.execute(sa.delete(Response).where(Response.participant_id == participant.id))
        session.execute(sa.delete(PageVisit).where(PageVisit.participant_id == participant.id))
        if participant.status != "withdrawn":
            participant.withdrawn_at = _day(now)
        participant.status = "withdrawn"
        participant.step = "withdrawn"
        participant.panel_hash = None
        participant.panel_study_hash = None
        participant.panel_session_hash = None
        participant.stratum = None
        participant.source = None
        participant.language = default
        # These flags were derived from the erased answers (or the erased pages).
        participant.attention_failed = False
        participant.speeder = False
        participant.honeypot = False
        participant.duration_seconds = None
        participant.started_at = _day(participant.started_at)
        participant.consented_at = None
        participant.assigned_at = None
        participant.completed_at = None
        session.commit()
        return language
    except Exception:
        session.rollback()
        raise
