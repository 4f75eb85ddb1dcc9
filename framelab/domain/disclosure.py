"""Small counts that stay small: suppression that totals cannot undo, releases in batches.

A count of 1 to `minimum` - 1 people (a small cell) is never shown: with a handful of
people in a group, the count (and what the group is) can single someone out. Hiding
the small cell alone is not enough:

- **From totals.** When the total of a table is known (the dashboard shows the whole
  study's funnel), total minus the visible cells gives the hidden one back. So
  `protect_counts` hides more cells (complementary suppression) until at least two are
  hidden and the hidden ones add up to `minimum` or more: their sum then follows from
  the total, but no single one does. Every hidden cell reads the same ("hidden"): a
  label that told a small cell from a complementary one would narrow both down (a
  small one is below the minimum, a complementary one at least the minimum) and, with
  a sum of just over the minimum, give the small one back. A table whose total is
  itself between 1 and `minimum` - 1 gives its cells away whatever is hidden; the
  dashboard never shows one (it releases counts in batches of `minimum`), and the
  codebook hides such a total too.
- **From successive views.** Someone who reloads a live count after each arrival sees
  which cell moved and can count a small cell up from zero. So `released_counts` only
  moves a table's counts in whole batches of `batch` arrivals (the counts as of the
  last multiple of `batch`, in the order the arrivals became known to the table): a
  hidden cell's change is always mixed with the table's other arrivals of the batch.

Both are pure functions of the counts (no clock, no randomness), so the same data always
shows the same table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["HIDDEN", "Cell", "protect_counts", "released_counts"]

# How every hidden cell reads, small or hidden so that a small one cannot be worked out.
HIDDEN = "hidden"


@dataclass(frozen=True)
class Cell:
    """One count as shown: its value (None when hidden) and its text."""

    value: int | None
    text: str

    @property
    def hidden(self) -> bool:
        return self.value is None


def protect_counts(counts: Sequence[int], minimum: int) -> list[Cell]:
    """The cells of one table line (counts that add up to a known total), small ones hidden.

    Counts from 1 to `minimum` - 1 are hidden. If any is, the smallest other counts are
    hidden too (zeros last) until at least two cells are hidden and the hidden cells
    add up to `minimum` or more (or every cell is hidden), so that neither the total
    nor the other cells give one back. Every hidden cell reads "hidden".

    >>> [c.text for c in protect_counts([40, 3, 25], 10)]
    ['40', 'hidden', 'hidden']
    """
    if minimum < 1:
        raise ValueError(f"minimum: expected 1 or more, got {minimum}")
    if any(c < 0 for c in counts):
        raise ValueError(f"counts: expected counts of 0 or more, got {list(counts)}")
    small = {i for i, c in enumerate(counts) if 0 < c < minimum}
    hidden = set(small)
    if hidden:
        # Non-zero counts first (they raise the hidden sum), smallest first, then zeros.
        others = sorted(
            (i for i in range(len(counts)) if i not in hidden),
            key=lambda i: (counts[i] == 0, counts[i], i),
        )
        for i in others:
            if len(hidden) >= 2 and sum(counts[j] for j in hidden) >= minimum:
                break
            hidden.add(i)
    return [
        Cell(None, HIDDEN) if i in hidden else Cell(count, str(count))
        for i, count in enumerate(counts)
    ]


def released_counts(arrivals: Iterable[tuple[Any, Hashable]], batch: int) -> Counter:
    """Counts per group of the arrivals released so far: the first multiple of `batch`.

    `arrivals` are (sort key, group) pairs, one per person counted; the sort key orders
    them by when the table could first count them (ties broken by the rest of the key).
    Only the first `batch * (n // batch)` are counted, so the counts change only when a
    whole batch has arrived. A group of None is counted in the batch but in no group.

    >>> released_counts([(1, "a"), (2, "b"), (3, "a")], 2)
    Counter({'a': 1, 'b': 1})
    """
    if batch < 1:
        raise ValueError(f"batch: expected 1 or more, got {batch}")
    ordered = sorted(arrivals, key=lambda pair: pair[0])
    released = ordered[: batch * (len(ordered) // batch)]
    return Counter(group for _, group in released if group is not None)
