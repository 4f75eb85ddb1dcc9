"""Which study and language a page on a study's address speaks, when the page itself cannot say.

Error pages (a participant code that does not exist, an expired form, a closed study)
are drawn without a page state; they still speak the participant's language, or the
study's, with the study's interface strings. Services take a Session and never import
Flask.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import Participant
from framelab.db.session import reading
from framelab.domain.study import Study as StudySpec
from framelab.services.study_versions import StudyNotFound, get_study, loaded_version


def study_language(
    session: Session, slug: str, code: str | None = None
) -> tuple[StudySpec, str | None] | None:
    """The spec a page of `slug` shows (the participant's version) and their language.

    None for an unknown study; the language is None when `code` is not a participant of it.
    """
    session.rollback()  # error path: the page may follow a failed transaction
    try:
        with reading(session):
            loaded = get_study(session, slug)
            if not code:
                return loaded.spec, None
            row = session.execute(
                sa.select(Participant.study_version_id, Participant.language).where(
                    Participant.code == code, Participant.study_id == loaded.id
                )
            ).one_or_none()
            if row is None:
                return loaded.spec, None
            return loaded_version(session, row.study_version_id).spec, row.language
    except StudyNotFound:
        return None
