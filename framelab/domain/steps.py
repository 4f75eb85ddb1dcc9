"""The participant step machine, pure: which page comes next and what a submission means.

consent -> screener -> pre -> message -> post -> intent -> debrief. `screener` (the
study's screening questions, framelab.domain.screening), `pre` and `intent` (post items
with role intent, on their own page after the other post items) are skipped when a
study has no such items; `screened_out` (consent refused), `ineligible` (screened out by
the screener), `over_quota` and `withdrawn` are terminal. A submission for
any step other than the participant's current one means nothing (it is stale), so
replays, double submits, the back button and skipping ahead by URL are harmless.

Nothing here reads or writes a database: `read_submission` says what a page's form
means for a participant on a step (the changes to make, the answers to store, or why
nothing is written), and the participant store (framelab.services.participant_store)
carries it out. Invalid answers are a value (`AnswerCheck.errors`), not an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from framelab.domain.errors import ValueProblem
from framelab.domain.panel import hand_back, outcome_for
from framelab.domain.screening import quota_cells, screens_out
from framelab.domain.study import Frame, Item
from framelab.domain.study import Study as StudySpec

STEPS = ("consent", "screener", "pre", "message", "post", "intent", "debrief")
TERMINAL_STEPS = ("screened_out", "ineligible", "over_quota", "withdrawn")
# Steps after which a participant has nothing left to do here (a shared phone may forget them).
FINISHED_STEPS = ("debrief", *TERMINAL_STEPS)
# The answer pages and the phase their answers are stored under.
ITEM_STEPS = {"screener": "pre", "pre": "pre", "post": "post", "intent": "post"}
HONEYPOT_FIELD = "website"

Answer = int | str


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
    # The debrief's follow-up link in a study with waves (participant_store.waves).
    follow_up: Any = None
    completion_code: str | None = None
    redirect_url: str | None = None
    pilot: bool = False
    # The valid answers kept from an earlier, unsubmitted post of this page (a draft).
    draft: Mapping[str, str] | None = None
    # What the page stands for to a panel (framelab.domain.panel.OUTCOMES), or None.
    outcome: str | None = None


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
    screened = spec.screener.items if spec.screener else []
    pre = tuple(i for i in spec.items_for("pre") if i.id not in screened)
    post = spec.items_for("post")
    items = {
        "screener": tuple(spec.item(i) for i in screened),
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


def next_step(spec: StudySpec, step: str) -> str:
    """The page after `step` (the debrief stays the debrief)."""
    steps = _plan(spec).steps
    return steps[min(steps.index(step) + 1, len(steps) - 1)]


def aware(now: datetime) -> datetime:
    """`now` with UTC attached when it has no time zone (SQLite gives naive datetimes)."""
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now


def _progress(spec: StudySpec, step: str) -> tuple[int, int]:
    steps = _plan(spec).steps
    return (steps.index(step) + 1, len(steps)) if step in steps else (len(steps), len(steps))


def page_state(participant: Any, spec: StudySpec, spec_hash: str, step: str, **kw) -> PageState:
    """The page of `step` for `participant` (None in a preview); `kw` are PageState fields."""
    frame = None
    arm = kw.pop("arm", None)
    if step == "message" and arm is not None:
        frame = spec.arm(arm).frame
    outcome = outcome_for(spec, step, attention_failed=kw.pop("attention_failed", False))
    code, redirect = hand_back(spec, outcome)
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
        completion_code=code,
        redirect_url=redirect,
        outcome=outcome,
        **kw,
    )


def participant_page_state(participant: Any, spec: StudySpec, spec_hash: str) -> PageState:
    """The current page of a participant row (step, language, status, arm, pilot)."""
    return page_state(
        participant,
        spec,
        spec_hash,
        participant.step,
        language=participant.language,
        status=participant.status,
        arm=participant.arm,
        pilot=participant.pilot,
        attention_failed=bool(participant.attention_failed),
    )


def preview_page(spec: StudySpec, step: str, *, language: str, arm: str | None = None) -> PageState:
    """A page as a participant would see it, built without a database (studio preview)."""
    if step not in STEPS + TERMINAL_STEPS:
        raise ValueError(
            f"step: {step!r} is not a step (steps: {', '.join(STEPS + TERMINAL_STEPS)})"
        )
    if step == "message" and arm is None:
        arm = spec.control_arm.id
    return page_state(
        None, spec, spec.content_hash(), step, language=language, status="preview", arm=arm
    )


@dataclass(frozen=True)
class AnswerCheck:
    """A page's answers checked by their items: stored values, or the problems found."""

    values: dict[str, Answer | None]
    errors: dict[str, ValueProblem]


def check_answers(items: Iterable[Item], answers: Mapping[str, str]) -> AnswerCheck:
    """Every item's stored value (None for a skipped optional item), or every item's problem.

    Each raw value goes through the item's own `validate_value` (the domain owns answer
    rules, so the participant pages and the studio preview agree).
    """
    values: dict[str, Answer | None] = {}
    errors: dict[str, ValueProblem] = {}
    for item in items:
        try:
            values[item.id] = item.validate_value(answers.get(item.id))
        except ValueProblem as problem:
            errors[item.id] = problem
    return AnswerCheck(values if not errors else {}, errors)


