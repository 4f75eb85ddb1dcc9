"""Panel outcomes: the code and return address a panel expects for each way out (pure; issue 21).

::

    panel:
      name: prolific                      # prolific | mturk | generic
      outcomes:
        completed:       {code: C1ABC, redirect: "https://app.prolific.com/submissions/complete?cc=C1ABC"}
        screened_out:    {code: C2SCR, redirect: "https://app.prolific.com/submissions/complete?cc=C2SCR"}
        over_quota:      {code: C3QTA}
        consent_refused: {code: C4NOC}
        attention_failed: {code: C5ATT}   # shown instead of `completed` to who failed a check

Each outcome gives a code (shown on the page) and/or a redirect (a button back to the
panel); an outcome left out shows neither. `outcome_for` says which outcome a
participant's page stands for, `hand_back` its code and address. The older
``completion: {code, redirect_url}`` section still works as the `completed` outcome;
a study gives one or the other. docs/panels.md describes each panel's conventions.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import model_validator

from framelab.domain.errors import StudyError
from framelab.domain.items import DomainModel

if TYPE_CHECKING:
    from framelab.domain.study_fields import StudyFields

Problems = list[tuple[str, str]]
OUTCOMES = ("completed", "screened_out", "over_quota", "consent_refused", "attention_failed")
# The page (terminal step or debrief) each outcome is shown on.
OUTCOME_OF_STEP = {
    "debrief": "completed",
    "screened_out": "consent_refused",
    "ineligible": "screened_out",
    "over_quota": "over_quota",
}
CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


class PanelOutcome(DomainModel):
    """A code shown to the participant and/or the address of the button back to the panel."""

    code: str | None = None
    redirect: str | None = None

    @model_validator(mode="after")
    def _check(self) -> PanelOutcome:
        problems = []
        if self.code is not None and not CODE.fullmatch(self.code):
            problems.append(
                ("code", f"expected letters, digits, _ or - (at most 64), got {self.code!r}")
            )
        link = self.redirect
        if link is not None and (len(link) > 2000 or not URL.match(link)):
            problems.append(
                ("redirect", f"expected an http(s) URL of at most 2000 characters, got {link!r}")
            )
        if self.code is None and link is None:
            problems.append(("", "expected a code, a redirect or both (or leave the outcome out)"))
        if problems:
            raise StudyError(problems)
        return self


class PanelOutcomes(DomainModel):
    completed: PanelOutcome | None = None
    screened_out: PanelOutcome | None = None
    over_quota: PanelOutcome | None = None
    consent_refused: PanelOutcome | None = None
    attention_failed: PanelOutcome | None = None


class Panel(DomainModel):
    """The panel participants come from and what it expects back for each outcome."""

    name: Literal["prolific", "mturk", "generic"]
    outcomes: PanelOutcomes


def outcome_for(spec: StudyFields, step: str, *, attention_failed: bool = False) -> str | None:
    """The outcome the page of `step` stands for (None: a page in the middle of the study)."""
    outcome = OUTCOME_OF_STEP.get(step)
    panel = spec.panel
    if outcome == "completed" and attention_failed and panel is not None:
        return "attention_failed" if panel.outcomes.attention_failed is not None else outcome
    return outcome


def hand_back(spec: StudyFields, outcome: str | None) -> tuple[str | None, str | None]:
    """(code, redirect) for `outcome`: the panel's, else `completion`'s for `completed`."""
    if outcome is None:
        return None, None
    if spec.panel is not None:
        given = getattr(spec.panel.outcomes, outcome)
        return (given.code, given.redirect) if given is not None else (None, None)
    if outcome == "completed" and spec.completion is not None:
        return spec.completion.code, spec.completion.redirect_url
    return None, None


def panel_problems(study: StudyFields) -> Problems:
    """Outcomes the study can never reach, a second hand-back, a Prolific code mismatch."""
    panel = study.panel
    if panel is None:
        return []
    problems: Problems = []
    if study.completion is not None:
        problems.append(
            ("completion", "give the completed code in panel.outcomes.completed, not both")
        )
    outcomes = panel.outcomes
    never = {
        "screened_out": (
            study.screener is None or study.screener.screen_out is None,
            "the study screens nobody out (no screener.screen_out)",
        ),
        "over_quota": (not study.quota, "the study has no quota"),
        "attention_failed": (not study.attention_items, "the study has no attention_check item"),
    }
    for name, (unreachable, why) in never.items():
        if getattr(outcomes, name) is not None and unreachable:
            problems.append((f"panel.outcomes.{name}", f"never shown: {why}"))
    if panel.name == "prolific":
        for name in OUTCOMES:
            given = getattr(outcomes, name)
            if given is None or given.code is None or given.redirect is None:
                continue
            cc = parse_qs(urlsplit(given.redirect).query).get("cc")
            if cc and cc[0] != given.code:
                problems.append(
                    (
                        f"panel.outcomes.{name}.redirect",
                        f"its cc={cc[0]} differs from the code {given.code}; Prolific reads cc",
                    )
                )
    return problems
