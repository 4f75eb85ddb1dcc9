"""Scale reliability (re-exported by :mod:`analysis.diagnostics`).

``cronbach_alpha(df, items, *, alpha=0.05) -> DataFrame``
(n, n_items, alpha, std_alpha, conf_low, conf_high).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._data import numeric_column, require_columns

__all__ = ["cronbach_alpha"]


def cronbach_alpha(df: pd.DataFrame, items: Sequence[str], *, alpha: float = 0.05) -> pd.DataFrame:
    """Cronbach's alpha of a scale, with Feldt's confidence interval.

    On complete cases over ``items`` (k items, n respondents):
    ``alpha = k / (k - 1) * (1 - sum(var_i) / var(total))``;
    standardized alpha ``= k r / (1 + (k - 1) r)`` with r the mean inter-item
    correlation. Feldt (1965) interval:
    ``1 - (1 - alpha) F_{1-a/2}`` and ``1 - (1 - alpha) F_{a/2}`` with
    F on ``(n - 1, (n - 1)(k - 1))`` df. Reverse-code items before calling.

    R equivalent: ``psych::alpha(d[items])`` (``raw_alpha``, ``std.alpha``,
    ``feldt``; psych uses pairwise deletion, identical on complete data).

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika 16, 297-334. Feldt, L. S. (1965). Psychometrika 30, 357-370.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> round(float(cronbach_alpha(d, ["a", "b", "c"])["alpha"].iloc[0]), 4)
    0.9538
    """
    if len(items) < 2:
        raise ValueError(f"items: expected at least 2 item columns, got {list(items)}")
    require_columns(df, items, "item")
    X = np.column_stack([numeric_column(df, c, "item") for c in items])
    X = X[~np.isnan(X).any(axis=1)]
    n, k = X.shape
    if n < 3:
        raise ValueError(f"items: expected at least 3 complete responses, got {n}")
    item_var = X.var(axis=0, ddof=1)
    total_var = X.sum(axis=1).var(ddof=1)
    raw = k / (k - 1) * (1.0 - item_var.sum() / total_var)
    corr = np.corrcoef(X, rowvar=False)
    r_bar = (corr.sum() - k) / (k * (k - 1))
    std_alpha = k * r_bar / (1.0 + (k - 1) * r_bar)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    return pd.DataFrame(
        {
            "n": [n],
            "n_items": [k],
            "alpha": [float(raw)],
            "std_alpha": [float(std_alpha)],
            "conf_low": [float(1.0 - (1.0 - raw) * stats.f.ppf(1.0 - alpha / 2.0, df1, df2))],
            "conf_high": [float(1.0 - (1.0 - raw) * stats.f.ppf(alpha / 2.0, df1, df2))],
        }
    )
