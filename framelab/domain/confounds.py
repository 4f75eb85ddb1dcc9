"""Frame confound check: length, reading time and readability of every message text.

A frame that is much longer or harder to read than the others (or than the placebo
control) confounds the frame effect with a length or difficulty effect, so the studio
shows these figures next to the frames and warns when a text stands out.

Figures per text and language:
- ``words``: textstat's word count of the text as a participant reads it (Markdown
  stripped, title and body together).
- ``reading_seconds``: textstat's reading time (Demberg & Keller 2008, 14.69 ms per
  character, spaces excluded).
- ``readability``: LIX (Björnsson 1968; words per sentence + percentage of words
  longer than six letters) for alphabetic languages, Osman's index (El-Haj & Rayson
  2016) for Arabic. LIX needs no syllable dictionary, so it works the same for
  English, Spanish and French and never downloads anything; higher LIX is harder,
  higher Osman is easier.

Warnings: a text whose word count differs from the mean of the *other* texts in the
same language by more than ``LENGTH_TOLERANCE`` (a quarter), or whose readability
differs from the others' mean by more than one band of its index
(``READABILITY_TOLERANCE``).

Pure: textstat and markdown-it only; no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from markdown_it import MarkdownIt
from textstat.backend import counts, metrics

LENGTH_TOLERANCE = 0.25
# One band of the index: LIX bands are 10 points wide (<30 very easy, 30-40 easy, ...);
# Osman's scale is Flesch-like (0-100+) where 15 points is a clear step in difficulty.
READABILITY_TOLERANCE = {"lix": 10.0, "osman": 15.0}
MS_PER_CHARACTER = 14.69

_MARKDOWN = MarkdownIt("commonmark")
_SENTENCE_END = (".", "!", "?", "؟", ":", ";")


@dataclass(frozen=True)
class TextMetrics:
    """Length and difficulty of one arm's message in one language."""

    arm: str
    language: str
    words: int
    sentences: int
    reading_seconds: float
    readability: float
    readability_index: str  # "lix" (higher = harder) or "osman" (higher = easier)

    @property
    def readability_label(self) -> str:
        return readability_label(self.readability, self.readability_index)


@dataclass(frozen=True)
class ConfoundWarning:
    """One text that stands out from the others in its language."""

    arm: str
    language: str
    kind: str  # "length" or "readability"
    value: float
    reference: float
    message: str


@dataclass(frozen=True)
class ConfoundReport:
    """Metrics for every message text and the warnings they raise."""

    metrics: tuple[TextMetrics, ...]
    warnings: tuple[ConfoundWarning, ...]

    def for_language(self, language: str) -> list[TextMetrics]:
        return [m for m in self.metrics if m.language == language]

    def warnings_for(self, arm: str, language: str | None = None) -> list[ConfoundWarning]:
        return [
            w
            for w in self.warnings
            if w.arm == arm and (language is None or w.language == language)
        ]


def markdown_to_text(markdown: str) -> str:
    """The words a participant reads: Markdown syntax removed, one sentence end per block."""
    blocks: list[str] = []
    for token in _MARKDOWN.parse(markdown or ""):
        if token.type != "inline":
            continue
        parts: list[str] = []
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
        block = "".join(parts).strip()
        if not block:
            continue
        # Headings and list items rarely end with a full stop; without one, textstat
        # would glue them to the next sentence and overstate sentence length.
        if not block.endswith(_SENTENCE_END):
            block += "."
        blocks.append(block)
    return "\n".join(blocks)


def readability_index_for(language: str) -> str:
    """The readability index used for a language code ("ar", "ar-EG" -> osman; else lix)."""
    return "osman" if language.split("-")[0].lower() == "ar" else "lix"


def readability_label(score: float, index: str) -> str:
    """A plain-language band for a readability score."""
    if index == "osman":
        bands = ((90, "very easy"), (70, "easy"), (50, "medium"), (30, "difficult"))
        return next((label for floor, label in bands if score >= floor), "very difficult")
    bands = ((30, "very easy"), (40, "easy"), (50, "medium"), (60, "difficult"))
    return next((label for ceiling, label in bands if score < ceiling), "very difficult")


