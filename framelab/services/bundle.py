"""The studio's results report and the reproducible bundle (a zip an analyst can re-run).

The bundle holds: the tidy data (CSV and Parquet), the codebook (JSON and Markdown),
the study file (YAML), the locked analysis plan (the analysis package's plan dict plus
the lock hashes), the randomization seed, the software versions, and - once the planned
sample is reached - the report (HTML and results JSON). Pilot participants are left
out, as in the analysis.
"""

from __future__ import annotations

import io
import json
import platform
import threading
import zipfile
from collections import OrderedDict
from datetime import datetime
from importlib import metadata
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.models import StudyVersion
from framelab.services.codebook import codebook, codebook_markdown
from framelab.services.dashboard import dashboard
from framelab.services.export import analysis_plan, export_tidy
from framelab.services.studies import LoadedStudy

REPORT_CACHE_SIZE = 8
_report_cache: OrderedDict[tuple[str, int, int], str] = OrderedDict()
_cache_lock = threading.Lock()
SOFTWARE = ("framelab", "numpy", "pandas", "scipy", "statsmodels", "pyarrow", "pyreadstat")


def software_versions() -> dict[str, str]:
    """Versions of Python and the packages the data and analysis depend on."""
    versions = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def report_html(session: Session, loaded: LoadedStudy) -> str:
    """The HTML report (campaigner summary and analyst appendix) of the study's results.

    The analysis takes seconds, so the HTML is kept per process for the exact data it
    was computed from (spec hash + a hash of the tidy table); new data recompute it.
    """
    import pandas as pd

    from analysis.report import render_html
    from analysis.run import run

    df = export_tidy(session, loaded.slug)
    # End the read before the slow analysis: on SQLite an open transaction holds the
    # write lock that participants' answers need.
    session.rollback()
    key = (loaded.spec_hash, int(pd.util.hash_pandas_object(df, index=False).sum()), len(df))
    with _cache_lock:
        if key in _report_cache:
            _report_cache.move_to_end(key)
            return _report_cache[key]
    provenance = {
        "study": loaded.slug,
        "version": loaded.version,
        "spec_hash": loaded.spec_hash,
        "seed": loaded.spec.design.seed,
    }
    results = run(df, analysis_plan(loaded.spec), provenance=provenance)
    html = render_html(
        results, title=loaded.spec.text(loaded.spec.title, loaded.spec.default_language)
    )
    with _cache_lock:
        _report_cache[key] = html
        while len(_report_cache) > REPORT_CACHE_SIZE:
            _report_cache.popitem(last=False)
    return html


def _lock_record(session: Session, loaded: LoadedStudy) -> dict[str, Any]:
    version = session.scalar(sa.select(StudyVersion).where(StudyVersion.id == loaded.version_id))
    return {
        "study": loaded.slug,
        "version": loaded.version,
        "status": loaded.status,
        "spec_hash": loaded.spec_hash,
        "locked_at": version.locked_at.isoformat() if version.locked_at else None,
        "frames_hash": version.frames_hash,
        "items_hash": version.items_hash,
        "design_hash": version.design_hash,
        "plan_hash": version.plan_hash,
    }


def build_bundle(session: Session, loaded: LoadedStudy, *, now: datetime | None = None) -> bytes:
    """The reproducible bundle of a study as zip bytes."""
    spec = loaded.spec
    lock = _lock_record(session, loaded)
    gate = dashboard(session, loaded)
    df = export_tidy(session, loaded.slug)
    session.rollback()  # as in report_html: nothing below needs the database
    files: dict[str, bytes] = {
        "data/tidy.csv": df.to_csv(index=False).encode("utf-8"),
        "codebook.json": _json(codebook(spec)),
        "codebook.md": codebook_markdown(spec).encode("utf-8"),
        "study.yaml": spec.to_yaml().encode("utf-8"),
        "analysis_plan.json": _json(analysis_plan(spec)),
        "lock.json": _json(lock),
        "seed.txt": f"{spec.design.seed}\n".encode(),
        "software.json": _json(software_versions()),
    }
    parquet = io.BytesIO()
    df.to_parquet(parquet, index=False)
    files["data/tidy.parquet"] = parquet.getvalue()
    if gate.results_visible:
        from analysis.report import render_html
        from analysis.run import run

        results = run(df, analysis_plan(spec), provenance={"spec_hash": loaded.spec_hash})
        files["report/results.json"] = _json(results)
        files["report/index.html"] = render_html(
            results, title=spec.text(spec.title, spec.default_language)
        ).encode("utf-8")
        report_note = "report/index.html: the report of the locked plan on this data."
    else:
        report_note = f"No report yet: {gate.results_reason}"
    files["README.txt"] = _readme(loaded, len(df), report_note, now).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"{loaded.slug}/{name}", content)
    return buffer.getvalue()


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _readme(loaded: LoadedStudy, rows: int, report_note: str, now: datetime | None) -> str:
    when = f" on {now.isoformat()}" if now else ""
    return (
        f"framelab bundle of study {loaded.slug}, version {loaded.version}{when}\n"
        f"spec_hash {loaded.spec_hash}\n\n"
        f"data/tidy.csv, data/tidy.parquet: {rows} participants (pilot participants left out)\n"
        "codebook.json, codebook.md: every column, its question and its coding\n"
        "study.yaml: the study file; analysis_plan.json: the locked analysis plan;\n"
        "lock.json: when the study was locked and the hashes of its locked parts\n"
        "seed.txt: the randomization seed; software.json: the versions used\n"
        f"{report_note}\n\n"
        "Re-run: python -m analysis report data/tidy.csv --plan analysis_plan.json --out report\n"
    )
