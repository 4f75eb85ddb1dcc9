"""Read a tidy table from CSV, Parquet, SPSS (.sav) or Stata (.dta) for ``run``.

Every format gives ``run`` the same table as the CSV of the same export, so the
results do not depend on the file an analyst picked:

- CSV: read as it is.
- Parquet: category columns (framelab writes arm, stratum, status, ... as categoricals
  with the control first) become their text values. The plan, not the file, says which
  arm is the control, and plain values keep every grouping free of unobserved
  categories.
- SPSS and Stata: labelled integer codes. The plan's ``arm``, ``blocks``, ``status``
  and factor (``factors``) columns become the text their codes stand for: each code's
  value label, and for the arm column the arm the label names in the plan's ``arm_labels`` (so a
  code labelled "Placebo (libraries)" is the arm ``control`` again). Every other column
  keeps its numbers, as the CSV has them (answers are codes there too). Missing values
  (system-missing, Stata's ``.``) are NaN.

Any other file name is read as CSV, as before.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "export.csv")
>>> pd.DataFrame({"arm": ["c", "t"], "y": [1, 2]}).to_csv(path, index=False)
>>> read_data(path).to_dict("list")
{'arm': ['c', 't'], 'y': [1, 2]}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.plan import Plan

__all__ = ["FORMATS", "read_data"]

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".sav": "sav", ".zsav": "sav", ".dta": "dta"}


def read_data(path: str | Path, plan: Plan | None = None) -> pd.DataFrame:
    """The tidy table in ``path`` (CSV, Parquet, .sav or .dta, by its extension).

    Parameters
    ----------
    path : str or Path
        A tidy export; the extension picks the reader (anything else is CSV).
    plan : Plan, optional
        The analysis plan. For .sav/.dta files its ``arm``, ``blocks`` and ``status``
        columns are turned from labelled codes into text, and arm labels into the arm
        names of ``plan.arm_labels``; without a plan those columns keep their codes.

    Returns
    -------
    DataFrame
        One row per participant, with the column types the CSV of the same export has
        after ``pandas.read_csv``.

    Raises
    ------
    ValueError
        When the file cannot be read as its extension says, or an arm label of a
        .sav/.dta file names two arms of the plan.

    Notes
    -----
    No statistics here: the reader only makes every format give the CSV's table (see
    the module docstring). SPSS and Stata files are read with pyreadstat (value labels
    kept as metadata, then applied to the plan's grouping columns only).

    References
    ----------
    Fajardo, O. (2018-). pyreadstat: read and write SPSS, Stata and SAS files from
    Python (a wrapper of the ReadStat C library by E. Miller).
    Apache Arrow / Apache Parquet format specification (via ``pandas.read_parquet``).

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"arm": ["c", "t"], "y": [1, 2]}).to_parquet(os.path.join(folder, "d.parquet"))
    >>> read_data(os.path.join(folder, "d.parquet"))["arm"].tolist()
    ['c', 't']
    """
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower(), "csv")
    if kind == "csv":
        return pd.read_csv(path)
    try:
        if kind == "parquet":
            return _plain_categories(pd.read_parquet(path))
        return _decoded(path, kind, plan)
    except (OSError, ValueError) as exc:
        raise _unreadable(path, kind, exc) from exc
    except Exception as exc:  # pyreadstat raises its own error types for broken files
        if type(exc).__module__.startswith("pyreadstat"):
            raise _unreadable(path, kind, exc) from exc
        raise


def _unreadable(path: Path, kind: str, exc: Exception) -> ValueError:
    names = {"parquet": "Parquet", "sav": "SPSS (.sav)", "dta": "Stata (.dta)"}
    return ValueError(f"data: {path.name} could not be read as {names[kind]}: {exc}")


def _plain_categories(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as their values (object dtype, NaN where missing)."""
    out = df.copy()
    for column in df.columns:
        if isinstance(df[column].dtype, pd.CategoricalDtype):
            values = df[column].astype(object)
            out[column] = values.where(values.notna(), np.nan)
    return out


def _decoded(path: Path, kind: str, plan: Plan | None) -> pd.DataFrame:
    import pyreadstat

    reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
    df, meta = reader(str(path))
    if plan is None:
        return df
    value_labels = meta.variable_value_labels
    # the factor columns of a factorial plan too (their codes' labels are the levels)
    factors = list(plan.raw.get("factors") or {})
    for column in (plan.arm, plan.blocks, plan.status, *factors):
        if column and column in df.columns and value_labels.get(column):
            df[column] = _labels_of(df[column], value_labels[column])
    if plan.arm in df.columns and plan.arm_labels:
        df[plan.arm] = df[plan.arm].map(_arm_names(plan), na_action="ignore")
    return df


def _labels_of(codes: pd.Series, labels: Mapping[Any, str]) -> pd.Series:
    """Codes -> their value labels (a code without a label stays as its number's text)."""
    by_code = {float(k): str(v) for k, v in labels.items()}
    texts = [
        np.nan if pd.isna(c) else by_code.get(float(c), f"{float(c):g}") for c in codes.tolist()
    ]
    return pd.Series(texts, index=codes.index, dtype=object)


def _arm_names(plan: Plan) -> _ArmNames:
    """Arm label -> the arm's name in the plan: labels in the plan's language first, then
    labels in other languages that name one arm only; names map to themselves."""
    own: dict[str, set[str]] = {}
    other: dict[str, set[str]] = {}
    for arm, label in plan.arm_labels.items():
        texts = dict(label) if isinstance(label, Mapping) else {plan.language: label}
        own.setdefault(arm, set()).add(arm)
        for lang, text in texts.items():
            (own if lang == plan.language else other).setdefault(str(text), set()).add(arm)
    for text, arms in other.items():
        own.setdefault(text, arms)
    names = {text: next(iter(arms)) for text, arms in own.items() if len(arms) == 1}
    ambiguous = {text: sorted(arms) for text, arms in own.items() if len(arms) > 1}
    return _ArmNames(names, ambiguous)


class _ArmNames(dict):
    """A label -> arm mapping that keeps unknown labels and refuses ambiguous ones."""

    def __init__(self, names: dict[str, str], ambiguous: dict[str, list[str]]) -> None:
        super().__init__(names)
        self.ambiguous = ambiguous

    def __missing__(self, label: str) -> str:
        if label in self.ambiguous:
            raise ValueError(
                f"arm_labels: the label {label!r} names more than one arm "
                f"({', '.join(self.ambiguous[label])}); give each arm its own label"
            )
        return label
