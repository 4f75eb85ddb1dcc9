"""The rehearsal report: the study's plan run on its simulated participants alone.

A design rehearsal (`framelab simulate`) shows what the locked plan's report will look
like. It analyses rehearsal rows only, through the same `report_inputs` as the real
report, and is stamped REHEARSAL (provenance `rehearsal`); it is not a look at real
results, so no target gate applies to it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from framelab.services.bundle import ReportUnavailable, missing_participants
from framelab.services.reporting import report_inputs

__all__ = ["rehearsal_report_html"]


def rehearsal_report_html(session: Session, slug: str, *, now: datetime) -> str:
    """The HTML rehearsal report of `slug`; ReportUnavailable without enough simulated rows."""
    from analysis.report import render_html
    from analysis.run import run

    inputs = report_inputs(session, slug, rehearsal=True, now=now)
    spec = inputs.loaded.spec
    if inputs.data.empty:
        raise ReportUnavailable(
            "there are no simulated participants (run `framelab simulate` first)", None
        )
    try:
        results = run(inputs.data, inputs.plan, provenance=inputs.provenance)
        return render_html(results, title=inputs.title)
    except ValueError as exc:  # numpy's LinAlgError is a ValueError too
        raise ReportUnavailable(str(exc), missing_participants(spec, inputs.data)) from exc
