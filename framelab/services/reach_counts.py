"""The dashboard's reach tables: arrivals and answers per channel link, response per invitation list.

Counted over the whole campaign (DECISIONS rule 1: the campaign owns its links), real
participants only (no pilot, rehearsal or duplicate), with the study's minimum cell
size as everywhere on the dashboard (framelab.domain.disclosure):

- Per channel link: `opened` is the link's bare counter of openings (it counts link
  previews and repeat visits too, and says nothing about anyone). Consented,
  completed and not finished (consented, neither completed, withdrawn nor screened
  out: still going or dropped out) are counts of people, so each column moves in
  whole batches of the minimum cell size and small cells are hidden, with a row for
  everyone who came another way, so that the rows add up to the funnel's total.
- Per invitation list: the list's size (the campaign uploaded it) and how many of its
  recipients consented and completed, shown as a band of the minimum cell size
  ("10-14"), "fewer than N", or 0; a list smaller than the minimum shows no response
  at all. Lists overlap (a contact in two lists is one recipient), so they are not
  summed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import Participant, Study
from framelab.db.reach import ChannelLink, Recipient, RecipientList, RecipientListEntry
from framelab.db.session import reading
from framelab.domain.disclosure import HIDDEN, Cell, protect_counts, released_counts
from framelab.services.study_versions import LoadedStudy

CHANNEL_COLUMNS = ("consented", "completed", "not_finished")
OTHER_WAYS = "Another way (study link, invitations, panels)"
_OTHER = "other"  # the group of everyone who came another way


@dataclass(frozen=True)
class ChannelRow:
    name: str
    source: str
    opened: int | None  # None: the row of everyone who came another way
    cells: tuple[Cell, ...]  # CHANNEL_COLUMNS


@dataclass(frozen=True)
class ListRow:
    name: str
    invited: int
    consented: Cell
    completed: Cell
    rate: str  # consented / invited, as far as the band tells


@dataclass(frozen=True)
class ReachTables:
    channels: tuple[ChannelRow, ...] = ()
    lists: tuple[ListRow, ...] = ()


NO_REACH = ReachTables()  # a campaign without channel links or lists

_COLUMN_EVENTS: dict[str, Callable[[sa.Row], datetime | None]] = {
    "consented": lambda r: r.consented_at,
    "completed": lambda r: r.completed_at if r.status == "completed" else None,
    "not_finished": lambda r: (
        r.consented_at if r.status not in ("completed", "withdrawn", "screened_out") else None
    ),
}


def _campaign_people(session: Session, root: int) -> list[sa.Row]:
    return session.execute(
        sa.select(
            Participant.id,
            Participant.channel_id,
            Participant.status,
            Participant.consented_at,
            Participant.completed_at,
        )
        .join(Study, Study.id == Participant.study_id)
        .where(
            sa.func.coalesce(Study.campaign_id, Study.id) == root,
            Participant.pilot.is_(False),
            Participant.rehearsal.is_(False),
            Participant.duplicate.is_(False),
        )
    ).all()


def _channel_rows(links: list, people: list[sa.Row], minimum: int) -> tuple[ChannelRow, ...]:
    ids = {link.id for link in links}
    groups = [*(link.id for link in links), _OTHER]
    columns = []
    for name in CHANNEL_COLUMNS:
        event = _COLUMN_EVENTS[name]
        arrivals = [
            ((moment, r.id), r.channel_id if r.channel_id in ids else _OTHER)
            for r in people
            if (moment := event(r)) is not None
        ]
        counts = released_counts(arrivals, minimum)
        columns.append(protect_counts([counts.get(g, 0) for g in groups], minimum))
    rows = [
        ChannelRow(link.name, link.source, link.opened, tuple(c[i] for c in columns))
        for i, link in enumerate(links)
    ]
    rows.append(ChannelRow(OTHER_WAYS, "", None, tuple(c[-1] for c in columns)))
    return tuple(rows)


def band(count: int, minimum: int) -> Cell:
    """A count shown as a band of `minimum` ("10-14"), "fewer than N" or 0."""
    if minimum <= 1 or count == 0:
        return Cell(count, str(count))
    if count < minimum:
        return Cell(None, f"fewer than {minimum}")
    low = minimum * (count // minimum)
    return Cell(low, f"{low}–{low + minimum - 1}")


def _rate(cell: Cell, count: int, invited: int, minimum: int) -> str:
    if cell.value is None:
        return f"under {100 * minimum / invited:.0f}%"
    high = min(invited, cell.value + minimum - 1) if minimum > 1 and count else cell.value
    if high == cell.value:
        return f"{100 * cell.value / invited:.0f}%"
    return f"{100 * cell.value / invited:.0f}–{100 * high / invited:.0f}%"


def _list_rows(session: Session, root: int, people: list[sa.Row], minimum: int):
    by_id = {r.id: r for r in people}
    sizes = session.execute(
        sa.select(RecipientList.id, RecipientList.name, Recipient.participant_id)
        .join(RecipientListEntry, RecipientListEntry.list_id == RecipientList.id)
        .join(Recipient, Recipient.id == RecipientListEntry.recipient_id)
        .where(RecipientList.study_id == root)
        .order_by(RecipientList.id)
    ).all()
    lists: dict[int, tuple[str, list]] = {}
    for list_id, name, pid in sizes:
        lists.setdefault(list_id, (name, []))[1].append(by_id.get(pid))
    rows = []
    for name, members in lists.values():
        invited = len(members)
        consented = sum(1 for r in members if r is not None and r.consented_at is not None)
        completed = sum(1 for r in members if r is not None and r.status == "completed")
        if invited < minimum:
            hidden = Cell(None, HIDDEN)
            rows.append(
                ListRow(name, invited, hidden, hidden, f"{HIDDEN} (under {minimum} invited)")
            )
            continue
        shown = band(consented, minimum)
        rows.append(
            ListRow(
                name,
                invited,
                shown,
                band(completed, minimum),
                _rate(shown, consented, invited, minimum),
            )
        )
    return tuple(rows)


def reach_tables(session: Session, loaded: LoadedStudy) -> ReachTables:
    """The campaign's channel and list tables for the dashboard of `loaded` (empty: none)."""
    minimum = loaded.spec.quality.min_cell_size
    with reading(session):
        root = session.get(Study, loaded.id).campaign_root_id
        links = session.scalars(
            sa.select(ChannelLink).where(ChannelLink.study_id == root).order_by(ChannelLink.id)
        ).all()
        has_lists = session.scalar(
            sa.select(RecipientList.id).where(RecipientList.study_id == root).limit(1)
        )
        if not links and has_lists is None:
            return NO_REACH
        people = _campaign_people(session, root)
        channels = _channel_rows(list(links), people, minimum) if links else ()
        lists = _list_rows(session, root, people, minimum) if has_lists is not None else ()
    return ReachTables(channels, lists)
