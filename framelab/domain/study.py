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
...) are defined in ``framelab.domain.study_sections``; cross-field rules live in
``framelab.domain.checks`` and ``framelab.domain.design_checks``, which this module calls
when a Study is validated (they never import it back, so the import graph has no circle).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from framelab.domain.checks import study_problems
from framelab.domain.errors import StudyError, ValueProblem
from framelab.domain.items import Item, OmitsUnsetFields, Option
from framelab.domain.localized import Localized, LocalizedLabels
from framelab.domain.parsing import errors_from_validation, parse_study_text
from framelab.domain.study_sections import (
    MAX_TARGET_N,
    AnalysisPlan,
    Arm,
    Completion,
    Design,
    Frame,
    Privacy,
    Quality,
    Scale,
)
from framelab.domain.translation import Translation
from framelab.domain.values import known_values

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

SINGLE_STRATUM = "all"
SLUG = re.compile(r"^[a-z0-9-]{3,64}$")


class Study(OmitsUnsetFields):
    """A validated study; construct with ``load_study`` or ``Study.model_validate``."""

    _omit_when_none: ClassVar[tuple[str, ...]] = ("translation", "privacy")

    slug: str
    title: Localized
    languages: list[str]
    default_language: str
    consent: Localized
    debrief: Localized
    completion: Completion | None = None
    quality: Quality = Field(default_factory=Quality)
    custom_values: list[str] = Field(default_factory=list)
    target_n: int | None = Field(default=None, ge=1, le=MAX_TARGET_N)
    arms: list[Arm]
    items: list[Item]
    scales: list[Scale] = Field(default_factory=list)
    design: Design
    analysis: AnalysisPlan
    # Interface strings, register and translation notes (framelab.domain.translation).
    translation: Translation | None = None
    # Export time precision and retention (omitted from the canonical JSON while unset).
    privacy: Privacy | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_language(cls, data: Any) -> Any:
        # The first language is the default unless stated; filled in here so the
        # canonical form (and hash) is the same whether or not it was written.
        if isinstance(data, dict) and data.get("default_language") is None:
            langs = data.get("languages")
            if isinstance(langs, list) and langs and isinstance(langs[0], str):
                data = {**data, "default_language": langs[0]}
        return data

    @field_validator("translation")
    @classmethod
    def _empty_translation_is_none(cls, value: Translation | None) -> Translation | None:
        # An empty section is the same study as none: same canonical JSON and hash.
        return None if value is not None and value.is_empty else value

    @field_validator("privacy")
    @classmethod
    def _empty_privacy_is_none(cls, value: Privacy | None) -> Privacy | None:
        # An empty section is the same study as none: same canonical JSON and hash.
        return None if value is not None and value.is_empty else value

    @property
    def time_precision(self) -> str:
        """How exports round times: the study's `privacy.time_precision`, else "hour"."""
        return (self.privacy.time_precision if self.privacy else None) or "hour"

    @property
    def page_title(self) -> Localized:
        """The title participant pages show: `privacy.page_title`, else the study's title."""
        neutral = self.privacy.page_title if self.privacy else None
        return neutral if neutral is not None else self.title

    @property
    def retention_days(self) -> int | None:
        """Days after closing until the participant data is erased (None: kept until erased)."""
        return self.privacy.retention_days if self.privacy else None

    @field_validator("slug")
    @classmethod
    def _check_slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"expected 3-64 lower-case letters, digits or -, got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_whole_study(self) -> Study:
        problems = study_problems(self)
        if problems:
            raise StudyError(problems)
        return self

    # ------------------------------------------------------------ identity

    def canonical_json(self) -> str:
        """Sorted keys, no whitespace; the text the content hash is taken of."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )

    def content_hash(self) -> str:
        """SHA-256 hex of the canonical JSON (UTF-8); identifies this exact version."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def to_yaml(self) -> str:
        """A readable YAML document that loads back into an identical study."""
        data = self.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
        data["default_language"] = self.default_language
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return yaml.dump(data, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100)

    # ------------------------------------------------------------ arms

    @property
    def control_arm(self) -> Arm:
        return next(a for a in self.arms if a.control)

    @property
    def frame_arms(self) -> list[Arm]:
        return [a for a in self.arms if not a.control]

    @property
    def arm_ids(self) -> list[str]:
        return [a.id for a in self.arms]

    def arm(self, arm_id: str) -> Arm:
        for a in self.arms:
            if a.id == arm_id:
                return a
        raise LookupError(
            f"arm: '{arm_id}' is not an arm of {self.slug} (arms: {', '.join(self.arm_ids)})"
        )

    # ------------------------------------------------------------ items

    def item(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise LookupError(
            f"item: '{item_id}' is not an item of {self.slug} (items: {', '.join(i.id for i in self.items)})"
        )

    def scale(self, scale_id: str) -> Scale:
        for s in self.scales:
            if s.id == scale_id:
                return s
        raise LookupError(
            f"scale: '{scale_id}' is not a scale of {self.slug} (scales: {', '.join(s.id for s in self.scales) or 'none'})"
        )

    def items_for(self, phase: str) -> list[Item]:
        """Items asked in ``phase`` (pre or post), in file order."""
        if phase not in ("pre", "post"):
            raise ValueError(f"phase: expected pre or post, got {phase!r}")
        return [i for i in self.items if i.in_phase(phase)]

    @property
    def outcome_items(self) -> list[Item]:
        """Items with role ``outcome`` (attitudes the frames should move)."""
        return [i for i in self.items if i.role == "outcome"]

    @property
    def intent_items(self) -> list[Item]:
        return [i for i in self.items if i.role == "intent"]

    @property
    def attention_items(self) -> list[Item]:
        return [i for i in self.items if i.role == "attention_check"]

    def known_values(self) -> list[str]:
        """Built-in value tags plus this study's ``custom_values``."""
        return known_values(self.custom_values)

    def text(self, localized: Localized | None, lang: str) -> str:
        """``localized`` in ``lang``, falling back to the default language."""
        if localized is None:
            return ""
        return localized.get(lang, self.default_language)

    # ------------------------------------------------------------ design

    def weights(self) -> dict[str, int]:
        """Arm weights in arm order (all 1 unless the design says otherwise)."""
        given = self.design.weights or {}
        return {a.id: given.get(a.id, 1) for a in self.arms}

    def block_size(self) -> int:
        """Arms per permuted block: the design's block_size or the total weight."""
        return self.design.block_size or sum(self.weights().values())

    def strata(self) -> list[str]:
        """Stratum labels: the blocking groups, or the single stratum ``all``."""
        if self.design.scheme != "blocked" or self.design.block_by is None:
            return [SINGLE_STRATUM]
        if self.design.strata:
            return list(self.design.strata)
        return [str(v) for v in self.item(self.design.block_by).allowed_values() or []]

    def stratum_for(self, value: int | str | None) -> str:
        """The stratum of a participant whose block_by answer is ``value`` (stored or raw)."""
        if self.design.scheme != "blocked" or self.design.block_by is None:
            return SINGLE_STRATUM
        item = self.item(self.design.block_by)
        stored = item.validate_value(value) if isinstance(value, str) or value is None else value
        if stored not in (item.allowed_values() or []):
            raise ValueError(
                f"{item.id}: {stored!r} is not an allowed value for the blocking item "
                f"(allowed: {', '.join(str(v) for v in item.allowed_values() or [])})"
            )
        if not self.design.strata:
            return str(stored)
        return next(label for label, values in self.design.strata.items() if stored in values)


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
