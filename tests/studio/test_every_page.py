"""No studio page answers 500 for any state a study can reach.

Each state is reached through the real flow: the study is edited and launched with the
studio's services, participants take every page (start, consent, pre, message, post,
intent) through the flow service, and the study closes at its target or on the owner's
"close now". Then an owner opens every studio GET page with every value its URL takes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from framelab.domain.steps import steps_for
from framelab.services import study_drafts, study_lifecycle
from framelab.services.export import export_tidy
from framelab.services.flow import withdraw
from framelab.services.study_versions import get_study
from framelab.web.studio.views_run import DOWNLOADS
from tests.factories import approve
from tests.studio.conftest import RULE_VALUES, SLUG
from tests.studio.participants import complete_participant

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
# Not pages of a study (or not pages at all): the login form and the static files.
SKIPPED = {"studio.static", "studio.logout"}
# Control weight 1 against 4 for each frame, in blocks of 17: with this seed the first
# five participants of the centre stratum all get frames (the test checks it).
NO_CONTROL_DESIGN = {
    "weights": {"control": 1, "care": 4, "fairness": 4, "loyalty": 4, "liberty": 4},
    "block_size": 17,
}


@pytest.fixture
def session(studio_app):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as s:
        yield s


def _reach_state(
    session,
    *,
    completed: int,
    target: int | None,
    design: dict | None = None,
    close: bool = True,
):
    """Launch torture-ban with `target`, let `completed` participants finish, close it."""
    loaded = get_study(session, SLUG)
    changes: dict = {"target_n": target}
    if design is not None:
        changes["design"] = {**loaded.spec.model_dump(mode="json")["design"], **design}
    study_drafts.update_study(
        session, SLUG, study_drafts.replace_sections(loaded.spec, changes), now=T0
    )
    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    for n in range(completed):
        complete_participant(session, SLUG, start=T0 + timedelta(minutes=5 * n))
    if close and get_study(session, SLUG).status != "closed":
        study_lifecycle.change_status(session, SLUG, "close", now=T0 + timedelta(hours=2))
    closed = get_study(session, SLUG)
    session.rollback()  # end the read: SQLite's BEGIN IMMEDIATE would block the requests
    return closed


def _values(study, name: str) -> list[str]:
    spec = study.spec
    choices = {
        "slug": [study.slug],
        "arm_id": list(spec.arm_ids),
        "lang": list(spec.languages),
        "step": steps_for(spec),
        "fmt": list(DOWNLOADS),
    }
    return choices.get(name, [RULE_VALUES[name]])


def _combos(study, names: set[str]) -> list[dict[str, str]]:
    """Every combination of the rule's values, except that the language takes turns.

    (Every arm x step x language of the preview would be 140 pages per state; each
    language still comes up with several arms and steps.)
    """
    combos: list[dict[str, str]] = [{}]
    for name in sorted(names - {"lang"}):
        combos = [{**c, name: v} for c in combos for v in _values(study, name)]
    if "lang" in names:
        langs = _values(study, "lang")
        combos = [{**c, "lang": langs[n % len(langs)]} for n, c in enumerate(combos)]
    return combos


def _get_urls(app, study) -> list[tuple[str, str]]:
    """(endpoint, url) of every studio GET rule with every value of its variables."""
    out = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("studio.") or rule.endpoint in SKIPPED:
                continue
            if "GET" not in rule.methods:
                continue
            for combo in _combos(study, set(rule.arguments)):
                out.append((rule.endpoint, rule.build(combo)[1]))
    return out


def _walk(app, client, study) -> dict[str, int]:
    statuses = {}
    for endpoint, url in _get_urls(app, study):
        response = client.get(url)
        assert response.status_code < 500, (endpoint, url, response.data[:2000])
        assert b"Traceback" not in response.data, url
        statuses[url] = response.status_code
    return statuses


STATES = {
    "no participants, closed": {"completed": 0, "target": None},
    "one participant, closed": {"completed": 1, "target": None},
    "five participants, target reached": {"completed": 5, "target": 5},
}


@pytest.mark.parametrize("state", list(STATES))
def test_every_studio_page_answers_without_a_server_error(studio_app, client_for, session, state):
    study = _reach_state(session, **STATES[state])
    assert study.status == "closed"
    assert len(export_tidy(session, SLUG)) == STATES[state]["completed"]
    session.rollback()
    statuses = _walk(studio_app, client_for("owner@example.org"), study)
    base = f"/studio/{SLUG}"
    # The pages a campaigner opens after the study closes answer with content.
    for page in ("/dashboard", "/results", "/downloads", "/bundle.zip", "/download/csv"):
        assert statuses[base + page] == 200, (page, statuses[base + page])
    assert len(statuses) > 50


def test_a_study_whose_control_arm_is_empty_opens_its_report_and_bundle(
    studio_app, client_for, session
):
    study = _reach_state(session, completed=5, target=None, design=NO_CONTROL_DESIGN)
    arms = export_tidy(session, SLUG)["arm"]
    session.rollback()
    assert len(arms) == 5 and "control" not in set(arms), list(arms)
    owner = client_for("owner@example.org")
    statuses = _walk(studio_app, owner, study)
    base = f"/studio/{SLUG}"
    assert statuses[base + "/results"] == 200
    report = owner.get(base + "/results").get_data(as_text=True)
    # Whatever the report says, it names the empty control arm by its label.
    assert "Placebo (libraries)" in report
    response = owner.get(base + "/bundle.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        readme = archive.read(f"{SLUG}/README.txt").decode("utf-8")
    assert f"{SLUG}/data/tidy.csv" in names
    assert "Placebo (libraries)" in readme or f"{SLUG}/report/index.html" in names


def test_a_live_study_with_a_participant_part_way_and_one_withdrawn_answers_every_page(
    studio_app, client_for, session
):
    _reach_state(session, completed=1, target=None, close=False)
    complete_participant(session, SLUG, start=T0 + timedelta(hours=1), until="message")
    gone = complete_participant(session, SLUG, start=T0 + timedelta(hours=2), until="post")
    withdraw(session, gone, now=T0 + timedelta(hours=3))
    study = get_study(session, SLUG)
    statuses = [*export_tidy(session, SLUG, withdrawn=True)["status"]]
    session.rollback()
    assert study.status == "live" and statuses == ["completed", "assigned", "withdrawn"]
    owner = client_for("owner@example.org")
    statuses_by_url = _walk(studio_app, owner, study)
    assert statuses_by_url[f"/studio/{SLUG}/results"] == 200
    hidden = owner.get(f"/studio/{SLUG}/results").get_data(as_text=True)
    assert "results appear once it is closed" in hidden
