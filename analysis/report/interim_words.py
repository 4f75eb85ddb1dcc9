"""The words of the interim report and of the live view: what the stopping rule implies now.

The ``sequential`` section (:mod:`analysis.sequential`) carries one record per frame and
primary outcome with its ``decision`` code; this module says it in the reader's language
(through the report's :class:`~analysis.report.i18n.Translator`, English by default).
framelab's studio dashboard shows the same sentences.

Examples
--------
>>> record = {"arm": "care", "outcome": "support", "decision": "continue",
...           "cs_low": -0.5, "cs_high": 0.7}
>>> decision_sentence(record)
'care: keep collecting; the interval for support (−0.50 to 0.70) still includes zero.'
>>> decision_word("too_few")
'too few yet'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.report.i18n import Translator, translator
from analysis.sequential import MIN_PER_ARM

__all__ = ["decision_sentence", "decision_word", "interim_banner", "overall_sentence"]

STOPS = ("efficacy", "harm", "futility")

# The small formatters below are shared with sequence_plot and interim (not in __all__).


def english_if_none(t: Translator | None) -> Translator:
    """The given translator, else the English one."""
    return t or translator("en")


def number_or_dash(value: Any, t: Translator, digits: int = 2) -> str:
    """A number in the reader's notation, or '–' when there is none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return t.number(value, digits)


def p_or_dash(value: Any, t: Translator) -> str:
    """An anytime p-value to 3 decimals ('< 0.001' below that), or '–'."""
    if value is None:
        return "–"
    if value < 0.001:
        return t("< {value}", value=t.number(0.001, 3))
    return t.number(value, 3)


def level_percent(share: float, t: Translator) -> str:
    """'95%', '97.5%', '98.33%': as few decimals as show the level (two at most)."""
    shown = round(100 * share, 2)
    digits = next(d for d in (0, 1, 2) if round(shown, d) == shown)
    return t.percent(share, digits)


def _family_level(record: Mapping[str, Any], t: Translator) -> str:
    return level_percent(1 - (record.get("alpha") or 0.05), t)


def arm_and_outcome(record: Mapping[str, Any]) -> tuple[str, str]:
    """The record's frame and outcome by their labels, else by their ids."""
    return (
        str(record.get("arm_label") or record.get("arm")),
        str(record.get("outcome_label") or record.get("outcome")),
    )


def interim_banner(t: Translator | None = None) -> str:
    """The line at the top of every interim page, in the reader's language.

    Parameters
    ----------
    t : Translator, optional
        The reader's language; English by default.

    Returns
    -------
    str
        The banner's text (the page styles it).

    Notes
    -----
    Every interim file and page says INTERIM (DECISIONS rule 3): before the planned
    sample only anytime-valid intervals may be read.

    Examples
    --------
    >>> interim_banner()
    'INTERIM — the study has not reached its planned sample; only anytime-valid intervals are shown'
    """
    t = english_if_none(t)
    return t(
        "INTERIM — the study has not reached its planned sample; only anytime-valid "
        "intervals are shown"
    )


def decision_word(decision: Any, t: Translator | None = None) -> str:
    """The decision column's words for a ``decision`` code of the sequential section.

    Parameters
    ----------
    decision : str
        ``efficacy``, ``harm``, ``futility``, ``continue``, ``too_few`` or ``complete``.
    t : Translator, optional
        The reader's language; English by default.

    Returns
    -------
    str
        A few words; an unknown code is shown as given.

    Notes
    -----
    The codes are :mod:`analysis.sequential`'s; the table keeps the code in a
    ``data-decision`` attribute beside these words.

    Examples
    --------
    >>> decision_word("futility"), decision_word("something new")
    ('may stop: too small to matter', 'something new')
    """
    t = english_if_none(t)
    words = {
        "efficacy": t("may stop: it works"),
        "harm": t("may stop: it backfires"),
        "futility": t("may stop: too small to matter"),
        "continue": t("keep collecting"),
        "too_few": t("too few yet"),
        "complete": t("complete"),
    }
    return words.get(str(decision), str(decision))


