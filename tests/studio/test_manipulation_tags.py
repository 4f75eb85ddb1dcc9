"""The question editor sets what each option of a manipulation check means (issue 19)."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from framelab.services.study_versions import get_study
from framelab.web.database import db_session
from tests.studio.conftest import SLUG
from tests.studio.test_build_questions import page_forms

URL = f"/studio/{SLUG}/questions/manip_value"


def _spec(studio_app):
    with studio_app.app_context():
        return get_study(db_session(), SLUG).spec


def test_each_option_of_a_manipulation_check_names_its_value_and_saves(studio_app, client_for):
    client = client_for("editor@example.org")
    page = client.get(URL).get_data(as_text=True)
    assert "Option 1 names the value" in page and 'id="manipulation-note"' in page
    (fields,) = [f for action, f in page_forms(client, URL) if action in ("", URL)]
    data = MultiDict(fields)
    assert data["tag_1"] == "care" and data["tag_5"] == ""
    data["tag_1"] = ""
    data["tag_5"] = "liberty"
    data["save"] = "Save"
    response = client.post(URL, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    tags = [o.value_tag for o in _spec(studio_app).item("manip_value").options]
    assert tags == [None, "equality", "loyalty", "liberty", "liberty"]


def test_other_questions_have_no_value_tag_fields(client_for):
    page = client_for("editor@example.org").get(f"/studio/{SLUG}/questions/age_group")
    assert "names the value" not in page.get_data(as_text=True)
