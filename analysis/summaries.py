"""Descriptive pieces of the results: exclusions, flow, descriptives, distributions.

Also the conversion of DataFrames and numpy scalars into JSON-ready records.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis._data import arm_labels, numeric_column, present_labels

STATUS_VALUES = ("started", "screened_out", "assigned", "completed", "withdrawn")
# A discrete outcome with at most this many distinct values is tabulated value by value.
MAX_DISCRETE_VALUES = 11
MAX_BINS = 30


def clean(value: Any) -> Any:
    """Recursively turn numpy/pandas scalars into Python ones and NaN/inf into None."""
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [clean(v) for v in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or frame.empty:
        return []
    return [clean(r) for r in frame.to_dict(orient="records")]


def apply_exclusions(
    df: pd.DataFrame, exclude: Mapping[str, tuple], status: str | None
) -> tuple[pd.DataFrame, list[dict], np.ndarray]:
    """Drop rows matching any exclusion rule; count each rule on the full input.

    Participants with status ``withdrawn`` are always excluded when a status column
    is given: they withdrew their consent to be analysed.
    """
    drop = np.zeros(len(df), dtype=bool)
    rules = []
    for column, values in exclude.items():
        hit = df[column].isin(list(values)).to_numpy(dtype=bool, na_value=False)
        rules.append(
            {
                "rule": f"{column} in {list(values)}",
                "column": column,
                "values": list(values),
                "n_matched": int(hit.sum()),
                "n_excluded_new": int((hit & ~drop).sum()),
            }
        )
        drop |= hit
    if status:
        hit = (df[status].astype("string") == "withdrawn").to_numpy(dtype=bool, na_value=False)
        rules.append(
            {
                "rule": f"{status} == 'withdrawn'",
                "column": status,
                "values": ["withdrawn"],
                "n_matched": int(hit.sum()),
                "n_excluded_new": int((hit & ~drop).sum()),
            }
        )
        drop |= hit
    return df.loc[~drop].reset_index(drop=True), rules, drop


def flow(
    df: pd.DataFrame, arm: str, status: str | None, dropped: np.ndarray, analysed: Mapping[str, int]
) -> list[dict]:
    """CONSORT-style counts: started, screened out, assigned, completed, withdrawn, excluded, analysed."""
    labels = arm_labels(df, arm)
    has_arm = ~pd.isna(labels)
    arms = present_labels(labels)
    out: list[dict] = []
    if status:
        st = df[status].astype("string").to_numpy(dtype=object, na_value=None)
        out.append({"stage": "started", "arm": None, "n": len(df)})
        out.append({"stage": "screened_out", "arm": None, "n": int(np.sum(st == "screened_out"))})
    else:
        out.append({"stage": "started", "arm": None, "n": len(df)})
    for a in arms:
        in_arm = labels == a
        out.append({"stage": "assigned", "arm": a, "n": int(in_arm.sum())})
        if status:
            out.append(
                {"stage": "completed", "arm": a, "n": int(np.sum(in_arm & (st == "completed")))}
            )
            out.append(
                {"stage": "withdrawn", "arm": a, "n": int(np.sum(in_arm & (st == "withdrawn")))}
            )
        out.append({"stage": "excluded", "arm": a, "n": int(np.sum(in_arm & dropped & has_arm))})
        out.append({"stage": "analysed", "arm": a, "n": int(analysed.get(a, 0))})
    return out


def descriptives(df: pd.DataFrame, outcome: str, arm: str) -> pd.DataFrame:
    """n, mean, SD, median, min and max of the outcome per arm (non-missing values)."""
    y = numeric_column(df, outcome)
    labels = arm_labels(df, arm)
    rows = []
    for a in present_labels(labels):
        v = y[(labels == a) & ~np.isnan(y)]
        n = len(v)
        rows.append(
            {
                "outcome": outcome,
                "arm": a,
                "n": n,
                "mean": float(v.mean()) if n else np.nan,
                "sd": float(v.std(ddof=1)) if n > 1 else np.nan,
                "median": float(np.median(v)) if n else np.nan,
                "min": float(v.min()) if n else np.nan,
                "max": float(v.max()) if n else np.nan,
            }
        )
    return pd.DataFrame(rows)


def distributions(df: pd.DataFrame, outcome: str, arm: str, outcome_type: str) -> pd.DataFrame:
    """Counts and shares per value (discrete outcomes) or per histogram bin (continuous).

    Continuous outcomes use common bin edges for all arms (numpy's ``auto`` rule,
    at most 30 bins); ``value`` is then the bin midpoint and ``bin_low``/``bin_high``
    the edges.
    """
    y = numeric_column(df, outcome)
    labels = arm_labels(df, arm)
    ok = ~np.isnan(y) & ~pd.isna(labels)
    y, labels = y[ok], labels[ok]
    values = np.unique(y)
    discrete = outcome_type != "continuous" or (
        len(values) <= MAX_DISCRETE_VALUES and np.all(values == np.round(values))
    )
    rows = []
    if discrete:
        for a in present_labels(labels):
            v = y[labels == a]
            counts = np.array([np.sum(v == x) for x in values])
            for x, c in zip(values, counts, strict=True):
                rows.append(
                    {
                        "outcome": outcome,
                        "arm": a,
                        "value": float(x),
                        "count": int(c),
                        "share": c / len(v),
                    }
                )
        return pd.DataFrame(rows)
    edges = np.histogram_bin_edges(y, bins="auto")
    if len(edges) - 1 > MAX_BINS:
        edges = np.histogram_bin_edges(y, bins=MAX_BINS)
    for a in present_labels(labels):
        v = y[labels == a]
        counts, _ = np.histogram(v, bins=edges)
        for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True):
            rows.append(
                {
                    "outcome": outcome,
                    "arm": a,
                    "value": (lo + hi) / 2,
                    "bin_low": lo,
                    "bin_high": hi,
                    "count": int(c),
                    "share": c / len(v),
                }
            )
    return pd.DataFrame(rows)
