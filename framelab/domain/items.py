"""Items (questions) of a study and the validation of one answer.

Public API (re-exported by ``framelab.domain.study``)::

    Item                       # pydantic model of one question
    Item.allowed_values() -> list[int] | None      # None for free text
    Item.validate_value(raw: str | None) -> int | str | None   # raises ValueProblem
    Item.value_labels(lang, fallback=None) -> dict[int, str]  # codebook labels
    Item.in_phase(phase) -> bool
    Option                     # one choice option: integer value + localized label

Answer validation lives here so the participant pages, the services and the
studio preview accept and reject exactly the same answers.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from framelab.domain.errors import StudyError, ValueProblem
from framelab.domain.localized import Localized, LocalizedLabels

ItemType = Literal["likert", "slider", "binary", "choice", "text"]
Phase = Literal["pre", "post"]
Role = Literal["covariate", "outcome", "intent", "attention_check", "manipulation_check"]
Desired = Literal["increase", "decrease"]
# Roles whose answers are analysed as effects, so a desired direction means something.
DIRECTED_ROLES = ("outcome", "intent")
PHASES: tuple[str, ...] = ("pre", "post")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SLIDER_MIN, SLIDER_MAX = 0, 100
DEFAULT_MAX_LENGTH = 2000
LIKERT_POINTS = (5, 7)

# Fields that only make sense for some item types; anything else set is a mistake.
_TYPE_FIELDS: dict[str, set[str]] = {
    "points": {"likert"},
    "labels": {"likert"},
    "reverse": {"likert"},
    "min_label": {"slider"},
    "max_label": {"slider"},
    "yes_label": {"binary"},
    "no_label": {"binary"},
    "options": {"choice"},
    "max_length": {"text"},
}
_INTEGER = re.compile(r"^[+-]?\d+$")
# Answers are stored in a 32-bit integer column; an option's value must fit in it.
OPTION_VALUE_MIN, OPTION_VALUE_MAX = -(2**31), 2**31 - 1
_MAX_ANSWER_CHARS = 12  # sign and digits of the longest option value, with room


def check_identifier(value: Any) -> str:
    """Identifiers: lower-case letters, digits and _, starting with a letter."""
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise ValueError(
            f"expected an identifier (lower-case letters, digits and _, starting with a letter, "
            f"at most 64 characters), got {value!r}"
        )
    return value


class DomainModel(BaseModel):
    """Base for every part of the study file: unknown fields are errors, not ignored."""

    model_config = ConfigDict(extra="forbid")


class OmitsUnsetFields(DomainModel):
    """A part whose newer optional fields are left out of its data while unset.

    Studies written before such a field existed keep their canonical JSON (and so
    their content hash and lock) byte for byte: the key appears only when given.
    """

    _omit_when_none: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_unset(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        data = handler(self)
        if isinstance(data, dict):
            for name in self._omit_when_none:
                if data.get(name) is None:
                    data.pop(name, None)
        return data


class Option(OmitsUnsetFields):
    """One option of a choice item: the stored integer ``value`` and its label.

    On a manipulation-check item an option may say what choosing it means:
    ``value_tag`` (the value it names, e.g. ``care``: right for every frame that
    appeals to that value) or ``correct_for`` (the arm ids for which it is the
    right answer, e.g. the arms whose messenger is a refugee).
    """

    _omit_when_none: ClassVar[tuple[str, ...]] = ("value_tag", "correct_for")

    value: int
    label: Localized
    value_tag: str | None = None
    correct_for: list[str] | None = None

    @field_validator("value")
    @classmethod
    def _check_value(cls, value: int) -> int:
        if not OPTION_VALUE_MIN <= value <= OPTION_VALUE_MAX:
            raise ValueError(
                f"expected a whole number from {OPTION_VALUE_MIN} to {OPTION_VALUE_MAX} "
                f"(answers are stored as 32-bit integers), got {value}"
            )
        return value


class Item(OmitsUnsetFields):
    """One question, asked in one or both phases."""

    _omit_when_none: ClassVar[tuple[str, ...]] = ("label", "desired")

    id: str
    type: ItemType
    text: Localized
    phase: list[Phase]
    role: Role = "covariate"
    required: bool = True
    value: str | None = None
    points: int | None = None
    labels: LocalizedLabels | None = None
    reverse: bool = False
    min_label: Localized | None = None
    max_label: Localized | None = None
    yes_label: Localized | None = None
    no_label: Localized | None = None
    options: list[Option] | None = None
    correct: int | None = None
    max_length: int | None = None
    # A short name for reports and the codebook ("sign-ups to the SMS network").
    label: Localized | None = None
    # Which way the campaign wants this answer to move; None reads as "increase".
    desired: Desired | None = None

    @property
    def desired_direction(self) -> str:
        """'increase' or 'decrease': the direction the campaign counts as success."""
        return self.desired or "increase"

    @field_validator("id", mode="before")
    @classmethod
    def _check_id(cls, value: Any) -> str:
        return check_identifier(value)

    @field_validator("phase", mode="before")
    @classmethod
    def _normalize_phase(cls, value: Any) -> Any:
        # `phase: pre` and `phase: [pre]` mean the same; store one canonical form
        # (ordered pre, post) so they hash the same.
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list) and all(v in PHASES for v in value):
            if not value:
                raise ValueError("expected pre, post or [pre, post], got an empty list")
            return [p for p in PHASES if p in value]
        return value

    @model_validator(mode="after")
    def _check_type_fields(self) -> Item:
        problems: list[tuple[str, str]] = []
        for name, types in _TYPE_FIELDS.items():
            # None/False is what every item dumps for fields it does not use.
            if self.type not in types and getattr(self, name) not in (None, False):
                problems.append(
                    (
                        name,
                        f"only {'/'.join(sorted(types))} items have {name}; this is a {self.type} item",
                    )
                )
        if self.type == "likert":
            problems += self._likert_problems()
        if self.type == "choice":
            problems += self._choice_problems()
        if self.type == "text":
            if self.max_length is not None and not 1 <= self.max_length <= 100_000:
                problems.append(
                    ("max_length", f"expected 1..100000 characters, got {self.max_length}")
                )
            if self.role in ("outcome", "attention_check", "manipulation_check"):
                problems.append(
                    (
                        "role",
                        f"a text item cannot have role {self.role}; use likert, slider, binary or choice",
                    )
                )
        if self.desired is not None and self.role not in DIRECTED_ROLES:
            problems.append(
                (
                    "desired",
                    f"only outcome and intent items have a desired direction; this item's role is {self.role}",
                )
            )
        if self.role == "attention_check":
            if self.correct is None:
                problems.append(("correct", "an attention_check item needs the correct answer"))
        elif self.correct is not None:
            problems.append(
                (
                    "correct",
                    f"only attention_check items have a correct answer; this item's role is {self.role}",
                )
            )
        problems += self._option_meaning_problems()
        if self.correct is not None and not problems:
            allowed = self.allowed_values() or []
            if self.correct not in allowed:
                problems.append(
                    (
                        "correct",
                        f"{self.correct} is not an allowed value of this item (allowed: {_describe(allowed)})",
                    )
                )
        if problems:
            raise StudyError(problems)
        return self

    def _likert_problems(self) -> list[tuple[str, str]]:
        if self.points is None:
            return [("points", "a likert item needs points: 5 or 7")]
        if self.points not in LIKERT_POINTS:
            return [("points", f"a likert item needs 5 or 7 points, got {self.points}")]
        problems = []
        if self.labels is not None:
            for lang, n in self.labels.lengths().items():
                if n not in (self.points, 2):
                    where = f"labels.{lang}" if lang else "labels"
                    problems.append(
                        (
                            where,
                            f"expected {self.points} labels (one per point) or 2 (the end points), got {n}",
                        )
                    )
        return problems

    def _choice_problems(self) -> list[tuple[str, str]]:
        if not self.options or len(self.options) < 2:
            return [("options", "a choice item needs at least two options")]
        problems = []
        seen: dict[int, int] = {}
        for i, option in enumerate(self.options):
            if option.value in seen:
                problems.append(
                    (
                        f"options[{i}].value",
                        f"duplicate option value {option.value} (also options[{seen[option.value]}])",
                    )
                )
            seen.setdefault(option.value, i)
        return problems

    def _option_meaning_problems(self) -> list[tuple[str, str]]:
        """value_tag / correct_for belong to manipulation checks, one of them per option."""
        problems = []
        for i, option in enumerate(self.options or []):
            for name in ("value_tag", "correct_for"):
                if getattr(option, name) is not None and self.role != "manipulation_check":
                    problems.append(
                        (
                            f"options[{i}].{name}",
                            f"only manipulation_check items say what an option means; this "
                            f"item's role is {self.role}",
                        )
                    )
            if option.value_tag is not None and option.correct_for is not None:
                problems.append(
                    (
                        f"options[{i}]",
                        "expected value_tag or correct_for, not both (one meaning per option)",
                    )
                )
            if option.correct_for is not None and not option.correct_for:
                problems.append(
                    (f"options[{i}].correct_for", "expected at least one arm id, got []")
                )
        return problems

    # ---------------------------------------------------------------- reading

    def in_phase(self, phase: str) -> bool:
        """True when this item is asked in ``phase`` (``pre`` or ``post``)."""
        return phase in self.phase

    @property
    def text_max_length(self) -> int:
        """Longest accepted answer of a text item."""
        return self.max_length if self.max_length is not None else DEFAULT_MAX_LENGTH

    def allowed_values(self) -> list[int] | None:
        """Every stored value this item accepts, in order; None for free text."""
        if self.type == "likert":
            return list(range(1, (self.points or 0) + 1))
        if self.type == "slider":
            return list(range(SLIDER_MIN, SLIDER_MAX + 1))
        if self.type == "binary":
            return [0, 1]
        if self.type == "choice":
            return [o.value for o in self.options or []]
        return None

    def value_labels(self, lang: str, fallback: str | None = None) -> dict[int, str]:
        """Labels of stored values for a codebook (end points only when only they are labelled)."""
        if self.type == "choice":
            return {o.value: o.label.get(lang, fallback) for o in self.options or []}
        if self.type == "binary":
            no = self.no_label.get(lang, fallback) if self.no_label else "No"
            yes = self.yes_label.get(lang, fallback) if self.yes_label else "Yes"
            return {0: no, 1: yes}
        if self.type == "likert" and self.labels is not None:
            labels = self.labels.get(lang, fallback)
            if len(labels) == 2:
                return {1: labels[0], self.points or 0: labels[1]}
            return {i + 1: text for i, text in enumerate(labels)}
        if self.type == "slider":
            out = {}
            if self.min_label:
                out[SLIDER_MIN] = self.min_label.get(lang, fallback)
            if self.max_label:
                out[SLIDER_MAX] = self.max_label.get(lang, fallback)
            return out
        return {}

    def validate_value(self, raw: str | None) -> int | str | None:
        """Parse one submitted answer into its stored value.

        Returns None for an empty answer to an optional item; raises
        ``ValueProblem`` (code required/not_a_number/out_of_range/not_an_option/
        too_long) otherwise.
        """
        text = "" if raw is None else str(raw).strip()
        if not text:
            if self.required:
                raise ValueProblem(
                    "required", f"{self.id}: an answer is required", {"item": self.id}
                )
            return None
        if self.type == "text":
            limit = self.text_max_length
            if len(text) > limit:
                raise ValueProblem(
                    "too_long",
                    f"{self.id}: expected at most {limit} characters, got {len(text)}",
                    {"item": self.id, "max": limit, "length": len(text)},
                )
            return text
        if not _INTEGER.match(text):
            raise ValueProblem(
                "not_a_number",
                f"{self.id}: expected a whole number, got {text[:40]!r}",
                {"item": self.id, "value": text[:40]},
            )
        # No allowed value is this long, and int() refuses 4,300 digits or more.
        number = int(text) if len(text) <= _MAX_ANSWER_CHARS else None
        shown = number if number is not None else f"{text[:20]}..."
        allowed = self.allowed_values() or []
        if self.type == "choice":
            if number is None or number not in allowed:
                raise ValueProblem(
                    "not_an_option",
                    f"{self.id}: {shown} is not an option (options: {_describe(allowed)})",
                    {"item": self.id, "value": shown, "options": allowed},
                )
            return number
        low, high = allowed[0], allowed[-1]
        if number is None or not low <= number <= high:
            raise ValueProblem(
                "out_of_range",
                f"{self.id}: expected {low}..{high}, got {shown}",
                {"item": self.id, "value": shown, "min": low, "max": high},
            )
        return number


def _describe(values: list[int]) -> str:
    if len(values) > 10 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return ", ".join(str(v) for v in values)
