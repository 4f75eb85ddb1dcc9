"""Export file writers: CSV, Parquet, and SPSS/Stata with the codebook's labels.

SPSS and Stata have no missing strings and no timezones, and Stata limits names
to 32 characters and variable labels to 80 bytes; the conversions here keep the
files readable in both. Parquet is exactly the DataFrame. The CSV writes what the
codebook states: integer codes as whole numbers (`4`, never `4.0`), yes/no columns
as 1 = yes and 0 = no, missing values as empty cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from framelab.domain.study import Study as StudySpec
from framelab.services.codebook import codebook

EXPORT_FORMATS = ("csv", "parquet", "sav", "dta", "long-csv", "codebook-json", "codebook-md")
# Column types of the long export (services.export.export_long) that its CSV converts.
LONG_COLUMN_TYPES = {"pilot": "boolean", "rehearsal": "boolean", "value": "integer"}
# Display formats of whole-number columns: no decimals in SPSS's data view or Stata's list.
WHOLE_NUMBER_FORMAT = {"sav": "F8.0", "dta": "%8.0g"}


def csv_frame(df: pd.DataFrame, spec: StudySpec, *, long: bool = False) -> pd.DataFrame:
    """`df` with integer codes as nullable integers and yes/no columns as 1/0, for CSV."""
    book = {} if long else {c["name"]: c["type"] for c in codebook(spec)["columns"]}
    kinds = LONG_COLUMN_TYPES if long else book
    out = df.copy()
    for column, kind in kinds.items():
        if column not in out.columns:
            continue
        if kind == "integer":
            # Int64 keeps missing answers missing (an empty cell) and writes 4, not 4.0.
            out[column] = out[column].astype("Int64")
        elif kind == "boolean":
            out[column] = out[column].astype("int64")
    return out


def csv_bytes(df: pd.DataFrame, spec: StudySpec, *, long: bool = False) -> bytes:
    """The CSV file of a tidy (or long) export, as UTF-8 bytes."""
    return csv_frame(df, spec, long=long).to_csv(index=False).encode("utf-8")


def _labelled_frame(
    df: pd.DataFrame, book: dict[str, Any], stata: bool
) -> tuple[pd.DataFrame, dict, dict, dict]:
    out = pd.DataFrame(index=df.index)
    labels: dict[str, str] = {}
    value_labels: dict[str, dict] = {}
    formats: dict[str, str] = {}
    whole = WHOLE_NUMBER_FORMAT["dta" if stata else "sav"]
    names = _stata_names(list(df.columns)) if stata else {c: c for c in df.columns}
    records = {c["name"]: c for c in book["columns"]}
    for column in df.columns:
        record = records.get(column, {"label": column, "type": "string", "value_labels": {}})
        name = names[column]
        series = df[column]
        if record["type"] == "boolean":
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
        labels[name] = _fit(str(record["label"]), 80 if stata else 256)
    return out, labels, value_labels, formats


def _fit(label: str, limit: int) -> str:
    """`label` within `limit` UTF-8 bytes, cut at a word boundary with '...' when too long."""
    label = " ".join(label.split())
    if len(label.encode("utf-8")) <= limit:
        return label
    cut = label.encode("utf-8")[: limit - 3].decode("utf-8", errors="ignore")
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "..."


def _stata_names(columns: list[str]) -> dict[str, str]:
    # Stata allows 32 characters, and pyreadstat names each value-label set after its
    # variable plus the column index, so leave room for those digits; keep names unique.
    limit = 32 - len(str(len(columns)))
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


def write_frame(df: pd.DataFrame, spec: StudySpec, fmt: str, path: Path) -> None:
    """Write a tidy export `df` to `path` as csv, parquet, sav (SPSS) or dta (Stata) with labels."""
    import pyreadstat

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("csv", "long-csv"):
        path.write_bytes(csv_bytes(df, spec, long=fmt == "long-csv"))
    elif fmt == "parquet":
        df.to_parquet(path, index=False)
    elif fmt in ("sav", "dta"):
        book = codebook(spec)
        frame, labels, value_labels, formats = _labelled_frame(df, book, stata=fmt == "dta")
        writer = pyreadstat.write_sav if fmt == "sav" else pyreadstat.write_dta
        writer(
            frame,
            str(path),
            column_labels=[labels[c] for c in frame.columns],
            variable_value_labels=value_labels,
            variable_format=formats,
        )
    else:
        raise ValueError(
            f"format: {fmt!r} is not an export format (expected one of: {', '.join(EXPORT_FORMATS)})"
        )
