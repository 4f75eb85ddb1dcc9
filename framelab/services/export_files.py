"""Export file writers: CSV, Parquet, and SPSS/Stata with the codebook's labels.

SPSS and Stata have no missing strings and no timezones, and Stata limits names
to 32 characters and variable labels to 80 bytes; the conversions here keep the
files readable in both. The CSV writes what the codebook states: integer codes as
whole numbers (`4`, never `4.0`), yes/no columns as 1 = yes and 0 = no, category
columns as their text, missing values as empty cells.

Category columns (arm, stratum, source, language, status, factor columns) follow
the codebook's codes: Parquet gets Categoricals whose categories are in code order
(the control first), SPSS and Stata labelled integer codes (1 = the control) with
system-missing where a participant has no value. The .sav and .dta file labels
(and the SPSS document) name the codebook file, which holds the full question texts
that Stata's 80-byte variable labels cut. A file taken before the study reached its
planned sample (the codebook's `interim`) starts its file label with INTERIM and says
so in the Parquet metadata (key `framelab`, field `interim`); never inside a CSV.

Text cells of a CSV (string and category columns, never numbers) that a spreadsheet
would run as a formula (beginning with =, +, -, @, tab or carriage return; OWASP's
CSV-injection guidance) get an apostrophe in front: a participant's free-text answer
or a `?src=` value in a link is attacker-chosen text. Parquet, SPSS and Stata keep
the value as written, and the codebook says so.
"""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from framelab.domain.study import Study as StudySpec
from framelab.services.codebook import (
    CATEGORY_COLUMNS,
    CATEGORY_TYPE,
    SPSS_LABEL_LIMIT,
    STATA_LABEL_LIMIT,
    codebook,
    fit_label,
    stata_names,
)

EXPORT_FORMATS = ("csv", "parquet", "sav", "dta", "long-csv", "codebook-json", "codebook-md")
# The long export's columns and their kinds (services.export.export_long builds the frame).
LONG_COLUMNS = {
    "participant": "string",
    "arm": "string",
    "stratum": "string",
    "status": "string",
    "pilot": "boolean",
    "rehearsal": "boolean",
    "phase": "string",
    "item": "string",
    "value": "number",
    "value_text": "string",
    "answered_at": "datetime",
}
# Its CSV writes answers as whole numbers (4, not 4.0; missing stays empty).
LONG_COLUMN_TYPES = {**LONG_COLUMNS, "value": "integer"}
TEXT_TYPES = ("string", CATEGORY_TYPE)
# A spreadsheet runs a cell that begins with one of these as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Display formats of whole-number columns: no decimals in SPSS's data view or Stata's list.
WHOLE_NUMBER_FORMAT = {"sav": "F8.0", "dta": "%8.0g"}
# SPSS's file label holds 64 bytes; each line of its document 80.
SPSS_FILE_LABEL_LIMIT = 64
SPSS_NOTE_WIDTH = 80


class LabelledFrame(NamedTuple):
    """A tidy export as SPSS/Stata take it: data plus variable and value labels."""

    data: pd.DataFrame
    labels: dict[str, str]
    value_labels: dict[str, dict]
    formats: dict[str, str]
    measures: dict[str, str]


