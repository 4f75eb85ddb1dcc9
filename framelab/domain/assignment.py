"""Randomization: which arm the participant in a given slot receives.

Every arm is a pure function of ``(seed, stratum, position)``, where
``position`` counts the assignments made so far in that stratum (0, 1, 2, ...).
The database therefore only keeps one counter per stratum: it takes the next
position inside its transaction and asks ``arm_for_slot`` for the arm. Audit
and replay need nothing but the study and the order of arrivals.

Schemes:

- ``simple``: independent weighted draws; position ``p`` is its own block of one.
- ``complete``: permuted blocks over the whole study (one stratum, ``all``).
- ``blocked``: permuted blocks within each stratum of the ``block_by`` item.
- ``factorial``: permuted blocks over the factorial cells (and the control,
  when it stands outside the grid), so cells stay balanced.

Public API::

    Slot(arm, block_index, position_in_block, stratum, position)
    block_sequence(study_or_design, seed, stratum, block_index) -> list[str]
    simple_draw(study_or_design, seed, stratum, position) -> str
    arm_for_slot(study, stratum, position) -> Slot
    arm_sequence(study, stratum, n) -> list[str]     # the first n arms of a stratum
    replay(study, arrivals: list[str]) -> list[str]  # strata in arrival order -> arms

Randomness comes from SHA-256 in counter mode keyed by
``"{seed}:{stratum}:{block_index}"``, with rejection sampling for exact
uniformity and an explicit Fisher–Yates shuffle. Unlike ``random.shuffle``,
none of this depends on the Python version, so a sequence audited today
replays identically on any future interpreter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from framelab.domain.study import Design, Study

__all__ = [
    "Slot",
    "arm_for_slot",
    "arm_sequence",
    "block_sequence",
    "replay",
    "simple_draw",
]

_BLOCK_SCHEMES = ("complete", "blocked", "factorial")


@dataclass(frozen=True)
class Slot:
    """One assignment: the arm, and where it sits in its stratum's sequence."""

    arm: str
    block_index: int
    position_in_block: int
    stratum: str = "all"
    position: int = 0


class _Stream:
    """Deterministic uniform integers from SHA-256 of ``key`` and a counter."""

    def __init__(self, key: str) -> None:
        self._key = key.encode("utf-8")
        self._counter = 0

    def _next64(self) -> int:
        digest = hashlib.sha256(self._key + b":" + str(self._counter).encode("ascii")).digest()
        self._counter += 1
        return int.from_bytes(digest[:8], "big")

    def below(self, n: int) -> int:
        """A uniform integer in ``[0, n)``; rejection keeps it exactly uniform."""
        if n <= 0:
            raise ValueError(f"n: expected a positive bound, got {n}")
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            value = self._next64()
            if value < limit:
                return value % n


def _weights(study_or_design: Study | Design) -> dict[str, int]:
    if isinstance(study_or_design, Study):
        return study_or_design.weights()
    if study_or_design.weights is None:
        raise ValueError(
            "design.weights: a Design on its own needs explicit weights to know its arms; "
            "pass the Study instead"
        )
    return dict(study_or_design.weights)


def _block_size(study_or_design: Study | Design, weights: dict[str, int]) -> int:
    if isinstance(study_or_design, Study):
        return study_or_design.block_size()
    return study_or_design.block_size or sum(weights.values())


def block_sequence(
    study_or_design: Study | Design, seed: int, stratum: str, block_index: int
) -> list[str]:
    """The arms of one permuted block, in order; a pure function of its arguments.

    Each arm appears ``weight * block_size / sum(weights)`` times.
    """
    if block_index < 0:
        raise ValueError(f"block_index: expected 0 or more, got {block_index}")
    weights = _weights(study_or_design)
    total = sum(weights.values())
    size = _block_size(study_or_design, weights)
    if size % total:
        raise ValueError(f"block_size: {size} is not a multiple of sum(weights) = {total}")
    repeats = size // total
    block = [arm for arm, weight in weights.items() for _ in range(weight * repeats)]
    stream = _Stream(f"{seed}:{stratum}:{block_index}")
    # Fisher–Yates, written out so the permutation never depends on the stdlib.
    for i in range(len(block) - 1, 0, -1):
        j = stream.below(i + 1)
        block[i], block[j] = block[j], block[i]
    return block


def simple_draw(study_or_design: Study | Design, seed: int, stratum: str, position: int) -> str:
    """The arm of an independent weighted draw for ``position`` in ``stratum``."""
    if position < 0:
        raise ValueError(f"position: expected 0 or more, got {position}")
    weights = _weights(study_or_design)
    ticket = _Stream(f"{seed}:{stratum}:simple:{position}").below(sum(weights.values()))
    for arm, weight in weights.items():
        if ticket < weight:
            return arm
        ticket -= weight
    raise AssertionError("unreachable: ticket is below the total weight")


def _check_stratum(study: Study, stratum: str) -> None:
    strata = study.strata()
    if stratum not in strata:
        raise ValueError(
            f"stratum: '{stratum}' is not a stratum of {study.slug} (strata: {', '.join(strata)})"
        )


def arm_for_slot(study: Study, stratum: str, position: int) -> Slot:
    """The arm of the participant who takes ``position`` (0-based) in ``stratum``."""
    _check_stratum(study, stratum)
    if position < 0:
        raise ValueError(f"position: expected 0 or more, got {position}")
    seed = study.design.seed
    if study.design.scheme == "simple":
        arm = simple_draw(study, seed, stratum, position)
        return Slot(arm, position, 0, stratum, position)
    size = study.block_size()
    block_index, in_block = divmod(position, size)
    arm = block_sequence(study, seed, stratum, block_index)[in_block]
    return Slot(arm, block_index, in_block, stratum, position)


def arm_sequence(study: Study, stratum: str, n: int) -> list[str]:
    """The arms of the first ``n`` participants in ``stratum``."""
    _check_stratum(study, stratum)
    if study.design.scheme == "simple":
        return [simple_draw(study, study.design.seed, stratum, p) for p in range(n)]
    size = study.block_size()
    arms: list[str] = []
    for block_index in range(-(-n // size)):
        arms += block_sequence(study, study.design.seed, stratum, block_index)
    return arms[:n]


def replay(study: Study, arrivals: Iterable[str]) -> list[str]:
    """Arms for participants arriving in this order, given each one's stratum."""
    counters: dict[str, int] = {}
    cache: dict[tuple[str, int], list[str]] = {}
    arms: list[str] = []
    blocked = study.design.scheme in _BLOCK_SCHEMES
    size = study.block_size()
    for stratum in arrivals:
        position = counters.get(stratum, 0)
        counters[stratum] = position + 1
        if not blocked:
            arms.append(arm_for_slot(study, stratum, position).arm)
            continue
        # Reuse each block rather than reshuffling it for every member.
        block_index, in_block = divmod(position, size)
        if (stratum, block_index) not in cache:
            _check_stratum(study, stratum)
            cache[stratum, block_index] = block_sequence(
                study, study.design.seed, stratum, block_index
            )
        arms.append(cache[stratum, block_index][in_block])
    return arms
