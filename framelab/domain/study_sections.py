"""The sections of a study specification: arms and frames, scales, design, analysis plan,
completion, quality and privacy (pydantic models; `framelab.domain.study` assembles them).

Each section checks its own fields; rules across sections live in
``framelab.domain.checks`` and ``framelab.domain.design_checks``. The bounds below are
the ones the studio's forms accept.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from framelab.domain.items import Desired, DomainModel, OmitsUnsetFields, check_identifier
from framelab.domain.localized import Localized
from framelab.domain.monitoring import Monitoring

# The assignment log keeps the seed in a signed 64-bit column (BigInteger); a larger
# seed saved and went live, then every participant's assignment failed.
SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1
MAX_TARGET_N = 10_000_000  # what the studio's plan form accepts
MAX_SPEEDER_SECONDS = 86_400  # a day
MAX_MIN_CELL_SIZE = 10_000
MAX_RETENTION_DAYS = 36_500  # a hundred years: beyond it "keep" is the honest setting


class Frame(DomainModel):
    """The message shown in an arm (Markdown body) and the values it appeals to."""

    title: Localized
    body: Localized
    values: list[str] = Field(default_factory=list)


class Arm(DomainModel):
    """One condition: the control (placebo or no message) or a frame arm."""

    id: str
    control: bool = False
    label: Localized | None = None
    frame: Frame | None = None
    factors: dict[str, str] | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _check_id(cls, value: Any) -> str:
        return check_identifier(value)

    def label_for(self, lang: str, fallback: str | None = None) -> str:
        """Short display name (the id when no label is given)."""
        return self.label.get(lang, fallback) if self.label else self.id


class Scale(OmitsUnsetFields):
    """An averaged index of at least two items of the same phase and type."""

    _omit_when_none: ClassVar[tuple[str, ...]] = ("label", "desired")

    id: str
    items: list[str]
    value: str | None = None
    # A short name for reports ("support for the ban"); None: the scale id stands in.
    label: Localized | None = None
    # Which way the campaign wants the score to move when it is an outcome.
    desired: Desired | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _check_id(cls, value: Any) -> str:
        return check_identifier(value)


class Design(OmitsUnsetFields):
    """How arms are assigned; the whole sequence follows from ``seed``."""

    _omit_when_none: ClassVar[tuple[str, ...]] = ("control_in_main_effects",)

    scheme: Literal["simple", "complete", "blocked", "factorial"]
    seed: int
    weights: dict[str, int] | None = None
    block_size: int | None = None
    block_by: str | None = None
    strata: dict[str, list[int]] | None = None
    factors: dict[str, list[str]] | None = None
    # Factorial designs: main effects compare each level with the control (true) or with
    # the factor's first level within the factorial cells (false or unset).
    control_in_main_effects: bool | None = None

    @field_validator("seed")
    @classmethod
    def _check_seed(cls, value: int) -> int:
        if not SEED_MIN <= value <= SEED_MAX:
            raise ValueError(
                f"expected a whole number from {SEED_MIN} to {SEED_MAX} (what the assignment "
                f"log stores), got {value}"
            )
        return value


class AnalysisPlan(OmitsUnsetFields):
    """The pre-registered analysis; locked with the study when it goes live."""

    # Left out of the canonical JSON while unset: older plans keep their hash and lock.
    _omit_when_none: ClassVar[tuple[str, ...]] = (
        "monitoring",
        "small_sample",
        "backlash_delta",
        "backlash_prior_sd",
    )

    primary: list[str]
    secondary: list[str] = Field(default_factory=list)
    covariates: list[str] = Field(default_factory=list)
    moderators: list[str] = Field(default_factory=list)
    alpha: float = 0.05
    correction: Literal["holm", "bh", "none", "bonferroni"] = "holm"
    exclude: list[Literal["attention_failed", "speeder", "honeypot"]] = Field(default_factory=list)
    # Anytime-valid looks and stopping rules (framelab.domain.monitoring).
    monitoring: Monitoring | None = None
    # Degrees of freedom of HC2 regression tests (analysis.hc); None: bell_mccaffrey.
    small_sample: Literal["bell_mccaffrey", "residual"] | None = None
    # Backlash probabilities: the backlash size that matters and the SD of a skeptical
    # prior centred on no effect, both in pooled SDs (None: the equivalence bound; no prior).
    backlash_delta: float | None = Field(default=None, gt=0, le=10)
    backlash_prior_sd: float | None = Field(default=None, gt=0, le=10)

    @field_validator("alpha")
    @classmethod
    def _check_alpha(cls, value: float) -> float:
        if not 0 < value < 0.5:
            raise ValueError(f"expected a significance level between 0 and 0.5, got {value}")
        return value


class Completion(DomainModel):
    """Hand-back to a panel: a code shown on the last page and/or a redirect."""

    code: str | None = None
    redirect_url: str | None = None

    @field_validator("code")
    @classmethod
    def _check_code(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
            raise ValueError(f"expected letters, digits, _ or - (at most 64), got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_something_given(self) -> Completion:
        if self.code is None and self.redirect_url is None:
            raise ValueError("expected a code, a redirect_url or both (or leave completion out)")
        return self

    @field_validator("redirect_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value


class Quality(DomainModel):
    """Data-quality thresholds."""

    speeder_seconds: int | None = Field(default=None, ge=0, le=MAX_SPEEDER_SECONDS)
    min_cell_size: int = Field(default=10, ge=1, le=MAX_MIN_CELL_SIZE)


class Privacy(OmitsUnsetFields):
    """What exports reveal of time, how long participant data is kept, what a phone shows.

    Every key is optional and left out of the canonical JSON while unset, so a study
    written before this section existed keeps its content hash.
    """

    _omit_when_none: ClassVar[tuple[str, ...]] = (
        "time_precision",
        "retention_days",
        "page_title",
    )

    # Exports round times down to this ("hour" when unset); exact times only in an
    # audit export (framelab.services.export).
    time_precision: Literal["hour", "day"] | None = None
    # Days after the study closes until `framelab purge-expired` erases its participant data.
    retention_days: int | None = Field(default=None, ge=1, le=MAX_RETENTION_DAYS)
    # The title participant pages show (browser tab, history, page header) instead of the
    # study's: a neutral one ("Survey") keeps a campaign's name off a shared phone.
    page_title: Localized | None = None

    @property
    def is_empty(self) -> bool:
        return (
            self.time_precision is None and self.retention_days is None and self.page_title is None
        )