def text_metrics(arm: str, language: str, markdown: str) -> TextMetrics:
    """Word count, sentences, reading time and readability of one Markdown text."""
    text = markdown_to_text(markdown)
    index = readability_index_for(language)
    score = metrics.osman(text) if index == "osman" else metrics.lix(text)
    return TextMetrics(
        arm=arm,
        language=language,
        words=counts.count_words(text),
        sentences=counts.count_sentences(text),
        reading_seconds=round(metrics.reading_time(text, MS_PER_CHARACTER), 1),
        readability=round(float(score), 1),
        readability_index=index,
    )


def compare_texts(items: Iterable[TextMetrics]) -> list[ConfoundWarning]:
    """Warnings for texts that differ from the mean of the other texts of their language."""
    by_language: dict[str, list[TextMetrics]] = {}
    for item in items:
        by_language.setdefault(item.language, []).append(item)
    warnings: list[ConfoundWarning] = []
    for language, group in by_language.items():
        if len(group) < 2:
            continue
        for item in group:
            others = [o for o in group if o is not item]
            warnings.extend(_length_warning(item, others, language))
            warnings.extend(_readability_warning(item, others, language))
    return warnings


def _length_warning(
    item: TextMetrics, others: list[TextMetrics], language: str
) -> list[ConfoundWarning]:
    reference = fmean(o.words for o in others)
    if reference <= 0:
        return []
    ratio = (item.words - reference) / reference
    if abs(ratio) <= LENGTH_TOLERANCE:
        return []
    direction = "longer" if ratio > 0 else "shorter"
    message = (
        f"'{item.arm}' ({language}) has {item.words} words, {abs(ratio):.0%} {direction} "
        f"than the other texts (mean {reference:.0f} words); a length difference of more "
        f"than {LENGTH_TOLERANCE:.0%} is a confound, not a frame effect."
    )
    return [ConfoundWarning(item.arm, language, "length", item.words, reference, message)]


def _readability_warning(
    item: TextMetrics, others: list[TextMetrics], language: str
) -> list[ConfoundWarning]:
    reference = fmean(o.readability for o in others)
    tolerance = READABILITY_TOLERANCE[item.readability_index]
    difference = item.readability - reference
    if abs(difference) <= tolerance:
        return []
    harder = difference > 0 if item.readability_index == "lix" else difference < 0
    name = "LIX" if item.readability_index == "lix" else "Osman"
    message = (
        f"'{item.arm}' ({language}) is {'harder' if harder else 'easier'} to read than the "
        f"other texts ({name} {item.readability:.0f} vs mean {reference:.0f}, "
        f"{item.readability_label}); a difficulty difference is a confound, not a frame effect."
    )
    return [
        ConfoundWarning(item.arm, language, "readability", item.readability, reference, message)
    ]


def check_texts(texts: Mapping[tuple[str, str], str]) -> ConfoundReport:
    """Check ``{(arm, language): markdown}`` message texts against each other."""
    measured = tuple(text_metrics(arm, lang, md) for (arm, lang), md in texts.items())
    return ConfoundReport(metrics=measured, warnings=tuple(compare_texts(measured)))


def study_texts(study: Any) -> dict[tuple[str, str], str]:
    """Every arm's message (title and body) per language; an arm with no message is skipped."""
    texts: dict[tuple[str, str], str] = {}
    for arm in study.arms:
        if arm.frame is None:
            continue
        for language in study.languages:
            title = study.text(arm.frame.title, language)
            body = study.text(arm.frame.body, language)
            texts[(arm.id, language)] = f"# {title}\n\n{body}" if title else body
    return texts


def check_study(study: Any) -> ConfoundReport:
    """Confound report for a Study: every frame and the placebo control, per language."""
    return check_texts(study_texts(study))
