"""Confound check: word counts, reading time and readability against hand-computed values."""

from __future__ import annotations

import pytest

from framelab.domain.confounds import (
    check_texts,
    markdown_to_text,
    readability_index_for,
    readability_label,
    text_metrics,
)

# 15 words, 2 sentences, 1 word longer than six letters ("everyone"):
# LIX = 15/2 + 100*1/15 = 14.17; reading time = 15 words / 238 words per minute = 3.78 s.
SIMPLE = "The cat sat on the mat. It was a sunny day and everyone was happy."


def test_text_metrics_match_hand_computed_lix_word_count_and_reading_time():
    m = text_metrics("care", "en", SIMPLE)
    assert m.words == 15
    assert m.sentences == 2
    assert m.readability_index == "lix"
    assert m.readability == pytest.approx(14.2, abs=0.05)
    assert m.reading_seconds == pytest.approx(3.8, abs=0.05)
    assert m.readability_label == "very easy"


def test_markdown_syntax_is_not_counted_and_headings_end_a_sentence():
    text = markdown_to_text("# Stop torture\n\nSome **bold** words and a [link](https://x.org).")
    assert text == "Stop torture.\nSome bold words and a link."
    assert text_metrics("a", "en", "# Stop torture\n\nSome **bold** words").words == 5


def test_arabic_uses_osman_and_other_languages_use_lix():
    assert readability_index_for("ar") == "osman"
    assert readability_index_for("ar-EG") == "osman"
    assert readability_index_for("fr") == "lix"
    m = text_metrics("care", "ar", "ذهب الولد إلى المدرسة صباحا. كان الجو جميلا.")
    assert m.readability_index == "osman"
    assert m.words == 8
    assert m.readability > 50  # two short sentences of short words: easy


def test_readability_bands_for_both_indices():
    assert readability_label(25, "lix") == "very easy"
    assert readability_label(45, "lix") == "medium"
    assert readability_label(65, "lix") == "very difficult"
    assert readability_label(95, "osman") == "very easy"
    assert readability_label(20, "osman") == "very difficult"


