"""What a manipulation check should show for each arm (pure; issue 19).

An option of a manipulation-check item counts as perceiving what an arm conveys
when its `value_tag` is one of the values the arm's frame appeals to, or when its
`correct_for` lists the arm. The analysis plan (framelab.services.plan_design) and
the simulated participants (framelab.simulate) both read this one rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from framelab.domain.items import Item
    from framelab.domain.study import Study


def target_codes(spec: Study, item: Item, arm_id: str) -> list[int]:
    """Answer codes of `item` that count as perceiving what arm `arm_id` conveys."""
    arm = spec.arm(arm_id)
    values = set(arm.frame.values) if arm.frame is not None else set()
    return [
        o.value
        for o in item.options or []
        if (o.value_tag is not None and o.value_tag in values)
        or (o.correct_for is not None and arm_id in o.correct_for)
    ]


def has_meanings(item: Item) -> bool:
    """True when a manipulation-check item's options say what they mean."""
    return item.role == "manipulation_check" and any(
        o.value_tag is not None or o.correct_for for o in item.options or []
    )
