"""A study's participants as tidy and long tables, and the export files written from them.

`export_tidy` returns one row per participant with exactly the columns of the
codebook (framelab.services.codebook), so the analysis package, the codebook and
the labelled SPSS/Stata files always agree; `write_export` writes a table or the
codebook as a file (the writers are in framelab.services.export_files). The plan that
goes with an export is framelab.services.export_plan; the codebook with what the
database adds (observed codes, withdrawn counts) is framelab.services.export_codebook.
Every function here only reads, each in one `reading(session)` unit of work.

What an export reveals (docs/privacy.md):

- Times are rounded down to the hour (or the day: the study's
  `privacy.time_precision`) and durations are whole seconds: exact times would link
  a row to a panel's submission times or an SMS send log. What exact times were needed
  for is computed by the server before rounding (`after_lock`). Exact times are only
  in an audit export (`exact_times=True`), which the owner asks for explicitly and
  which the audit trail records (studio: owner only; CLI: `--exact-times`).
- Withdrawn participants are not rows (DECISIONS rule 7): the codebook counts them
  per arm, cells below `quality.min_cell_size` suppressed (`withdrawn_counts`). The
  report's own attrition figures still count them (`withdrawn=True`, server side).

Rehearsal (simulated) participants and real ones are never in the same export: by
default an export holds real participants only; `rehearsal=True` exports the
simulated ones alone (a rehearsal export). Every export has the `rehearsal` column,
so a file always says which kind of rows it holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.crypto import decrypt_text
from framelab.db.models import PageVisit, Participant, Response, Study, StudyVersion
from framelab.db.session import reading
from framelab.domain.study import Study as StudySpec
from framelab.services.codebook import (
    CATEGORY_COLUMNS,
    PHASES,
    codebook,
    codebook_markdown,
    factor_column,
    item_column,
)
from framelab.services.export_codebook import export_codebook
from framelab.services.export_files import EXPORT_FORMATS, LONG_COLUMNS, write_frame
from framelab.services.export_waves import WAVE_SOURCE, wave_long_rows, wave_values
from framelab.services.study_versions import get_study

__all__ = [
    "EXPORT_FORMATS",
    "coarse_time",
    "export_id",
    "export_long",
    "export_tidy",
    "write_export",
]


def export_id(salt: str, code: str) -> str:
    """The participant's id in exports: a keyed hash of their resume code, never the code itself.

    The code in a participant's link lets them resume (and withdraw); an export that
    carried it would let anyone holding the file act as that participant while the
    study runs. The per-study salt keys the hash, so ids differ across studies.
    """
    digest = hmac.new(salt.encode(), b"export:" + code.encode(), hashlib.sha256)
    return "p_" + digest.hexdigest()[:16]


def _export_ids(session: Session, study_id: int, people: list[Participant]) -> dict[int, str]:
    salt = session.scalar(sa.select(Study.salt).where(Study.id == study_id)) or ""
    return {p.id: export_id(salt, p.code) for p in people}


def _participants(
    session: Session, study_id: int, include_pilot: bool, rehearsal: bool, withdrawn: bool = False
) -> list[Participant]:
    # Duplicates (a repeat panel id, DECISIONS rule 5) are in no export.
    query = (
        sa.select(Participant)
        .where(
            Participant.study_id == study_id,
            Participant.rehearsal.is_(rehearsal),
            Participant.duplicate.is_(False),
        )
        .order_by(Participant.id)
    )
    if not include_pilot:
        query = query.where(Participant.pilot.is_(False))
    if not withdrawn:
        query = query.where(Participant.status != "withdrawn")
    return list(session.scalars(query))


def coarse_time(moment: datetime | None, precision: str) -> datetime | None:
    """`moment` rounded down to the hour or the day (UTC); None stays None."""
    if moment is None:
        return None
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if precision == "day" else moment


def _whole_seconds(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds)


def _plan_lock_times(session: Session, study_id: int) -> dict[int, datetime]:
    """Study version id -> when its analysis plan was locked (versions with a lock only)."""
    rows = session.execute(
        sa.select(StudyVersion.id, StudyVersion.plan_locked_at).where(
            StudyVersion.study_id == study_id, StudyVersion.plan_locked_at.is_not(None)
        )
    )
    return {version_id: locked_at for version_id, locked_at in rows}


def _answers(
    session: Session, ids: list[int], text: bool = True
) -> dict[int, dict[str, int | str]]:
    out: dict[int, dict[str, int | str]] = defaultdict(dict)
    if not ids:
        return out
    rows = session.execute(
        sa.select(
            Response.participant_id,
            Response.phase,
            Response.item_id,
            Response.value_int,
            Response.value_text,
        )
        .join(Participant, Participant.id == Response.participant_id)
        .where(Participant.id.in_(ids))
    )
    for pid, phase, item_id, value_int, value_text in rows:
        if value_int is None and not text:
            continue  # free text not asked for: never decrypted, so no key is needed
        # decrypt_text: free text may be encrypted at rest (framelab.crypto, FRAMELAB_TEXT_KEY).
        value = value_int if value_int is not None else decrypt_text(value_text)
        out[pid][item_column(phase, item_id)] = value
    return out


def _message_seconds(session: Session, ids: list[int]) -> dict[int, float]:
    if not ids:
        return {}
    rows = session.execute(
        sa.select(PageVisit.participant_id, PageVisit.seconds).where(
            PageVisit.participant_id.in_(ids), PageVisit.step == "message"
        )
    )
    return {pid: seconds for pid, seconds in rows if seconds is not None}


def _scale_value(spec: StudySpec, scale_items: list[str], phase: str, answers: dict) -> float:
    values = []
    for item_id in scale_items:
        value = answers.get(item_column(phase, item_id))
        if value is None:
            return np.nan
        item = spec.item(item_id)
        if item.type == "likert" and item.reverse:
            value = (item.points or 0) + 1 - value
        values.append(float(value))
    return float(np.mean(values))


def export_tidy(
    session: Session,
    slug: str,
    *,
    include_pilot: bool = False,
    rehearsal: bool = False,
    exact_times: bool = False,
    withdrawn: bool = False,
    text: bool = True,
) -> pd.DataFrame:
    """One row per participant, columns exactly as the codebook lists them.

    Real participants only, or with `rehearsal` the simulated ones only. Times are
    rounded down to the study's precision and durations to whole seconds unless
    `exact_times` (an audit export). Withdrawn participants are left out unless
    `withdrawn` (the report's attrition figures, never a file). Without `text` the
    free-text answers are left empty and never decrypted (a report reads no text, so it
    needs no FRAMELAB_TEXT_KEY).
    """
    with reading(session):
        loaded = get_study(session, slug)
        spec = loaded.spec
        book = codebook(spec, exact_times=exact_times)
        precision = spec.time_precision
        factors = {
            a.id: {factor_column(f): level for f, level in (a.factors or {}).items()}
            for a in spec.arms
        }
        people = _participants(session, loaded.id, include_pilot, rehearsal, withdrawn)
        ids = [p.id for p in people]
        answers = _answers(session, ids, text)
        message = _message_seconds(session, ids)
        pseudonyms = _export_ids(session, loaded.id, people)
        lock_times = _plan_lock_times(session, loaded.id)
        waves = wave_values(session, spec, people)
        data: dict[str, list[Any]] = {c["name"]: [] for c in book["columns"]}
        for person in people:
            row = answers.get(person.id, {})
            locked_at = lock_times.get(person.study_version_id)
            base = {
                "participant": pseudonyms[person.id],
                "arm": person.arm,
                "stratum": person.stratum,
                "source": person.source,
                "language": person.language,
                "status": person.status,
                "pilot": person.pilot,
                "rehearsal": person.rehearsal,
                "attention_failed": person.attention_failed,
                "speeder": person.speeder,
                "honeypot": person.honeypot,
                "spec_hash": person.spec_hash,
                # from the exact times, before any rounding
                "after_lock": locked_at is not None and person.started_at >= locked_at,
                "started_at": person.started_at,
                "assigned_at": person.assigned_at,
                "completed_at": person.completed_at,
                "duration_seconds": person.duration_seconds,
                "message_seconds": message.get(person.id),
            }
            if not exact_times:
                for name in ("started_at", "assigned_at", "completed_at"):
                    base[name] = coarse_time(base[name], precision)
                for name in ("duration_seconds", "message_seconds"):
                    base[name] = _whole_seconds(base[name])
            for name in CATEGORY_COLUMNS:
                # never an empty-text category: no value is a missing value
                base[name] = base[name] or None
            levels = factors.get(person.arm or "", {})
            for column in book["columns"]:
                name = column["name"]
                if column["source"] == "participant":
                    data[name].append(base[name])
                elif column["source"] == "design":
                    data[name].append(levels.get(name))
                elif column["source"] == "item":
                    data[name].append(row.get(name))
                elif column["source"] == WAVE_SOURCE:
                    data[name].append(waves.get(person.id, {}).get(name))
                else:
                    data[name].append(_scale_value(spec, column["items"], column["phase"], row))
        return pd.DataFrame(
            {c["name"]: _typed(data[c["name"]], c["type"]) for c in book["columns"]}
        )


def _typed(values: list[Any], kind: str) -> pd.Series:
    if kind == "boolean":
        return pd.Series(values, dtype=bool)
    if kind == "datetime":
        return pd.Series(pd.to_datetime(values, utc=True), dtype="datetime64[ns, UTC]")
    if kind in ("integer", "number"):
        # float64 so missing answers are NaN and the analysis package gets plain numbers.
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    return pd.Series(values, dtype="str")


def export_long(
    session: Session,
    slug: str,
    *,
    include_pilot: bool = False,
    rehearsal: bool = False,
    exact_times: bool = False,
) -> pd.DataFrame:
    """One row per stored answer: participant x item x phase, with arm, stratum and status.

    Real participants only, or with `rehearsal` the simulated ones only; `answered_at`
    rounded down to the study's precision unless `exact_times` (an audit export).
    """
    with reading(session):
        loaded = get_study(session, slug)
        spec = loaded.spec
        precision = None if exact_times else spec.time_precision
        people = {p.id: p for p in _participants(session, loaded.id, include_pilot, rehearsal)}
        pseudonyms = _export_ids(session, loaded.id, list(people.values()))
        order = {item.id: n for n, item in enumerate(spec.items)}
        rows = []
        if people:
            query = sa.select(Response).where(Response.participant_id.in_(list(people)))
            for r in session.scalars(query):
                person = people[r.participant_id]
                rows.append(
                    {
                        **_who(person, pseudonyms[person.id]),
                        "phase": r.phase,
                        "item": r.item_id,
                        "value": float(r.value_int) if r.value_int is not None else np.nan,
                        "value_text": decrypt_text(r.value_text),  # framelab.crypto
                        "answered_at": _coarse(r.answered_at, precision),
                        "_order": (
                            r.participant_id,
                            PHASES.index(r.phase),
                            order.get(r.item_id, 10**6),
                        ),
                    }
                )
        # Later waves' answers, with the wave's id as their phase (export_waves).
        for row in wave_long_rows(session, spec, people, lambda t: _coarse(t, precision)):
            person = row.pop("person")
            rows.append({**_who(person, pseudonyms[person.id]), **row})
        rows.sort(key=lambda r: r["_order"])
        return pd.DataFrame(
            {k: _typed([r[k] for r in rows], kind) for k, kind in LONG_COLUMNS.items()}
        )


def _who(person: Participant, pseudonym: str) -> dict[str, Any]:
    """The long export's columns about the participant of an answer."""
    return {
        "participant": pseudonym,
        "arm": person.arm,
        "stratum": person.stratum,
        "status": person.status,
        "pilot": person.pilot,
        "rehearsal": person.rehearsal,
    }


def _coarse(moment: datetime, precision: str | None) -> datetime | None:
    return moment if precision is None else coarse_time(moment, precision)


def write_export(
    session: Session,
    slug: str,
    fmt: str,
    path: Path,
    *,
    include_pilot: bool = False,
    rehearsal: bool = False,
    exact_times: bool = False,
) -> int:
    """Export study `slug` in `fmt` to `path`; returns the number of data rows written (0 for a codebook).

    With `rehearsal` the file holds the simulated participants only (a rehearsal export);
    with `exact_times` it is an audit export (the caller records it in the audit trail).
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(
            f"format: {fmt!r} is not an export format (expected one of: {', '.join(EXPORT_FORMATS)})"
        )
    path = Path(path)
    chosen = {"include_pilot": include_pilot, "rehearsal": rehearsal, "exact_times": exact_times}
    with reading(session):  # one snapshot: the codebook counts the rows the file holds
        spec = get_study(session, slug).spec
        book = export_codebook(session, slug, **chosen)
        if fmt == "long-csv":
            df = export_long(session, slug, **chosen)
        elif not fmt.startswith("codebook"):
            df = export_tidy(session, slug, **chosen)
    if fmt == "codebook-json":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(book, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return 0
    if fmt == "codebook-md":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(codebook_markdown(spec, book), encoding="utf-8")
        return 0
    write_frame(df, spec, fmt, path, book=book)
    return len(df)
