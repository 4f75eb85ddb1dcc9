"""The interim report in the reader's language (issue 20): no English words of its own left.

Every campaigner-facing template of :mod:`analysis.report.interim` (heading and banner,
the sequential section's sentences, table headers, decision words, plot title and axis
labels) goes through the report's catalogs; these tests render interim reports in each
translated language, through ``write_report`` and through ``framelab report --lang``, and
look for the English templates' words in the page.
"""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.report import write_report
from analysis.report.i18n import LANGUAGES, RTL_LANGUAGES, catalog, translator
from analysis.report.interim import sequential_table
from analysis.report.interim_words import decision_sentence, decision_word, overall_sentence
from analysis.report.sequence_plot import sequence_svg
from analysis.run import run
from framelab.cli import main
from tests.factories import session_factory_for
from tests.report.report_messages import source_messages
from tests.report.test_cli import N, _walk_everyone

REF = Path(__file__).resolve().parents[1] / "reference" / "sequential"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
INTERIM_MESSAGES = source_messages(["interim.py", "interim_words.py", "sequence_plot.py"])
DECISIONS = ("efficacy", "harm", "futility", "continue", "too_few", "complete")


@cache
def _fragments(lang: str = "en") -> list[str]:
    """The fixed English text of every interim template, cut at its placeholders.

    For a translated language, a piece its own translation of that template also holds
    (French "point") is not English left over and is left out.
    """
    found = set()
    for msgid in INTERIM_MESSAGES:
        entry = catalog(lang).get(msgid, "")
        translations = list(entry.values()) if isinstance(entry, dict) else [entry]
        for piece in re.split(r"\{\w+\}", msgid):
            piece = piece.strip()
            if len(re.findall(r"[A-Za-z]", piece)) < 2:
                continue
            if not any(re.search(_word(piece), text) for text in translations):
                found.add(piece)
    return sorted(found, key=len, reverse=True)


def _word(fragment: str) -> str:
    return rf"(?<!\w){re.escape(fragment)}(?!\w)"


def _english_left(text: str, lang: str = "en") -> list[str]:
    """The English fragments left in ``text`` as whole words (case-sensitive)."""
    return [f for f in _fragments(lang) if re.search(_word(f), text)]


def _visible(page: str) -> str:
    """The words a reader sees (or a screen reader reads): tags and CSS stripped."""
    text = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def _heading(lang: str, title: str) -> str:
    return html.escape(catalog(lang)["INTERIM: {title}"].format(title=title))


@pytest.fixture(scope="module")
def interim_results():
    data = pd.read_csv(REF / "sequential_data.csv")
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "y"}],
        "covariates": ["x"],
        "primary_method": "lin",
        "monitoring": {"looks": "anytime", "stop_for_futility": {"below": 0.1}, "max_n": 900},
    }
    results = run(data, plan, provenance={"study": "torture-ban", "rehearsal": True})
    assert results["meta"]["interim"] is True and results["sequential"]
    return results


def test_the_fragments_cover_the_interim_section():
    # the search is only as good as its list: the page's own English words are in it
    for words in (
        "Anytime-valid results",
        "Anytime p (all frames)",
        "participants so far",
        "keep collecting",
        "INTERIM —",
        "Interim framing experiment report",
    ):
        assert any(words in f for f in _fragments()), words
    # whole words only: a fragment inside a longer word is not English left over
    assert "keep collecting" in _english_left("care: keep collecting.")
    assert _english_left("effectivement, Decisionnaire") == []


