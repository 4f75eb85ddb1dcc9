"""The follow-up waves' columns of the tidy export, their codebook records and values.

Wave 1's columns stay as they are (`post_support`). Each later wave adds, after the
scales, one column per item it asks again, named `{wave}_{wave-1 column}`
(`w2_post_support`: empty when not answered), then `{wave}_returned`: 1 when the
participant answered that wave, 0 when they completed wave 1 and did not (yet), empty
for everyone who did not complete wave 1 (they were never asked). The analysis plan's
`waves` names the same wave-1 columns as items (framelab.services.export_plan), so
`analysis` finds `{wave}_{outcome}` for every outcome a wave asks again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.waves import WaveResponse, WaveReturn
from framelab.domain.study import Study as StudySpec
from framelab.domain.waves import Wave

__all__ = ["wave_column", "wave_long_rows", "wave_plan", "wave_records", "wave_values"]

WAVE_SOURCE = "wave"


def wave_column(wave_id: str, first_column: str) -> str:
    """A later wave's column of one item: the wave id before its wave-1 column."""
    return f"{wave_id}_{first_column}"


def returned_column(wave_id: str) -> str:
    """Whether a participant who completed wave 1 answered wave `wave_id` (1/0)."""
    return f"{wave_id}_returned"


def _first_column(item_id: str) -> str:
    # The codebook names columns and builds its records with wave_records: imported here,
    # when called, so the two modules do not import each other at load time.
    from framelab.services.codebook import item_column

    return item_column("post", item_id)


def wave_records(wave: Wave, item_records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The codebook records of one wave, from its items' wave-1 (post) records."""
    records = []
    opens = f"{wave.after_days} days after wave 1, open {wave.window_days} days"
    for first in item_records:
        record = dict(first)
        record.update(
            name=wave_column(wave.id, str(first["name"])),
            label=f"Wave {wave.id}: {first['label']}",
            source=WAVE_SOURCE,
            wave=wave.id,
            wave_1_column=first["name"],
            scales=[],
            coding=f"{first['coding']}; asked again in wave {wave.id} ({opens})",
            missing=(
                f"missing when the participant did not answer wave {wave.id} (never came "
                f"back, came back after the window, withdrew) or did not complete wave 1"
            ),
        )
        records.append(record)
    records.append(
        {
            "name": returned_column(wave.id),
            "label": f"Wave {wave.id}: answered the follow-up",
            "type": "integer",
            "source": WAVE_SOURCE,
            "wave": wave.id,
            "phase": wave.id,
            "allowed_values": [0, 1],
            "value_labels": {"0": "No", "1": "Yes"},
            "reverse": False,
            "scales": [],
            "value": None,
            "coding": (
                f"1 = answered wave {wave.id} ({opens}), 0 = completed wave 1 and did not "
                "answer it (yet)"
            ),
            "missing": "missing for participants who did not complete wave 1 (never asked)",
        }
    )
    return records


def wave_values(
    session: Session, spec: StudySpec, people: Iterable[Any]
) -> dict[int, dict[str, int | None]]:
    """Participant id -> the wave columns' values (inside the caller's read)."""
    waves = spec.waves or []
    people = list(people)
    if not waves or not people:
        return {}
    ids = [p.id for p in people]
    out: dict[int, dict[str, int | None]] = defaultdict(dict)
    first = {item.id: _first_column(item.id) for item in spec.items}
    for pid, wave_id, item_id, value in session.execute(
        sa.select(
            WaveResponse.participant_id,
            WaveResponse.wave_id,
            WaveResponse.item_id,
            WaveResponse.value_int,
        ).where(WaveResponse.participant_id.in_(ids))
    ):
        if item_id in first:
            out[pid][wave_column(wave_id, first[item_id])] = value
    came_back = {
        (pid, wave_id)
        for pid, wave_id in session.execute(
            sa.select(WaveReturn.participant_id, WaveReturn.wave_id).where(
                WaveReturn.participant_id.in_(ids)
            )
        )
    }
    for person in people:
        if person.status != "completed":
            continue
        for wave in waves:
            out[person.id][returned_column(wave.id)] = int((person.id, wave.id) in came_back)
    return out


def wave_plan(spec: StudySpec) -> list[dict[str, Any]]:
    """The plan's `waves`: each wave with its items named by their wave-1 columns."""
    return [
        {**wave.plan_dict(), "items": [_first_column(item) for item in wave.items]}
        for wave in spec.waves or []
    ]


def wave_long_rows(
    session: Session, spec: StudySpec, people: Mapping[int, Any], when: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    """The long export's rows of later waves' answers: `phase` is the wave id.

    `people` maps participant id -> their row (the export's participants only); `when`
    rounds an answer's time as the export does. Each row's `_order` sorts it after the
    participant's wave-1 answers, in wave and item order.
    """
    waves = [w.id for w in spec.waves or []]
    if not waves or not people:
        return []
    order = {item.id: n for n, item in enumerate(spec.items)}
    rows = []
    query = sa.select(WaveResponse).where(WaveResponse.participant_id.in_(list(people)))
    for answer in session.scalars(query):
        rows.append(
            {
                "person": people[answer.participant_id],
                "phase": answer.wave_id,
                "item": answer.item_id,
                "value": float("nan") if answer.value_int is None else float(answer.value_int),
                "value_text": None,
                "answered_at": when(answer.answered_at),
                "_order": (
                    answer.participant_id,
                    2 + (waves.index(answer.wave_id) if answer.wave_id in waves else len(waves)),
                    order.get(answer.item_id, 10**6),
                ),
            }
        )
    return rows
