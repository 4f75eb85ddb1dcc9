"""The participant services behind the pages: consent, current page, submit.

Participant hot path only (see the package). Each takes the request's Session and runs
its statements on a pooled connection of its own (framelab.db.direct.for_session), or,
when the session is already in a transaction (a script, a test), in that transaction,
which it then commits. What a page's form means is decided by the pure step machine
(framelab.domain.steps); this module reads and writes what it says. Every accepted step
is committed before `submit_step` returns. Objects the session holds of the participant
are expired after a write, so they reload what was written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from framelab.db.direct import Direct, direct_read, for_session
from framelab.db.models import Participant, new_participant_code
from framelab.db.session import is_sqlite
from framelab.domain.drafts import draft_values
from framelab.domain.steps import (
    ITEM_STEPS,
    STEPS,
    TERMINAL_STEPS,
    AnswerCheck,
    PageState,
    SubmitResult,
    aware,
    check_answers,
    consent_answer,
    consent_missing,
    items_for_step,
    participant_page_state,
    read_submission,
    rejected,
    turned_away,
)
from framelab.services.enrolment import PanelIds, newcomer_language, panel_ids
from framelab.services.participant_store.answers import answer_rows
from framelab.services.participant_store.assignment import assign_participant
from framelab.services.participant_store.draft_posts import replace_draft
from framelab.services.participant_store.drafts import drop_drafts, keep_draft, shown_draft
from framelab.services.participant_store.page_writes import write_page
from framelab.services.participant_store.quotas import fill_quotas, quota_full
from framelab.services.participant_store.rows import (
    Found,
    enrol,
    find,
    record_shown,
    submit_visits,
    update_participant,
)
from framelab.services.participant_store.studies import (
    CAMPAIGN_SALT,
    PANEL_SEEN,
    close_at_target,
    open_study,
)
from framelab.services.participant_store.waves import add_follow_up_link, debrief_follow_up
from framelab.services.pseudonyms import PseudonymKey
from framelab.services.study_versions import LoadedStudy


def _expire_held(session: Session, pid: int, changed: Iterable[str]) -> None:
    # The row changed without the ORM: a copy the caller's session holds reloads the
    # columns that changed (the others, such as the code, stay readable when detached).
    names = list(changed)
    if names and session.identity_map:
        held = session.identity_map.get(session.identity_key(Participant, pid))
        if held is not None:
            session.expire(held, names)


def current_page(session: Session, code: str, *, now: datetime) -> PageState:
    """The participant's current page, read-only when its first showing is already recorded.

    A submit records when the next page is first shown (time on page), so showing a page
    normally is one read in autocommit. Only a page whose showing was not recorded yet (a
    participant enrolled from a panel link, before their first page) or data from before
    assignment moved into the step change take a write transaction. The page's draft
    (the valid answers of an earlier post that failed) comes with the participant's row.
    """
    now = aware(now)
    with for_session(session, write=False) as db:
        found = find(db, code, lock=False)
        follow_up = debrief_follow_up(db, found)
    row = found.participant
    if (row.step == "message" and row.arm is None) or (row.step in STEPS and row.shown_at is None):
        changes: dict[str, object] = {}
        with for_session(session, write=True) as db:
            found = find(db, code, lock=True)
            row = found.participant
            if row.step == "message" and row.arm is None:
                changes = _assign(db, found, now=now)
                update_participant(db, row.id, changes)
                row = row._replace(**{k: v for k, v in changes.items() if k in row._fields})
            if row.step in STEPS:
                record_shown(db, row.id, row.step, now)
        _expire_held(session, row.id, changes)
    state = participant_page_state(row, found.loaded.spec, found.loaded.spec_hash)
    if follow_up is not None:
        state = replace(state, follow_up=follow_up)
    draft = shown_draft(row, state.items)
    return state if draft is None else replace(state, draft=draft)


def _assign(db: Direct, found: Found, *, now: datetime, block_value: object = None):
    extra = {} if block_value is None else {"block_value": block_value}
    row = found.participant
    return assign_participant(
        db,
        participant_id=row.id,
        study_id=row.study_id,
        spec=found.loaded.spec,
        spec_hash=found.loaded.spec_hash,
        now=now,
        duplicate=row.duplicate,
        pilot=row.pilot,
        rehearsal=row.rehearsal,
        **extra,
    )


def submit_step(
    session: Session, code: str, step: str, form: Mapping[str, str], *, now: datetime
) -> SubmitResult:
    """Apply one page's form if `step` is the participant's current step; commit before returning.

    The page's work (answers, assignment, step change, page times, deleting the page's
    draft) is one transaction. A page that fails validation stores no answer; its valid
    answers replace the page's draft (framelab.domain.drafts).
    """
    now = aware(now)
    checked = _checked_before_writing(session, code, step, form)
    if checked is not None and checked[1].errors:
        items = items_for_step(checked[2], step)
        kept = draft_values(items, form)
        replace_draft(session, code, step, kept, had_draft=checked[3], now=now)
        return rejected(step, items, form, checked[1].errors)
    with for_session(session, write=True) as db:
        found = find(db, code, lock=True)
        result, changes = _apply(db, found, step, form, now, checked)
    _expire_held(session, found.participant.id, changes)
    return result


def _checked_before_writing(
    session: Session, code: str, step: str, form: Mapping[str, str]
) -> tuple[str, AnswerCheck, Any, bool] | None:
    """On SQLite, check an answer page before queueing for the one write lock.

    SQLite has a single writer: whatever a submit does inside its transaction, every other
    submit waits for. So the participant's step is read first (autocommit) and the answers
    checked outside it; the transaction then only checks that nothing moved meanwhile.
    An invalid page takes the write lock only to keep a draft (valid answers to keep, or
    a draft to replace). (On PostgreSQL writers do not queue on one lock, and the read
    would be an extra round trip.) Returns (spec hash, check, spec, has a draft).
    """
    if step not in ITEM_STEPS or not is_sqlite(session) or session.in_transaction():
        return None
    with direct_read(session.get_bind()) as db:
        found = find(db, code, lock=False)
    if found.participant.step != step:
        return None  # stale: the transaction says so
    spec = found.loaded.spec
    check = check_answers(items_for_step(spec, step), form)
    return found.loaded.spec_hash, check, spec, found.participant.draft is not None


def _apply(
    db: Direct,
    found: Found,
    step: str,
    form: Mapping[str, str],
    now: datetime,
    checked: tuple[str, AnswerCheck, Any, bool] | None = None,
) -> tuple[SubmitResult, dict[str, object]]:
    """What the form means, written; returns the result and the participant columns set."""
    row, spec = found.participant, found.loaded.spec
    check = checked[1] if checked is not None and checked[0] == found.loaded.spec_hash else None
    submission = read_submission(spec, row, step, form, now=now, checked=check)
    if not submission.writes:
        if submission.result.errors and step in ITEM_STEPS:
            keep_draft(db, row, step, draft_values(items_for_step(spec, step), form), now)
        return submission.result, {}
    if submission.quota_cells and quota_full(db, row.study_id, spec, submission.quota_cells):
        submission = turned_away(submission.changes, "over_quota")
    changes = dict(submission.changes)
    drop_drafts(db, row)  # the page is answered: its draft goes, whatever comes next
    if submission.result.step in TERMINAL_STEPS:
        write_page(db, row.id, changes, visits=submit_visits(row, step, now))
        return submission.result, changes
    answers: list[dict] = []
    skipped: list[dict] = []
    if submission.answers is not None:
        answers, skipped, failed = answer_rows(
            db, row.id, submission.phase, submission.answers, items=submission.items, now=now
        )
        if failed:
            changes["attention_failed"] = True
    if submission.assign:
        changes.update(_assign(db, found, now=now, block_value=submission.block_value))
    # The next page is shown right after this commit (post/redirect/get): its first
    # showing is recorded here, so showing it is a read.
    visits = submit_visits(row, step, now, shown_next=submission.result.step)
    write_page(db, row.id, changes, answers=answers, visits=visits, skipped=skipped)
    if submission.completes:
        add_follow_up_link(db, spec, row.id, now)
    if submission.completes and spec.quota:
        fill_quotas(db, row, spec)
    live = found.loaded.status == "live" and not row.pilot
    if submission.completes and live and spec.target_n is not None:
        close_at_target(db, found.loaded.id, spec.target_n, now=now)
    return submission.result, changes


def consent_from_link(
    session: Session,
    slug: str,
    form: Mapping[str, str],
    *,
    language: str | Sequence[str],
    source: str | None,
    now: datetime,
    rehearsal: bool = False,
    panel: Mapping[str, str] | None = None,
    channel: int | None = None,
    key: PseudonymKey | None = None,
    study: LoadedStudy | None = None,
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
    participant (services.rehearsal: only a valid token sets it); `channel` the channel
    link the newcomer came through (its id; `source` is then the link's). `study` is the
    study `slug` names when the caller read it already (lookups.link_entry).
    """
    now = aware(now)
    if consent_answer(form) is None:
        return None, consent_missing()
    for attempt in (1, 2):
        ids = PanelIds()
        try:
            with for_session(session, write=True) as db:
                loaded = study or open_study(db, slug)
                duplicate = False
                if panel:
                    campaign = db.one_or_none(CAMPAIGN_SALT, {"study_id": loaded.id})
                    ids = panel_ids(panel, campaign.salt, key)
                    if ids.person is not None:
                        # The second attempt follows a race on the unique panel hash (the
                        # same id arrived twice at once on PostgreSQL): the other row won.
                        seen = db.scalar(PANEL_SEEN, {"hash": ids.person, "root": campaign.root})
                        duplicate = attempt == 2 or seen is not None
                code, result, _pid = enrol_newcomer(
                    db,
                    loaded,
                    form,
                    language=language,
                    now=now,
                    source=source,
                    channel=channel,
                    rehearsal=rehearsal,
                    ids=ids,
                    duplicate=duplicate,
                )
                return code, result
        except IntegrityError:
            if attempt == 2 or ids.person is None:
                raise
    raise AssertionError("unreachable: the second attempt returns or raises")


