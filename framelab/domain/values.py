"""The value taxonomy that frames and items are tagged with.

Two built-in taxonomies plus the tags a study declares itself:

- moral foundations as measured by MFQ-2 (Atari et al. 2023), which splits
  fairness into equality and proportionality, plus liberty;
- Schwartz's ten basic human values (Schwartz 1992).

Public API::

    VALUES: dict[str, ValueTag]              # every built-in tag, in display order
    MORAL_FOUNDATIONS, SCHWARTZ: tuple[str, ...]
    known_values(custom=()) -> list[str]     # built-in tags then the study's custom ones
    describe_value(tag, custom=()) -> ValueTag   # LookupError for an unknown tag

Tags are matched exactly; there are no aliases (``fairness`` is not
``equality``) so that a value-match analysis never silently merges two tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MORAL_FOUNDATIONS_TAXONOMY = "moral_foundations"
SCHWARTZ_TAXONOMY = "schwartz"
CUSTOM_TAXONOMY = "custom"


@dataclass(frozen=True)
class ValueTag:
    """One value a frame can appeal to or an item can measure."""

    id: str
    label: str
    description: str
    taxonomy: str


_BUILT_IN: tuple[ValueTag, ...] = (
    ValueTag(
        "care",
        "Care",
        "Concern for the suffering of others; protecting the vulnerable from harm.",
        MORAL_FOUNDATIONS_TAXONOMY,
    ),
    ValueTag(
        "equality",
        "Equality",
        "Everyone treated alike and given the same rights and chances.",
        MORAL_FOUNDATIONS_TAXONOMY,
    ),
    ValueTag(
        "proportionality",
        "Proportionality",
        "People get what they deserve: rewards and punishments fit their deeds.",
        MORAL_FOUNDATIONS_TAXONOMY,
    ),
    ValueTag(
        "loyalty",
        "Loyalty",
        "Standing with one's group, nation or team; honouring those who serve it.",
        MORAL_FOUNDATIONS_TAXONOMY,
    ),
    ValueTag(
        "authority",
        "Authority",
        "Respect for legitimate leadership, tradition and social order.",
        MORAL_FOUNDATIONS_TAXONOMY,
    ),
    ValueTag(
        "purity",
        "Purity",
        "Keeping body and society free of what degrades or contaminates; sanctity.",
        MORAL_FOUNDATIONS_TAXONOMY,
    ),
    ValueTag(
        "liberty",
        "Liberty",
        "Freedom from domination; resisting overreaching power over the individual.",
        MORAL_FOUNDATIONS_TAXONOMY,
    ),
    ValueTag(
        "self_direction",
        "Self-direction",
        "Independent thought and action: choosing, creating, exploring.",
        SCHWARTZ_TAXONOMY,
    ),
    ValueTag(
        "stimulation",
        "Stimulation",
        "Excitement, novelty and challenge in life.",
        SCHWARTZ_TAXONOMY,
    ),
    ValueTag(
        "hedonism",
        "Hedonism",
        "Pleasure and sensuous gratification for oneself.",
        SCHWARTZ_TAXONOMY,
    ),
    ValueTag(
        "achievement",
        "Achievement",
        "Personal success through showing competence by social standards.",
        SCHWARTZ_TAXONOMY,
    ),
    ValueTag(
        "power",
        "Power",
        "Social status and prestige; control over people and resources.",
        SCHWARTZ_TAXONOMY,
    ),
    ValueTag(
        "security",
        "Security",
        "Safety, harmony and stability of society, relationships and self.",
        SCHWARTZ_TAXONOMY,
    ),
    ValueTag(
        "conformity",
        "Conformity",
        "Restraint of actions likely to upset others or break social norms.",
        SCHWARTZ_TAXONOMY,
    ),
    ValueTag(
        "tradition",
        "Tradition",
        "Respect for and commitment to the customs of one's culture or religion.",
        SCHWARTZ_TAXONOMY,
    ),
    ValueTag(
        "benevolence",
        "Benevolence",
        "Preserving and enhancing the welfare of people one is close to.",
        SCHWARTZ_TAXONOMY,
    ),
    ValueTag(
        "universalism",
        "Universalism",
        "Understanding, tolerance and protection for the welfare of all people and nature.",
        SCHWARTZ_TAXONOMY,
    ),
)

VALUES: dict[str, ValueTag] = {tag.id: tag for tag in _BUILT_IN}
MORAL_FOUNDATIONS: tuple[str, ...] = tuple(
    t.id for t in _BUILT_IN if t.taxonomy == MORAL_FOUNDATIONS_TAXONOMY
)
SCHWARTZ: tuple[str, ...] = tuple(t.id for t in _BUILT_IN if t.taxonomy == SCHWARTZ_TAXONOMY)


def known_values(custom: Iterable[str] = ()) -> list[str]:
    """Every tag a study may use: built-in tags in display order, then its custom tags."""
    result = list(VALUES)
    for tag in custom:
        if tag not in VALUES and tag not in result:
            result.append(tag)
    return result


def describe_value(tag: str, custom: Iterable[str] = ()) -> ValueTag:
    """The label and description of ``tag``; custom tags are labelled from their id."""
    if tag in VALUES:
        return VALUES[tag]
    if tag in set(custom):
        return ValueTag(
            tag,
            tag.replace("_", " ").capitalize(),
            "A value declared by this study.",
            CUSTOM_TAXONOMY,
        )
    raise LookupError(f"'{tag}' is not a known value (known: {', '.join(known_values(custom))})")
