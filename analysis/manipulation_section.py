"""The plan's ``manipulation_checks``, validated, and the results' two sections for ``run``.

:func:`load_checks` reads what framelab wrote from the study file (``targets``: arm ->
answer codes; ``factor_targets``: factor column -> level -> codes);
:func:`manipulation_sections` runs the tests of :mod:`analysis.manipulation` on them.

Examples
--------
>>> [c] = load_checks([{"column": "check", "targets": {"care": [1]}}])
>>> c["column"], c["targets"], c["factor_targets"]
('check', {'care': [1.0]}, {})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis import summaries
from analysis.manipulation import manipulation_checks, manipulation_omnibus

__all__ = ["load_checks", "manipulation_sections"]


def load_checks(raw: Any) -> list[dict[str, Any]]:
    """Validate the plan's ``manipulation_checks`` list (ValueError naming the place).

    Parameters
    ----------
    raw : list of mappings or None
        Each with ``column`` (the check's column), ``targets`` (arm -> answer codes),
        optional ``label``, ``target_labels`` (arm -> label) and ``factor_targets``
        (factor column -> level -> answer codes).

    Returns
    -------
    list of dict
        One per check: ``column``, ``label``, ``targets`` and ``factor_targets`` with
        codes as floats, ``target_labels``; ``[]`` without checks.

    Notes
    -----
    A participant "perceives" an arm's (level's) meaning when their answer code is one
    of its targets: r_i = 1[answer_i in T_a].

    References
    ----------
    Hauser, D. J., Ellsworth, P. C. & Gonzalez, R. (2018). Are manipulation checks
    necessary? Frontiers in Psychology 9, 998.

    Examples
    --------
    >>> load_checks([{"column": "x", "targets": {"care": [1, 2]}}])[0]["targets"]
    {'care': [1.0, 2.0]}
    >>> load_checks([{"column": "x", "targets": {"care": "one"}}])
    Traceback (most recent call last):
    ...
    ValueError: manipulation_checks[0].targets: expected a mapping arm -> list of answer codes
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("manipulation_checks: expected a list of {column, targets}")
    out = []
    for i, check in enumerate(raw):
        where = f"manipulation_checks[{i}]"
        if not isinstance(check, Mapping) or not isinstance(check.get("column"), str):
            raise ValueError(f"{where}: expected a mapping with a 'column' (the check's column)")
        targets = check.get("targets") or {}
        factor_targets = check.get("factor_targets") or {}
        if not isinstance(targets, Mapping) or not all(
            isinstance(v, list) and all(_is_code(c) for c in v) for v in targets.values()
        ):
            raise ValueError(f"{where}.targets: expected a mapping arm -> list of answer codes")
        if not isinstance(factor_targets, Mapping) or not all(
            isinstance(levels, Mapping)
            and all(isinstance(v, list) and all(_is_code(c) for c in v) for v in levels.values())
            for levels in factor_targets.values()
        ):
            raise ValueError(
                f"{where}.factor_targets: expected a mapping factor column -> level -> codes"
            )
        out.append(
            {
                "column": check["column"],
                "label": check.get("label"),
                "targets": {str(a): [float(c) for c in v] for a, v in targets.items()},
                "target_labels": dict(check.get("target_labels") or {}),
                "factor_targets": {
                    str(f): {str(level): [float(c) for c in v] for level, v in levels.items()}
                    for f, levels in factor_targets.items()
                },
            }
        )
    return out


def _is_code(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def manipulation_sections(
    data: pd.DataFrame, plan: Any, warn: Callable[..., None]
) -> dict[str, list]:
    """``manipulation_checks`` and ``manipulation_omnibus`` records for ``run`` ({} without).

    Parameters
    ----------
    data : DataFrame
        The analysed rows (exclusions applied).
    plan : Plan
        The analysis plan; its raw ``manipulation_checks`` are read with :func:`load_checks`.
    warn : callable
        The collector's ``warn(code, message, outcome, arm, method)``.

    Returns
    -------
    dict
        ``{"manipulation_checks": [...], "manipulation_omnibus": [...]}`` with the records
        of :func:`analysis.manipulation.manipulation_checks` and
        :func:`analysis.manipulation.manipulation_omnibus` (columns and units there),
        or ``{}`` when the plan declares no checks.

    Notes
    -----
    Target labels are put in the plan's language; an arithmetic failure on study data
    becomes a ``section_failed`` warning and empty sections.

    References
    ----------
    See :mod:`analysis.manipulation` (Gerber & Green 2012; Agresti 2013).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.plan import load_plan
    >>> d = pd.DataFrame({"arm": ["c", "t"] * 4, "y": [1, 2] * 4, "x": [0, 1, 0, 1, 1, 1, 0, 0]})
    >>> plan = load_plan({"arm": "arm", "control": "c", "outcomes": ["y"],
    ...                   "manipulation_checks": [{"column": "x", "targets": {"t": [1]}}]})
    >>> out = manipulation_sections(d, plan, print)
    >>> out["manipulation_checks"][0]["estimate"], out["manipulation_omnibus"][0]["n"]
    (0.5, 8)
    """
    out: dict[str, list] = {"manipulation_checks": [], "manipulation_omnibus": []}
    checks = load_checks(plan.raw.get("manipulation_checks"))
    if not checks:  # the keys appear only when the plan has checks
        return {}
    for check in checks:
        # labels may be a text per language: the plan's language in the results
        check["target_labels"] = {a: plan.text(v, a) for a, v in check["target_labels"].items()}
        if check["column"] not in data.columns:
            raise ValueError(f"manipulation_checks: column {check['column']!r} is not in the data")
    try:
        out["manipulation_checks"] = summaries.records(
            manipulation_checks(data, plan.arm, plan.control, checks, alpha=plan.alpha)
        )
        out["manipulation_omnibus"] = summaries.records(
            manipulation_omnibus(data, plan.arm, checks)
        )
    except (ArithmeticError, np.linalg.LinAlgError) as exc:
        warn(
            "section_failed", f"manipulation checks not computed: {exc}", None, None, "manipulation"
        )
    return out
