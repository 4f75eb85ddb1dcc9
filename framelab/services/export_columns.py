"""The participant columns, codes and file names shared by the codebook and the file writers.

Category columns (arm, stratum, source, language, status and one column per factor
of a factorial design) are written as integer codes in SPSS and Stata and as
categories in code order in Parquet. The codes follow one rule: the declared values
in the study's order (for `arm`: the control first, then the frames), then any other
value found in the data, sorted. Stata's limits on names and labels live here too, so
the codebook can state the name and label each column has in a .dta file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from framelab.domain.study import Study as StudySpec

STATUS_VALUES = ["started", "screened_out", "assigned", "completed", "withdrawn"]
CATEGORY_TYPE = "category"
CATEGORY_COLUMNS = ("arm", "stratum", "source", "language", "status")
FLAG_LABELS = {0: "No", 1: "Yes"}
YES_NO = "1 = yes, 0 = no"
# Stata's limits (bytes): variable names, variable labels and the file (data) label.
STATA_NAME_LIMIT = 32
STATA_LABEL_LIMIT = 80
SPSS_LABEL_LIMIT = 256


def factor_column(name: str) -> str:
    """Export column of one factor of a factorial design: `factor_messenger`."""
    return "factor_" + re.sub(r"[^0-9A-Za-z_]", "_", name)


def _category_values(declared: Iterable[str], observed: Iterable[str | None] | None) -> list[str]:
    """Declared values in their order, then any other value seen in the data, sorted."""
    values = list(dict.fromkeys(declared))
    extra = {str(v) for v in observed or () if v is not None and str(v) != ""}
    return values + sorted(extra - set(values))


def arm_order(spec: StudySpec) -> list[str]:
    """Arm ids in code order: the control first, then the frame arms in the study's order."""
    return [spec.control_arm.id, *(a.id for a in spec.frame_arms)]


def _category_codes(
    spec: StudySpec, name: str, lang: str, observed: Mapping[str, Iterable[str | None]]
) -> tuple[list[str], dict[str, str]]:
    """(values in code order, value -> label) of one category column."""
    if name == "arm":
        values = _category_values(arm_order(spec), observed.get(name))
        labels = {a.id: a.label_for(lang, spec.default_language) for a in spec.arms}
    elif name == "stratum":
        values = _category_values(spec.strata(), observed.get(name))
        labels = {}
    elif name == "language":
        values = _category_values(spec.languages, observed.get(name))
        labels = {}
    elif name == "status":
        values = _category_values(STATUS_VALUES, observed.get(name))
        labels = {}
    elif name == "source":
        values = _category_values((), observed.get(name))
        labels = {}
    else:  # a factor column
        factors = spec.design.factors or {}
        factor = next(f for f in factors if factor_column(f) == name)
        values = _category_values(factors[factor], observed.get(name))
        labels = {}
    return values, {v: labels.get(v, v) for v in values}


def category_fields(
    spec: StudySpec, name: str, lang: str, observed: Mapping[str, Iterable[str | None]]
) -> dict[str, Any]:
    values, labels = _category_codes(spec, name, lang, observed)
    return {
        "allowed_values": values,
        "codes": {str(code): value for code, value in enumerate(values, start=1)},
        "value_labels": {str(code): labels[value] for code, value in enumerate(values, start=1)},
    }


def stata_names(columns: list[str]) -> dict[str, str]:
    """Column -> its name in a .dta file: at most 32 characters, unique.

    pyreadstat names each value-label set after its variable plus the column index, so
    room is left for those digits.
    """
    limit = STATA_NAME_LIMIT - len(str(len(columns)))
    names: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        name = column[:limit]
        n = 1
        while name in used:
            suffix = f"_{n}"
            name = column[: limit - len(suffix)] + suffix
            n += 1
        used.add(name)
        names[column] = name
    return names


def fit_label(label: str, limit: int) -> str:
    """`label` within `limit` UTF-8 bytes, cut at a word boundary with '...' when too long."""
    label = " ".join(label.split())
    if len(label.encode("utf-8")) <= limit:
        return label
    cut = label.encode("utf-8")[: limit - 3].decode("utf-8", errors="ignore")
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "..."


def codebook_file(slug: str, ext: str = "md") -> str:
    """The codebook's file name that every export names: `torture-ban-codebook.md`."""
    return f"{slug}-codebook.{ext}"


