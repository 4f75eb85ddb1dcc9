"""The codebook of the tidy export: every column, its label, type, values and coding.

The column list here is the single source of truth for the export's columns
(framelab.services.export builds its DataFrame in exactly this order), so the
codebook, the CSV and the SPSS/Stata labels can never disagree. Labels are in
the study's default language. The coding conventions (integer codes, 1 = yes and
0 = no, missing as empty) are stated once in `CONVENTIONS` and repeated per column.
"""

from __future__ import annotations

from typing import Any

from framelab.domain.study import Item, Scale
from framelab.domain.study import Study as StudySpec

PHASES = ("pre", "post")
FLAG_LABELS = {0: "No", 1: "Yes"}
YES_NO = "1 = yes, 0 = no"
# How every file codes values; the CSV, SPSS and Stata writers (services.export_files) follow it.
CONVENTIONS = {
    "yes_no": (
        f"Yes/no columns (binary questions and the flags pilot, rehearsal, attention_failed, "
        f"speeder, honeypot) are coded {YES_NO}, with value labels in SPSS and Stata "
        "(Parquet keeps the flags as true/false)."
    ),
    "integer_codes": (
        "Answers to likert, binary, choice and slider questions are integer codes, written "
        "as whole numbers (4, never 4.0); each code's label is under value_labels."
    ),
    "missing": "A missing value is an empty cell in CSV and system-missing in SPSS and Stata.",
}

# (name, type, label, coding) of the per-participant columns that precede the answers.
PARTICIPANT_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    (
        "participant",
        "string",
        "Participant id",
        "pseudonymous id (keyed hash of the private resume code); not linked to any identity",
    ),
    ("arm", "string", "Assigned arm", "arm id; empty when the participant left before assignment"),
    ("stratum", "string", "Randomization stratum", "blocking group (or 'all' when not blocked)"),
    (
        "source",
        "string",
        "Recruitment source",
        "panel or channel (prolific, mturk, sms, ...), empty if unknown",
    ),
    ("language", "string", "Language of the pages", "language code"),
    (
        "status",
        "string",
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
    ("duration_seconds", "number", "Total duration (seconds)", "completed_at - started_at"),
    (
        "message_seconds",
        "number",
        "Time on the message page (seconds)",
        "from first showing to submission",
    ),
)
STATUS_VALUES = ["started", "screened_out", "assigned", "completed", "withdrawn"]


def item_column(phase: str, item_id: str) -> str:
    """Export column of one item in one phase: `pre_support`."""
    return f"{phase}_{item_id}"


def scale_column(phase: str, scale_id: str) -> str:
    """Export column of one scale index in one phase: `pre_scale_care_values`."""
    return f"{phase}_scale_{scale_id}"


def scale_phases(spec: StudySpec, scale: Scale) -> list[str]:
    """Phases in which every item of the scale is asked."""
    items = [spec.item(i) for i in scale.items]
    return [p for p in PHASES if all(item.in_phase(p) for item in items)]


def _item_type(item: Item) -> str:
    return "string" if item.type == "text" else "integer"


def _coding(item: Item, scales: list[str], lang: str, default: str) -> str:
    if item.type == "likert":
        text = f"integer code 1..{item.points} as answered (1 = first label)"
        if item.reverse:
            text += f"; reverse-coded in scale indices as {(item.points or 0) + 1} - value"
    elif item.type == "slider":
        text = "integer 0..100, the slider position"
    elif item.type == "binary":
        labels = item.value_labels(lang, default)
        text = f"1 = yes ({labels[1]}), 0 = no ({labels[0]})"
    elif item.type == "choice":
        text = "the chosen option's integer code"
    else:
        text = f"free text, at most {item.text_max_length} characters"
    if item.role == "attention_check":
        text += f"; correct answer {item.correct}"
    if scales:
        text += f"; part of scale(s) {', '.join(scales)}"
    if not item.required:
        text += "; optional (empty when skipped)"
    return text


def _allowed(item: Item) -> Any:
    values = item.allowed_values()
    if values is None:
        return None
    if item.type == "slider":
        return {"min": values[0], "max": values[-1]}
    return values