def enrol_newcomer(
    db: Direct,
    loaded: LoadedStudy,
    form: Mapping[str, str],
    *,
    language: str | Sequence[str],
    now: datetime,
    source: str | None = None,
    channel: int | None = None,
    rehearsal: bool = False,
    ids: PanelIds | None = None,
    duplicate: bool = False,
) -> tuple[str, SubmitResult, int]:
    """Enrol a newcomer into `loaded` and apply their consent form, in `db`'s transaction.

    Returns their code, the consent page's result and their row id. `channel` is the
    channel link they came through (framelab.db.reach), fixed by the link itself.
    """
    ids = ids or PanelIds()
    code = new_participant_code()
    row = _enrolment(loaded, ids, source=source, language=language, now=now)
    row.update(code=code, rehearsal=rehearsal, duplicate=duplicate, channel_id=channel)
    row["panel_hash"] = None if duplicate else ids.person
    found = enrol(db, row, loaded)
    return code, _apply(db, found, "consent", form, now)[0], found.participant.id


def _enrolment(
    loaded: LoadedStudy, ids: PanelIds, *, source: str | None, language, now: datetime
) -> dict[str, object]:
    return {
        "study_id": loaded.id,
        "study_version_id": loaded.version_id,
        "spec_hash": loaded.spec_hash,
        "panel_study_hash": ids.study,
        "panel_session_hash": ids.session,
        "source": (source or "").strip()[:64] or ids.source,
        "language": newcomer_language(loaded.spec, language),
        "step": "consent",
        "status": "started",
        "pilot": loaded.status == "pilot",
        "attention_failed": False,
        "speeder": False,
        "honeypot": False,
        "started_at": now,
    }
