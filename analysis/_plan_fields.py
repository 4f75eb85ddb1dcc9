"""Parsers of single plan keys for :func:`analysis.plan.load_plan` (private).

Each takes the raw value and the place it came from, returns it normalised, and raises
``ValueError`` naming the place and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def cut_points_field(raw: Any, moderators: tuple[str, ...]) -> dict[str, tuple[float, ...]]:
    """cut_points: moderator -> increasing numbers (a continuous moderator's subgroup bounds)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError("cut_points: expected a mapping moderator -> list of numbers")
    out: dict[str, tuple[float, ...]] = {}
    for column, points in raw.items():
        if column not in moderators:
            raise ValueError(
                f"cut_points.{column}: not a moderator (moderators: {', '.join(moderators)})"
            )
        ok = isinstance(points, list | tuple) and points
        ok = ok and all(isinstance(p, int | float) and not isinstance(p, bool) for p in points)
        if not ok or any(points[i + 1] <= points[i] for i in range(len(points) - 1)):
            raise ValueError(
                f"cut_points.{column}: expected a list of increasing numbers, got {points!r}"
            )
        out[str(column)] = tuple(float(p) for p in points)
    return out


def names_field(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{key}: expected a column name or a list of column names, got {value!r}")


def localized_field(value: Any, where: str) -> str | dict[str, str] | None:
    """A label: a text, or a mapping language code -> text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise ValueError(f"{where}: expected a text or a mapping language -> text, got {value!r}")


def range_field(value: Any, where: str) -> tuple[float, float] | None:
    if value is None:
        return None
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and value[0] < value[1]
    ):
        return (float(value[0]), float(value[1]))
    raise ValueError(f"{where}: expected [low, high] with low < high, got {value!r}")


def levels_field(raw: Mapping[str, Any]) -> dict[str, tuple]:
    value = raw.get("levels") or {}
    if not isinstance(value, Mapping):
        raise ValueError("levels: expected a mapping column -> list of its levels in order")
    out = {}
    for column, levels in value.items():
        if not isinstance(levels, list) or not levels or len(set(map(str, levels))) != len(levels):
            raise ValueError(
                f"levels.{column}: expected a list of distinct levels (the first is the "
                f"reference), got {levels!r}"
            )
        out[str(column)] = tuple(levels)
    return out


def scales_field(value: Any) -> dict[str, tuple[str, ...]]:
    """``scales``: mapping index column -> list of at least two item columns."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError("scales: expected a mapping scale column -> list of its item columns")
    out = {}
    for column, items in value.items():
        names = names_field(items, f"scales.{column}")
        if len(names) < 2 or len(set(names)) != len(names):
            raise ValueError(
                f"scales.{column}: expected a list of at least two distinct item columns, "
                f"got {items!r}"
            )
        out[str(column)] = names
    return out


def number_field(raw: Mapping, key: str, default: float, low: float, high: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low < value < high:
        raise ValueError(f"{key}: expected a number between {low} and {high}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Wave:
    """One follow-up wave: its id (the export's column prefix), when it opens (days after
    wave 1), the items it asks again and how long it stays open (None: not said)."""

    id: str
    after_days: int
    items: tuple[str, ...]
    window_days: int | None = None

    def columns(self, outcomes: Iterable[str]) -> list[str]:
        """``{id}_returned``, then ``{id}_{item}`` for each item that is one of ``outcomes``."""
        names = set(outcomes)
        return [f"{self.id}_returned", *(f"{self.id}_{i}" for i in self.items if i in names)]


_WAVE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


def _days(spec: Mapping, key: str, where: str, required: bool) -> int | None:
    value = spec.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{where}.{key}: expected a whole number of days (1 or more), got {value!r}"
        )
    return value


def waves_field(raw: Any) -> tuple[Wave, ...]:
    """waves: list of {id, after_days, items, window_days}, opening one after another.

    Keys other than these (the survey's own settings for a wave) are left to the survey.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError("waves: expected a list of waves ({id, after_days, items, window_days})")
    waves: list[Wave] = []
    for i, spec in enumerate(raw):
        where = f"waves[{i}]"
        if not isinstance(spec, Mapping):
            raise ValueError(f"{where}: expected a mapping with id, after_days and items")
        wid = spec.get("id")
        if not isinstance(wid, str) or not _WAVE_ID.fullmatch(wid):
            raise ValueError(
                f"{where}.id: expected a short name of letters, digits and _ starting with a "
                f"letter (the prefix of the wave's columns, e.g. w2), got {wid!r}"
            )
        if any(w.id == wid for w in waves):
            raise ValueError(f"{where}.id: the wave id {wid!r} is used twice")
        items = names_field(spec.get("items"), f"{where}.items")
        if not items or len(set(items)) != len(items):
            raise ValueError(f"{where}.items: expected a list of distinct item ids, got {items!r}")
        after = _days(spec, "after_days", where, True)
        if waves and after <= waves[-1].after_days:
            raise ValueError(
                f"{where}.after_days: waves must open one after another; {after} is not after "
                f"the {waves[-1].after_days} days of wave {waves[-1].id!r}"
            )
        waves.append(Wave(wid, after, items, _days(spec, "window_days", where, False)))
    return tuple(waves)
