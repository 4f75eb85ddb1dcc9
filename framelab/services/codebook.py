"""The codebook of the tidy export: every column, its label, type, values and coding.

The column list here is the single source of truth for the export's columns
(framelab.services.export builds its DataFrame in exactly this order), so the
codebook, the CSV and the SPSS/Stata labels can never disagree. Labels are in
the study's default language. The coding conventions (integer codes, 1 = yes and
0 = no, missing as empty) are stated once in `CONVENTIONS` and repeated per column.

Category columns (arm, stratum, source, language, status and, in factorial designs,
one column per factor) carry `codes`: code -> the text written in CSV and Parquet,
and `value_labels`: code -> the label SPSS and Stata show. Code 1 of `arm` is always
the control, the frames follow in the study's order, so R's `as_factor`, SPSS and
Stata take the control as the reference without any recoding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from framelab.domain.study import Item, Scale
from framelab.domain.study import Study as StudySpec
from framelab.services.export_columns import (
    CATEGORY_COLUMNS,
    CATEGORY_TYPE,
    SPSS_LABEL_LIMIT,
    STATA_LABEL_LIMIT,
    STATUS_VALUES,
    YES_NO,
    arm_order,
    codebook_file,
    factor_column,
    fit_label,
    participant_records,
    stata_names,
)
from framelab.services.export_waves import wave_records

__all__ = [
    "CATEGORY_COLUMNS",
    "CATEGORY_TYPE",
    "PHASES",
    "SPSS_LABEL_LIMIT",
    "STATA_LABEL_LIMIT",
    "STATUS_VALUES",
    "codebook",
    "codebook_file",
    "codebook_markdown",
    "factor_column",
    "fit_label",
    "item_column",
    "scale_column",
    "scale_phases",
    "stata_names",
]

PHASES = ("pre", "post")
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
    "categories": (
        "arm, stratum, source, language, status (and a factor_<name> column per factor of a "
        "factorial design) are text in CSV, categorical in Parquet with the categories in "
        "code order, and labelled integer codes in SPSS and Stata; each column lists its "
        "codes (code -> the text in CSV and Parquet) and value_labels (code -> the label in "
        "SPSS and Stata). arm: 1 = the control, then the frames in the study's order."
    ),
    "missing": (
        "A missing value is an empty cell in CSV, null in Parquet, system-missing in SPSS "
        "and . in Stata; a category column is never an empty-text category. Each column's "
        "missing says when it is missing."
    ),
    "files": (
        "SPSS and Stata variable labels are cut to fit (Stata: 80 bytes, SPSS: 256); the "
        "full question text is under question. Stata names longer than its limit are "
        "shortened: stata_name gives the name in the .dta file."
    ),
    "csv_formulas": (
        "In CSV files, a text cell (string and category columns, never a number) that "
        "begins with =, +, -, @, a tab or a carriage return is written with an apostrophe "
        "(') in front, so that a spreadsheet shows it as text instead of running it as a "
        "formula (OWASP, CSV injection). Parquet, SPSS and Stata keep the value as "
        "written; remove the one leading apostrophe of such a CSV cell to get it back."
    ),
    "withdrawn": (
        "Participants who withdrew are not rows: their answers are erased, and the "
        "codebook's withdrawn section counts them per arm, counts below the study's "
        "minimum cell size hidden."
    ),
}
TIME_CONVENTION = {
    None: (
        "Audit export: times are exact (to the microsecond). The owner asked for this "
        "file, and the study's audit trail records who downloaded it and when."
    ),
    "hour": (
        "Times are rounded down to the hour and durations to whole seconds, so that no "
        "row can be matched with a panel's submission times or a message send log; "
        "after_lock was computed from the exact times."
    ),
    "day": (
        "Times are rounded down to the day and durations to whole seconds, so that no "
        "row can be matched with a panel's submission times or a message send log; "
        "after_lock was computed from the exact times."
    ),
}


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
    question = spec.text(item.text, lang)
    return {
        "name": item_column(phase, item.id),
        "label": question,
        "question": question,
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
        "missing": "missing when not answered (the participant skipped an optional "
        "question, left before this page, or withdrew)",
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
        "missing": "missing unless every item of the scale was answered",
    }


def codebook(
    spec: StudySpec,
    *,
    version: int | None = None,
    observed: Mapping[str, Iterable[str | None]] | None = None,
    exact_times: bool = False,
) -> dict[str, Any]:
    """Every export column with its label, type, codes, value labels, coding and missing rule.

    `version` is the study version's number; `observed` maps a category column to the
    values found in the study's data, so a value the study file does not declare (a
    source named in a link) still gets a code, after the declared ones. `exact_times`
    describes an audit export (exact times, fractional durations).
    """
    lang = spec.default_language
    observed = observed or {}
    columns = participant_records(spec, lang, observed, exact_times=exact_times)
    for phase in PHASES:
        columns += [_item_record(spec, item, phase, lang) for item in spec.items_for(phase)]
    for phase in PHASES:
        columns += [
            _scale_record(spec, s, phase) for s in spec.scales if phase in scale_phases(spec, s)
        ]
    for wave in spec.waves or []:  # follow-up waves (framelab.services.export_waves)
        first = [_item_record(spec, spec.item(i), "post", lang) for i in wave.items]
        columns += wave_records(wave, first)
    names = stata_names([c["name"] for c in columns])
    for record in columns:
        record["stata_name"] = names[record["name"]]
        record["stata_label"] = fit_label(str(record["label"]), STATA_LABEL_LIMIT)
    return {
        "study": spec.slug,
        "title": spec.text(spec.title, lang),
        "version": version,
        "spec_hash": spec.content_hash(),
        "language": lang,
        "control": spec.control_arm.id,
        "arm_order": arm_order(spec),
        "files": {"json": codebook_file(spec.slug, "json"), "md": codebook_file(spec.slug)},
        "times": "exact" if exact_times else spec.time_precision,
        "conventions": {
            **CONVENTIONS,
            "times": TIME_CONVENTION[None if exact_times else spec.time_precision],
        },
        "columns": columns,
    }


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _values(record: dict[str, Any]) -> str:
    codes = record.get("codes")
    if codes:
        shown = []
        for code, value in codes.items():
            label = record["value_labels"].get(code, value)
            shown.append(f"{code} = {value}" + (f" ({label})" if label != value else ""))
        return "; ".join(shown)
    if record["value_labels"]:
        return "; ".join(f"{k} = {v}" for k, v in record["value_labels"].items())
    allowed = record["allowed_values"]
    if isinstance(allowed, dict):
        return f"{allowed['min']}..{allowed['max']}"
    if isinstance(allowed, list):
        return ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in allowed)
    return ""


def _withdrawn_lines(withdrawn: dict[str, Any] | None) -> list[str]:
    """The codebook's table of withdrawn participants per arm (they are not rows)."""
    if not withdrawn:
        return []
    minimum = withdrawn["min_cell_size"]
    total = withdrawn["total"]
    how_many = (
        f"{total} withdrew in all"
        if total is not None
        else (f"fewer than {minimum} withdrew in all")
    )
    lines = [
        "",
        "## Withdrawn participants",
        "",
        f"Withdrawn participants are not rows of the data: {how_many}. Per arm, counts below "
        f"{minimum} (the study's minimum cell size) are hidden, and so are others where the "
        "total would give a hidden one away.",
        "",
        "| Arm | Withdrawn |",
        "|---|---|",
    ]
    lines += [
        f"| {_cell(row['label'])} (`{row['arm']}`) | {row['shown']} |"
        for row in withdrawn["by_arm"]
    ]
    return lines


