"""When a live study reaches its target sample: the count, the current target, the close.

The completion that reaches the target closes the study on the participant hot path
(framelab.services.participant_store.studies.close_at_target, on a direct connection);
the studio checks the same through the Session (`close_at_target_in_session`, called by
study_lifecycle.close_if_target_reached) for a target the owner changed since. Both run
these statements and `target_reached`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import Participant, Study, StudyVersion
from framelab.services.study_versions import version_spec

# A study's completed real participants (the target counts these).
COMPLETED_COUNT = (
    sa.select(sa.func.count())
    .select_from(Participant)
    .where(
        Participant.study_id == sa.bindparam("study_id"),
        Participant.status == "completed",
        Participant.pilot == sa.bindparam("pilot"),
        # simulated participants (rehearsal rows) and duplicates never count towards a target
        Participant.rehearsal.is_(False),
        Participant.duplicate.is_(False),
    )
)
# The study's current version: a target raised after launch is a new version, and the
# completion of someone still on an earlier one must not close at the earlier target.
CURRENT_VERSION = (
    sa.select(StudyVersion.id, StudyVersion.spec_hash)
    .join(
        Study,
        sa.and_(Study.id == StudyVersion.study_id, Study.current_version == StudyVersion.version),
    )
    .where(Study.id == sa.bindparam("study_id"))
)
CLOSE_LIVE = (
    sa.update(Study)
    .where(Study.id == sa.bindparam("study_id"), Study.status == "live")
    .values(
        status="closed", updated_at=sa.bindparam("now", type_=Study.__table__.c.updated_at.type)
    )
)


def target_reached(done: int, target: int, current_target: Callable[[], int | None]) -> bool:
    """Whether `done` completions close a live study whose participants' version says `target`.

    Reached `target` (the participant's version's): the study's current target decides,
    which is higher when the owner raised it after launch (DECISIONS rule 2).
    """
    if done < target:
        return False
    latest = current_target()
    return latest is None or done >= latest


def close_at_target_in_session(
    session: Session, study_id: int, target: int, *, now: datetime
) -> bool:
    """Close a live study once its completed real participants reach `target` (in a writing block).

    Real: neither pilot nor rehearsal (simulated) participants, nor duplicates. The
    completion that reaches the target closes the study on the participant hot path
    (participant_store.studies.close_at_target); this is the same check through the
    Session, for the studio. Returns whether this call closed it.
    """
    done = session.scalar(COMPLETED_COUNT, {"study_id": study_id, "pilot": False}) or 0

    def current_target() -> int | None:
        current = session.execute(CURRENT_VERSION, {"study_id": study_id}).one_or_none()
        return None if current is None else version_spec(session, *current).target_n

    if not target_reached(done, target, current_target):
        return False
    session.execute(CLOSE_LIVE, {"study_id": study_id, "now": now})
    return True
