"""The dashboard's live view: anytime-valid results of a study that is still collecting.

`live_results` runs the locked plan on the study's data in interim mode: the results
carry `meta.interim` and, as their only inference, the `sequential` section of
`analysis.sequential` (per frame: the confidence sequence at each drawn look, the
current anytime-valid p-value and what the declared stopping rule implies). A
campaigner may look as often as they like; the decision is advice that leads to the
owner's confirmed close (DECISIONS rule 2). With `rehearsal` the simulated
participants alone are analysed, stamped REHEARSAL (DECISIONS rule 4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from framelab.services.bundle import analyse_inputs
from framelab.services.reporting import report_inputs
from framelab.services.study_versions import LoadedStudy

__all__ = ["LiveResults", "live_results"]


@dataclass(frozen=True)
class LiveResults:
    """The interim results document of a study (or of its rehearsal) and its report."""

    rehearsal: bool
    results: dict[str, Any]
    html: str

    @property
    def sequential(self) -> list[dict[str, Any]]:
        return list(self.results.get("sequential") or [])

    @property
    def max_n(self) -> int | None:
        return ((self.results.get("meta") or {}).get("monitoring") or {}).get("max_n")

    @property
    def monitoring(self) -> dict[str, Any] | None:
        return (self.results.get("meta") or {}).get("monitoring")


def live_results(
    session: Session, loaded: LoadedStudy, *, rehearsal: bool = False, now: datetime
) -> LiveResults | None:
    """The interim (anytime-valid) results now; None while there are no participants to analyse.

    Raises ReportUnavailable when the analysis refuses the data.
    """
    inputs = report_inputs(session, loaded.slug, rehearsal=rehearsal, now=now)
    if inputs.data.empty or not (inputs.data["status"] == "completed").any():
        return None
    plan = dict(inputs.plan)
    if "monitoring" in plan and plan["monitoring"].get("max_n") is None:
        plan["monitoring"] = {**plan["monitoring"], "max_n": loaded.spec.target_n}
    inputs = replace(inputs, plan=plan, provenance={**inputs.provenance, "interim": True})
    results, html = analyse_inputs(inputs)
    return LiveResults(rehearsal=rehearsal, results=results, html=html)
