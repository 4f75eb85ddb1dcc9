"""Frame confound check: length, reading time and readability of every message text.

A frame that is much longer or harder to read than the others (or than the placebo
control) confounds the frame effect with a length or difficulty effect, so the studio
shows these figures next to the frames and warns when a text stands out.

Figures per text and language:
- ``words``: textstat's word count of the text as a participant reads it (Markdown
  stripped, title and body together).
- ``reading_seconds``: words divided by a silent-reading rate (``WORDS_PER_MINUTE``,
  see there for the sources), so 135 English words read in about 34 s.
- ``readability``: LIX (Björnsson 1968; words per sentence + percentage of words
  longer than six letters) for alphabetic languages, Osman's index (El-Haj & Rayson
  2016) for Arabic. LIX needs no syllable dictionary, so it works the same for
  English, Spanish and French and never downloads anything; higher LIX is harder,
  higher Osman is easier.

Warnings: a text whose word count differs from the mean of the *other* texts in the
same language by more than ``LENGTH_TOLERANCE`` (a quarter), or whose readability
differs from the others' mean by more than one band of its index
(``READABILITY_TOLERANCE``); each frame is also compared with the control's placebo text
directly (the contrast every frame effect is estimated against), and a text that is
still a placeholder ("TO FILL: ...") or is identical to the default language's text
(untranslated) is flagged.

Pure: textstat and markdown-it only; no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from markdown_it import MarkdownIt
from textstat.backend import counts, metrics

from framelab.domain.checks import _localized_fields  # every text with its location
from framelab.domain.names import arm_names

LENGTH_TOLERANCE = 0.25
# One band of the index: LIX bands are 10 points wide (<30 very easy, 30-40 easy, ...);
# Osman's scale is Flesch-like (0-100+) where 15 points is a clear step in difficulty.
READABILITY_TOLERANCE = {"lix": 10.0, "osman": 15.0}
# Silent reading rates, words per minute, adults reading non-fiction.
# English: 238 wpm, Brysbaert (2019), "How many words do we read per minute? A review
# and meta-analysis of reading rate", Journal of Memory and Language 109, 104047.
# Brysbaert notes that rates in other languages follow the number of words a language
# needs for the same message. The IReST texts (Trauzettel-Klosinski & Dietz 2012,
# Invest. Ophthalmol. Vis. Sci. 53(9):5452-5461, Table 2) are one message in 17 languages
# read by native speakers (aloud): ar 138, de 179, en 228, es 218, fi 161, fr 195, he 187,
# it 188, nl 202, pl 166, tr 166 words per minute. A language's silent rate here is
# 238 x (its IReST rate / English's 228). Languages not listed use the English rate;
# Chinese and Japanese are left out because textstat's word count does not fit them.
ENGLISH_WORDS_PER_MINUTE = 238.0
_IREST_WORDS_PER_MINUTE = {
    "ar": 138,
    "de": 179,
    "en": 228,
    "es": 218,
    "fi": 161,
    "fr": 195,
    "he": 187,
    "it": 188,
    "nl": 202,
    "pl": 166,
    "tr": 166,
}
WORDS_PER_MINUTE = {
    lang: round(ENGLISH_WORDS_PER_MINUTE * rate / _IREST_WORDS_PER_MINUTE["en"], 1)
    for lang, rate in _IREST_WORDS_PER_MINUTE.items()
}
# Texts that still hold a template's instruction rather than the campaign's words.
PLACEHOLDER_MARKERS = ("TO FILL", "LOREM IPSUM", "TODO:", "TBD:", "XXX")

_MARKDOWN = MarkdownIt("commonmark")
# markdown-it's inline parser slows to seconds on pathological text ("[" or "*a " repeated
# 100,000 times): longer texts are read as plain text with Markdown's marks removed. An
# appeal is a few hundred words; 20,000 characters is far beyond any real message.
MAX_PARSED_MARKDOWN = 20_000
_MARKS = re.compile(r"[\\`*_\[\]()#>!|~<]+")
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
    # "length", "readability" (against the other texts), "control_length",
    # "control_readability" (against the placebo), "placeholder" or "untranslated"
    kind: str
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
    if len(markdown or "") > MAX_PARSED_MARKDOWN:
        return " ".join(_MARKS.sub(" ", markdown).split())
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


def words_per_minute(language: str) -> float:
    """Silent reading rate for a language code ("es", "es-MX" -> Spanish's rate)."""
    base = language.split("-")[0].lower()
    return WORDS_PER_MINUTE.get(base, ENGLISH_WORDS_PER_MINUTE)


def reading_seconds(words: int, language: str) -> float:
    """Seconds an adult needs to read `words` words silently in `language`."""
    return round(60.0 * words / words_per_minute(language), 1)


def is_placeholder(text: str) -> bool:
    """True when a text still holds a template's instruction ("TO FILL: ...")."""
    upper = (text or "").upper()
    return any(marker in upper for marker in PLACEHOLDER_MARKERS)


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
    words = counts.count_words(text)
    return TextMetrics(
        arm=arm,
        language=language,
        words=words,
        sentences=counts.count_sentences(text),
        reading_seconds=reading_seconds(words, language),
        readability=round(float(score), 1),
        readability_index=index,
    )


def compare_texts(
    items: Iterable[TextMetrics],
    control: str | None = None,
    names: Mapping[str, str] | None = None,
) -> list[ConfoundWarning]:
    """Warnings for texts that differ from the mean of the other texts of their language,
    and (when `control` names the placebo arm) for frames that differ from the placebo.

    `names` (arm id -> the name people read) words the messages; ids stand in without it.
    """
    by_language: dict[str, list[TextMetrics]] = {}
    for item in items:
        by_language.setdefault(item.language, []).append(item)
    warnings: list[ConfoundWarning] = []
    names = names or {}
    for language, group in by_language.items():
        if len(group) < 2:
            continue
        placebo = next((o for o in group if o.arm == control), None)
        for item in group:
            name = names.get(item.arm, item.arm)
            others = [o for o in group if o is not item]
            warnings.extend(_length_warning(item, others, language, name))
            warnings.extend(_readability_warning(item, others, language, name))
            if placebo is not None and item is not placebo:
                warnings.extend(
                    _length_warning(item, [placebo], language, name, against_control=True)
                )
                warnings.extend(
                    _readability_warning(item, [placebo], language, name, against_control=True)
                )
    return warnings


def _length_warning(
    item: TextMetrics,
    others: list[TextMetrics],
    language: str,
    name: str,
    *,
    against_control: bool = False,
) -> list[ConfoundWarning]:
    reference = fmean(o.words for o in others)
    if reference <= 0:
        return []
    ratio = (item.words - reference) / reference
    if abs(ratio) <= LENGTH_TOLERANCE:
        return []
    direction = "longer" if ratio > 0 else "shorter"
    if against_control:
        message = (
            f"{name} ({language}) has {item.words} words, {abs(ratio):.0%} {direction} "
            f"than the control's placebo text ({reference:.0f} words); every frame is compared "
            f"with the control, so this length difference would be read as a frame effect."
        )
        kind = "control_length"
    else:
        message = (
            f"{name} ({language}) has {item.words} words, {abs(ratio):.0%} {direction} "
            f"than the other texts (mean {reference:.0f} words); a length difference of more "
            f"than {LENGTH_TOLERANCE:.0%} is a confound, not a frame effect."
        )
        kind = "length"
    return [ConfoundWarning(item.arm, language, kind, item.words, reference, message)]


def _readability_warning(
    item: TextMetrics,
    others: list[TextMetrics],
    language: str,
    name: str,
    *,
    against_control: bool = False,
) -> list[ConfoundWarning]:
    reference = fmean(o.readability for o in others)
    tolerance = READABILITY_TOLERANCE[item.readability_index]
    difference = item.readability - reference
    if abs(difference) <= tolerance:
        return []
    harder = difference > 0 if item.readability_index == "lix" else difference < 0
    index = "LIX" if item.readability_index == "lix" else "Osman"
    compared = "the control's placebo text" if against_control else "the other texts"
    mean = "" if against_control else "mean "
    message = (
        f"{name} ({language}) is {'harder' if harder else 'easier'} to read than "
        f"{compared} ({index} {item.readability:.0f} vs {mean}{reference:.0f}, "
        f"{item.readability_label}); a difficulty difference is a confound, not a frame effect."
    )
    kind = "control_readability" if against_control else "readability"
    return [ConfoundWarning(item.arm, language, kind, item.readability, reference, message)]


def text_warnings(
    texts: Mapping[tuple[str, str], str],
    default_language: str | None = None,
    names: Mapping[str, str] | None = None,
) -> list[ConfoundWarning]:
    """Placeholder texts, and texts identical to the default language's (untranslated)."""
    warnings: list[ConfoundWarning] = []
    for (arm, language), markdown in texts.items():
        name = (names or {}).get(arm, arm)
        if is_placeholder(markdown):
            message = (
                f'{name} ({language}) still holds placeholder text ("TO FILL"); '
                f"write the message before launching."
            )
            warnings.append(ConfoundWarning(arm, language, "placeholder", 0, 0, message))
            continue
        if default_language is None or language == default_language:
            continue
        original = texts.get((arm, default_language))
        if original is not None and original.strip() == markdown.strip():
            message = (
                f"{name} ({language}) is the same as the {default_language} text: "
                f"it has not been translated yet."
            )
            warnings.append(ConfoundWarning(arm, language, "untranslated", 0, 0, message))
    return warnings


def check_texts(
    texts: Mapping[tuple[str, str], str],
    *,
    control: str | None = None,
    default_language: str | None = None,
    names: Mapping[str, str] | None = None,
) -> ConfoundReport:
    """Check ``{(arm, language): markdown}`` message texts against each other, against the
    `control` arm's placebo text when given, and for placeholder or untranslated text.

    A placeholder or an untranslated copy is measured but compared with nothing: a
    placeholder's length says nothing about the message to come, and a copy of the default
    language's text would repeat that language's warnings under another language's name.
    """
    measured = tuple(text_metrics(arm, lang, md) for (arm, lang), md in texts.items())
    flagged = {(w.arm, w.language) for w in text_warnings(texts, default_language)}
    written = [m for m in measured if (m.arm, m.language) not in flagged]
    warnings = compare_texts(written, control, names)
    warnings += text_warnings(texts, default_language, names)
    return ConfoundReport(metrics=measured, warnings=tuple(warnings))


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
    return check_texts(
        study_texts(study),
        control=study.control_arm.id,
        default_language=study.default_language,
        names=arm_names(study),
    )


def placeholder_locations(study: Any) -> list[tuple[str, str]]:
    """(study-file location, language) of every text that still holds a placeholder."""
    found: list[tuple[str, str]] = []
    for location, localized in _localized_fields(study, ""):
        for language in study.languages:
            value = localized.get(language, study.default_language)
            texts = value if isinstance(value, list) else [value]
            if any(is_placeholder(t) for t in texts):
                found.append((location, language))
    return found
