"""Small counts in results tables: which cells a report must not show.

A count of 1 to ``minimum - 1`` participants (the plan's ``min_cell_size``) can single
someone out ("the 2 people in the loyalty arm who answered 1"), so it is never shown.
Hiding it alone is not enough when the line's total is known (an arm's n is in the
descriptives): total minus the shown cells gives it back. So, as framelab's dashboard
does (``framelab.domain.disclosure.protect_counts``; a test checks that both hide the
same cells), the smallest other cells are hidden too until at least two are hidden and
the hidden ones add up to ``minimum`` or more. Zero counts are shown: they say nothing
about anyone.

Used by :func:`analysis.run.run` on the answer distributions (counts and shares per
arm) and on the per-arm withdrawn counts of the flow and attrition tables.

Examples
--------
>>> rows = [{"outcome": "y", "arm": "t", "value": v, "count": c, "share": c / 30}
...         for v, c in [(1, 2), (2, 8), (3, 20)]]
>>> [r["count"] for r in protect_distributions(rows, 5)]
[None, None, 20]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral
from typing import Any

__all__ = [
    "hidden_cells",
    "protect_distributions",
    "protect_flow",
    "protect_records",
    "protect_sections",
]


def hidden_cells(counts: Sequence[int], minimum: int) -> list[bool]:
    """Which cells of one line of counts (with a known total) to hide.

    Parameters
    ----------
    counts : sequence of int
        One line of counts whose total is known (e.g. one arm's answers to one question).
    minimum : int
        The smallest count that may be shown (the plan's ``min_cell_size``, at least 1).

    Returns
    -------
    list of bool
        True for each cell to hide, in the order of ``counts``.

    Notes
    -----
    Primary suppression: counts ``0 < c < minimum`` are hidden. Secondary suppression: if
    any is, the smallest other non-zero counts (then zeros) are hidden until at least two
    cells are hidden and ``sum(hidden) >= minimum`` (or every cell is hidden), so the
    total minus the shown cells does not give a small count back.

    References
    ----------
    Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Nordholt, E. S.,
    Spicer, K., & de Wolf, P.-P. (2012). Statistical Disclosure Control, ch. 4
    (primary and secondary cell suppression). Wiley.

    Examples
    --------
    >>> hidden_cells([40, 3, 25], 10)
    [False, True, True]
    >>> hidden_cells([40, 0, 25], 10)
    [False, False, False]
    """
    if minimum < 1:
        raise ValueError(f"min_cell_size: expected 1 or more, got {minimum}")
    hidden = {i for i, c in enumerate(counts) if 0 < c < minimum}
    if hidden:
        others = sorted(
            (i for i in range(len(counts)) if i not in hidden),
            key=lambda i: (counts[i] == 0, counts[i], i),
        )
        for i in others:
            if len(hidden) >= 2 and sum(counts[j] for j in hidden) >= minimum:
                break
            hidden.add(i)
    return [i in hidden for i in range(len(counts))]


def protect_records(
    rows: Iterable[Mapping[str, Any]],
    *,
    line: Sequence[str],
    count: str,
    minimum: int,
    also: Sequence[str] = (),
    where: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Records with small counts hidden, line by line.

    Parameters
    ----------
    rows : iterable of mapping
        The table's records.
    line : sequence of str
        Fields whose shared values make records one line of counts (say outcome and arm).
    count : str
        The field holding the count.
    minimum : int
        The smallest count that may be shown.
    also : sequence of str, default ()
        Fields hidden together with the count (such as a share computed from it).
    where : mapping, optional
        Only records with these field values take part; the others pass through unchanged.

    Returns
    -------
    list of dict
        Copies of the records; in each line that took part, hidden cells have ``count``
        and the ``also`` fields set to None, and every record gets ``suppressed`` (True
        when hidden, False when shown).

    Notes
    -----
    Each line is decided by :func:`hidden_cells`. Records whose count is not an integer
    (already hidden, or missing) take no part.

    References
    ----------
    Hundepool, A., et al. (2012). Statistical Disclosure Control, ch. 4. Wiley.

    Examples
    --------
    >>> rows = [{"arm": "c", "n": 40}, {"arm": "t", "n": 3}, {"arm": "u", "n": 25}]
    >>> [(r["n"], r["suppressed"]) for r in protect_records(rows, line=(), count="n", minimum=10)]
    [(40, False), (None, True), (None, True)]
    """
    out = [dict(r) for r in rows]
    where = dict(where or {})
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(out):
        if all(r.get(k) == v for k, v in where.items()) and isinstance(r.get(count), Integral):
            groups.setdefault(tuple(r.get(k) for k in line), []).append(i)
    for members in groups.values():
        for i, hide in zip(
            members, hidden_cells([int(out[i][count]) for i in members], minimum), strict=True
        ):
            out[i]["suppressed"] = hide
            if hide:
                out[i][count] = None
                for name in also:
                    out[i][name] = None
    return out


def protect_distributions(rows: Iterable[Mapping[str, Any]], minimum: int) -> list[dict[str, Any]]:
    """Answer distributions: each arm's counts of one outcome form a line (its n is known).

    Parameters
    ----------
    rows : iterable of mapping
        ``run``'s ``distributions`` records (``outcome, arm, count, share, ...``).
    minimum : int
        The smallest count that may be shown.

    Returns
    -------
    list of dict
        The records with hidden cells' ``count`` and ``share`` None, and ``suppressed``.

    Notes
    -----
    :func:`protect_records` with ``line = (outcome, arm)``, ``count = "count"`` and
    ``also = ("share",)``.

    References
    ----------
    Hundepool, A., et al. (2012). Statistical Disclosure Control, ch. 4. Wiley.

    Examples
    --------
    >>> rows = [{"outcome": "y", "arm": "t", "count": c, "share": c / 30} for c in (2, 8, 20)]
    >>> [r["share"] for r in protect_distributions(rows, 5)][:2]
    [None, None]
    """
    return protect_records(
        rows, line=("outcome", "arm"), count="count", also=("share",), minimum=minimum
    )


def protect_flow(rows: Iterable[Mapping[str, Any]], minimum: int) -> list[dict[str, Any]]:
    """Participant flow: the per-arm withdrawn and excluded counts, each stage across arms.

    Parameters
    ----------
    rows : iterable of mapping
        ``run``'s ``flow`` records (``stage, arm, n, ...``).
    minimum : int
        The smallest count that may be shown.

    Returns
    -------
    list of dict
        The records with the hidden ``withdrawn`` and ``excluded`` counts None, and
        ``suppressed`` on those stages' records; other stages pass through.

    Notes
    -----
    The exclusions table states each stage's total, so each of the two stages is one
    line across arms (:func:`protect_records` with ``line = (stage,)``).

    References
    ----------
    Hundepool, A., et al. (2012). Statistical Disclosure Control, ch. 4. Wiley.

    Examples
    --------
    >>> rows = [{"stage": "withdrawn", "arm": a, "n": n} for a, n in [("c", 2), ("t", 30)]]
    >>> [r["n"] for r in protect_flow(rows, 5)]
    [None, None]
    """
    out = [dict(r) for r in rows]
    for stage in ("withdrawn", "excluded"):
        out = protect_records(
            out, line=("stage",), count="n", minimum=minimum, where={"stage": stage}
        )
    return out


def protect_sections(sections: Mapping[str, Any], minimum: int) -> dict[str, Any]:
    """Optional sections: the attrition table's withdrawn count per arm, across arms.

    Parameters
    ----------
    sections : mapping
        ``run``'s optional sections (only ``attrition`` is changed).
    minimum : int
        The smallest count that may be shown.

    Returns
    -------
    dict
        A copy of ``sections`` whose ``attrition`` records have small ``withdrawn`` counts
        hidden (None) and ``suppressed`` set.

    Notes
    -----
    :func:`protect_records` with one line across all arms and ``count = "withdrawn"``.

    References
    ----------
    Hundepool, A., et al. (2012). Statistical Disclosure Control, ch. 4. Wiley.

    Examples
    --------
    >>> s = {"attrition": [{"arm": "c", "withdrawn": 1}, {"arm": "t", "withdrawn": 12}]}
    >>> [r["withdrawn"] for r in protect_sections(s, 5)["attrition"]]
    [None, None]
    """
    out = dict(sections)
    if isinstance(out.get("attrition"), list):
        out["attrition"] = protect_records(
            out["attrition"], line=(), count="withdrawn", minimum=minimum
        )
    return out
