"""Who is due for a follow-up wave now, as lists a campaign can send.

A participant is due for a wave while its window is open for them (framelab.domain.waves)
and they have not answered it: a real participant (not pilot, rehearsal, duplicate or
withdrawn) of any version of the campaign who completed wave 1, on the waves of their
own version (DECISIONS rule 1). Every list row carries the participant's personal
follow-up link, which opens the wave pages only:

- `due_panel`: the campaign uploads the panel ids it has (a CSV, e.g. Prolific's export);
  each is turned into its keyed pseudonym (HMAC under the pseudonym key with the study's
  salt, DECISIONS rule 6, as enrolment stored it) and the rows whose pseudonym is a due
  participant's come back. The uploaded ids are only ever in memory: framelab stores no
  raw panel id, and no pseudonym it did not already have.
- `due_invited`: the due participants who came through an invitation link (issue 21's
  invitation lists), with that link, so the campaign can match them to its contacts.
- `due_counts`: per wave, how many are due now and how many of them each list reaches.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import Participant, Study
from framelab.db.reach import Recipient
from framelab.db.session import reading
from framelab.db.waves import WaveLink, WaveReturn
from framelab.domain.steps import aware
from framelab.domain.waves import Window, window
from framelab.services.campaigns import campaign
from framelab.services.export_files import neutralise_formula
from framelab.services.pseudonyms import PseudonymKey
from framelab.services.recipient_lists import invitation_token
from framelab.services.study_versions import get_study, loaded_version

__all__ = ["Due", "due_counts", "due_csv", "due_invited", "due_panel"]


@dataclass(frozen=True)
class Due:
    """One participant due for one wave now: their follow-up token and the wave's window."""

    participant_id: int
    study_id: int
    token: str
    window: Window
    panel_hash: str | None


def _campaign_ids(session: Session, slug: str) -> list[int]:
    """Every version of the campaign `slug` belongs to (a participant stays on theirs)."""
    return [v.id for v in campaign(session, get_study(session, slug).id).versions]


def _due(session: Session, slug: str, now: datetime) -> Iterator[Due]:
    now = aware(now)
    query = (
        sa.select(Participant, WaveLink.token)
        .join(WaveLink, WaveLink.participant_id == Participant.id)
        .where(
            Participant.study_id.in_(_campaign_ids(session, slug)),
            Participant.status == "completed",
            Participant.pilot.is_(False),
            Participant.rehearsal.is_(False),
            Participant.duplicate.is_(False),
        )
        .order_by(Participant.id)
    )
    people = session.execute(query).all()
    came_back = {
        (pid, wave_id)
        for pid, wave_id in session.execute(
            sa.select(WaveReturn.participant_id, WaveReturn.wave_id).where(
                WaveReturn.participant_id.in_([p.id for p, _ in people])
            )
        )
    }
    specs: dict[int, object] = {}
    for person, token in people:
        if person.study_version_id not in specs:
            specs[person.study_version_id] = loaded_version(session, person.study_version_id).spec
        for wave in specs[person.study_version_id].waves or []:
            span = window(wave, aware(person.completed_at))
            if span.state(now) == "open" and (person.id, wave.id) not in came_back:
                yield Due(person.id, person.study_id, token, span, person.panel_hash)


def due_panel(
    session: Session,
    slug: str,
    panel_ids: Iterable[str],
    *,
    key: PseudonymKey,
    now: datetime,
) -> list[tuple[str, Due]]:
    """The uploaded panel ids that belong to participants due now, each with its due wave."""
    with reading(session):
        due = [d for d in _due(session, slug, now) if d.panel_hash is not None]
        salts = {
            study_id: salt
            for study_id, salt in session.execute(
                sa.select(Study.id, Study.salt).where(Study.id.in_({d.study_id for d in due}))
            )
        }
    by_hash: dict[tuple[int, str], list[Due]] = {}
    for d in due:
        by_hash.setdefault((d.study_id, str(d.panel_hash)), []).append(d)
    matched: list[tuple[str, Due]] = []
    for panel_id in dict.fromkeys(p.strip() for p in panel_ids if p.strip()):
        for study_id, salt in salts.items():
            for d in by_hash.get((study_id, key.pseudonym(salt, panel_id)), []):
                matched.append((panel_id, d))
    return matched


def due_invited(
    session: Session, slug: str, *, key: PseudonymKey, now: datetime
) -> list[tuple[str, Due]]:
    """The participants due now who came through an invitation link: (its token, due).

    The token is derived again from the recipient's nonce under the pseudonym key
    (framelab.services.recipient_lists), so the link is the one the campaign sent.
    """
    with reading(session):
        due = list(_due(session, slug, now))
        nonces = {
            pid: nonce
            for pid, nonce in session.execute(
                sa.select(Recipient.participant_id, Recipient.token_nonce).where(
                    Recipient.participant_id.in_([d.participant_id for d in due])
                )
            )
        }
    return [
        (invitation_token(key, nonces[d.participant_id]), d)
        for d in due
        if d.participant_id in nonces
    ]


def due_counts(session: Session, slug: str, *, now: datetime) -> dict[str, dict[str, int]]:
    """Per wave id: participants due now, and how many came with a panel id."""
    counts: dict[str, dict[str, int]] = {}
    with reading(session):
        for d in _due(session, slug, now):
            row = counts.setdefault(d.window.wave.id, {"due": 0, "panel": 0})
            row["due"] += 1
            row["panel"] += d.panel_hash is not None
    return counts


def due_csv(
    rows: Iterable[tuple[str, Due]], first: str, follow_up_link: Callable[[str], str]
) -> bytes:
    """A due list as CSV (UTF-8): `first` (the campaign's own key), follow_up_link, wave, closes.

    Text a spreadsheet would run as a formula is written with an apostrophe in front
    (DECISIONS rule 7's formula neutralisation; panel ids come from an upload).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([first, "follow_up_link", "wave", "window_closes"])
    for name, due in rows:
        writer.writerow(
            [
                neutralise_formula(name),
                follow_up_link(due.token),
                due.window.wave.id,
                due.window.closes.date().isoformat(),
            ]
        )
    return out.getvalue().encode("utf-8")
