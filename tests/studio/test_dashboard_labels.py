"""What the dashboard shows a person: labels for arms and strata, durations in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from framelab.services import study_drafts, study_lifecycle
from framelab.services.dashboard import dashboard, label_language
from framelab.services.export import export_tidy
from framelab.services.study_versions import get_study
from framelab.web.durations import duration_text
from tests.factories import approve
from tests.studio.conftest import SLUG
from tests.studio.participants import complete_participant

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ROW_HEADER = re.compile(r'<th scope="row">(.*?)</th>')


@pytest.fixture
def session(studio_app):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as s:
        yield s


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (1.4, "1 second"),
        (2, "2 seconds"),
        (59.5, "1 minute"),
        (60, "1 minute"),
        (65, "1 minute 5 seconds"),
        (121, "2 minutes 1 second"),
        (3600, "1 hour"),
        (7384, "2 hours 3 minutes 4 seconds"),
    ],
)
def test_durations_read_in_words_with_singular_and_plural(studio_app, seconds, text):
    with studio_app.test_request_context("/studio/"):
        assert duration_text(seconds) == text


def _live_with(session, n: int, design: dict | None = None, quality: dict | None = None) -> None:
    sections = {k: v for k, v in (("design", design), ("quality", quality)) if v is not None}
    if sections:
        loaded = get_study(session, SLUG)
        study_drafts.update_study(
            session, SLUG, study_drafts.replace_sections(loaded.spec, sections), now=T0
        )
    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    for i in range(n):
        complete_participant(session, SLUG, start=T0 + timedelta(minutes=i))
    session.rollback()


def test_dashboard_names_arms_and_strata_by_their_labels_and_reads_the_median_time(
    session, client_for
):
    _live_with(session, 2)
    durations = export_tidy(session, SLUG)["duration_seconds"].tolist()
    session.rollback()
    assert durations == [160.0, 160.0]  # consent at enrolment, then four pages 40 s apart
    page = client_for("owner@example.org").get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    rows = ROW_HEADER.findall(page)
    assert 'Placebo (libraries) <span class="muted">(control)</span>' in rows
    assert 'Care (harm) <span class="muted">(care)</span>' in rows
    assert {"left: Very left, Left", "centre: Centre", "right: Right, Very right"} <= set(rows)
    assert '<dd id="median-completion">2 minutes 40 seconds</dd>' in page


def test_strata_without_names_show_the_blocking_answers_never_their_codes(session, client_for):
    loaded = get_study(session, SLUG)
    design = {**loaded.spec.model_dump(mode="json")["design"], "strata": None}
    # A minimum cell size of 1: group counts are exact (they move in batches of 1).
    _live_with(session, 1, design=design, quality={"min_cell_size": 1})
    figures = dashboard(session, get_study(session, SLUG))
    session.rollback()
    assert [s.label for s in figures.strata] == [
        "Very left",
        "Left",
        "Centre",
        "Right",
        "Very right",
    ]
    assert [s.started for s in figures.strata] == [0, 0, 1, 0, 0]  # valid_answers picks 3
    page = client_for("owner@example.org").get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    rows = ROW_HEADER.findall(page)
    assert "Centre" in rows
    assert not [r for r in rows if re.fullmatch(r"\d+", r.strip())], rows


def test_groups_are_labelled_in_the_language_asked_for(session):
    loaded = get_study(session, SLUG)
    session.rollback()
    assert label_language(loaded.spec) == "en"  # the studio's language, which the study has
    figures = dashboard(session, loaded, lang="es")
    assert [a.label for a in figures.arms][:2] == ["Placebo (bibliotecas)", "Cuidado (daño)"]
    assert [a.key for a in figures.arms][:2] == ["control", "care"]
    assert figures.strata[0].label == "left: Muy a la izquierda, Izquierda"


def test_an_arm_without_a_label_is_named_by_its_place_not_its_id(session):
    loaded = get_study(session, SLUG)
    session.rollback()
    data = loaded.spec.model_dump(mode="json")
    for arm in data["arms"]:
        arm.pop("label", None)
    study_drafts.update_study(session, SLUG, type(loaded.spec).model_validate(data), now=T0)
    session.rollback()
    figures = dashboard(session, get_study(session, SLUG), lang="en")
    assert [a.label for a in figures.arms][:3] == ["Control", "Frame 1", "Frame 2"]
    assert [a.key for a in figures.arms][:2] == ["control", "care"]


def test_frame_page_reads_the_reading_time_in_words(client_for):
    page = client_for("owner@example.org").get(f"/studio/{SLUG}/frames/care").get_data(as_text=True)
    times = re.findall(r"<td>(\d+ (?:seconds?|minutes?)(?: \d+ seconds?)?)</td>", page)
    assert len(times) == 4, times  # one per language of the study
    assert not re.search(r"<td>\d+ s</td>", page)
