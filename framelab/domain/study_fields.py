"""A study's fields and what follows from them, before the rules across sections run.

``StudyFields`` holds the sections (``framelab.domain.study_sections``) and the derived
views every caller uses (``control_arm``, ``items_for``, ``weights``, ``strata``,
``content_hash``, ...). ``framelab.domain.study.Study`` subclasses it and adds the one
validator that runs ``framelab.domain.checks.study_problems``; the checks are typed
against this class, so checks and study do not import each other.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, ClassVar

import yaml
from pydantic import Field, field_validator, model_validator

from framelab.domain.items import Item, OmitsUnsetFields
from framelab.domain.localized import Localized
from framelab.domain.panel import Panel
from framelab.domain.screening import QuotaLimits, Screener, quota_limits
from framelab.domain.study_sections import (
    MAX_TARGET_N,
    AnalysisPlan,
    Arm,
    Completion,
    Design,
    Privacy,
    Quality,
    Scale,
)
from framelab.domain.translation import Translation
from framelab.domain.values import known_values
from framelab.domain.waves import FollowUp, Wave

SINGLE_STRATUM = "all"
SLUG = re.compile(r"^[a-z0-9-]{3,64}$")


class StudyFields(OmitsUnsetFields):
    """A study's sections, each valid on its own, and what follows from them (arms, items,
    weights, strata, the content hash). `framelab.domain.study.Study` is this checked as a
    whole; the cross-field checks (framelab.domain.checks) take this class, so they never
    import the module that calls them."""

    _omit_when_none: ClassVar[tuple[str, ...]] = ("translation", "privacy", "waves", "follow_up")
    # The eligibility screener, quotas and panel outcomes (issue 21): left out while unset.
    _omit_when_none = (*_omit_when_none, "screener", "quota", "panel")

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
    # Screening questions and rules, quotas per cell, panel codes per outcome (issue 21;
    # framelab.domain.screening and framelab.domain.panel).
    screener: Screener | None = None
    quota: QuotaLimits | None = None
    panel: Panel | None = None
    # Follow-up waves and how participants come back to them (framelab.domain.waves).
    waves: list[Wave] | None = None
    follow_up: FollowUp | None = None

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

    @field_validator("quota", mode="before")
    @classmethod
    def _quota_cells_as_text(cls, value: Any) -> Any:
        return quota_limits(value) or None

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

    @field_validator("waves")
    @classmethod
    def _no_waves_is_none(cls, value: list[Wave] | None) -> list[Wave] | None:
        # No waves is the same study as none: same canonical JSON and hash.
        return value or None

    @property
    def follow_up_by(self) -> str | None:
        """How participants come back to the waves ("code" unless stated); None without waves."""
        return (self.follow_up or "code") if self.waves else None

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
