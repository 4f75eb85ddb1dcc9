"""Studio error pages speak to staff (what failed, where to look); the report never 500s.

When the analysis refuses a study's data, "Open the report" shows what is missing and
the bundle says it in its README; an unexpected error names the page, keeps the
exception's text out of the page and gives the reference of the server log entry.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from framelab.services import bundle, study_drafts, study_lifecycle
from framelab.services.export import export_tidy
from framelab.services.study_versions import get_study
from tests.factories import approve
from tests.studio.conftest import SLUG, build_app, copy_database
from tests.studio.participants import complete_participant

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PARTICIPANT_500 = "Your earlier answers are saved"
REFUSAL = "arm column 'arm': control label 'control' not found"


@pytest.fixture
def session(studio_app):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as s:
        yield s


def _closed_with(session, n: int):
    loaded = get_study(session, SLUG)
    study_drafts.update_study(
        session, SLUG, study_drafts.replace_sections(loaded.spec, {"target_n": None}), now=T0
    )
    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    for i in range(n):
        complete_participant(session, SLUG, start=T0 + timedelta(minutes=i))
    study_lifecycle.change_status(session, SLUG, "close", now=T0 + timedelta(hours=1))
    closed = get_study(session, SLUG)
    session.rollback()
    return closed


@pytest.fixture
def refusing_analysis(monkeypatch):
    """analysis.run refuses the data the way it refuses a study without a control."""
    import analysis.run  # noqa: F401 - loads the module; `analysis.run` is also the function

    def refuse(df, plan, *, provenance=None):
        raise ValueError(REFUSAL)

    monkeypatch.setattr(sys.modules["analysis.run"], "run", refuse)


def test_one_participant_study_names_each_arm_and_how_many_more_it_needs(session):
    study = _closed_with(session, 1)
    df = export_tidy(session, SLUG)
    (arm,) = df["arm"]
    sentence = bundle.missing_participants(study.spec, df)
    labels = {a.id: a.label_for("en") for a in study.spec.arms}
    assert sentence.startswith(
        "Each arm needs at least 2 analysable participants (completed and not excluded) "
        "before effects can be estimated: "
    )
    assert (
        f"{labels[arm]}{' (the control arm)' if arm == 'control' else ''} has 1 and needs 1 more"
        in sentence
    )
    for other in set(labels) - {arm}:
        assert f"{labels[other]}" in sentence
    assert "Placebo (libraries) (the control arm) has" in sentence
    assert sentence.count("needs 2 more") == 4 and sentence.count("needs 1 more") == 1
    assert sentence.endswith(".") and "'" not in sentence  # labels, not ids in quotes


def test_missing_participants_is_none_when_every_arm_has_two():
    import pandas as pd

    from tests.factories import make_study

    spec = make_study()
    df = pd.DataFrame(
        {
            "arm": [a for a in spec.arm_ids for _ in range(2)],
            "status": "completed",
            "attention_failed": False,
        }
    )
    assert bundle.missing_participants(spec, df) is None
    df.loc[0, "attention_failed"] = True  # excluded by the plan: control is down to one
    assert "Placebo (libraries) (the control arm) has 1 and needs 1 more" in (
        bundle.missing_participants(spec, df)
    )


def test_report_refused_by_the_analysis_is_a_staff_page_not_a_500(
    session, client_for, refusing_analysis, caplog
):
    _closed_with(session, 1)
    response = client_for("owner@example.org").get(f"/studio/{SLUG}/results")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The report could not be built" in page
    assert f"The analysis stopped: {REFUSAL}".replace("'", "&#39;") in page
    assert 'id="report-missing">Each arm needs at least 2' in page
    assert "The study's data, plan and lock are unchanged" in page
    assert "Traceback" not in page and PARTICIPANT_500 not in page
    assert any(REFUSAL in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def test_bundle_of_a_refused_report_says_what_is_missing(session, client_for, refusing_analysis):
    _closed_with(session, 1)
    response = client_for("owner@example.org").get(f"/studio/{SLUG}/bundle.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        readme = archive.read(f"{SLUG}/README.txt").decode("utf-8")
    assert f"{SLUG}/report/index.html" not in names and f"{SLUG}/data/tidy.csv" in names
    assert f"No report: The report could not be built: {REFUSAL}. Each arm needs at least 2" in (
        " ".join(readme.split())
    )


@pytest.fixture
def quiet_app(studio_template, tmp_path):
    """The studio app answering errors with its pages instead of raising them in the test."""
    app = build_app(copy_database(studio_template, tmp_path / "errors.sqlite"))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield app
    app.extensions["framelab.engine"].dispose()


def _owner(app):
    from tests.studio.conftest import sign_in

    client = app.test_client()
    sign_in(client, app, "owner@example.org")
    return client


def test_unexpected_studio_error_names_the_page_and_the_log_entry_not_the_exception(
    quiet_app, monkeypatch, caplog
):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database exploded at /secret/path")

    monkeypatch.setattr("framelab.web.studio.views_run.dashboard_figures", broken)
    caplog.set_level(logging.ERROR)
    response = _owner(quiet_app).get(f"/studio/{SLUG}/dashboard")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "The dashboard could not be built: an unexpected RuntimeError" in page
    assert "Opening a page changes nothing: the study&#39;s data and plan are unchanged." in page
    reference = re.search(r'<code id="error-reference">([0-9a-f]{12})</code>', page).group(1)
    assert f"See the server log entry {reference} for the details." in page
    assert "exploded" not in page and "Traceback" not in page and PARTICIPANT_500 not in page
    (entry,) = [r for r in caplog.records if reference in r.getMessage()]
    assert f"GET /studio/{SLUG}/dashboard" in entry.getMessage()
    assert entry.exc_info and "exploded" in str(entry.exc_info[1])


def test_studio_error_from_framelab_states_its_reason(quiet_app, monkeypatch):
    def refused(*_args, **_kwargs):
        raise ValueError("design.weights.care: expected a whole number of at least 1, got 0")

    monkeypatch.setattr("framelab.web.studio.views_run.dashboard_figures", refused)
    page = _owner(quiet_app).get(f"/studio/{SLUG}/downloads").get_data(as_text=True)
    assert (
        "The downloads page could not be built: design.weights.care: expected a whole "
        "number of at least 1, got 0." in page
    )


def test_studio_not_found_and_expired_form_speak_to_staff(studio_template, tmp_path):
    app = build_app(copy_database(studio_template, tmp_path / "csrf.sqlite"), WTF_CSRF_ENABLED=True)
    owner = _owner(app)
    missing = owner.get("/studio/no-such-study/dashboard")
    text = missing.get_data(as_text=True)
    assert missing.status_code == 404
    assert "There is no studio page at /studio/no-such-study/dashboard" in text
    assert "Please check the link you were given" not in text
    expired = owner.post(f"/studio/{SLUG}/status/pilot", data={})
    text = expired.get_data(as_text=True)
    assert expired.status_code == 400
    assert "The form has expired" in text and "Nothing was saved" in text
    # Participants keep their own pages.
    assert "Please check the link" in app.test_client().get("/nothing-here").get_data(as_text=True)
    app.extensions["framelab.engine"].dispose()
