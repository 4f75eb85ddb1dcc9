"""The report's languages: the same as the participant interface, complete catalogs, no English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel import Locale

from analysis.report import campaigner_summary, render_html
from analysis.report.i18n import LANGUAGES, RTL_LANGUAGES, catalog, translator
from tests.report.handmade import handmade_results
from tests.report.report_messages import LOCALES, catalog_problems, source_messages

TRANSLATIONS = Path(__file__).resolve().parents[2] / "framelab" / "translations"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
# Words of the English templates that no translated summary may contain.
ENGLISH = ("raised", "lowered", "frame by frame", "percentage points", "control group", "backlash")


def test_the_report_ships_exactly_the_languages_of_the_participant_interface():
    interface = {p.name for p in TRANSLATIONS.iterdir() if (p / "LC_MESSAGES").is_dir()}
    assert set(LANGUAGES) == interface | {"en"}
    assert {p.stem for p in LOCALES.glob("*.json")} == set(TRANSLATED)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_catalog_has_every_message_of_the_source_and_nothing_stale(lang):
    missing, extra = catalog_problems(lang)
    assert missing == [] and extra == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_the_placeholders_and_every_plural_form_of_the_language(lang):
    forms = set(Locale.parse(lang).plural_form.tags) | {"other"}
    for msgid, kind in source_messages().items():
        entry = catalog(lang)[msgid]
        wanted = set(re.findall(r"\{(\w+)\}", msgid))
        texts = entry.values() if kind == "plural" else [entry]
        if kind == "plural":
            assert set(entry) == forms, (msgid, sorted(entry))
        for text in texts:
            found = set(re.findall(r"\{(\w+)\}", text))
            assert found - {"n"} == wanted - {"n"}, (msgid, text)


def test_plural_forms_follow_the_languages_own_rules():
    t = translator("ar")
    one, two, few = (t.n("{n} frame", "{n} frames", n) for n in (1, 2, 3))
    assert len({one, two, few}) == 3  # Arabic has distinct singular, dual and plural forms
    en = translator("en")
    assert en.n("{n} frame", "{n} frames", 1) == "1 frame"
    assert en.n("{n} frame", "{n} frames", 0) == "0 frames"


def test_numbers_follow_the_locale():
    assert translator("es").number(-21.63, 1) == "−21,6"
    assert translator("en").number(1234.5, 1) == "1,234.5"
    assert translator("fr").percent(0.314).startswith("31")


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_campaigner_summary_has_no_english_template_words(lang):
    text = campaigner_summary(handmade_results(), lang).text().lower()
    assert text
    for word in ENGLISH:
        assert word not in text, (lang, word)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_headings_are_translated_and_direction_is_set(lang):
    html = render_html(handmade_results(), lang=lang)
    assert f'<html lang="{lang}" dir="{"rtl" if lang in RTL_LANGUAGES else "ltr"}">' in html
    assert "Summary for campaigners" not in html
    assert "Effects of each frame" not in html


def test_an_unknown_report_language_is_refused_with_the_available_ones():
    with pytest.raises(ValueError, match=r"not available .*en, es, fr, ar"):
        translator("xx-unknown")
