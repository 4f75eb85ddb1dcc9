"""Separation in binary and cumulative-logit models, detected from the data before fitting.

A logit or proportional-odds model has a finite maximum-likelihood estimate only
when no linear combination of the predictors sorts the answers perfectly.
Write the cumulative logit model as ``logit P(Y <= j | x) = theta_j - x'beta``
(``j = 1..K-1``; a binary logit is the case ``K = 2`` with ``theta_1`` minus the
intercept). Participant *i* with answer ``k`` contributes
``log(F(theta_k - x_i'beta) - F(theta_{k-1} - x_i'beta))``. Along a direction
``d = (d_theta, d_beta)`` the contribution stays bounded below exactly when::

    u_i = d_theta_k     - x_i'd_beta >= 0   (k < K)
    l_i = d_theta_{k-1} - x_i'd_beta <= 0   (k > 1)

and it rises strictly when one of them is strict. The log-likelihood is concave
(Pratt 1981), so its maximum is attained if and only if every such *recession
direction* leaves all ``u_i`` and ``l_i`` at zero (Rockafellar 1970, Thm 27.1);
otherwise it keeps rising towards infinite estimates: (quasi-)complete
separation (Albert & Anderson 1984; for binary data this is the condition that
Konis 2007 checks by linear programming, as R's ``detectseparation`` does).

The check is one linear program (HiGHS, through ``scipy.optimize.linprog``)::

    maximise  sum_m t_m   over d (free) and 0 <= t_m <= 1
    subject to t_m <= u_m and t_m <= -l_m for every constraint m

Its optimum is the number of constraints that some recession direction makes
strict (the cone is closed under addition and scaling, so one direction makes
all of them strict at once): an integer, zero exactly when the estimate exists.
Identical rows give identical constraints, so the program runs on the distinct
(predictors, answer) patterns: for the arm-only models of ``run`` that is at
most arms x categories rows whatever the sample size. The decision uses no BLAS
and does not depend on the CPU. Which arms' log odds ratios are unbounded is
asked the same way (one small program per arm and sign). When covariates are in
the model (every participant may be a pattern), Konis's own form is solved
instead, ``max sum_m (u_m - l_m)`` over ``|d| <= 1`` (as many variables as
predictors), and its solution is re-checked on the cone before it counts.

References
----------
Albert, A., & Anderson, J. A. (1984). On the existence of maximum likelihood
estimates in logistic regression models. Biometrika, 71(1), 1-10.
Konis, K. (2007). Linear programming algorithms for detecting separated data in
binary logistic regression models. DPhil thesis, University of Oxford.
Pratt, J. W. (1981). Concavity of the log likelihood. JASA, 76(373), 103-106.
Rockafellar, R. T. (1970). Convex Analysis. Princeton University Press.

Examples
--------
>>> import numpy as np
>>> X = np.array([[0.0], [0.0], [1.0], [1.0]])  # one arm dummy
>>> bool(separated_constraints(X, np.array([0, 1, 0, 1]), 2).any())  # both answers in each arm
False
>>> bool(separated_constraints(X, np.array([0, 1, 1, 1]), 2).any())  # the arm answers only 1
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

__all__ = ["SeparationError", "check_separation", "separated_constraints"]


class SeparationError(ValueError):
    """The likelihood has no maximum: some arm's answers are (quasi-)separated.

    ``outcome``, ``arm`` (the arm at fault when there is one, else None),
    ``unbounded`` (arms whose log odds ratio is unbounded) and ``empty``
    (arm -> category values it has no answers in that the separation uses)
    are kept for callers that turn the error into a warning record, whose code is
    ``warning_code``.
    """

    warning_code = "separation"

    def __init__(
        self,
        message: str,
        *,
        outcome: str,
        arm: str | None,
        unbounded: Sequence[str],
        empty: dict[str, list[float]],
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.arm = arm
        self.unbounded = list(unbounded)
        self.empty = dict(empty)


@dataclass(frozen=True)
class _Cone:
    """The recession-cone constraints ``A_ub d <= 0`` (one row per u_m or l_m) of a model."""

    rows: np.ndarray  # (m, K-1+p): each row is -u_m or +l_m as a function of d
    pattern: np.ndarray  # (m,) index of the distinct (x, k) pattern the row belongs to
    upper: np.ndarray  # (m,) True for a u-row (pushes P(Y <= k) to 1), False for an l-row


def _distinct_rows(M: np.ndarray) -> np.ndarray:
    """Distinct rows in lexicographic order (as ``np.unique(axis=0)``, about 4x faster)."""
    if len(M) == 0:
        return M
    s = M[np.lexsort(M.T[::-1])]
    keep = np.concatenate([[True], np.any(s[1:] != s[:-1], axis=1)])
    return s[keep]


def _cone(X: np.ndarray, y_idx: np.ndarray, n_levels: int) -> tuple[_Cone, np.ndarray]:
    # Column scaling changes no direction's sign pattern; it keeps HiGHS's tolerances
    # meaningful when a covariate is in thousands.
    scale = np.max(np.abs(X), axis=0, initial=0.0)
    Xs = X / np.where(scale > 0, scale, 1.0)
    patterns = _distinct_rows(np.column_stack([Xs, y_idx]))
    K1 = n_levels - 1
    x, k = patterns[:, :-1], patterns[:, -1].astype(np.intp)
    up = np.flatnonzero(k < K1)  # u = theta_k - x'b >= 0, written -u <= 0
    lo = np.flatnonzero(k > 0)  # l = theta_{k-1} - x'b <= 0
    U = np.zeros((up.size, K1 + x.shape[1]))
    U[np.arange(up.size), k[up]] = -1.0
    U[:, K1:] = x[up]
    L = np.zeros((lo.size, K1 + x.shape[1]))
    L[np.arange(lo.size), k[lo] - 1] = 1.0
    L[:, K1:] = -x[lo]
    cone = _Cone(
        rows=np.vstack([U, L]),
        pattern=np.concatenate([up, lo]),
        upper=np.concatenate([np.ones(up.size, bool), np.zeros(lo.size, bool)]),
    )
    return cone, patterns


def _linprog(c, A_ub, b_ub, bounds):
    # HiGHS's presolve spends seconds on the thousands of degenerate (b = 0) rows of a
    # continuous covariate and removes nothing; the simplex alone takes milliseconds.
    res = optimize.linprog(
        c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs", options={"presolve": False}
    )
    if res.status != 0:  # pragma: no cover - the programs are feasible and bounded by design
        raise ArithmeticError(f"separation check: linear program failed ({res.message})")
    return res


def separated_constraints(X: np.ndarray, y_idx: np.ndarray, n_levels: int) -> np.ndarray:
    """Which cone constraints some recession direction makes strict (see the module doc).

    Parameters
    ----------
    X : (n, p) float array
        Predictors without an intercept column (the thresholds play its part).
    y_idx : (n,) int array
        Answer category index, ``0 .. n_levels - 1``.
    n_levels : int
        Number of categories (2 for a binary logit).

    Returns
    -------
    bool array
        One entry per constraint of the distinct patterns; all False exactly when the
        maximum-likelihood estimate exists.

    Notes
    -----
    Solves ``max sum_m t_m`` over d (free) and ``0 <= t_m <= 1`` subject to
    ``t_m <= u_m`` and ``t_m <= -l_m`` (HiGHS); constraint m is strict when ``t_m = 1``.

    References
    ----------
    Albert & Anderson (1984), Biometrika 71(1); Konis (2007), DPhil thesis, Oxford;
    Rockafellar (1970), Convex Analysis, Thm 27.1.

    Examples
    --------
    >>> X = np.array([[0.0], [0.0], [1.0], [1.0]])
    >>> separated_constraints(X, np.array([0, 1, 1, 1]), 2)
    array([False, False,  True])
    """
    cone, _ = _cone(X, y_idx, n_levels)
    m, k = cone.rows.shape
    # Variables (d, t); t_m <= u_m  <=>  t_m - u_m <= 0  <=>  t_m + (-u_m) <= 0.
    A = sparse.hstack([sparse.csr_matrix(cone.rows), sparse.eye(m, format="csr")], "csr")
    c = np.concatenate([np.zeros(k), -np.ones(m)])
    bounds = [(None, None)] * k + [(0.0, 1.0)] * m
    res = _linprog(c, A, np.zeros(m), bounds)
    return res.x[k:] > 0.5


def _separated_by_box(cone: _Cone) -> bool:
    """Konis's (2007) form for large pattern sets: maximise the summed slack in a box.

    ``max sum_m (u_m - l_m)`` subject to the cone and ``|d| <= 1``: k variables
    whatever the number of patterns (the exact program above has one per pattern
    and is slow for thousands of continuous-covariate rows). Positive exactly when
    some direction is strict; the solution is re-checked on the cone before it counts.
    """
    m, k = cone.rows.shape
    res = _linprog(cone.rows.sum(axis=0), cone.rows, np.zeros(m), [(-1.0, 1.0)] * k)
    slack = cone.rows @ res.x
    return bool(np.max(slack) <= 1e-9 and -slack.sum() > 1e-6)


def _unbounded_columns(
    cone: _Cone, K1: int, columns: Sequence[int], threshold: float = 0.5
) -> list[int]:
    """Columns j of ``X`` whose coefficient can move along a recession direction."""
    m, k = cone.rows.shape
    bounds = [(-1.0, 1.0)] * k
    out = []
    for j in columns:
        for sign in (1.0, -1.0):
            c = np.zeros(k)
            c[K1 + j] = -sign
            res = _linprog(c, cone.rows, np.zeros(m), bounds)
            # The arm-only cone is an interval system (totally unimodular): vertices are
            # integral, so the optimum is 0 or at least 1 and 0.5 is a safe threshold.
            if -res.fun > threshold:
                out.append(j)
                break
    return out


def _runs(levels: np.ndarray, idx: Sequence[int]) -> list[str]:
    out, start = [], None
    idx = sorted(idx)
    for pos, i in enumerate(idx):
        if start is None:
            start = i
        if pos + 1 == len(idx) or idx[pos + 1] != i + 1:
            lo, hi = levels[start], levels[i]
            out.append(f"{lo:g}" if start == i else f"{lo:g}-{hi:g}")
            start = None
    return out


def _arm_phrase(arm: str, levels: np.ndarray, seen: np.ndarray, empty: list[int]) -> str:
    if seen.sum() == 1:
        return f"every participant in arm {arm!r} has the value {levels[seen][0]:g}"
    runs = _runs(levels, empty)
    word = "category" if len(empty) == 1 else "categories"
    return f"arm {arm!r} has no answers in {word} {', '.join(runs)}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def check_separation(
    outcome: str,
    model: str,
    codes: np.ndarray,
    arms: Sequence[str],
    y_idx: np.ndarray,
    levels: np.ndarray,
    covariates: np.ndarray | None = None,
    covariate_names: Sequence[str] = (),
) -> None:
    """Raise :class:`SeparationError` when the model's likelihood has no maximum.

    Parameters
    ----------
    outcome, model : str
        Used in the message (``model`` is e.g. "binary logit" or "ordinal").
    codes : (n,) int array
        Arm per participant: 0 = control, ``j`` = ``arms[j]`` (``arms[0]`` is the control).
    arms : sequence of str
        Control first, then the treatment arms.
    y_idx : (n,) int array
        Category index of each answer into ``levels``.
    levels : array
        The outcome's categories (distinct observed values, sorted).
    covariates : (n, q) float array, optional
        Further predictors of the model; names in ``covariate_names``.

    Returns
    -------
    None
        Returns quietly when the maximum-likelihood estimate exists; else raises
        :class:`SeparationError` with ``outcome``, ``arm`` (the arm to blame, or None),
        ``unbounded`` (arms whose log odds ratio is unbounded) and ``empty`` (arm ->
        the outcome values it has no answers in).

    Notes
    -----
    The arm-only model is checked first; when it is separated, the message names
    the arms and the categories they have no answers in that the separation uses
    (those whose probability the unbounded direction drives to zero). Otherwise
    the covariates are checked and named. See the module docstring for the rule.

    References
    ----------
    Albert & Anderson (1984), Biometrika 71(1); Konis (2007); R ``detectseparation``.

    Examples
    --------
    >>> codes, y = np.array([0, 0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 1, 1])
    >>> check_separation("join", "binary logit", codes, ["c", "t"], y, np.array([0.0, 1.0]))
    Traceback (most recent call last):
    ...
    analysis.separation.SeparationError: outcome 'join': every participant in arm 't' has the value 1, so the log odds ratio of arm 't' is unbounded (separation): the binary logit model has no finite estimate and is not fitted
    """
    K = len(levels)
    # Identical rows give identical constraints: the arm-only check runs on the distinct
    # (arm, category) pairs (an integer unique, fast for a million rows).
    pairs = np.unique(codes.astype(np.int64) * K + y_idx)
    D_u = (pairs[:, None] // K == np.arange(1, len(arms))).astype(float)
    strict = separated_constraints(D_u, pairs % K, K)
    if strict.any():
        cone, patterns = _cone(D_u, pairs % K, K)
        pat_arm = np.where(patterns[:, :-1].any(axis=1), patterns[:, :-1].argmax(axis=1) + 1, 0)
        pat_k = patterns[:, -1].astype(int)
        empty: dict[int, set[int]] = {}
        for row in np.flatnonzero(strict):
            g, k = int(pat_arm[cone.pattern[row]]), int(pat_k[cone.pattern[row]])
            # A strict u-row drives P(Y <= k) to 1 in arm g: categories above k are empty
            # there; a strict l-row drives P(Y <= k-1) to 0: categories below k are.
            cats = range(k + 1, K) if cone.upper[row] else range(0, k)
            empty.setdefault(g, set()).update(cats)
        unbounded = [arms[1 + j] for j in _unbounded_columns(cone, K - 1, range(len(arms) - 1))]
        named = sorted(empty)
        phrases = [
            _arm_phrase(arms[g], levels, np.isin(np.arange(K), y_idx[codes == g]), sorted(empty[g]))
            for g in named
        ]
        if len(unbounded) == 1:
            tail = f"the log odds ratio of arm {unbounded[0]!r} is unbounded"
        else:
            shown = _join([repr(a) for a in unbounded])
            tail = f"the log odds ratios of arms {shown} are unbounded"
        culprit = (
            arms[named[0]] if len(named) == 1 else (unbounded[0] if len(unbounded) == 1 else None)
        )
        raise SeparationError(
            f"outcome {outcome!r}: {_join(phrases)}, so {tail} (separation): "
            f"the {model} model has no finite estimate and is not fitted",
            outcome=outcome,
            arm=culprit,
            unbounded=unbounded,
            empty={arms[g]: [float(levels[c]) for c in sorted(empty[g])] for g in named},
        )
    if covariates is None or covariates.shape[1] == 0:
        return
    D = (codes[:, None] == np.arange(1, len(arms))).astype(float)
    X = np.hstack([D, covariates])
    cone, _ = _cone(X, y_idx, K)
    if not _separated_by_box(cone):
        return
    # Covariate columns make the cone non-integral: any clearly positive optimum counts.
    moving = _unbounded_columns(cone, K - 1, range(D.shape[1], X.shape[1]), threshold=1e-6)
    cov = [covariate_names[j - D.shape[1]] for j in moving]
    who = (
        f"covariate {cov[0]!r} sorts"
        if len(cov) == 1
        else f"covariates {_join([repr(c) for c in cov])} sort"
        if cov
        else "the covariates sort"
    )
    raise SeparationError(
        f"outcome {outcome!r}: {who} the answers perfectly "
        f"(quasi-separation: with the arms {'it predicts' if len(cov) == 1 else 'they predict'} "
        "on which side of a category "
        f"boundary every answer falls), so the estimates are unbounded: the {model} model "
        "has no finite estimate and is not fitted",
        outcome=outcome,
        arm=None,
        unbounded=[],
        empty={},
    )
