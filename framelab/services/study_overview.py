"""The studio overview page in one call: the study as it stands after the target check,
its locks and participant count, its campaign and its review (each part a service of its
own; the view asks once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from framelab.db.session import reading
from framelab.services.campaigns import Campaign, campaign
from framelab.services.review import ReviewState, review_state
from framelab.services.study_drafts import LockState, lock_state
from framelab.services.study_lifecycle import close_if_target_reached
from framelab.services.study_versions import LoadedStudy, get_study


@dataclass(frozen=True)
class Overview:
    study: LoadedStudy
    lock: LockState
    campaign: Campaign
    review: ReviewState


def study_overview(session: Session, slug: str, *, now: datetime) -> Overview:
    """Close the study if it reached its target, then what the overview page shows."""
    close_if_target_reached(session, slug, now=now)
    with reading(session):
        study = get_study(session, slug)
    return Overview(
        study=study,
        lock=lock_state(session, slug),
        campaign=campaign(session, study.id),
        review=review_state(session, slug),
    )
