"""Small readers of a results object's values, and the text helpers every report part uses.

Nothing here computes a statistic: these functions say whether a value is a number, fetch
the records under a key (row- or column-oriented), tell the pooled value-match row from a
frame's, and shape labels for a sentence.

Examples
--------
>>> from analysis.report.result_values import is_number, records
>>> results = {"effects": [{"arm": "care", "estimate": 0.4}, "not a record"]}
>>> [r["arm"] for r in records(results, "effects") if is_number(r["estimate"])]
['care']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MINUS", "is_number", "is_pooled", "records", "sentence_case", "short_label", "unique"]

MINUS = "\u2212"


def is_number(value: Any) -> bool:
    """True for a finite int/float that is not a bool.

    Parameters
    ----------
    value : object
        Any value read from a results object.

    Returns
    -------
    bool
        Whether the report may show `value` as a number.

    Notes
    -----
    JSON results carry missing estimates as ``null`` and the analysis may write NaN;
    ``True`` is an ``int`` to Python but a flag to the report, so it is no number.

    Examples
    --------
    >>> [is_number(v) for v in (0.4, 3, float("nan"), None, True)]
    [True, True, False, False, False]
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def records(results: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The list of records under `key`, or an empty list when absent or null.

    Parameters
    ----------
    results : mapping
        An `analysis.run` results object (or its JSON read back).
    key : str
        The section, e.g. ``"effects"`` or ``"descriptives"``.

    Returns
    -------
    list of dict
        One dict per record, in the results' order; non-dict items are skipped.

    Notes
    -----
    Column-oriented tables (``{"col": [..], ...}``, as ``DataFrame.to_dict("list")``
    writes them) are accepted as well and turned into rows.

    Examples
    --------
    >>> records({"flow": {"stage": ["started", "analysed"], "n": [40, 36]}}, "flow")
    [{'stage': 'started', 'n': 40}, {'stage': 'analysed', 'n': 36}]
    >>> records({"flow": None}, "flow")
    []
    """
    value = results.get(key)
    if isinstance(value, list):
        return [r for r in value if isinstance(r, dict)]
    if isinstance(value, dict) and value and all(isinstance(v, list) for v in value.values()):
        # column-oriented tables ({"col": [..]}) are accepted as well
        keys = list(value)
        return [dict(zip(keys, row, strict=True)) for row in zip(*value.values(), strict=True)]
    return []


def is_pooled(record: Mapping[str, Any]) -> bool:
    """The pooled value-match row (all frames together) rather than one frame's.

    Parameters
    ----------
    record : mapping
        One ``value_match`` record.

    Returns
    -------
    bool
        True for the row that pools every frame.

    Notes
    -----
    The analysis marks the pooled row with ``method="pooled"`` or an arm of
    ``None``, ``"pooled"`` or ``"all"``.

    Examples
    --------
    >>> is_pooled({"arm": None}), is_pooled({"arm": "care", "method": "per_arm"})
    (True, False)
    """
    return record.get("method") == "pooled" or record.get("arm") in (None, "pooled", "all")


def short_label(label: Any, name: str) -> str:
    """The outcome's label as the plan gives it; the column name only when it has none.

    Parameters
    ----------
    label : str or None
        The plan's label for the outcome, in the report's language.
    name : str
        The outcome's column name.

    Returns
    -------
    str
        The label, else the column name without its ``post_`` prefix and underscores.

    Notes
    -----
    ``post_join_sms -> 'join sms'`` is the last resort for an unlabelled CSV column.

    Examples
    --------
    >>> short_label("support for the ban", "post_support"), short_label(None, "post_join_sms")
    ('support for the ban', 'join sms')
    """
    text = str(label).strip() if label else ""
    if text:
        return text
    for prefix in ("post_scale_", "post_"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name.replace("_", " ")


def sentence_case(text: str) -> str:
    """Upper-case the first letter only ('the Fair play frame' -> 'The Fair play frame').

    Parameters
    ----------
    text : str
        A phrase that starts a sentence.

    Returns
    -------
    str
        `text` with its first character upper-cased and the rest untouched.

    Notes
    -----
    Unlike ``str.capitalize`` it keeps the case of labels inside the phrase.

    Examples
    --------
    >>> sentence_case("the Fair play frame")
    'The Fair play frame'
    """
    return text[:1].upper() + text[1:]


def unique(items: Iterable[str]) -> list[str]:
    """The items without repeats, in first-seen order.

    Parameters
    ----------
    items : iterable of str
        Phrases, possibly repeated (one reason per warning, say).

    Returns
    -------
    list of str
        Each distinct item once.

    Notes
    -----
    ``dict.fromkeys`` keeps insertion order, so the sentence reads in results order.

    Examples
    --------
    >>> unique(["a small group", "no variance", "a small group"])
    ['a small group', 'no variance']
    """
    return list(dict.fromkeys(items))
