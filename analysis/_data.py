"""Input checks and array preparation shared by the estimators.

Every public estimator takes a long DataFrame plus column names; these helpers
turn that into contiguous float arrays once, with errors that name the column
and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

EFFECT_COLUMNS = [
    "outcome",
    "arm",
    "method",
    "estimate",
    "std_error",
    "statistic",
    "df",
    "p_value",
    "conf_low",
    "conf_high",
    "n_control",
    "n_treatment",
]


def require_columns(df: pd.DataFrame, columns: Sequence[str], role: str = "column") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        shown = ", ".join(map(str, list(df.columns)[:30]))
        raise ValueError(
            f"{role} {missing[0]!r} is not in the data (expected one of the columns: {shown})"
        )


def numeric_column(df: pd.DataFrame, column: str, role: str = "outcome") -> np.ndarray:
    """Float array of ``df[column]``; missing values become NaN, text raises ValueError."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64").to_numpy()
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype="float64", na_value=np.nan)
    converted = pd.to_numeric(s, errors="coerce")
    bad = s[converted.isna() & s.notna()]
    if len(bad):
        raise ValueError(
            f"{role} {column!r}: expected numeric values, found non-numeric "
            f"{bad.iloc[0]!r} (in {len(bad)} row(s))"
        )
    return converted.to_numpy(dtype="float64", na_value=np.nan)


def arm_labels(df: pd.DataFrame, arm: str) -> np.ndarray:
    """Arm column as an object array of strings (None where missing)."""
    # factorize is hash-based C code: fast on a million rows, unlike a string cast.
    codes, uniques = pd.factorize(df[arm], use_na_sentinel=True)
    names = np.array([str(u) for u in uniques] + [None], dtype=object)
    return names[codes]


def present_labels(labels: np.ndarray) -> list[str]:
    """Sorted distinct non-missing labels (hash-based; no Python loop over rows)."""
    return sorted(x for x in pd.unique(labels) if x is not None)


def check_control(labels: np.ndarray, arm: str, control: object) -> str:
    control = str(control)
    present = present_labels(labels)
    if control not in present:
        raise ValueError(
            f"arm column {arm!r}: control label {control!r} not found "
            f"(labels in the data: {', '.join(present) or 'none'})"
        )
    return control


def treatment_arms(labels: np.ndarray, control: str) -> list[str]:
    return [x for x in present_labels(labels) if x != control]


def covariate_matrix(df: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Numeric covariates as-is; text/categorical ones dummy-coded, first level dropped.

    Mirrors R's ``model.matrix`` with treatment contrasts (levels sorted), so
    coefficient names and values line up with estimatr. Missing values stay NaN.
    """
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for col in columns:
        s = df[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            blocks.append(s.to_numpy(dtype="float64", na_value=np.nan)[:, None])
            names.append(str(col))
            continue
        values = s.astype("string")
        levels = sorted(values.dropna().unique())
        missing = values.isna().to_numpy()
        for level in levels[1:]:
            d = (values == level).fillna(False).to_numpy(dtype="float64")
            d[missing] = np.nan
            blocks.append(d[:, None])
            names.append(f"{col}{level}")
    if not blocks:
        return np.empty((len(df), 0)), []
    return np.hstack(blocks), names


@dataclass(frozen=True)
class Prepared:
    """Complete cases for one analysis: outcome, arm labels and extra columns."""

    y: np.ndarray
    labels: np.ndarray
    control: str
    arms: list[str]
    codes: np.ndarray  # per row: 0 = control, j = arms[j - 1] (integer compares are cheap)
    extra: np.ndarray
    extra_names: list[str]
    blocks: np.ndarray | None  # integer block codes (-1 never occurs: incomplete rows dropped)
    block_names: np.ndarray | None = None  # code -> block label


def prepare(
    df: pd.DataFrame,
    outcome: str,
    arm: str,
    control: object,
    *,
    numeric_extra: Sequence[str] = (),
    covariates: Sequence[str] = (),
    blocks: str | None = None,
) -> Prepared:
    """Validate columns and keep complete cases on every column the analysis uses.

    Raises ValueError naming the column when it is missing, non-numeric, when the
    control label is absent, or when the control or a treatment arm has no
    complete case.
    """
    require_columns(df, [outcome], "outcome")
    require_columns(df, [arm], "arm column")
    require_columns(df, list(numeric_extra), "baseline column")
    require_columns(df, list(covariates), "covariate")
    if blocks:
        require_columns(df, [blocks], "blocks column")
    arm_codes, uniques = pd.factorize(df[arm], use_na_sentinel=True)
    names = [str(u) for u in uniques]
    labels_all = np.array([*names, None], dtype=object)[arm_codes]
    control = check_control(np.array(names, dtype=object), arm, control)
    all_arms = [x for x in sorted(set(names)) if x != control]
    order = {name: j for j, name in enumerate([control, *all_arms])}
    codes_all = np.array([*(order[nm] for nm in names), -1], dtype=np.intp)[arm_codes]
    y = numeric_column(df, outcome, "outcome")
    extras = [numeric_column(df, c, "baseline column") for c in numeric_extra]
    cov, cov_names = covariate_matrix(df, covariates)
    extra = np.column_stack([*extras, cov]) if extras else cov
    ok = ~np.isnan(y) & (codes_all >= 0)
    if extra.shape[1]:
        ok &= ~np.isnan(extra).any(axis=1)
    block_codes = block_names = None
    if blocks:
        # Integer codes: sorting/grouping strings as Python objects is slow at scale.
        codes, uniques = pd.factorize(df[blocks], use_na_sentinel=True)
        ok &= codes >= 0
        block_codes = codes[ok]
        block_names = np.array([str(u) for u in uniques], dtype=object)
    labels = labels_all[ok]
    codes = codes_all[ok]
    counts = np.bincount(codes, minlength=len(all_arms) + 1)
    for a, count in zip([control, *all_arms], counts, strict=True):
        if count == 0:
            raise ValueError(
                f"outcome {outcome!r}: arm {a!r} has no participant with a non-missing "
                f"value (expected at least 2 per arm in column {arm!r})"
            )
    return Prepared(
        y=y[ok],
        labels=labels,
        control=control,
        arms=all_arms,
        codes=codes,
        extra=extra[ok],
        extra_names=[*numeric_extra, *cov_names],
        blocks=block_codes,
        block_names=block_names,
    )


def effects_frame(rows: list[dict]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    extra = [c for c in rows[0] if c not in EFFECT_COLUMNS]
    # Column lists straight into the constructor: reordering afterwards cost milliseconds.
    return pd.DataFrame({c: [r.get(c) for r in rows] for c in [*EFFECT_COLUMNS, *extra]})
