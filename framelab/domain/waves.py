"""Follow-up waves, pure: the study's `waves` and `follow_up`, their checks and windows.

A study may ask some of its outcomes again days later (issue 21)::

    waves:
      - {id: w2, after_days: 7, items: [support, join_sms], window_days: 7}
    follow_up: code        # or: invitation

Wave 1 is the study itself. A later wave opens `after_days` days after the participant
completed wave 1 and stays open `window_days` days. `follow_up` says what the debrief
gives the participant: `code` (the default) a personal follow-up link, with its code, to
keep; `invitation` no link, only the date from which the campaign may invite them (the
campaign's "due" list hands out the same personal links, framelab.services.waves).
Either way the link opens the wave pages only: it may resume, it never withdraws
(DECISIONS rule 5).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from framelab.domain.items import DomainModel, check_identifier

if TYPE_CHECKING:
    from framelab.domain.study_fields import StudyFields

FOLLOW_UP_CHOICES = ("code", "invitation")
# Names a later wave cannot take: wave 1 is the study itself, and `pre_x`/`post_x` are
# wave 1's export columns (a wave's are `{wave}_{item}`).
RESERVED_WAVE_IDS = ("w1", "pre", "post", "scale")
MAX_WAVE_DAYS = 3650
MAX_WAVE_ID = 16
WAVE_ROLES = ("outcome", "intent")


class Wave(DomainModel):
    """One follow-up wave: which outcomes are asked again, when, and for how long."""

    id: str
    after_days: int = Field(ge=1, le=MAX_WAVE_DAYS)
    window_days: int = Field(ge=1, le=MAX_WAVE_DAYS)
    items: list[str] = Field(min_length=1)

    @field_validator("id", mode="before")
    @classmethod
    def _check_id(cls, value: Any) -> str:
        ident = check_identifier(value)
        if len(ident) > MAX_WAVE_ID:
            raise ValueError(f"expected at most {MAX_WAVE_ID} characters, got {len(ident)}")
        if ident in RESERVED_WAVE_IDS:
            raise ValueError(
                f"'{ident}' is reserved ({', '.join(RESERVED_WAVE_IDS)}): wave 1 is the study "
                "itself; name later waves w2, w3, ..."
            )
        return ident

    def plan_dict(self) -> dict[str, Any]:
        """The wave as the analysis plan carries it."""
        return {
            "id": self.id,
            "after_days": self.after_days,
            "items": list(self.items),
            "window_days": self.window_days,
        }


FollowUp = Literal["code", "invitation"]


def wave_problems(study: StudyFields) -> list[tuple[str, str]]:
    """Every problem of the study's waves as (location, message)."""
    waves = study.waves or []
    problems: list[tuple[str, str]] = []
    if study.follow_up is not None and not waves:
        problems.append(("follow_up", "follow_up needs waves (there is no follow-up to come to)"))
    items = {i.id: i for i in study.items}
    names = {*items, *(s.id for s in study.scales)}
    first: dict[str, int] = {}
    for i, wave in enumerate(waves):
        loc = f"waves[{i}]"
        if wave.id in first:
            problems.append(
                (f"{loc}.id", f"duplicate id '{wave.id}' (also waves[{first[wave.id]}])")
            )
        first.setdefault(wave.id, i)
        if wave.id in names:
            problems.append(
                (
                    f"{loc}.id",
                    f"'{wave.id}' is already an item or scale id; waves need names of their own",
                )
            )
        if i and wave.after_days <= waves[i - 1].after_days:
            problems.append(
                (
                    f"{loc}.after_days",
                    f"{wave.after_days} days is not after the previous wave's "
                    f"{waves[i - 1].after_days}; list waves in the order they come",
                )
            )
        for j, item_id in enumerate(wave.items):
            item = items.get(item_id)
            where = f"{loc}.items[{j}]"
            if item is None:
                problems.append((where, f"'{item_id}' is not an item (items: {', '.join(items)})"))
            elif item.role not in WAVE_ROLES or item.type == "text" or not item.in_phase("post"):
                problems.append(
                    (
                        where,
                        f"'{item_id}' is a {item.role} item; a wave asks again outcome or intent "
                        "items measured after the message (not free text)",
                    )
                )
            if item_id in wave.items[:j]:
                problems.append((where, f"'{item_id}' is listed twice"))
    return problems


# ---------------------------------------------------------------- windows


@dataclass(frozen=True)
class Window:
    """When one wave is open for one participant: [opens, closes)."""

    wave: Wave
    opens: datetime
    closes: datetime

    def state(self, now: datetime) -> str:
        """'early', 'open' or 'closed' at `now`."""
        if now < self.opens:
            return "early"
        return "open" if now < self.closes else "closed"


def window(wave: Wave, completed_at: datetime) -> Window:
    """The wave's window for a participant who completed wave 1 at `completed_at`."""
    opens = completed_at + timedelta(days=wave.after_days)
    return Window(wave, opens, opens + timedelta(days=wave.window_days))


@dataclass(frozen=True)
class WaveVisit:
    """What a follow-up link shows at a moment.

    `kind`: 'open' (the wave's questions), 'early' (come back at `window.opens`),
    'done' (every wave answered), 'closed' (nothing left to answer).
    """

    kind: str
    window: Window | None = None


def wave_visit(
    waves: Sequence[Wave], completed_at: datetime, returned: Collection[str], now: datetime
) -> WaveVisit:
    """The wave a participant's follow-up link shows now.

    The first wave not yet answered whose window has not closed: its questions when it is
    open, a come-back page before; when none is left, 'done' if every wave was
    answered, else 'closed'.
    """
    for wave in waves:
        if wave.id in returned:
            continue
        span = window(wave, completed_at)
        state = span.state(now)
        if state != "closed":
            return WaveVisit(state, span)
    if all(w.id in returned for w in waves):
        return WaveVisit("done")
    return WaveVisit("closed")


def next_window(waves: Sequence[Wave], completed_at: datetime, now: datetime) -> Window | None:
    """The first wave whose window has not closed at `now` (the debrief's date), if any."""
    for wave in waves:
        span = window(wave, completed_at)
        if span.state(now) != "closed":
            return span
    return None