def rejected(step: str, items: Iterable[Item], form: Mapping[str, str], errors) -> SubmitResult:
    """The page again with its problems and the answers as typed."""
    kept = {i.id: str(form.get(i.id) or "") for i in items}
    return SubmitResult(ok=False, step=step, errors=dict(errors), values=kept)


def consent_answer(form: Mapping[str, str]) -> str | None:
    """'yes' or 'no' from a consent form; None when it says neither."""
    answer = (form.get("consent") or "").strip().lower()
    return answer if answer in ("yes", "no") else None


def consent_missing() -> SubmitResult:
    """The consent page again: it needs a yes or a no."""
    problem = ValueProblem("required", "consent: choose yes or no", {"item": "consent"})
    return SubmitResult(ok=False, step="consent", errors={"consent": problem})


def completion(started_at: datetime, spec: StudySpec, now: datetime) -> dict[str, object]:
    """The participant columns of reaching the debrief (status, duration, speeder flag)."""
    duration = max(0.0, (now - aware(started_at)).total_seconds())
    threshold = spec.quality.speeder_seconds
    return {
        "status": "completed",
        "completed_at": now,
        "duration_seconds": duration,
        "speeder": threshold is not None and duration < threshold,
    }


@dataclass(frozen=True)
class Submission:
    """What one page's form means for a participant.

    `result` alone (nothing else set) when nothing is to be written: a stale step or
    invalid answers. Otherwise `changes` are the participant columns to set, `answers`
    the values to store under `phase`, `assign` whether the participant is to be
    assigned now (with `block_value`, the blocking answer just given), and `result`
    what the participant is told once it is written.
    """

    result: SubmitResult
    changes: dict[str, object] = field(default_factory=dict)
    phase: str | None = None
    items: tuple[Item, ...] = ()
    answers: dict[str, Answer | None] | None = None
    assign: bool = False
    block_value: object = None
    completes: bool = False
    # The quota cells (variable, cell) this page's answers fall in: the store refuses the
    # participant as over quota when one is full (framelab.domain.screening).
    quota_cells: tuple[tuple[str, str], ...] = ()

    @property
    def writes(self) -> bool:
        return self.result.ok


def read_submission(
    spec: StudySpec,
    participant: Any,
    step: str,
    form: Mapping[str, str],
    *,
    now: datetime,
    checked: AnswerCheck | None = None,
) -> Submission:
    """What `form`, posted for `step`, means for `participant` (their row: step, arm, started_at).

    `checked` is the page's answers already checked for this spec and step (SQLite checks
    them before queueing for the write lock). The attention-check flag and the completion
    columns are not decided here: storing the answers and reaching the debrief add them.
    """
    current = participant.step
    if step != current or step not in STEPS or step == "debrief":
        return Submission(SubmitResult(ok=False, step=current, stale=True))
    changes: dict[str, object] = {}
    if (form.get(HONEYPOT_FIELD) or "").strip():
        changes["honeypot"] = True
    if step == "consent":
        answer = consent_answer(form)
        if answer is None:
            return Submission(consent_missing())
        if answer == "no":
            return turned_away(changes, "screened_out")
        changes["consented_at"] = now
    following = next_step(spec, step)
    items: tuple[Item, ...] = ()
    answers = None
    block_value = None
    cells: tuple[tuple[str, str], ...] = ()
    if step in ITEM_STEPS:
        items = _plan(spec).items[step]
        check = checked if checked is not None else check_answers(items, form)
        if check.errors:
            return Submission(rejected(step, items, form, check.errors))
        answers = check.values
        if step == "screener" and screens_out(spec, answers):
            return turned_away(changes, "ineligible")
        if step in ("screener", "pre") and spec.quota:
            cells = quota_cells(spec, answers)
        if step == "pre" and spec.design.scheme == "blocked" and spec.design.block_by:
            block_value = answers.get(spec.design.block_by)
    if following == "debrief":
        changes.update(completion(participant.started_at, spec, now))
    changes["step"] = following
    return Submission(
        SubmitResult(ok=True, step=following),
        changes,
        phase=ITEM_STEPS.get(step),
        items=items,
        answers=answers,
        assign=following == "message" and participant.arm is None,
        block_value=block_value,
        completes=following == "debrief",
        quota_cells=cells,
    )


def turned_away(changes: Mapping[str, object], step: str) -> Submission:
    """A participant let go, never assigned, on terminal `step` (no answer of theirs kept).

    `screened_out` is a refused consent, `ineligible` a screen-out by the screener and
    `over_quota` a full quota cell; all three have the status `screened_out`.
    """
    if step not in TERMINAL_STEPS or step == "withdrawn":
        raise ValueError(f"step: {step!r} is not a way to turn a participant away")
    changes = {**changes, "status": "screened_out", "step": step}
    return Submission(SubmitResult(ok=True, step=step), changes)
