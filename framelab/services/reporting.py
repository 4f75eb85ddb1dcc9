"""What a report of a study analyses: the tidy data, the plan and where both came from.

The command line (`framelab report`) and the studio (report page, bundle) build their
reports from `report_inputs`, so every report of a study states the same provenance,
including the plan lock the report's "pre-registered" wording rests on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from framelab.db.models import StudyVersion
from framelab.db.session import reading
from framelab.services.codebook import item_column
from framelab.services.dashboard import is_interim
from framelab.services.export import export_tidy
from framelab.services.export_plan import analysis_plan
from framelab.services.study_versions import LoadedStudy, get_study, lock_hashes

__all__ = ["ReportInputs", "lock_provenance", "plan_for_report", "report_inputs"]


@dataclass(frozen=True)
class ReportInputs:
    """The tidy table, the analysis plan, the provenance and the title of one report."""

    loaded: LoadedStudy
    data: pd.DataFrame
    plan: dict[str, Any]
    provenance: dict[str, Any]

    @property
    def title(self) -> str:
        spec = self.loaded.spec
        return spec.text(spec.title, spec.default_language)

    @property
    def languages(self) -> list[str]:
        return list(self.loaded.spec.languages)

    def data_file(self) -> pd.DataFrame:
        """The table written beside a report as data.csv: every exported participant the
        analysis read (excluded ones too, with the flags that exclude them), without the
        withdrawn (counted in the report, never in a file) and without free-text answers."""
        spec = self.loaded.spec
        text = {
            item_column(phase, item.id)
            for phase in ("pre", "post")
            for item in spec.items_for(phase)
            if item.type == "text"
        }
        rows = self.data[self.data["status"] != "withdrawn"] if len(self.data) else self.data
        return rows.drop(columns=[c for c in rows.columns if c in text]).reset_index(drop=True)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def lock_provenance(version: StudyVersion, spec: Any) -> dict[str, Any]:
    """The plan lock of a study version as the report reads it (empty when never locked).

    ``matches`` says whether the plan being analysed is the one whose hash was locked;
    ``study_plan_hash`` is the analysed study's plan hashed as the lock hashed it (the
    SHA-256 of the study's `analysis` section), so the report shows two comparable hashes.
    """
    if version.plan_hash is None:
        return {}
    now = lock_hashes(spec)["plan"]
    return {
        "plan_hash": version.plan_hash,
        "study_plan_hash": now,
        "locked_at": _iso(version.plan_locked_at),
        "launched_at": _iso(version.locked_at),
        "matches": now == version.plan_hash,
    }


def plan_for_report(plan: dict[str, Any], *, include_pilot: bool) -> dict[str, Any]:
    """The study's analysis plan; with include_pilot its pilot exclusion is lifted."""
    if not include_pilot:
        return plan
    exclude = {k: v for k, v in dict(plan.get("exclude") or {}).items() if k != "pilot"}
    return {**plan, "exclude": exclude}


def report_inputs(
    session: Session,
    slug: str,
    *,
    include_pilot: bool = False,
    rehearsal: bool = False,
    text: bool = True,
    now: datetime,
) -> ReportInputs:
    """Export the study and gather its plan and provenance (raises StudyNotFound).

    Real participants only; with `rehearsal` the simulated participants only (a
    rehearsal report, marked ``provenance["rehearsal"]`` so the report says so).
    Without `text` free-text answers are not read (no FRAMELAB_TEXT_KEY needed).
    """
    # One read, ended before the slow analysis.
    with reading(session):
        loaded = get_study(session, slug)
        # Withdrawn participants stay in for the report's attrition figures (never in a file).
        data = export_tidy(
            session,
            slug,
            include_pilot=include_pilot,
            rehearsal=rehearsal,
            withdrawn=True,
            text=text,
        )
        version = session.get(StudyVersion, loaded.version_id)
        spec = loaded.spec
        provenance = {
            "study": loaded.slug,
            "study_version": loaded.version,
            "study_status": loaded.status,
            "spec_hash": loaded.spec_hash,
            "design_seed": spec.design.seed,
            "exported_at": now.isoformat(timespec="seconds"),
            "include_pilot": include_pilot,
            "lock": lock_provenance(version, spec),
        }
        if rehearsal:
            provenance["rehearsal"] = True
        else:  # short of the locked target: only the anytime-valid inference (DECISIONS rule 3)
            provenance["interim"] = is_interim(session, loaded)
    plan = plan_for_report(analysis_plan(spec), include_pilot=include_pilot)
    return ReportInputs(loaded, data, plan, provenance)