def test_the_english_interim_report_has_the_english_words(interim_results, tmp_path):
    page = write_report(interim_results, tmp_path, lang="en").read_text(encoding="utf-8")
    found = _english_left(_visible(page))
    assert "Anytime-valid results" in found and "keep collecting" in found
    assert "<h1>INTERIM: Results: torture-ban</h1>" in page


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_interim_report_is_written_in_the_report_language(interim_results, tmp_path, lang):
    index = write_report(interim_results, tmp_path, lang=lang)
    assert index.name == "interim-index.html"
    page = index.read_text(encoding="utf-8")
    assert f'<html lang="{lang}" dir="{"rtl" if lang in RTL_LANGUAGES else "ltr"}">' in page
    title = catalog(lang)["Results: {study}"].format(study="torture-ban")
    assert f"<h1>{_heading(lang, title)}</h1>" in page
    banner = catalog(lang)["REHEARSAL — simulated participants. {banner}"]
    assert banner.split("{banner}")[0].strip() in _visible(page)
    assert _english_left(_visible(page), lang) == []
    assert len(_fragments(lang)) >= 0.9 * len(_fragments())  # few pieces read the same
    # still the interim report: the machine-readable stamp and the anytime-valid section only
    assert '<meta name="framelab-interim" content="true">' in page
    assert 'id="sequential"' in page and "p_value" not in page


@pytest.mark.parametrize("lang", TRANSLATED)
@pytest.mark.parametrize("desired", ["increase", "decrease"])
def test_every_decision_is_said_in_the_report_language(lang, desired):
    t = translator(lang)
    sentences = set()
    for decision in DECISIONS:
        record = {
            "arm": "care",
            "arm_label": "Care",
            "outcome": "support",
            "outcome_label": "support",
            "desired": desired,
            "decision": decision,
            "alpha": 0.05,
            "cs_low": -0.2,
            "cs_high": 0.5,
            "futility_bound": 0.1,
            "n": 120,
            "estimate": 0.15,
            "anytime_p": 0.0004,
            "anytime_p_adjusted": 0.0008,
            "path": [{"look_n": 60, "estimate": 0.1, "cs_low": -0.4, "cs_high": 0.6}],
        }
        said = decision_sentence(record, t)
        english = decision_sentence(record)
        assert said != english and said.startswith("Care")
        assert _english_left(said, lang) == [], (decision, said)
        assert _english_left(decision_word(decision, t), lang) == []
        assert _english_left(_visible(str(sequential_table([record], t))), lang) == []
        drawn = _visible(str(sequence_svg(record, max_n=100, t=t)))
        assert _english_left(drawn, lang) == []
        assert catalog(lang)["planned {n}"].format(n=t.integer(100)) in drawn  # the target line
        empty = _visible(str(sequence_svg({**record, "path": []}, t=t)))
        assert empty.strip() and _english_left(empty, lang) == []
        sentences.add(said)
    assert len(sentences) == len(DECISIONS)  # one sentence per decision
    stopped = [{"decision": "efficacy"}, {"decision": "futility"}]
    for records in (stopped, [{"decision": "continue"}]):
        assert _english_left(overall_sentence(records, t), lang) == []
        assert overall_sentence(records, t) != overall_sentence(records)


def test_the_decision_sentences_take_the_plans_direction_and_the_locale_numbers():
    record = {"arm_label": "Care", "outcome_label": "support", "decision": "efficacy"}
    t = translator("es")
    up = decision_sentence({**record, "desired": "increase"}, t)
    down = decision_sentence({**record, "desired": "decrease"}, t)
    assert "por encima de cero" in up and "por debajo de cero" in down
    futile = decision_sentence({**record, "decision": "futility", "futility_bound": 0.25}, t)
    assert "0,25 puntos" in futile and "95 %" in futile
    keep = decision_sentence({**record, "decision": "continue", "cs_low": -0.5, "cs_high": 1.25}, t)
    assert "(\u22120,50 a 1,25)" in keep


def test_framelab_report_lang_writes_the_interim_report_in_each_language(database_url, tmp_path):
    def args(out: Path, lang: str) -> list[str]:
        return ["report", "torture-ban", "--out", str(out), "--lang", lang]

    with session_factory_for(database_url) as factory:
        _walk_everyone(factory, N)
    for lang in TRANSLATED:
        out = tmp_path / lang
        result = CliRunner().invoke(
            main,
            [*args(out, lang), "--database-url", database_url],
        )
        assert result.exit_code == 0, result.output
        page = (out / "interim-index.html").read_text(encoding="utf-8")
        assert f'<html lang="{lang}"' in page
        heading = catalog(lang)["INTERIM: {title}"].split("{title}")[0]
        assert f"<h1>{html.escape(heading)}" in page
        assert _english_left(_visible(page), lang) == [], lang
