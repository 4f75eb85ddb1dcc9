"""The study specification: pydantic model, loading, canonical hash.

Public API::

    load_study(text: str) -> Study            # YAML or JSON; raises StudyError
    load_study_file(path) -> Study            # the same from a file
    study_from_data(data: dict) -> Study      # already-parsed data (e.g. spec JSON from the DB)
    StudyError                                # ValueError; .errors = [(location, message)]
    ValueProblem                              # ValueError from Item.validate_value
    Study, Arm, Frame, Item, Option, Scale, Design, AnalysisPlan, Completion, Quality, Privacy
    Localized, LocalizedLabels                # text per language; .get(lang, fallback)

    study.content_hash() -> str               # SHA-256 of canonical JSON
    study.to_yaml() -> str                    # loads back with the same hash
    study.control_arm / study.frame_arms / study.arm(id) / study.arm_ids
    study.item(id) / study.scale(id) / study.items_for(phase) / study.outcome_items
    study.text(localized, lang) -> str
    study.weights() -> dict[str, int] / study.block_size() -> int
    study.strata() -> list[str] / study.stratum_for(value) -> str

``Study.model_validate`` works too but raises pydantic's ValidationError;
the three loaders turn it into a StudyError with ``location: message`` lines.
The format is described in docs/study-format.md. The sections (Arm, Design, AnalysisPlan,
...) are defined in ``framelab.domain.study_sections``, the fields and derived views above
in ``framelab.domain.study_fields.StudyFields``; cross-field rules live in
``framelab.domain.checks`` and ``framelab.domain.design_checks``, which a Study runs when
it is validated. The checks take a StudyFields, so they never import this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError, model_validator

from framelab.domain.checks import study_problems
from framelab.domain.errors import StudyError, ValueProblem
from framelab.domain.items import Item, Option
from framelab.domain.localized import Localized, LocalizedLabels
from framelab.domain.parsing import errors_from_validation, parse_study_text
from framelab.domain.study_fields import StudyFields
from framelab.domain.study_sections import (
    AnalysisPlan,
    Arm,
    Completion,
    Design,
    Frame,
    Privacy,
    Quality,
    Scale,
)

__all__ = [
    "AnalysisPlan",
    "Arm",
    "Completion",
    "Design",
    "Frame",
    "Item",
    "Localized",
    "LocalizedLabels",
    "Option",
    "Privacy",
    "Quality",
    "Scale",
    "Study",
    "StudyError",
    "ValueProblem",
    "load_study",
    "load_study_file",
    "study_from_data",
]


class Study(StudyFields):
    """A validated study; construct with ``load_study`` or ``Study.model_validate``.

    The fields and derived views are StudyFields'; a Study is also checked as a whole.
    """

    @model_validator(mode="after")
    def _check_whole_study(self) -> Study:
        problems = study_problems(self)
        if problems:
            raise StudyError(problems)
        return self


# ---------------------------------------------------------------- loading


def load_study(text: str) -> Study:
    """Parse and validate a study written as YAML or JSON; raises StudyError."""
    return study_from_data(parse_study_text(text))


def load_study_file(path: str | Path) -> Study:
    """Read ``path`` (UTF-8) and validate it; a StudyError names the file when unreadable."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError([("", f"cannot read study file {path}: {exc}")]) from None
    return load_study(text)


def study_from_data(data: Any) -> Study:
    """Validate already-parsed data (e.g. spec JSON from the database); raises StudyError."""
    if not isinstance(data, dict):
        kind = "nothing" if data is None else f"a {type(data).__name__}"
        raise StudyError(
            [("", f"expected a mapping with slug, title, arms, items, ... at the top, got {kind}")]
        )
    try:
        return Study.model_validate(data)
    except ValidationError as exc:
        raise StudyError(errors_from_validation(exc, Study)) from None
