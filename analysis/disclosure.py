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

    Counts from 1 to ``minimum - 1`` are hidden; if any is, the smallest other non-zero
    counts (then zeros) are hidden until at least two cells are hidden and the hidden
    cells add up to ``minimum`` or more (or every cell is hidden).

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

    Records that share the values of ``line`` (say outcome and arm) form one line of
    counts; a hidden cell gets ``count`` (and every field in ``also``, such as a share
    computed from it) set to None and ``suppressed`` True (False for the shown cells of
    a line). Only records matching
    ``where`` take part; the others pass through unchanged.
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
    """Answer distributions: each arm's counts of one outcome form a line (its n is known)."""
    return protect_records(
        rows, line=("outcome", "arm"), count="count", also=("share",), minimum=minimum
    )


def protect_flow(rows: Iterable[Mapping[str, Any]], minimum: int) -> list[dict[str, Any]]:
    """Participant flow: the per-arm withdrawn and excluded counts, each stage across arms
    (the exclusions table states each stage's total)."""
    out = [dict(r) for r in rows]
    for stage in ("withdrawn", "excluded"):
        out = protect_records(
            out, line=("stage",), count="n", minimum=minimum, where={"stage": stage}
        )
    return out


def protect_sections(sections: Mapping[str, Any], minimum: int) -> dict[str, Any]:
    """Optional sections: the attrition table's withdrawn count per arm, across arms."""
    out = dict(sections)
    if isinstance(out.get("attrition"), list):
        out["attrition"] = protect_records(
            out["attrition"], line=(), count="withdrawn", minimum=minimum
        )
    return out