def _item_record(spec: StudySpec, item: Item, phase: str, lang: str) -> dict[str, Any]:
    scales = [s.id for s in spec.scales if item.id in s.items]
    return {
        "name": item_column(phase, item.id),
        "label": spec.text(item.text, lang),
        "type": _item_type(item),
        "source": "item",
        "item": item.id,
        "phase": phase,
        "item_type": item.type,
        "role": item.role,
        "required": item.required,
        "value": item.value,
        "allowed_values": _allowed(item),
        "value_labels": {
            str(k): v for k, v in item.value_labels(lang, spec.default_language).items()
        },
        "reverse": bool(item.reverse),
        "scales": scales,
        "coding": _coding(item, scales, lang, spec.default_language),
    }


def _scale_record(spec: StudySpec, scale: Scale, phase: str) -> dict[str, Any]:
    items = [spec.item(i) for i in scale.items]
    reversed_ids = [i.id for i in items if i.type == "likert" and i.reverse]
    coding = f"mean of {', '.join(scale.items)}"
    if reversed_ids:
        coding += f" after reverse-coding {', '.join(reversed_ids)}"
    coding += "; empty unless every item was answered"
    return {
        "name": scale_column(phase, scale.id),
        "label": f"Scale {scale.id} ({phase}): mean of {len(items)} items",
        "type": "number",
        "source": "scale",
        "scale": scale.id,
        "phase": phase,
        "items": list(scale.items),
        "value": scale.value,
        "allowed_values": None,
        "value_labels": {},
        "reverse": False,
        "scales": [],
        "coding": coding,
    }


def _participant_records(spec: StudySpec, lang: str) -> list[dict[str, Any]]:
    records = []
    for name, kind, label, coding in PARTICIPANT_COLUMNS:
        record: dict[str, Any] = {
            "name": name,
            "label": label,
            "type": kind,
            "source": "participant",
            "allowed_values": None,
            "value_labels": {},
            "coding": coding,
        }
        if name == "arm":
            record["allowed_values"] = spec.arm_ids
            record["value_labels"] = {
                a.id: a.label_for(lang, spec.default_language) for a in spec.arms
            }
            record["control"] = spec.control_arm.id
        elif name == "stratum":
            record["allowed_values"] = spec.strata()
        elif name == "language":
            record["allowed_values"] = list(spec.languages)
        elif name == "status":
            record["allowed_values"] = STATUS_VALUES
        elif kind == "boolean":
            record["allowed_values"] = [0, 1]
            record["value_labels"] = {str(k): v for k, v in FLAG_LABELS.items()}
        records.append(record)
    return records


def codebook(spec: StudySpec) -> dict[str, Any]:
    """Every export column with its label, type, allowed values, value labels and coding."""
    lang = spec.default_language
    columns = _participant_records(spec, lang)
    for phase in PHASES:
        columns += [_item_record(spec, item, phase, lang) for item in spec.items_for(phase)]
    for phase in PHASES:
        columns += [
            _scale_record(spec, s, phase) for s in spec.scales if phase in scale_phases(spec, s)
        ]
    return {
        "study": spec.slug,
        "title": spec.text(spec.title, lang),
        "spec_hash": spec.content_hash(),
        "language": lang,
        "control": spec.control_arm.id,
        "conventions": dict(CONVENTIONS),
        "columns": columns,
    }


def column_names(spec: StudySpec) -> list[str]:
    """The tidy export's columns, in order."""
    return [c["name"] for c in codebook(spec)["columns"]]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _values(record: dict[str, Any]) -> str:
    if record["value_labels"]:
        return "; ".join(f"{k} = {v}" for k, v in record["value_labels"].items())
    allowed = record["allowed_values"]
    if isinstance(allowed, dict):
        return f"{allowed['min']}..{allowed['max']}"
    if isinstance(allowed, list):
        return ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in allowed)
    return ""


def codebook_markdown(spec: StudySpec) -> str:
    """The codebook as a Markdown document (one table row per column)."""
    book = codebook(spec)
    lines = [
        f"# Codebook: {book['title']}",
        "",
        f"Study `{book['study']}`, spec hash `{book['spec_hash']}`, labels in `{book['language']}`.",
        f"Control arm: `{book['control']}`. One row per participant.",
        "",
        "Coding:",
        "",
        *(f"- {text}" for text in book["conventions"].values()),
        "",
        "| Column | Label | Type | Values | Coding |",
        "|---|---|---|---|---|",
    ]
    for record in book["columns"]:
        lines.append(
            f"| `{record['name']}` | {_cell(record['label'])} | {record['type']} | "
            f"{_cell(_values(record))} | {_cell(record['coding'])} |"
        )
    return "\n".join(lines) + "\n"
