"""The studio's results report and the reproducible bundle (a zip an analyst can re-run).

The bundle holds: the tidy data (CSV and Parquet, times rounded as in every export,
withdrawn participants only as counts per arm in the codebook), the codebook (JSON and
Markdown), the study file (YAML), the locked analysis plan (the analysis package's
plan dict plus the lock hashes), the randomization seed, the assignment log (arm,
stratum and block position of every assignment, no identifiers: `framelab
replay-assignments` checks it against the seed), the software versions, and the report
(HTML and results JSON). Pilot participants are left out, as in the analysis. Before the
planned sample is reached (DECISIONS rule 3) the bundle is interim: its name, its report
files and README say so, the codebook's and the Parquet file's `interim` is true, and the
report is the interim one (the anytime-valid section only, no fixed-sample inference).

When the analysis refuses the data (no rows, an arm or the control without anyone),
the report is not built: `ReportUnavailable` carries the analysis's reason and one
sentence on which arms need how many more participants, for the studio page and the
bundle's README; nothing about the study changes.
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

from framelab import clock
from framelab.db.models import StudyVersion
from framelab.db.session import reading
from framelab.domain.study import Study as StudySpec
from framelab.services import audit, campaigns
from framelab.services.assignment_audit import assignment_log_csv
from framelab.services.codebook import codebook_markdown
from framelab.services.dashboard import EXCLUSION_FLAGS, dashboard, is_interim
from framelab.services.export_codebook import export_codebook
from framelab.services.export_files import csv_bytes, parquet_bytes
from framelab.services.export_plan import analysis_plan
from framelab.services.reporting import ReportInputs, report_inputs
from framelab.services.study_versions import LoadedStudy

REPORT_CACHE_SIZE = 8
_report_cache: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], str]] = OrderedDict()
_cache_lock = threading.Lock()
SOFTWARE = ("framelab", "numpy", "pandas", "scipy", "statsmodels", "pyarrow", "pyreadstat")
BUNDLE_CODEBOOK = {"json": "codebook.json", "md": "codebook.md"}
# A difference between two arms needs a variance in each: two analysable participants per arm.
MIN_PER_ARM = 2


class ReportUnavailable(Exception):
    """The analysis refused the study's data; nothing about the study changed."""

    def __init__(self, reason: str, missing: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing

    def sentence(self) -> str:
        """What failed and what is missing, for staff (studio page, bundle README)."""
        text = f"The report could not be built: {self.reason.rstrip('.')}."
        if self.missing:
            text += f" {self.missing}"
        return text


def software_versions() -> dict[str, str]:
    """Versions of Python and the packages the data and analysis depend on."""
    versions = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def report_html(
    session: Session,
    loaded: LoadedStudy,
    *,
    lang: str | None = None,
    rehearsal: bool = False,
    now: datetime | None = None,
) -> str:
    """The HTML report (campaigner summary and analyst appendix) of the study's results.

    ``lang`` is the language of the campaigner-facing parts (default: the study's);
    ``rehearsal`` analyses the simulated participants alone (stamped REHEARSAL).
    Raises ReportUnavailable when the analysis refuses the data (say, no rows).
    """
    inputs = report_inputs(session, loaded.slug, rehearsal=rehearsal, now=now or clock.now())
    if rehearsal and inputs.data.empty:
        raise ReportUnavailable(
            "there are no simulated participants (run `framelab simulate` first)", None
        )
    return _analyse(inputs, lang)[1]


def report_languages(loaded: LoadedStudy) -> list[str]:
    """The study's languages the report can be written in (the report ships a fixed set)."""
    from analysis.report.i18n import LANGUAGES

    return [lang for lang in loaded.spec.languages if lang in LANGUAGES]


def analyse_inputs(inputs: ReportInputs, lang: str | None = None) -> tuple[dict[str, Any], str]:
    """Results and HTML report of the inputs (cached per process; see `_analyse`)."""
    return _analyse(inputs, lang)


def _analyse(inputs: ReportInputs, lang: str | None = None) -> tuple[dict[str, Any], str]:
    """Results and HTML report of the locked plan on the inputs; ReportUnavailable when refused.

    The analysis takes seconds, so both are kept per process for the exact inputs they
    were computed from (spec hash, the tidy table, the lock, the language); new data
    recompute them.
    """
    import pandas as pd

    from analysis.report import render_html
    from analysis.run import run

    df = inputs.data
    spec = inputs.loaded.spec
    lang = lang if lang in report_languages(inputs.loaded) else None
    stable = {k: v for k, v in inputs.provenance.items() if k != "exported_at"}
    key = (
        inputs.loaded.spec_hash,
        int(pd.util.hash_pandas_object(df, index=False).sum()) if len(df) else 0,
        len(df),
        json.dumps(stable, sort_keys=True, default=str),
        lang,
    )
    with _cache_lock:
        if key in _report_cache:
            _report_cache.move_to_end(key)
            return _report_cache[key]
    try:
        results = run(df, inputs.plan, provenance=inputs.provenance)
        html = render_html(results, title=inputs.title, lang=lang)
    except ValueError as exc:  # numpy's LinAlgError is a ValueError too
        raise ReportUnavailable(str(exc), missing_participants(spec, df)) from exc
    with _cache_lock:
        _report_cache[key] = (results, html)
        while len(_report_cache) > REPORT_CACHE_SIZE:
            _report_cache.popitem(last=False)
    return results, html


def missing_participants(spec: StudySpec, df: Any, lang: str | None = None) -> str | None:
    """One sentence naming each arm with fewer than MIN_PER_ARM analysable participants.

    Analysable: completed and not excluded by the plan's flags (pilot rows are not in
    the export). None when every arm has enough.
    """
    lang = lang or spec.default_language
    rows = df[df["status"] == "completed"] if len(df) else df
    for flag in spec.analysis.exclude:
        if flag in EXCLUSION_FLAGS and len(rows):
            rows = rows[~rows[flag].astype(bool)]
    counts = rows["arm"].value_counts().to_dict() if len(rows) else {}
    short = []
    for arm in spec.arms:
        have = int(counts.get(arm.id, 0))
        if have < MIN_PER_ARM:
            role = " (the control arm)" if arm.control else ""
            label = arm.label_for(lang, spec.default_language)
            short.append(f"{label}{role} has {have} and needs {MIN_PER_ARM - have} more")
    if not short:
        return None
    return (
        f"Each arm needs at least {MIN_PER_ARM} analysable participants (completed and not "
        f"excluded) before effects can be estimated: {'; '.join(short)}."
    )


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
    with reading(session):  # one snapshot of what the bundle holds, ended before the analysis
        lock = _lock_record(session, loaded)
        gate = dashboard(session, loaded)
        # the exports' codebook, naming the bundle's own codebook files
        book = {**export_codebook(session, loaded.slug), "files": BUNDLE_CODEBOOK}
        log = assignment_log_csv(session, loaded)
        inputs = report_inputs(session, loaded.slug, now=now or clock.now())
        trail = _audit_trail(session, loaded)
    # The report counts withdrawn participants; the files only say how many (codebook).
    df = inputs.data[inputs.data["status"] != "withdrawn"].reset_index(drop=True)
    # Before the locked target every file of the bundle says "interim" (DECISIONS rule 3).
    interim = not gate.results_visible
    prefix = "interim-" if interim else ""
    files: dict[str, bytes] = {
        "data/tidy.csv": csv_bytes(df, spec, book=book),
        "codebook.json": _json(book),
        "codebook.md": codebook_markdown(spec, book).encode("utf-8"),
        "study.yaml": spec.to_yaml().encode("utf-8"),
        "analysis_plan.json": _json(analysis_plan(spec)),
        "lock.json": _json(lock),
        "seed.txt": f"{spec.design.seed}\n".encode(),
        "assignment_log.csv": log,
        "software.json": _json(software_versions()),
        "audit_trail.json": _json(trail),
    }
    files["data/tidy.parquet"] = parquet_bytes(df, book)
    try:
        # interim inputs (provenance) give the anytime-valid section only
        results, html = _analyse(inputs)
    except ReportUnavailable as missing:
        report_note = f"No report: {missing.sentence()}"
    else:
        files[f"report/{prefix}results.json"] = _json(results)
        files[f"report/{prefix}index.html"] = html.encode("utf-8")
        report_note = (
            "report/index.html: the report of the locked plan on this data."
            if not interim
            else f"report/{prefix}index.html: INTERIM report, anytime-valid intervals only "
            f"(no fixed-sample p-value or interval). {gate.results_reason}"
        )
    readme = _readme(loaded, len(df), report_note, now)
    if interim:
        readme = (
            "INTERIM: taken before the study reached its planned sample. Only the anytime-valid\n"
            "intervals (report/interim-results.json, section `sequential`) may be drawn from it.\n\n"
            + readme
        )
    files["README.txt"] = readme.encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(f"{loaded.slug}/{name}", content)
    return buffer.getvalue()


def bundle_name(session: Session, loaded: LoadedStudy) -> str:
    """The bundle's file name: `<slug>-interim-bundle.zip` before the locked target."""
    return f"{loaded.slug}{'-interim' if is_interim(session, loaded) else ''}-bundle.zip"


def _audit_trail(session: Session, loaded: LoadedStudy) -> list[dict[str, Any]]:
    """Who edited, approved, locked, launched, closed and exported the campaign's versions."""
    found = campaigns.campaign(session, loaded.id)
    return [
        {
            "at": entry.at.isoformat(),
            "who": entry.actor,
            "action": entry.action,
            "what": entry.says,
            "study": entry.study_slug,
            "detail": entry.detail,
            "spec_hash": entry.spec_hash,
        }
        for entry in audit.trail(session, found.study_ids)
    ]


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _readme(loaded: LoadedStudy, rows: int, report_note: str, now: datetime | None) -> str:
    when = f" on {now.isoformat()}" if now else ""
    return (
        f"framelab bundle of study {loaded.slug}, version {loaded.version}{when}\n"
        f"spec_hash {loaded.spec_hash}\n\n"
        f"data/tidy.csv, data/tidy.parquet: {rows} participants (pilot and simulated participants left out;\n"
        "  times rounded down as the codebook says; withdrawn participants only counted, per arm,\n"
        "  in the codebook; the report's attrition figures count them, so a re-run shows none)\n"
        "codebook.json, codebook.md: every column, its question and its coding\n"
        "study.yaml: the study file; analysis_plan.json: the locked analysis plan;\n"
        "lock.json: when the study was locked and the hashes of its locked parts\n"
        "seed.txt: the randomization seed; software.json: the versions used\n"
        "assignment_log.csv: every assignment's stratum, position, block and arm (no identifiers);\n"
        "  `framelab replay-assignments <study>` replays it from the seed on the server\n"
        "audit_trail.json: who edited, approved, locked, launched, closed and exported what\n"
        f"{report_note}\n\n"
        "Re-run: python -m analysis report data/tidy.csv --plan analysis_plan.json --out report\n"
    )
