"""Input checks and array preparation shared by the estimators.

Every public estimator takes a long DataFrame plus column names; these helpers
turn that into contiguous float arrays once, with errors that name the column
and what was expected.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
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


# Declared level order per column (the plan's ``levels``): the first level is the reference.
Levels = Mapping[str, Sequence[object]]


def _level_key(value: object) -> tuple:
    """Comparable identity of a level: numbers by value (3 == 3.0), anything else as text."""
    if isinstance(value, bool | np.bool_):
        return ("bool", bool(value))
    if isinstance(value, numbers.Real):
        return ("number", float(value))
    return ("text", str(value))


def _sort_key(value: object) -> tuple:
    # Numbers numerically (2 before 10), then text in code-point order (Python's sorted()).
    if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _declared_lookup(declared: Sequence[object]) -> dict[tuple, int]:
    """Level key -> declared position; a value also matches a level written as text or
    number (YAML ``[3, 1, 2]`` matches a text column holding ``"3"``, and ``["1", "2"]``
    a numeric column), unless that alias is itself a declared level."""
    lookup = {_level_key(level): i for i, level in enumerate(declared)}
    for i, level in enumerate(declared):
        if isinstance(level, numbers.Real) and not isinstance(level, bool):
            lookup.setdefault(("text", str(level)), i)
        elif isinstance(level, str):
            number = pd.to_numeric(level, errors="coerce")
            if pd.notna(number):
                lookup.setdefault(("number", float(number)), i)
    return lookup


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class Factor:
    """A categorical column as integer codes (-1 where missing; j means ``levels[j]``).

    ``levels`` are the levels present in the data, in the declared order when the plan
    declares one (declared levels absent from the data are skipped, the others keep
    their declared order) and sorted otherwise; ``levels[0]`` is the reference level.
    """

    column: str
    codes: np.ndarray
    levels: list
    declared: bool

    @property
    def reference(self) -> object:
        return self.levels[0] if self.levels else None


def declared_levels(levels: Levels | None, column: str) -> Sequence[object] | None:
    """The declared levels of ``column`` (None when the plan declares none)."""
    if not levels:
        return None
    return levels.get(str(column))


def factor(df: pd.DataFrame, column: str, levels: Levels | None = None) -> Factor:
    """Integer codes and ordered levels of ``df[column]``.

    With a declaration (``levels[column]``) the levels take exactly that order and the
    first declared level present in the data is the reference; a value that is not
    declared raises ValueError naming the column, the value and the declared levels
    (an analysis plan that does not describe its data is an error, not something to
    drop silently: R's ``factor(x, levels = ...)`` turns such values into NA without
    a word). Without one: a pandas Categorical keeps its categories' order, other
    columns are sorted (numbers numerically, text in code-point order).
    """
    s = df[column]
    codes, uniques = pd.factorize(s, sort=False, use_na_sentinel=True)
    values = [_plain(v) for v in uniques]
    declared = declared_levels(levels, column)
    if declared is not None:
        lookup = _declared_lookup(declared)
        position = [lookup.get(_level_key(v)) for v in values]
        bad = [v for v, pos in zip(values, position, strict=True) if pos is None]
        if bad:
            n_bad = int(np.isin(codes, [values.index(v) for v in bad]).sum())
            shown = ", ".join(map(repr, declared))
            raise ValueError(
                f"levels.{column}: column {column!r} has the value {bad[0]!r}, which is not "
                f"a declared level (declared levels: {shown}; {len(bad)} undeclared value(s) "
                f"in {n_bad} row(s)); declare it in the plan's levels or exclude those rows"
            )
        order = sorted(set(position))
        ordered = [declared[i] for i in order]
        rank = {pos: j for j, pos in enumerate(order)}
        remap = np.array([*(rank[pos] for pos in position), -1], dtype=np.intp)
        return Factor(str(column), remap[codes], ordered, True)
    if isinstance(s.dtype, pd.CategoricalDtype):
        # Every value of a Categorical is one of its categories: keep their order.
        by_value = {v: i for i, v in enumerate(values)}
        ordered_idx = [by_value[c] for c in map(_plain, s.cat.categories) if c in by_value]
    else:
        ordered_idx = sorted(range(len(values)), key=lambda i: _sort_key(values[i]))
    rank = np.empty(len(values) + 1, dtype=np.intp)
    rank[ordered_idx] = np.arange(len(values))
    rank[-1] = -1
    return Factor(str(column), rank[codes], [values[i] for i in ordered_idx], False)


def is_categorical(df: pd.DataFrame, column: str, levels: Levels | None = None) -> bool:
    """Text/categorical columns, and any column whose levels the plan declares."""
    if declared_levels(levels, column) is not None:
        return True
    s = df[column]
    return not (pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s))


def dummies(f: Factor) -> tuple[np.ndarray, list[str]]:
    """0/1 columns for every level but the reference (NaN where the value is missing)."""
    missing = f.codes < 0
    blocks, names = [], []
    for j, level in enumerate(f.levels[1:], start=1):
        d = (f.codes == j).astype("float64")
        d[missing] = np.nan
        blocks.append(d)
        names.append(f"{f.column}{level}")
    matrix = np.column_stack(blocks) if blocks else np.empty((f.codes.size, 0))
    return matrix, names


def covariate_matrix(
    df: pd.DataFrame, columns: Sequence[str], levels: Levels | None = None
) -> tuple[np.ndarray, list[str]]:
    """Numeric covariates as-is; text/categorical ones dummy-coded, reference level dropped.

    Mirrors R's ``model.matrix`` with treatment contrasts, so coefficient names and
    values line up with estimatr: the reference is the first declared level
    (``levels[column]``, see :func:`factor`; a numeric column with declared levels is
    categorical), else the first sorted level. Missing values stay NaN.
    """
    blocks: list[np.ndarray] = []
    names: list[str] = []
    for col in columns:
        if not is_categorical(df, col, levels):
            blocks.append(df[col].to_numpy(dtype="float64", na_value=np.nan)[:, None])
            names.append(str(col))
            continue
        matrix, level_names = dummies(factor(df, col, levels))
        blocks.append(matrix)
        names.extend(level_names)
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
    levels: Levels | None = None,
) -> Prepared:
    """Validate columns and keep complete cases on every column the analysis uses.

    Raises ValueError naming the column when it is missing, non-numeric, when the
    control label is absent, when the control or a treatment arm has no complete
    case, or when a covariate holds a value its declared ``levels`` lack.
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
    cov, cov_names = covariate_matrix(df, covariates, levels)
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
