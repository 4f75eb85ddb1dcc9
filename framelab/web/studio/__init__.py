"""Campaigner studio: accounts, study editor, confound check, preview, lifecycle,
power planner, dashboard and downloads. Registered in create_app as `bp`.

Every route but login/logout is behind `require_role` (framelab.web.studio.auth).
"""

from __future__ import annotations

from framelab.web.studio import (
    auth,
    views_accounts,
    views_edit,
    views_frames,
    views_languages,
    views_launch,
    views_library,
    views_preview,
    views_questions,
    views_reach,
    views_review,
    views_run,
    views_scales,
    views_screening,
    views_studies,
    views_waves,
)
from framelab.web.studio.blueprint import bp

__all__ = [
    "auth",
    "bp",
    "views_accounts",
    "views_edit",
    "views_frames",
    "views_languages",
    "views_launch",
    "views_library",
    "views_preview",
    "views_questions",
    "views_reach",
    "views_review",
    "views_run",
    "views_scales",
    "views_screening",
    "views_studies",
    "views_waves",
]