def codebook_markdown(spec: StudySpec, book: dict[str, Any] | None = None) -> str:
    """The codebook as a Markdown document (one table row per column)."""
    book = book or codebook(spec)
    version = f", version {book['version']}" if book.get("version") is not None else ""
    lines = [
        f"# Codebook: {book['title']}",
        "",
        f"Study `{book['study']}`{version}, spec hash `{book['spec_hash']}`, "
        f"labels in `{book['language']}`.",
        f"Control arm: `{book['control']}` (code 1 of `arm`). One row per participant.",
        "",
        "Coding:",
        "",
        *(f"- {text}" for text in book["conventions"].values()),
        "",
        "| Column | Label | Type | Values | Coding | Missing |",
        "|---|---|---|---|---|---|",
    ]
    for record in book["columns"]:
        lines.append(
            f"| `{record['name']}` | {_cell(record['label'])} | {record['type']} | "
            f"{_cell(_values(record))} | {_cell(record['coding'])} | "
            f"{_cell(record['missing'])} |"
        )
    lines += _withdrawn_lines(book.get("withdrawn"))
    renamed = [c for c in book["columns"] if c["stata_name"] != c["name"]]
    if renamed:
        lines += [
            "",
            "Names in the Stata file (.dta) where Stata's 32-character limit cut them:",
            "",
        ]
        lines += [f"- `{c['name']}`: `{c['stata_name']}`" for c in renamed]
    return "\n".join(lines) + "\n"
