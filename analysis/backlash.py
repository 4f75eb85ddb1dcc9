"""Backlash probabilities: how likely a frame moved an outcome the wrong way.

:func:`backlash_probabilities` gives, for an estimated effect and its standard error,
the probability that the true effect lies in the direction the campaign does not want
(and beyond a size that matters), under a flat or a skeptical normal prior;
:func:`backlash_table` applies it to each outcome x arm and subgroup cell of a run, and
:func:`backlash_section` gives ``run``'s ``backlash`` records.

Under the flat prior and a true effect of 0, ``P(backlash) = Phi(-b / s)`` is
uniform on [0, 1] across replications (``b / s`` is standard normal), so "a 1 in 8
chance" is right 1 time in 8: tests/analysis/test_backlash.py checks this by
simulation and the figures against R's ``pnorm``.

Examples
--------
>>> p = backlash_probabilities([0.2, -0.2], [0.1, 0.1])
>>> p["p_backlash"].round(4).tolist()
[0.0228, 0.9772]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.plan import Plan

__all__ = ["BACKLASH_COLUMNS", "backlash_probabilities", "backlash_section", "backlash_table"]

BACKLASH_COLUMNS = [
    "outcome", "arm", "moderator", "level", "method", "estimate", "std_error",
    "desired", "delta", "p_backlash", "p_backlash_delta", "one_in", "one_in_delta",
    "prior_sd", "p_backlash_prior", "p_backlash_delta_prior", "n_control", "n_treatment",
]  # fmt: skip


def backlash_probabilities(
    estimate: Any,
    std_error: Any,
    *,
    desired: str = "increase",
    delta: Any = 0.0,
    prior_sd: float | None = None,
) -> dict[str, np.ndarray]:
    """P(effect in the undesired direction) and P(beyond ``delta`` in it), normal approximation.

    Parameters
    ----------
    estimate, std_error : float or array
        Effect estimates and their standard errors (same units).
    desired : {"increase", "decrease"}
        The direction the campaign counts as success.
    delta : float or array
        Size (>= 0, same units) of a backlash that matters.
    prior_sd : float, optional
        SD of a skeptical normal prior centred on 0; None for the flat prior.

    Returns
    -------
    dict
        ``p_backlash`` and ``p_backlash_delta`` (arrays of probabilities, 0 to 1).

    Notes
    -----
    For an estimated effect ``b`` with standard error ``s`` the sampling distribution
    is approximately normal, ``b ~ N(tau, s^2)``. With a flat prior on the true effect
    ``tau`` the posterior is ``N(b, s^2)``; with a skeptical normal prior
    ``tau ~ N(0, sigma_0^2)`` it is normal with (the conjugate normal update)::

        mean = b sigma_0^2 / (sigma_0^2 + s^2),   variance = s^2 sigma_0^2 / (sigma_0^2 + s^2)

    On the campaign's scale ``d = b`` when the campaign wants the outcome to increase
    and ``d = -b`` when it wants a decrease, so "backlash" is always ``d < 0``::

        P(backlash)          = P(d < 0)      = Phi((0 - m) / v^(1/2))
        P(backlash beyond δ) = P(d < -δ)     = Phi((-δ - m) / v^(1/2))

    with ``m, v`` the posterior mean and variance of ``d``.

    References
    ----------
    Spiegelhalter, D. J., Freedman, L. S., & Parmar, M. K. B. (1994). Bayesian approaches
    to randomized trials. JRSS A, 157(3), 357-416.
    Greenland, S. (2006). Bayesian perspectives for epidemiological research: I.
    Foundations and basic methods. International Journal of Epidemiology, 35(3), 765-775.

    Examples
    --------
    >>> p = backlash_probabilities(0.2, 0.174, delta=0.1)
    >>> round(float(p["p_backlash"]), 4), round(float(p["p_backlash_delta"]), 4)
    (0.1252, 0.0423)
    """
    if desired not in ("increase", "decrease"):
        raise ValueError(f"desired: expected increase or decrease, got {desired!r}")
    b = np.asarray(estimate, dtype=float)
    s = np.asarray(std_error, dtype=float)
    d = np.asarray(delta, dtype=float)
    if np.any(d < 0):
        raise ValueError(f"delta: expected a size of at least 0, got {delta!r}")
    m = -b if desired == "decrease" else b
    v = s**2
    if prior_sd is not None:
        if not prior_sd > 0:
            raise ValueError(f"prior_sd: expected a positive number, got {prior_sd!r}")
        shrink = prior_sd**2 / (prior_sd**2 + v)
        m, v = m * shrink, v * shrink
    sd = np.sqrt(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "p_backlash": stats.norm.cdf(-m / sd),
            "p_backlash_delta": stats.norm.cdf((-d - m) / sd),
        }


def _one_in(p: float) -> int | None:
    """'About a 1 in N chance': N = 1/p rounded; None when p is above 1/2 or not finite."""
    if not np.isfinite(p) or p <= 0 or p > 0.5:
        return None
    return int(min(round(1.0 / p), 1_000_000))


def backlash_table(
    effects: Iterable[Mapping[str, Any]],
    subgroups: Iterable[Mapping[str, Any]],
    equivalence: Iterable[Mapping[str, Any]],
    outcomes: Mapping[str, Mapping[str, Any]],
    *,
    primary_method: str = "difference_in_means",
    equivalence_bound: float = 0.1,
    equivalence_units: str = "sd",
    backlash_delta: float | None = None,
    prior_sd: float | None = None,
) -> pd.DataFrame:
    """Backlash probabilities for each outcome x arm, and each subgroup cell.

    Parameters
    ----------
    effects : iterable of mapping
        ``run``'s ``effects`` records (``outcome, arm, method, estimate, std_error, ...``).
    subgroups : iterable of mapping
        ``run``'s ``subgroups`` records (:func:`analysis.heterogeneity.subgroup_effects`).
    equivalence : iterable of mapping
        ``run``'s ``equivalence`` records, whose ``bound_raw / bound`` converts SD units.
    outcomes : mapping of str to mapping
        Each outcome's plan record (``desired``, ``primary``).
    primary_method : str, default "difference_in_means"
        The plan's primary estimator (used for primary outcomes).
    equivalence_bound : float, default 0.1
        The plan's smallest effect that matters: ``delta`` unless ``backlash_delta`` is given.
    equivalence_units : {"sd", "raw"}, default "sd"
        Units of ``equivalence_bound``, ``backlash_delta`` and ``prior_sd``.
    backlash_delta : float, optional
        The plan's backlash size that matters, if it sets one.
    prior_sd : float, optional
        The plan's skeptical prior SD (``backlash_prior_sd``); None for no prior rows.

    Returns
    -------
    pandas.DataFrame
        ``BACKLASH_COLUMNS``, one row per outcome x arm, then per unsuppressed subgroup cell:

        * ``outcome``, ``arm``: the outcome and the frame arm
        * ``moderator``, ``level``: the subgroup (null on overall rows)
        * ``method``: the estimator whose estimate is used
        * ``estimate``, ``std_error``: that estimate and its standard error (outcome units)
        * ``desired``: ``increase`` or ``decrease``
        * ``delta``: backlash size that matters, in outcome units (null if not convertible)
        * ``p_backlash``, ``p_backlash_delta``: flat-prior probabilities (0 to 1)
        * ``one_in``, ``one_in_delta``: the same as "1 in N" (null above 1/2)
        * ``prior_sd``: the skeptical prior's SD in outcome units (null without one)
        * ``p_backlash_prior``, ``p_backlash_delta_prior``: probabilities under that prior
        * ``n_control``, ``n_treatment``: participants behind the estimate

    Notes
    -----
    Probabilities are those of :func:`backlash_probabilities`. Overall rows use the
    estimate the report leads with: the plan's primary method for primary outcomes (the
    difference in means where it is missing) and the difference in means for the others.
    Subgroup rows use the subgroup difference in means; suppressed cells stay out.
    ``delta`` and ``prior_sd`` are the plan's values in ``equivalence_units`` converted
    with the pooled SD the equivalence test of that outcome and arm used
    (``bound_raw / bound``); without such a record, values in SDs stay null.

    References
    ----------
    Spiegelhalter, D. J., Freedman, L. S., & Parmar, M. K. B. (1994). JRSS A, 157(3), 357-416.

    Examples
    --------
    >>> eff = [{"outcome": "y", "arm": "t", "method": "difference_in_means",
    ...         "estimate": 0.2, "std_error": 0.174, "n_control": 50, "n_treatment": 50}]
    >>> eq = [{"outcome": "y", "arm": "t", "bound": 0.1, "bound_raw": 0.1}]
    >>> t = backlash_table(eff, [], eq, {"y": {"desired": "increase", "primary": True}})
    >>> t[["p_backlash", "one_in", "delta"]].round(4).values.tolist()
    [[0.1252, 8.0, 0.1]]
    """
    eq = {(e["outcome"], e["arm"]): e for e in equivalence}

    def raw(value: float | None, outcome: str, arm: str) -> float | None:
        if value is None:
            return None
        if equivalence_units == "raw":
            return float(value)
        e = eq.get((outcome, arm))
        if e is None or not e.get("bound") or e.get("bound_raw") is None:
            return None
        return float(value) * float(e["bound_raw"]) / float(e["bound"])

    effects = [e for e in effects if _usable(e)]
    methods: dict[str, set[str]] = {}
    for e in effects:
        methods.setdefault(e["outcome"], set()).add(e.get("method"))
    chosen = []
    for e in effects:
        want = primary_method if outcomes.get(e["outcome"], {}).get("primary") else None
        if want not in methods[e["outcome"]]:
            want = "difference_in_means"
        if e.get("method") == want:
            chosen.append(e)
    rows = [(e, None, None) for e in chosen]
    rows += [
        (s, s.get("moderator"), s.get("level"))
        for s in subgroups
        if not s.get("suppressed") and _usable(s)
    ]
    out = []
    for r, moderator, level in rows:
        outcome, arm = r["outcome"], r["arm"]
        desired = outcomes.get(outcome, {}).get("desired", "increase")
        delta = raw(
            backlash_delta if backlash_delta is not None else equivalence_bound, outcome, arm
        )
        prior = raw(prior_sd, outcome, arm)
        flat = backlash_probabilities(
            r["estimate"], r["std_error"], desired=desired, delta=np.nan if delta is None else delta
        )
        row = {
            "outcome": outcome,
            "arm": arm,
            "moderator": moderator,
            "level": level,
            "method": r.get("method", "difference_in_means"),
            "estimate": r["estimate"],
            "std_error": r["std_error"],
            "desired": desired,
            "delta": delta,
            "p_backlash": float(flat["p_backlash"]),
            "p_backlash_delta": float(flat["p_backlash_delta"]),
            "prior_sd": prior,
            "p_backlash_prior": None,
            "p_backlash_delta_prior": None,
            "n_control": r.get("n_control"),
            "n_treatment": r.get("n_treatment"),
        }
        row["one_in"] = _one_in(row["p_backlash"])
        row["one_in_delta"] = _one_in(row["p_backlash_delta"])
        if prior is not None:
            post = backlash_probabilities(
                r["estimate"],
                r["std_error"],
                desired=desired,
                delta=np.nan if delta is None else delta,
                prior_sd=prior,
            )
            row["p_backlash_prior"] = float(post["p_backlash"])
            row["p_backlash_delta_prior"] = float(post["p_backlash_delta"])
        out.append(row)
    return pd.DataFrame(out, columns=BACKLASH_COLUMNS)


def _usable(record: Mapping[str, Any]) -> bool:
    est, se = record.get("estimate"), record.get("std_error")
    return est is not None and se is not None and np.isfinite(est) and np.isfinite(se) and se > 0


def backlash_section(
    plan: Plan,
    effects: Iterable[Mapping[str, Any]],
    subgroups: Iterable[Mapping[str, Any]],
    equivalence: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The ``backlash`` records of :func:`analysis.run` (see :func:`backlash_table`).

    Parameters
    ----------
    plan : analysis.plan.Plan
        The analysis plan (outcomes with ``desired`` and ``primary``, primary method,
        equivalence bound and units, ``backlash_delta``, ``backlash_prior_sd``).
    effects, subgroups, equivalence : iterable of mapping
        ``run``'s records of those sections.

    Returns
    -------
    list of dict
        :func:`backlash_table`'s rows as records, nulls as None, ``one_in`` as int.

    Notes
    -----
    The probabilities are :func:`backlash_probabilities`' (posterior ``P(d < 0)`` and
    ``P(d < -delta)`` on the campaign's scale); the report shows them in final reports only.

    References
    ----------
    Greenland, S. (2006). International Journal of Epidemiology, 35(3), 765-775.

    Examples
    --------
    >>> from analysis.plan import load_plan
    >>> plan = load_plan({"arm": "arm", "control": "c", "outcomes": ["y"]})
    >>> eff = [{"outcome": "y", "arm": "t", "method": "difference_in_means",
    ...         "estimate": 0.2, "std_error": 0.174}]
    >>> backlash_section(plan, eff, [], [])[0]["p_backlash"]
    0.125...
    """
    table = backlash_table(
        effects,
        subgroups,
        equivalence,
        {o.name: {"desired": o.desired, "primary": o.primary} for o in plan.outcomes},
        primary_method=plan.primary_method,
        equivalence_bound=plan.equivalence_bound,
        equivalence_units=plan.equivalence_units,
        backlash_delta=plan.backlash_delta,
        prior_sd=plan.backlash_prior_sd,
    )
    out = table.astype(object).where(table.notna(), None).to_dict("records")
    for row in out:
        for key in ("one_in", "one_in_delta"):
            row[key] = None if row[key] is None else int(row[key])
    return out
