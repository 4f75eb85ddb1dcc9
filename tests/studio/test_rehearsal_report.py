"""The studio's rehearsal report: simulated participants alone, stamped REHEARSAL.

Rehearsal rows are enrolled through the same services as the simulator's bots (with
the mark a valid rehearsal token sets); the dashboard counts them apart, the real
report stays hidden, and roles with the results permission open the rehearsal report.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from framelab.services.flow import current_page, submit_step
from framelab.services.study_versions import set_status
from tests.factories import make_study, valid_answers
from tests.participants import enrol
from tests.studio.conftest import NOW, SLUG

BANNER = "REHEARSAL — simulated participants, not real data"
N = 20


def _rehearse(app, n: int) -> None:
    """n rehearsal participants through the study's step machine to the debrief."""
    spec = make_study()
    rng = np.random.default_rng(8)
    with app.extensions["framelab.db"]() as session:
        set_status(session, SLUG, "live", now=NOW)
        for i in range(n):
            t = NOW + timedelta(minutes=i + 1)
            code = enrol(
                session, SLUG, language="en", source=None, panel=None, now=t, rehearsal=True
            ).code
            while (page := current_page(session, code, now=t)).step != "debrief":
                t += timedelta(seconds=40)
                form = valid_answers(spec, page.step, support=int(rng.integers(1, 8)))
                assert submit_step(session, code, page.step, form, now=t).ok


def test_analysts_open_the_rehearsal_report_stamped_while_real_results_stay_hidden(
    studio_app, client_for
):
    _rehearse(studio_app, N)
    analyst = client_for("analyst@example.org")
    dashboard = analyst.get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    assert f"{N} simulated participants ({N} completed) are rehearsal rows" in dashboard
    assert f"/studio/{SLUG}/results/rehearsal" in dashboard
    assert "0 of 2000 completed so far" in dashboard
    hidden = analyst.get(f"/studio/{SLUG}/results").get_data(as_text=True)
    assert "Results are not available yet" in hidden and BANNER not in hidden
    response = analyst.get(f"/studio/{SLUG}/results/rehearsal")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"<title>{BANNER} · " in html
    assert html.split("<body>", 1)[1].index(BANNER) < html.index("<h1>")
    assert "script-src 'none'" in response.headers["Content-Security-Policy"]
    assert f"{N} participants analysed" in html
    spanish = analyst.get(f"/studio/{SLUG}/results/rehearsal?lang=es").get_data(as_text=True)
    assert "ENSAYO (REHEARSAL) — participantes simulados, no son datos reales" in spanish
    assert analyst.get(f"/studio/{SLUG}/results/rehearsal?lang=xx").status_code == 404
    assert (
        client_for("owner@example.org").get(f"/studio/{SLUG}/results/rehearsal").status_code == 200
    )
    viewer = client_for("viewer@example.org")
    assert viewer.get(f"/studio/{SLUG}/results/rehearsal").status_code == 403
    assert "Open the rehearsal report" not in viewer.get(f"/studio/{SLUG}/dashboard").get_data(
        as_text=True
    )


def test_without_simulated_participants_the_rehearsal_page_says_so(studio_app, client_for):
    analyst = client_for("analyst@example.org")
    dashboard = analyst.get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    assert "rehearsal" not in dashboard.lower()
    response = analyst.get(f"/studio/{SLUG}/results/rehearsal")
    assert response.status_code == 200
    assert "there are no simulated participants" in response.get_data(as_text=True)