def _words(n: int) -> str:
    # Short sentences of short words keep readability constant while length varies.
    return " ".join(["We can act now."] * (n // 4))


def test_frame_more_than_a_quarter_longer_than_the_others_gets_a_length_warning():
    texts = {
        ("control", "en"): _words(100),
        ("care", "en"): _words(100),
        ("fairness", "en"): _words(140),  # 40% longer than the mean of the others
    }
    report = check_texts(texts)
    length = [w for w in report.warnings if w.kind == "length"]
    assert [(w.arm, w.language) for w in length] == [("fairness", "en")]
    assert length[0].value == 140 and length[0].reference == 100
    assert "40% longer" in length[0].message
    assert "confound" in length[0].message
    assert report.warnings_for("care") == []


def test_frame_within_a_quarter_gets_no_warning():
    texts = {("control", "en"): _words(100), ("care", "en"): _words(120)}
    assert check_texts(texts).warnings == ()


def test_a_much_shorter_frame_is_flagged_as_shorter():
    texts = {
        ("control", "en"): _words(100),
        ("care", "en"): _words(100),
        ("liberty", "en"): _words(60),
    }
    [warning] = check_texts(texts).warnings
    assert warning.arm == "liberty" and "40% shorter" in warning.message


def test_languages_are_compared_only_with_themselves():
    texts = {
        ("control", "en"): _words(100),
        ("care", "en"): _words(100),
        ("control", "fr"): _words(200),
        ("care", "fr"): _words(200),
    }
    assert check_texts(texts).warnings == ()


def test_clearly_harder_frame_gets_a_readability_warning():
    easy = "We can stop it. You can help. Act now. Join us today. It is not hard."
    hard = (
        "Institutional accountability mechanisms notwithstanding, governmental "
        "interrogation practices systematically undermine constitutional protections."
    )
    report = check_texts({("control", "en"): easy, ("care", "en"): easy, ("loyalty", "en"): hard})
    kinds = {(w.arm, w.kind) for w in report.warnings}
    assert ("loyalty", "readability") in kinds
    [warning] = [w for w in report.warnings if w.kind == "readability" and w.arm == "loyalty"]
    assert "harder to read" in warning.message
    assert warning.value > warning.reference + 10


def test_reading_time_uses_a_published_silent_rate_per_language():
    from framelab.domain.confounds import WORDS_PER_MINUTE, reading_seconds

    # Brysbaert (2019): 238 words per minute, English non-fiction. 135 words -> 34.0 s
    # (the old 14.69 ms per character put a 135-word message at about 9 s).
    assert reading_seconds(135, "en") == pytest.approx(60 * 135 / 238, abs=0.05)
    assert reading_seconds(135, "en") == 34.0
    # Other languages scale by the IReST rates (same message, native readers):
    # Spanish 238 * 218 / 228 = 227.6 wpm, Arabic 238 * 138 / 228 = 144.1 wpm.
    assert WORDS_PER_MINUTE["es"] == pytest.approx(227.6, abs=0.05)
    assert WORDS_PER_MINUTE["ar"] == pytest.approx(144.1, abs=0.05)
    assert reading_seconds(100, "es-MX") == pytest.approx(60 * 100 / 227.6, abs=0.05)
    assert reading_seconds(100, "sw") == reading_seconds(100, "en")  # no published rate


def test_each_frame_is_also_compared_with_the_control_directly():
    # Both frames are long: against the mean of the others neither stands out by much,
    # but each is 60% longer than the placebo every effect is estimated against.
    texts = {
        ("control", "en"): _words(100),
        ("care", "en"): _words(160),
        ("liberty", "en"): _words(160),
    }
    plain = check_texts(texts)
    assert not [w for w in plain.warnings if w.kind.startswith("control_")]
    report = check_texts(texts, control="control")
    against = [(w.arm, w.kind) for w in report.warnings if w.kind.startswith("control_")]
    assert sorted(against) == [("care", "control_length"), ("liberty", "control_length")]
    [care] = [w for w in report.warnings if w.arm == "care" and w.kind == "control_length"]
    assert care.value == 160 and care.reference == 100
    assert "60% longer than the control's placebo text" in care.message
    assert report.warnings_for("control") == [
        w for w in report.warnings if w.arm == "control" and w.kind == "length"
    ]


def test_placeholder_and_untranslated_texts_are_flagged():
    texts = {
        ("control", "en"): _words(100),
        ("care", "en"): "# TO FILL: title\n\nTO FILL: the message.",
        ("control", "es"): _words(100),  # same as English: not translated
        ("care", "es"): "Podemos actuar ahora. " * 25,
    }
    report = check_texts(texts, control="control", default_language="en")
    flagged = {(w.arm, w.language, w.kind) for w in report.warnings if w.value == 0}
    assert flagged == {("care", "en", "placeholder"), ("control", "es", "untranslated")}
    assert (
        "not been translated"
        in next(w for w in report.warnings if w.kind == "untranslated").message
    )


def test_a_placeholder_is_flagged_but_no_written_text_is_compared_with_it():
    # A template's "TO FILL" placebo is short; the frames written so far must not be
    # warned about as longer than it, nor it about them: it is not a message yet.
    texts = {
        ("control", "en"): "# TO FILL: title of the placebo text\n\nTO FILL: a neutral text.",
        ("care", "en"): _words(100),
        ("liberty", "en"): _words(110),
    }
    report = check_texts(texts, control="control", default_language="en")
    assert [(w.arm, w.kind) for w in report.warnings] == [("control", "placeholder")]
    assert {m.arm for m in report.metrics} == {"control", "care", "liberty"}  # still measured


def test_an_untranslated_copy_is_flagged_once_not_warned_about_again_in_its_language():
    long_frame = _words(200)
    texts = {
        ("control", "en"): _words(100),
        ("care", "en"): long_frame,
        ("liberty", "en"): _words(100),
        ("control", "es"): "Un texto neutro sobre bibliotecas. " * 20,
        ("care", "es"): long_frame,  # still the English text
        ("liberty", "es"): "Un texto sobre la libertad de cada persona. " * 12,
    }
    report = check_texts(texts, control="control", default_language="en")
    spanish = [(w.arm, w.kind) for w in report.warnings if w.language == "es"]
    assert spanish == [("care", "untranslated")]
    assert ("care", "length") in [(w.arm, w.kind) for w in report.warnings if w.language == "en"]


def test_placeholder_locations_name_every_text_still_to_write():
    from framelab.domain.confounds import is_placeholder, placeholder_locations
    from framelab.domain.study import load_study_file
    from framelab.services.study_drafts import TEMPLATE_FOLDER

    assert is_placeholder("TO FILL: your title") and is_placeholder("to fill in")
    assert not is_placeholder("Torture destroys people")
    spec = load_study_file(TEMPLATE_FOLDER / "blank.yaml")
    places = placeholder_locations(spec)
    for location in ("title", "consent", "debrief", "arms[1].frame.title", "items[0].text"):
        assert (location, "en") in places
    assert ("items[0].labels", "en") not in places


@pytest.mark.parametrize(
    "text", ["[" * 1_000_000, "*a " * 330_000, "[a](" * 250_000], ids=["brackets", "emph", "links"]
)
def test_pathological_markdown_is_read_as_plain_text_in_linear_time(text):
    """markdown-it took seconds per 100,000 repeats of these (a studio edit or the live
    confound check could hold a worker); over the bound the marks are stripped instead."""
    import time

    from framelab.domain.confounds import MAX_PARSED_MARKDOWN, text_metrics

    assert len(text) > MAX_PARSED_MARKDOWN
    started = time.perf_counter()
    text_metrics("care", "en", text)
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"{elapsed:.2f} s for {len(text)} characters"


def test_a_long_text_keeps_its_words_without_markdown_marks():
    from framelab.domain.confounds import MAX_PARSED_MARKDOWN, markdown_to_text

    text = "**Stop** [torture](https://example.org) now. " * (MAX_PARSED_MARKDOWN // 40)
    words = markdown_to_text(text).split()
    assert words[:4] == ["Stop", "torture", "https://example.org", "now."]
