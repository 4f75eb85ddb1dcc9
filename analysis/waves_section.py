"""The results' follow-up wave sections (``waves``, ``wave_returns``) for ``run``.

For each wave of the plan: each arm's return rate with each frame's test of differential
return (:func:`analysis.waves.return_rates`), and, for each of the wave's items that is an
outcome of the plan, each frame's effect at wave 1 and at the wave on the same people and
the share that remains (:func:`analysis.waves.wave_effects`). Who may return: the
analysed participants (after the plan's exclusions) with an arm, who completed wave 1
(status ``completed`` when the plan names a status column) and whose return flag is
filled.

Examples
--------
>>> import pandas as pd
>>> from analysis.plan import load_plan
>>> d = pd.DataFrame({"arm": ["c", "t"] * 6, "y": [1, 3, 2, 4, 1, 5, 2, 3, 1, 4, 2, 4],
...                   "w2_y": [1, 2, 2, 3, 1, 4, 1, 3, 2, 3, 1, 3], "w2_returned": [1] * 12})
>>> plan = load_plan({"arm": "arm", "control": "c", "outcomes": ["y"],
...                   "waves": [{"id": "w2", "after_days": 7, "items": ["y"]}]})
>>> out = waves_sections(d, plan, print)
>>> [(r["wave"], r["arm"], r["returned"]) for r in out["wave_returns"]]
[('w2', 'c', 6), ('w2', 't', 6)]
>>> [(r["wave"], r["outcome"], r["arm"], round(r["share"], 3)) for r in out["waves"]]
[('w2', 'y', 't', 0.714)]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis import summaries
from analysis._data import arm_labels, treatment_arms
from analysis.plan import Plan
from analysis.waves import return_rates, wave_effects

__all__ = ["waves_sections"]

Warn = Callable[..., None]
_FAILURES = (ValueError, ArithmeticError, RuntimeWarning, np.linalg.LinAlgError)


def _eligible(data: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    keep = ~pd.isna(arm_labels(data, plan.arm))
    if plan.status:
        keep &= (data[plan.status].astype("string") == "completed").to_numpy(
            dtype=bool, na_value=False
        )
    return data.loc[keep]


def _records(fn: Callable[[], pd.DataFrame], warn: Warn, what: str, outcome=None, arm=None):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            return summaries.records(fn())
    except _FAILURES as exc:
        warn("wave_failed", f"{what} not computed: {exc}", outcome, arm, "waves")
        return []


def waves_sections(data: pd.DataFrame, plan: Plan, warn: Warn) -> dict[str, list]:
    """Return rates and lasting effects of every follow-up wave of the plan.

    Parameters
    ----------
    data : DataFrame
        The table after the plan's exclusions, with the waves' columns
        (``{wave}_returned``, ``{wave}_{item}``).
    plan : Plan
        The analysis plan: ``waves``, outcomes, arm, control, status, alpha.
    warn : callable
        The collector's ``warn(code, message, outcome, arm, method)``; an estimate that
        fails on study data becomes a ``wave_failed`` warning naming the wave and frame.

    Returns
    -------
    dict
        Empty when the plan has no waves; else ``wave_returns`` (the records of
        :func:`analysis.waves.return_rates` with ``wave`` and ``after_days``, per wave
        and arm) and ``waves`` (those of :func:`analysis.waves.wave_effects` with
        ``wave`` and ``after_days``, per wave, outcome and frame).

    Notes
    -----
    Eligible: participants with an arm who completed wave 1 (status ``completed`` when
    the plan has a status column) and a filled return flag. Each frame is estimated on
    its own participants and the control's, so a frame with too few returners costs
    only its own rows. The waves use the unblocked difference in means whatever the
    plan's primary method (few returners per block would break a blocked estimator).

    References
    ----------
    See :mod:`analysis.waves` for each method's formula and references.

    Examples
    --------
    >>> from analysis.plan import load_plan
    >>> plan = load_plan({"arm": "arm", "control": "c", "outcomes": ["y"]})
    >>> waves_sections(pd.DataFrame({"arm": ["c", "t"], "y": [1, 2]}), plan, print)
    {}
    """
    if not plan.waves:
        return {}
    arm, control, alpha = plan.arm, plan.control, plan.alpha
    eligible = _eligible(data, plan)
    outcomes = plan.outcomes
    labels = arm_labels(eligible, arm)
    returns, effects = [], []
    for w in plan.waves:
        tag = {"wave": w.id, "after_days": w.after_days}
        back = f"{w.id}_returned"
        rates = _records(
            lambda back=back: return_rates(eligible, back, arm, control, alpha=alpha),
            warn,
            f"return rates of wave {w.id!r}",
        )
        returns += [{**tag, **r} for r in rates]
        frames = treatment_arms(labels, control)
        for o in (o for o in outcomes if o.name in w.items):
            for a in frames:
                pair = eligible[(labels == a) | (labels == control)]
                rows = _records(
                    lambda pair=pair, later=f"{w.id}_{o.name}", name=o.name, back=back: (
                        wave_effects(pair, name, later, arm, control, returned=back, alpha=alpha)
                    ),
                    warn,
                    f"wave {w.id!r} effect of {a!r} on {o.name!r}",
                    o.name,
                    a,
                )
                effects += [{**tag, **r} for r in rows]
        if not any(o.name in w.items for o in outcomes):
            warn("wave_without_outcome", f"wave {w.id!r} asks no outcome of the plan again")
    return {"wave_returns": returns, "waves": effects}
