"""The design page's edits (pure): scheme, seed, blocking groups and block sizes in plain words.

Block sizes are multiples of the arms' total weight (each arm gets its share of every
block); `fit_block_size` moves a size that no longer fits to the nearest one that does,
and `plain_message` words a validation message without formula names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from framelab.domain.study import Study, StudyError, study_from_data

# How many block sizes the frames page offers (1x to 6x the total weight).
BLOCK_SIZE_CHOICES = 6
_SUM_OF_WEIGHTS = re.compile(r"is not a multiple of sum\(weights\) = (\d+)")


# ------------------------------------------------------------------ block sizes


def total_weight(weights: Mapping[str, int]) -> int:
    """The number of places one round of the weights takes (each arm its weight)."""
    return sum(weights.values())


def valid_block_sizes(weights: Mapping[str, int], current: int | None = None) -> list[int]:
    """Block sizes that give every arm its share: multiples of the total weight.

    The current size is included even when it lies beyond the usual choices.
    """
    total = total_weight(weights)
    sizes = [total * k for k in range(1, BLOCK_SIZE_CHOICES + 1)]
    if current is not None and current % total == 0 and current not in sizes:
        sizes.append(current)
    return sizes


def fit_block_size(current: int | None, total: int) -> int | None:
    """The multiple of `total` nearest to `current` (ties go up); None stays None."""
    if current is None:
        return None
    rounds = max(1, math.floor(current / total + 0.5))
    return rounds * total


def block_size_label(size: int, weights: Mapping[str, int]) -> str:
    """What a block size means, in words ("8: each arm twice per block of 8")."""
    total = total_weight(weights)
    rounds = size // total
    times = {1: "once", 2: "twice"}.get(rounds, f"{rounds} times")
    if len(set(weights.values())) == 1:
        per_arm = next(iter(weights.values())) * rounds
        times = {1: "once", 2: "twice"}.get(per_arm, f"{per_arm} times")
        return f"{size}: every arm {times} in each block of {size} participants"
    return f"{size}: the weights {times} over, in each block of {size} participants"


def plain_message(message: str) -> str:
    """A validation message in the studio's words (no formula names)."""
    return _SUM_OF_WEIGHTS.sub(
        lambda m: f"does not fit the arm weights: choose a multiple of {m.group(1)}", message
    )


def plain_errors(errors: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(location, plain_message(message)) for location, message in errors]


# ------------------------------------------------------------------ design in plain words


def group_id(name: str) -> str:
    """A stratum label from a group name typed by a campaigner ("Left wing" -> left_wing).

    A name that already is a label stays as it is (a study file's `ek_2_` saved unchanged).
    """
    if re.fullmatch(r"[a-z][a-z0-9_]{0,59}", name.strip()):
        return name.strip()
    ident = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")[:60]
    if ident and not ident[0].isalpha():
        ident = f"group_{ident}"
    return ident


def strata_from_groups(
    values: Sequence[int], groups: Mapping[int, str]
) -> dict[str, list[int]] | None:
    """Strata from a group name per answer value; None when no answer is grouped (then
    every answer is its own stratum). An answer left without a group is kept alone."""
    if not any((groups.get(v) or "").strip() for v in values):
        return None
    strata: dict[str, list[int]] = {}
    for value in values:
        label = group_id(groups.get(value) or "") or f"answer_{value}"
        strata.setdefault(label, []).append(value)
    return strata


def edit_design(
    spec: Study,
    *,
    scheme: str,
    seed: int,
    block_by: str | None,
    groups: Mapping[int, str] | None,
    block_size: int | None,
) -> Study:
    """Scheme, seed, blocking question with its answers grouped into strata, block size.

    `groups` (answer value -> group name) are the groups of `block_by`'s answers, the
    question chosen now, so one form sets the question and its groups together. Without
    groups a question kept keeps its strata and a new one starts ungrouped. Weights and
    factors are kept.
    """
    data = spec.model_dump(mode="json")
    design = data["design"]
    design["scheme"] = scheme
    design["seed"] = seed
    if scheme != "blocked" or block_by is None:
        design["block_by"] = None if scheme != "blocked" else block_by
        design["strata"] = None
    elif groups is None:
        design["block_by"] = block_by
        design["strata"] = design.get("strata") if block_by == spec.design.block_by else None
    else:
        design["block_by"] = block_by
        values = next((i.allowed_values() or [] for i in spec.items if i.id == block_by), [])
        design["strata"] = strata_from_groups(values, groups)
    total = total_weight(spec.weights())
    if scheme == "simple":
        design["block_size"] = None
    elif block_size is None or (spec.design.block_size is None and block_size == total):
        design["block_size"] = spec.design.block_size if block_size is None else None
    else:
        design["block_size"] = block_size
    if scheme != "factorial":
        design["factors"] = None
    data["design"] = {k: v for k, v in design.items() if v is not None}
    try:
        return study_from_data(data)
    except StudyError as exc:
        raise StudyError(plain_errors(exc.errors)) from None


def block_size_choices(spec: Study) -> dict[int, str]:
    """The block sizes that fit the study's shares, each with what it means."""
    weights = spec.weights()
    sizes = valid_block_sizes(weights, spec.design.block_size)
    return {size: block_size_label(size, weights) for size in sizes}
