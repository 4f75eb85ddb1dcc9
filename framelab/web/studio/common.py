"""Small helpers shared by the studio views (no queries, no commits)."""

from __future__ import annotations

from typing import Any

from flask import g, render_template
from sqlalchemy.orm import Session

from framelab.domain.names import arm_name, text_name
from framelab.services.study_versions import LoadedStudy
from framelab.web.database import db_session

NAV = (
    ("studio.overview", "Overview"),
    ("studio.frames", "Frames"),
    ("studio.texts", "Texts"),
    ("studio.questions", "Questions"),
    ("studio.scales", "Scales"),
    ("studio.languages", "Languages"),
    ("studio.design", "Design"),
    ("studio.screening", "Screening"),
    ("studio.plan", "Analysis plan"),
    ("studio.yaml_editor", "Study file"),
    ("studio.power", "Power"),
    ("studio.review_page", "Review"),
    ("studio.reach", "Reach"),
    ("studio.dashboard", "Dashboard"),
    ("studio.downloads", "Downloads"),
    ("studio.members", "Members"),
)


def session() -> Session:
    """The request's database session."""
    return db_session()


def render_study(template: str, study: LoadedStudy, active: str, **context: Any) -> str:
    """A studio page about one study, with its navigation and the names people read for
    its arms and texts (`arm_name(arm_id)`, `text_name(key)`), never their ids."""
    spec = study.spec
    return render_template(
        template,
        study=study,
        spec=spec,
        nav=NAV,
        active=active,
        role=g.get("role"),
        arm_name=lambda arm_id, lang=None: arm_name(spec, arm_id, lang),
        text_name=lambda key: text_name(spec, key),
        **context,
    )
