"""The studio's report: the lock's provenance as the CLI states it, and the report's language."""

from __future__ import annotations

import re

import pytest

from framelab.services.study_versions import get_study
from tests.studio.conftest import SLUG
from tests.studio.test_every_page import T0, _reach_state


@pytest.fixture
def session(studio_app):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as s:
        yield s


def test_the_studio_report_states_the_launch_lock_and_opens_in_each_study_language(
    studio_app, client_for, session
):
    _reach_state(session, completed=6, target=6)
    hashes = get_study(session, SLUG)
    session.rollback()
    owner = client_for("owner@example.org")
    base = f"/studio/{SLUG}"
    dashboard = owner.get(base + "/dashboard").get_data(as_text=True)
    links = re.findall(r'href="([^"]*/results\?lang=(\w+))"', dashboard)
    assert {code for _, code in links} == {"en", "es", "fr", "ar"}
    english = owner.get(base + "/results").get_data(as_text=True)
    statement = re.search(r'id="plan-status">(.*?)</p>', english).group(1)
    assert statement.startswith(
        f"Pre-registered: the analysis plan was locked on {T0:%B} {T0.day}, {T0.year}, "
        f"{T0:%H:%M} UTC"
    ), statement
    assert hashes.spec_hash  # the study exists; the lock's plan hash is printed
    assert re.search(r"\(plan hash [0-9a-f]{12}\)", statement)
    spanish = owner.get(base + "/results?lang=es").get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in spanish
    assert "Resumen para campañas" in spanish
    assert owner.get(base + "/results?lang=xx").status_code == 404
