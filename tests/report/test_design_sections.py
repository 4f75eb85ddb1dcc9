"""The report's manipulation-check sentences, interaction plot and appendix tables (issue 19)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.report import campaigner_summary, render_html

REF = Path(__file__).resolve().parents[1] / "reference" / "factorial"
ARMS = {
    "control": "No message",
    "care_refugee": "Care, refugee",
    "care_neighbour": "Care, neighbour",
    "loyalty_refugee": "Loyalty, refugee",
    "loyalty_neighbour": "Loyalty, neighbour",
}


@pytest.fixture(scope="module")
def results() -> dict:
    d = pd.read_csv(REF / "factorial_data.csv")
    rng = np.random.default_rng(3)
    share = {"refugee": [0.7, 0.2, 0.1], "neighbour": [0.45, 0.45, 0.1]}
    d["post_manip"] = [
        rng.choice([1, 2, 3], p=share.get(m, [0.2, 0.2, 0.6])) for m in d["factor_messenger"]
    ]
    plan = {
        "arm": "arm",
        "control": "control",
        "outcomes": [{"name": "welcome", "label": "support for welcoming", "range": [1, 7]}],
        "factors": {
            "factor_value": ["care", "loyalty"],
            "factor_messenger": ["refugee", "neighbour"],
        },
        "manipulation_checks": [
            {
                "column": "post_manip",
                "targets": {"care_refugee": [1], "care_neighbour": [2]},
                "factor_targets": {"factor_messenger": {"refugee": [1], "neighbour": [2]}},
            }
        ],
        "arm_labels": ARMS,
    }
    return analysis.run(d, plan)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_a_factor_check_is_read_per_level_and_a_weak_level_is_named(results):
    text = campaigner_summary(results).text()
    assert "Readers of the refugee messages (messenger) chose the matching answer" in text
    # neighbour readers pick 'neighbour' 45% of the time, refugee readers 20%: still more
    assert re.search(r"Readers of the neighbour messages \(messenger\) (chose|did not)", text)
    assert "refugee frame was recognised" not in text  # cells are not read one by one


def test_the_report_draws_the_interaction_plot_and_the_appendix_tables(results):
    html = render_html(results)
    assert 'aria-label="Average support for welcoming in each combination of messages.' in html
    for part in (
        "a-manipulation_checks",
        "a-manipulation_omnibus",
        "a-factorial",
        "a-factorial_cells",
    ):
        assert f'id="{part}"' in html, part
    appendix = _text(html[html.index('id="a-factorial"') :])
    assert "main_effect" in appendix and "interaction" in appendix


def test_the_new_sentences_are_translated(results):
    text = campaigner_summary(results, "es").text()
    assert "Quienes leyeron los mensajes refugee (messenger)" in text
    assert "Readers of" not in text