def decision_sentence(record: Mapping[str, Any], t: Translator | None = None) -> str:
    """What the declared rule implies for one frame now ("Care: you may stop; …").

    Parameters
    ----------
    record : mapping
        One ``sequential`` record: ``arm``/``arm_label``, ``outcome``/``outcome_label``,
        ``decision``, ``alpha``, ``desired``, the interval ends and any ``futility_bound``.
    t : Translator, optional
        The reader's language; English by default.

    Returns
    -------
    str
        One sentence naming the frame.

    Notes
    -----
    The confidence level is the family's (``1 - alpha``, Bonferroni over frames and
    primary outcomes); "above" or "below zero" follows the outcome's desired direction.

    Examples
    --------
    >>> decision_sentence({"arm": "care", "outcome": "support", "decision": "efficacy",
    ...                    "alpha": 0.05})
    'care: you may stop; the effect on support is above zero at every future look with 95% confidence (all frames together).'
    """
    t = english_if_none(t)
    arm, outcome = arm_and_outcome(record)
    level = _family_level(record, t)
    decision = record.get("decision")
    increase = record.get("desired", "increase") == "increase"
    if decision == "efficacy":
        if increase:
            return t(
                "{arm}: you may stop; the effect on {outcome} is above zero at every future "
                "look with {level} confidence (all frames together).",
                arm=arm,
                outcome=outcome,
                level=level,
            )
        return t(
            "{arm}: you may stop; the effect on {outcome} is below zero at every future "
            "look with {level} confidence (all frames together).",
            arm=arm,
            outcome=outcome,
            level=level,
        )
    if decision == "harm":
        if increase:
            return t(
                "{arm}: you may stop; this frame moves {outcome} the wrong way (the interval "
                "lies wholly below zero) with {level} confidence.",
                arm=arm,
                outcome=outcome,
                level=level,
            )
        return t(
            "{arm}: you may stop; this frame moves {outcome} the wrong way (the interval "
            "lies wholly above zero) with {level} confidence.",
            arm=arm,
            outcome=outcome,
            level=level,
        )
    if decision == "futility":
        bound = record.get("futility_bound")
        amount = (
            t.quantity("{value} point", "{value} points", float(bound), 2)
            if isinstance(bound, int | float) and math.isfinite(bound)
            else "–"
        )
        return t(
            "{arm}: you may stop; any effect on {outcome} is smaller than the declared "
            "{amount} with {level} confidence, too small to matter by the plan's rule.",
            arm=arm,
            outcome=outcome,
            amount=amount,
            level=level,
        )
    if decision == "too_few":
        return t(
            "{arm}: too few participants yet for an interval (at least {n} in this frame "
            "and in the control).",
            arm=arm,
            n=t.integer(MIN_PER_ARM),
        )
    if decision == "complete":
        return t(
            "{arm}: the planned sample is reached; the final report holds the result.", arm=arm
        )
    return t(
        "{arm}: keep collecting; the interval for {outcome} ({low} to {high}) still includes zero.",
        arm=arm,
        outcome=outcome,
        low=number_or_dash(record.get("cs_low"), t),
        high=number_or_dash(record.get("cs_high"), t),
    )


def overall_sentence(records: Sequence[Mapping[str, Any]], t: Translator | None = None) -> str:
    """The study's line: may it stop (every frame decided) or keep collecting.

    Parameters
    ----------
    records : sequence of mapping
        The ``sequential`` records.
    t : Translator, optional
        The reader's language; English by default.

    Returns
    -------
    str
        Two sentences for the top of the interim section.

    Notes
    -----
    The study may stop only when every frame has reached efficacy, harm or futility;
    stopping itself is the owner's confirmed Close.

    Examples
    --------
    >>> overall_sentence([{"decision": "efficacy"}, {"decision": "continue"}])
    'Keep collecting: not every frame has reached a decision. These intervals stay valid however often you look, up to the planned sample.'
    """
    t = english_if_none(t)
    if records and all(r.get("decision") in STOPS for r in records):
        return t(
            "The declared rule says the study may stop: every frame has reached a decision. "
            "Stopping is the owner's confirmed Close now; until then participants keep "
            "arriving and the intervals stay valid."
        )
    return t(
        "Keep collecting: not every frame has reached a decision. These intervals stay "
        "valid however often you look, up to the planned sample."
    )
