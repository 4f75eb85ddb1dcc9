"""Planted effects as a rehearsal states them: per arm, per subgroup, per manipulation check.

The `simulate` command's `--effect care=0.5`, `--moderator ideology:1:care=0.4` and
`--recognition loyalty=0.1` are read here; each error names the option and the values
the study allows. The bots (framelab.simulate.bots) plant what these return.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from framelab.domain.study import Study


@dataclass(frozen=True)
class Moderator:
    """An extra effect for bots whose pre answer to `item` is `value`, in `arm`."""

    item: str
    value: int
    arm: str
    delta: float


def parse_effects(pairs: list[str], spec: Study) -> dict[str, float]:
    """`["care=0.5", ...]` -> {"care": 0.5}; arm ids must be the study's."""
    effects: dict[str, float] = {}
    for pair, arm, delta in _arm_pairs("--effect", "DELTA", pairs, spec):
        try:
            effects[arm] = float(delta)
        except ValueError:
            raise ValueError(f"--effect {pair!r}: DELTA must be a number, got {delta!r}") from None
    return effects


def parse_recognition(pairs: list[str], spec: Study) -> dict[str, float]:
    """`["loyalty=0.1", ...]` -> {"loyalty": 0.1}: per-arm chance of recognising the frame."""
    return arm_chances("--recognition", pairs, spec)


def arm_chances(option: str, pairs: list[str], spec: Study) -> dict[str, float]:
    """`option`'s `["ARM=P", ...]` -> {ARM: P}, each P a chance from 0 to 1."""
    out: dict[str, float] = {}
    for pair, arm, share in _arm_pairs(option, "P", pairs, spec):
        try:
            value = float(share)
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{option} {pair!r}: P must be a number from 0 to 1")
        out[arm] = value
    return out


def _arm_pairs(
    option: str, what: str, pairs: list[str], spec: Study
) -> Iterator[tuple[str, str, str]]:
    """Each `ARM=<what>` of `option`, in turn, as (pair, arm, text); the arm must be the study's."""
    for pair in pairs:
        arm, sep, text = pair.partition("=")
        if not sep or arm not in spec.arm_ids:
            raise ValueError(
                f"{option} {pair!r}: expected ARM={what} with ARM one of {', '.join(spec.arm_ids)}"
            )
        yield pair, arm, text


def parse_moderator(text: str, spec: Study) -> Moderator:
    """`ITEM:VALUE:ARM=DELTA`, e.g. `ideology:1:care=0.4`."""
    head, sep, delta = text.partition("=")
    parts = head.split(":")
    if not sep or len(parts) != 3:
        raise ValueError(f"--moderator {text!r}: expected ITEM:VALUE:ARM=DELTA")
    item_id, value, arm = parts
    pre_ids = [item.id for item in spec.items_for("pre")]
    if item_id not in pre_ids:
        raise ValueError(f"--moderator {text!r}: ITEM must be a pre item ({', '.join(pre_ids)})")
    if arm not in spec.arm_ids:
        raise ValueError(f"--moderator {text!r}: ARM must be one of {', '.join(spec.arm_ids)}")
    try:
        return Moderator(item_id, int(value), arm, float(delta))
    except ValueError:
        raise ValueError(f"--moderator {text!r}: VALUE must be whole and DELTA a number") from None