# (name, type, label, coding) of the per-participant columns that precede the answers.
PARTICIPANT_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    (
        "participant",
        "string",
        "Participant id",
        "pseudonymous id (keyed hash of the private resume code); not linked to any identity",
    ),
    (
        "arm",
        "category",
        "Assigned arm (1 = control)",
        "arm id in CSV and Parquet; code 1 = the control, then the frames in the study's order",
    ),
    (
        "stratum",
        "category",
        "Randomization stratum",
        "blocking group (or 'all' when not blocked), in the design's order",
    ),
    (
        "source",
        "category",
        "Recruitment source",
        "panel or channel (prolific, mturk, sms, ...), codes in alphabetical order",
    ),
    ("language", "category", "Language of the pages", "language code, in the study's order"),
    (
        "status",
        "category",
        "Participant status",
        "started | screened_out | assigned | completed | withdrawn",
    ),
    (
        "pilot",
        "boolean",
        "Pilot participant",
        f"{YES_NO}: yes for participants who took part while the study was in pilot",
    ),
    (
        "rehearsal",
        "boolean",
        "Simulated participant (rehearsal)",
        f"{YES_NO}: yes for a simulated participant (framelab simulate), not a person; "
        "rehearsal rows appear only in a rehearsal export and never in a real analysis",
    ),
    (
        "attention_failed",
        "boolean",
        "Failed an attention check",
        f"{YES_NO}: yes when any attention check was answered wrongly",
    ),
    (
        "speeder",
        "boolean",
        "Speeder",
        f"{YES_NO}: yes when the total duration was below quality.speeder_seconds",
    ),
    (
        "honeypot",
        "boolean",
        "Filled the hidden honeypot field",
        f"{YES_NO}: yes suggests an automated submission",
    ),
    (
        "spec_hash",
        "string",
        "Study version (content hash)",
        "SHA-256 of the study spec the participant saw",
    ),
    (
        "after_lock",
        "boolean",
        "Started after the analysis plan was locked",
        f"{YES_NO}: yes when the participant started after their study version's analysis plan "
        "was locked (computed by the server from exact times); a report calls its plan "
        "pre-registered only when every analysed participant has yes",
    ),
    ("started_at", "datetime", "Started (UTC)", "ISO 8601 timestamp, UTC"),
    ("assigned_at", "datetime", "Assigned (UTC)", "ISO 8601 timestamp, UTC"),
    ("completed_at", "datetime", "Completed (UTC)", "ISO 8601 timestamp, UTC"),
    (
        "duration_seconds",
        "integer",
        "Total duration (seconds)",
        "completed_at - started_at, from the exact times",
    ),
    (
        "message_seconds",
        "integer",
        "Time on the message page (seconds)",
        "from first showing to submission",
    ),
)
TIME_COLUMNS = ("started_at", "assigned_at", "completed_at")
DURATION_COLUMNS = ("duration_seconds", "message_seconds")


def time_coding(precision: str | None) -> str:
    """How an export writes its times: rounded down to `precision`, or exact (None)."""
    if precision is None:
        return (
            "ISO 8601 timestamp, UTC, exact (an audit export: the owner asked for exact "
            "times, and the audit trail records it)"
        )
    return (
        f"ISO 8601 timestamp, UTC, rounded down to the {precision} (the study's "
        "privacy.time_precision); exact times only in an audit export"
    )


def duration_coding(coding: str, exact: bool) -> str:
    """A duration's coding: whole seconds unless the export has exact times."""
    if exact:
        return f"{coding}; seconds with fractions (audit export)"
    return f"{coding}; rounded to whole seconds"


# When each participant column is missing (never: always has a value).
PARTICIPANT_MISSING = {
    "arm": "missing when the participant left before being assigned (status started or "
    "screened_out)",
    "stratum": "missing when the participant left before being assigned",
    "source": "missing when the link named no source and no panel",
    "assigned_at": "missing when the participant was never assigned",
    "completed_at": "missing unless the participant completed",
    "duration_seconds": "missing unless the participant completed",
    "message_seconds": "missing unless the participant submitted the message page",
}
NEVER_MISSING = "never missing"


def participant_records(
    spec: StudySpec,
    lang: str,
    observed: Mapping[str, Iterable[str | None]],
    *,
    exact_times: bool = False,
) -> list[dict[str, Any]]:
    records = []
    for name, kind, label, coding in PARTICIPANT_COLUMNS:
        if name in TIME_COLUMNS:
            coding = time_coding(None if exact_times else spec.time_precision)
        elif name in DURATION_COLUMNS:
            coding = duration_coding(coding, exact_times)
            kind = "number" if exact_times else kind
        record: dict[str, Any] = {
            "name": name,
            "label": label,
            "type": kind,
            "source": "participant",
            "allowed_values": None,
            "value_labels": {},
            "coding": coding,
            "missing": PARTICIPANT_MISSING.get(name, NEVER_MISSING),
        }
        if kind == CATEGORY_TYPE:
            record.update(category_fields(spec, name, lang, observed))
            if name == "arm":
                record["control"] = spec.control_arm.id
        elif kind == "boolean":
            record["allowed_values"] = [0, 1]
            record["value_labels"] = {str(k): v for k, v in FLAG_LABELS.items()}
        records.append(record)
        if name == "arm":
            records += _factor_records(spec, lang, observed)
    return records


def _factor_records(
    spec: StudySpec, lang: str, observed: Mapping[str, Iterable[str | None]]
) -> list[dict[str, Any]]:
    """One category column per factor of a factorial design, right after `arm`."""
    if spec.design.scheme != "factorial":
        return []
    records = []
    for factor, levels in (spec.design.factors or {}).items():
        name = factor_column(factor)
        records.append(
            {
                "name": name,
                "label": f"Factor {factor} of the assigned arm",
                "type": CATEGORY_TYPE,
                "source": "design",
                "factor": factor,
                "coding": f"level of {factor} ({', '.join(levels)}), in the design's order",
                "missing": "missing for the control arm (no factor levels) and before assignment",
                **category_fields(spec, name, lang, observed),
            }
        )
    return records
