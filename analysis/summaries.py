"""Descriptive pieces of the results: exclusions, flow, descriptives, distributions.

Also the conversion of DataFrames and numpy scalars into JSON-ready records.

Examples
--------
>>> import pandas as pd
>>> d = pd.DataFrame({"arm": ["c", "c", "c", "t", "t"], "y": [1.0, 2.0, 4.0, 3.0, 5.0]})
>>> descriptives(d, "y", "arm")[["arm", "n", "mean", "median"]]
  arm  n      mean  median
0   c  3  2.333333     2.0
1   t  2  4.000000     4.0
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
    """Recursively turn numpy/pandas scalars into Python ones and NaN/inf into None.

    Parameters
    ----------
    value : object
        A scalar, mapping, list, tuple or array, nested to any depth.

    Returns
    -------
    object
        The same structure made of dict, list, bool, int, float, str and None (mapping
        keys become str), ready for ``json.dumps(allow_nan=False)``.

    Notes
    -----
    JSON has no NaN or infinity (RFC 8259, section 6), so a statistic that is not
    defined (a variance from one value) is written as null.

    References
    ----------
    Bray, T. (2017). RFC 8259: The JavaScript Object Notation (JSON) Data Interchange Format.

    Examples
    --------
    >>> import numpy as np
    >>> clean({"a": np.float64(1.5), "b": [np.nan, np.int64(2)], "c": np.bool_(True)})
    {'a': 1.5, 'b': [None, 2], 'c': True}
    """
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
    """The rows of a result table as JSON-ready dicts (see :func:`clean`).

    Parameters
    ----------
    frame : DataFrame or None
        A tidy result table.

    Returns
    -------
    list of dict
        One dict per row, column -> cleaned value; ``[]`` for None or an empty table.

    Notes
    -----
    ``[clean(r) for r in frame.to_dict(orient="records")]``: columns keep their names
    and units.

    References
    ----------
    Wickham, H. (2014). Tidy data. Journal of Statistical Software 59(10).

    Examples
    --------
    >>> import pandas as pd
    >>> records(pd.DataFrame({"arm": ["t"], "estimate": [float("nan")]}))
    [{'arm': 't', 'estimate': None}]
    """
    if frame is None or frame.empty:
        return []
    return [clean(r) for r in frame.to_dict(orient="records")]


def apply_exclusions(
    df: pd.DataFrame, exclude: Mapping[str, tuple], status: str | None
) -> tuple[pd.DataFrame, list[dict], np.ndarray]:
    """Drop rows matching any exclusion rule; count each rule on the full input.

    Parameters
    ----------
    df : DataFrame
        One row per participant.
    exclude : mapping column -> values
        The plan's ``exclude``: a row is dropped when its value is one of them.
    status : str or None
        Status column; participants with status ``withdrawn`` are always excluded
        when it is given (they withdrew their consent to be analysed).

    Returns
    -------
    data : DataFrame
        The rows kept (index reset).
    rules : list of dict
        One per rule: ``rule`` (as text), ``column``, ``values``, ``n_matched``
        (participants matching it) and ``n_excluded_new`` (of those, not already
        dropped by an earlier rule).
    dropped : ndarray of bool
        Which input rows were dropped.

    Notes
    -----
    Rules apply in order; drop = OR over rules of 1[row[column] in values]; a missing
    value never matches.

    References
    ----------
    Schulz, K. F., Altman, D. G. & Moher, D. (2010). CONSORT 2010 statement. BMJ 340, c332.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"bot": [0, 1, 1], "status": ["completed", "completed", "withdrawn"]})
    >>> data, rules, dropped = apply_exclusions(d, {"bot": (1,)}, "status")
    >>> len(data), [(r["rule"], r["n_matched"], r["n_excluded_new"]) for r in rules]
    (1, [('bot in [1]', 2, 2), ("status == 'withdrawn'", 1, 0)])
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
    """CONSORT-style counts: started, screened out, assigned, completed, withdrawn, excluded, analysed.

    Parameters
    ----------
    df : DataFrame
        The input rows (before exclusions).
    arm : str
        Arm column.
    status : str or None
        Status column (``started``, ``screened_out``, ``assigned``, ``completed``,
        ``withdrawn``); without it only started, assigned, excluded and analysed.
    dropped : ndarray of bool
        Rows dropped by :func:`apply_exclusions`.
    analysed : mapping arm -> int
        Participants analysed per arm.

    Returns
    -------
    list of dict
        ``stage``, ``arm`` (None for stages before assignment) and ``n`` (participants).

    Notes
    -----
    Per arm: assigned = rows with that arm; completed, withdrawn by status; excluded =
    assigned and dropped; analysed as given (a participant without an outcome value
    is assigned but not analysed).

    References
    ----------
    Schulz, K. F., Altman, D. G. & Moher, D. (2010). CONSORT 2010 statement. BMJ 340, c332.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = pd.DataFrame({"arm": ["c", "t", "t"], "status": ["completed", "completed", "withdrawn"]})
    >>> [(r["stage"], r["arm"], r["n"]) for r in flow(d, "arm", None, np.zeros(3, bool), {"c": 1})]
    [('started', None, 3), ('assigned', 'c', 1), ('excluded', 'c', 0), ('analysed', 'c', 1), ('assigned', 't', 2), ('excluded', 't', 0), ('analysed', 't', 0)]
    """
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
    """n, mean, SD, median, min and max of the outcome per arm (non-missing values).

    Parameters
    ----------
    df : DataFrame
        One row per participant.
    outcome, arm : str
        Outcome (numeric) and arm columns.

    Returns
    -------
    DataFrame
        One row per arm: ``outcome``, ``arm``, ``n`` (participants with a value),
        ``mean``, ``sd``, ``median``, ``min``, ``max`` (outcome units; NaN when not
        defined, e.g. the SD of one value).

    Notes
    -----
    sd = sqrt(sum (y_i - mean)^2 / (n - 1)) (ddof 1, as R's ``sd``).

    References
    ----------
    R Core Team. R: ``mean``, ``sd``, ``median`` (stats package).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"arm": ["c", "c", "t"], "y": [1.0, 3.0, 5.0]})
    >>> descriptives(d, "y", "arm")[["arm", "n", "mean", "sd"]]
      arm  n  mean        sd
    0   c  2   2.0  1.414214
    1   t  1   5.0       NaN
    """
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

    Parameters
    ----------
    df : DataFrame
        One row per participant.
    outcome, arm : str
        Outcome (numeric) and arm columns.
    outcome_type : {"continuous", "binary", "ordinal"}
        Binary and ordinal outcomes (and continuous ones with at most 11 whole-number
        values) are tabulated value by value; other continuous ones are binned.

    Returns
    -------
    DataFrame
        ``outcome``, ``arm``, ``value`` (the answer, or the bin midpoint), ``count``
        (participants) and ``share`` (of the arm's participants, 0 to 1); binned
        outcomes also ``bin_low`` and ``bin_high`` (the bin's edges, outcome units).

    Notes
    -----
    Bins are common to all arms: numpy's ``auto`` rule (the larger of Sturges' and
    Freedman-Diaconis' bin counts), at most 30 bins.

    References
    ----------
    Freedman, D. & Diaconis, P. (1981). On the histogram as a density estimator. Z.
    Wahrscheinlichkeitstheorie verw. Gebiete 57, 453-476.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"arm": ["c", "c", "t"], "y": [0, 1, 1]})
    >>> distributions(d, "y", "arm", "binary")
      outcome arm  value  count  share
    0       y   c    0.0      1    0.5
    1       y   c    1.0      1    0.5
    2       y   t    0.0      0    0.0
    3       y   t    1.0      1    1.0
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