def neutralise_formula(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, with an apostrophe in front.

    `=HYPERLINK(...)` -> `'=HYPERLINK(...)`; anything else (missing values included) is
    returned as it is.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_frame(
    df: pd.DataFrame,
    spec: StudySpec,
    *,
    long: bool = False,
    book: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """`df` for CSV: integer codes as nullable integers, yes/no columns as 1/0, text cells
    that would run as spreadsheet formulas neutralised.

    `book` is the codebook the file follows (default: the study's); its types decide.
    """
    if long:
        kinds = LONG_COLUMN_TYPES
    else:
        kinds = {c["name"]: c["type"] for c in (book or codebook(spec))["columns"]}
    out = df.copy()
    for column, kind in kinds.items():
        if column not in out.columns:
            continue
        if kind == "integer":
            # Int64 keeps missing answers missing (an empty cell) and writes 4, not 4.0.
            out[column] = out[column].astype("Int64")
        elif kind == "boolean":
            out[column] = out[column].astype("int64")
        elif kind in TEXT_TYPES:
            # Text columns only: a number (a negative one too) stays a number.
            out[column] = out[column].astype(object).map(neutralise_formula)
    return out


def csv_bytes(
    df: pd.DataFrame, spec: StudySpec, *, long: bool = False, book: dict[str, Any] | None = None
) -> bytes:
    """The CSV file of a tidy (or long) export, as UTF-8 bytes.

    Lines end in CRLF (RFC 4180), so that a text cell holding a lone carriage return is
    quoted like one holding a line feed: Python's writer quotes only the characters of
    its line terminator, and a bare CR split the row in every reader.
    """
    frame = csv_frame(df, spec, long=long, book=book)
    return frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def _values_in_code_order(record: dict[str, Any], series: pd.Series) -> list[str]:
    """A category column's values in code order (code 1 first).

    The codebook's codes, then (sorted) any value of `series` they lack, so no value is
    ever lost to a stale codebook.
    """
    values = [record["codes"][str(n)] for n in range(1, len(record["codes"]) + 1)]
    extra = {str(v) for v in series.dropna() if str(v) != ""} - set(values)
    return values + sorted(extra)


def _category_series(record: dict[str, Any], series: pd.Series) -> pd.Series:
    """Text -> Categorical with the categories in code order; empty text is missing."""
    values = series.astype(object).where(series.notna() & (series.astype(str) != ""), None)
    return pd.Series(
        pd.Categorical(values, categories=_values_in_code_order(record, series), ordered=False),
        index=series.index,
    )


def parquet_frame(df: pd.DataFrame, book: dict[str, Any]) -> pd.DataFrame:
    """`df` with its category columns as Categoricals in code order (the control first)."""
    records = {c["name"]: c for c in book["columns"]}
    out = df.copy()
    for column in df.columns:
        record = records.get(column)
        if record and record["type"] == CATEGORY_TYPE:
            out[column] = _category_series(record, df[column])
    return out


def parquet_bytes(df: pd.DataFrame, book: dict[str, Any]) -> bytes:
    """The Parquet file of a tidy export: categories in code order, the codebook named in
    the file's key-value metadata (key `framelab`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(parquet_frame(df, book), preserve_index=False)
    about = {
        "study": book["study"],
        "version": book.get("version"),
        "spec_hash": book["spec_hash"],
        "codebook": book["files"]["json"],
        "control": book["control"],
        "missing": "null",
        "times": book.get("times"),
        # short of the locked target: interim data (DECISIONS rule 3)
        "interim": bool(book.get("interim")),
    }
    metadata = {**(table.schema.metadata or {}), b"framelab": json.dumps(about).encode()}
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), buffer)
    return buffer.getvalue()


def file_label(book: dict[str, Any], limit: int) -> str:
    """The file label of a .sav/.dta: the study, its version and the codebook's file name."""
    slug, name = book["study"], book["files"]["md"]
    version = f" v{book['version']}" if book.get("version") is not None else ""
    audit = "AUDIT (exact times) " if book.get("times") == "exact" else ""
    audit = ("INTERIM " if book.get("interim") else "") + audit
    for text in (
        f"{audit}{slug}{version}; codebook: {name}",
        f"{audit}Codebook: {name}",
        f"{audit}{name}",
        f"Codebook: {name}",
        name,
    ):
        if len(text.encode("utf-8")) <= limit:
            return text
    return fit_label(name, limit)


def file_note(book: dict[str, Any]) -> list[str]:
    """The SPSS document (lines of at most 80 bytes) that says where the full labels are."""
    version = f", version {book['version']}" if book.get("version") is not None else ""
    arm = next(c for c in book["columns"] if c["name"] == "arm")
    text = (
        f"framelab export of study {book['study']}{version}, spec hash {book['spec_hash']}. "
        f"Full question texts, codes, labels and missing-value rules: the codebook "
        f"{book['files']['md']} (or {book['files']['json']}). arm: 1 = "
        f"{arm['value_labels']['1']} (the control, {book['control']}), then the frames in "
        "the study's order. Missing values are system-missing."
    )
    if book.get("interim"):
        text += (
            " INTERIM: taken before the study reached its planned sample; only "
            "anytime-valid intervals may be drawn from it."
        )
    if book.get("times") == "exact":
        text += " AUDIT EXPORT: exact times; the study's audit trail records this download."
    elif book.get("times"):
        text += f" Times are rounded down to the {book['times']}."
    return textwrap.wrap(text, SPSS_NOTE_WIDTH, break_long_words=True, break_on_hyphens=False)


def _measure(record: dict[str, Any]) -> str:
    if record["type"] in (CATEGORY_TYPE, "boolean", "string") or record.get("item_type") in (
        "binary",
        "choice",
    ):
        return "nominal"
    if record.get("item_type") == "likert":
        return "ordinal"
    return "scale"


def _labelled_frame(df: pd.DataFrame, book: dict[str, Any], stata: bool) -> LabelledFrame:
    out = pd.DataFrame(index=df.index)
    labels: dict[str, str] = {}
    value_labels: dict[str, dict] = {}
    formats: dict[str, str] = {}
    measures: dict[str, str] = {}
    whole = WHOLE_NUMBER_FORMAT["dta" if stata else "sav"]
    records = {c["name"]: c for c in book["columns"]}
    names = stata_names(list(df.columns)) if stata else {c: c for c in df.columns}
    for column in df.columns:
        record = records.get(column, {"label": column, "type": "string", "value_labels": {}})
        name = names[column]
        series = df[column]
        if record["type"] == CATEGORY_TYPE:
            # labelled integer codes, code 1 first; missing is system-missing / '.'
            categorical = _category_series(record, series)
            codes = categorical.cat.codes.astype("float64") + 1
            out[name] = codes.where(categorical.notna())
            value_labels[name] = {
                n: record["value_labels"].get(str(n), value)
                for n, value in enumerate(categorical.cat.categories, start=1)
            }
            formats[name] = whole
        elif record["type"] == "boolean":
            out[name] = series.astype("int64")
            value_labels[name] = {int(k): v for k, v in record["value_labels"].items()}
            formats[name] = whole
        elif record["type"] == "datetime":
            out[name] = series.dt.tz_convert("UTC").dt.tz_localize(None)
        elif record["type"] in ("integer", "number"):
            out[name] = series.astype("float64")
            if record["type"] == "integer":
                formats[name] = whole
            if record["value_labels"]:
                value_labels[name] = {int(k): v for k, v in record["value_labels"].items()}
        else:
            # Stata and SPSS have no missing strings: an empty string is the convention.
            out[name] = series.astype(object).where(series.notna(), "").astype(str)
        labels[name] = fit_label(
            str(record["label"]), STATA_LABEL_LIMIT if stata else SPSS_LABEL_LIMIT
        )
        measures[name] = _measure(record)
    return LabelledFrame(out, labels, value_labels, formats, measures)


def write_frame(
    df: pd.DataFrame,
    spec: StudySpec,
    fmt: str,
    path: Path,
    *,
    book: dict[str, Any] | None = None,
) -> None:
    """Write a tidy export `df` to `path` as csv, parquet, sav (SPSS) or dta (Stata) with labels.

    `book` is the codebook the file follows (default: the study's, with the codes of the
    category values found in `df`).
    """
    import pyreadstat

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if book is None and fmt in ("parquet", "sav", "dta"):
        observed = {c: df[c].dropna().unique().tolist() for c in CATEGORY_COLUMNS if c in df}
        book = codebook(spec, observed=observed)
    if fmt in ("csv", "long-csv"):
        path.write_bytes(csv_bytes(df, spec, long=fmt == "long-csv", book=book))
    elif fmt == "parquet":
        path.write_bytes(parquet_bytes(df, book))
    elif fmt == "sav":
        frame = _labelled_frame(df, book, stata=False)
        pyreadstat.write_sav(
            frame.data,
            str(path),
            file_label=file_label(book, SPSS_FILE_LABEL_LIMIT),
            note=file_note(book),
            column_labels=[frame.labels[c] for c in frame.data.columns],
            variable_value_labels=frame.value_labels,
            variable_format=frame.formats,
            variable_measure=frame.measures,
        )
    elif fmt == "dta":
        frame = _labelled_frame(df, book, stata=True)
        pyreadstat.write_dta(
            frame.data,
            str(path),
            file_label=file_label(book, STATA_LABEL_LIMIT),
            column_labels=[frame.labels[c] for c in frame.data.columns],
            variable_value_labels=frame.value_labels,
            variable_format=frame.formats,
        )
    else:
        raise ValueError(
            f"format: {fmt!r} is not an export format (expected one of: {', '.join(EXPORT_FORMATS)})"
        )
