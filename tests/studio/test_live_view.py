"""The dashboard's anytime-valid live view and interim stamping (issue 20).

Before the locked target, roles with the results permission see per frame the confidence
sequence (plot, current anytime-valid p, the declared rule's decision), computed from the
rehearsal participants in the rehearsal part (DECISIONS rule 4); every download says
"interim" in its name and metadata; nothing shows a fixed-sample p-value.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import numpy as np
import pytest

from framelab.services import study_drafts
from framelab.services.flow import current_page, submit_step
from framelab.services.study_versions import get_study, set_status
from tests.factories import make_study, valid_answers
from tests.participants import enrol
from tests.studio.conftest import NOW, SLUG

N = 80
MONITORING = {"looks": "anytime", "stop_for_efficacy": True, "stop_for_futility": {"below": 0.1}}


def _with_monitoring(app) -> None:
    with app.extensions["framelab.db"]() as session:
        loaded = get_study(session, SLUG)
        analysis = {**loaded.spec.analysis.model_dump(mode="json"), "monitoring": MONITORING}
        spec = study_drafts.replace_sections(loaded.spec, {"analysis": analysis})
        study_drafts.update_study(session, SLUG, spec, now=NOW)


def _rehearse(app, n: int, *, effect_arm: str = "care", rehearsal: bool = True) -> None:
    """n rehearsal (or real) participants to the debrief; `effect_arm` answers support higher."""
    spec = make_study()
    rng = np.random.default_rng(20)
    with app.extensions["framelab.db"]() as session:
        set_status(session, SLUG, "live", now=NOW)
        for i in range(n):
            t = NOW + timedelta(minutes=i + 1)
            code = enrol(
                session, SLUG, language="en", source=None, panel=None, now=t, rehearsal=rehearsal
            ).code
            arm = None
            while (page := current_page(session, code, now=t)).step != "debrief":
                t += timedelta(seconds=40)
                high = page.step == "post" and arm == effect_arm
                support = int(rng.integers(5, 8) if high else rng.integers(1, 6))
                form = valid_answers(spec, page.step, support=support)
                assert submit_step(session, code, page.step, form, now=t).ok
                arm = arm or getattr(page, "arm", None)


@pytest.fixture
def rehearsed(studio_app):
    _with_monitoring(studio_app)
    _rehearse(studio_app, N)
    return studio_app


def _points(svg: str) -> list[dict[str, float]]:
    return [
        {
            "look_n": int(m.group(1)),
            "estimate": float(m.group(2)),
            "cs_low": float(m.group(3)),
            "cs_high": float(m.group(4)),
        }
        for m in re.finditer(
            r'data-n="(\d+)" data-estimate="([^"]+)" data-cs-low="([^"]+)" data-cs-high="([^"]+)"',
            svg,
        )
    ]


def test_the_rehearsal_live_view_plots_the_json_sequential_section(rehearsed, client_for):
    analyst = client_for("analyst@example.org")
    page = analyst.get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    assert "Live results (anytime-valid)" in page
    assert "REHEARSAL" in page.split('id="live-rehearsal"', 1)[1]
    response = analyst.get(f"/studio/{SLUG}/live.json?rehearsal=1")
    assert response.status_code == 200
    results = response.get_json()
    assert results["meta"]["interim"] is True
    assert results["meta"]["monitoring"]["max_n"] == 2000
    # interim: the anytime-valid section is the only inference
    assert "effects" not in results and "omnibus" not in results
    records = results["sequential"]
    assert {r["arm"] for r in records} == {a.id for a in make_study().frame_arms}
    drawn = [r for r in records if r["path"]]
    assert drawn, "at least one frame has enough participants for an interval"
    for r in drawn:
        svg = page.split(f'id="seq-rehearsal-{r["outcome"]}-{r["arm"]}"', 1)[1].split("</svg>")[0]
        assert _points(svg) == [
            {k: p[k] for k in ("look_n", "estimate", "cs_low", "cs_high")} for p in r["path"]
        ]
        assert r["path"][-1]["estimate"] == r["estimate"]
        assert r["cs_low"] < r["estimate"] < r["cs_high"]
        decision = page.split(f'id="decision-rehearsal-{r["outcome"]}-{r["arm"]}"', 1)[1]
        assert f'data-decision="{r["decision"]}"' in decision.split(">", 1)[0]
    # no fixed-sample p-value in the view: the only p shown is the anytime one
    assert "p_value" not in page and "Anytime p" in page


def test_the_live_view_is_for_the_results_permission_only(rehearsed, client_for):
    viewer = client_for("viewer@example.org")
    assert "Live results" not in viewer.get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    assert viewer.get(f"/studio/{SLUG}/live.json?rehearsal=1").status_code == 403
    assert viewer.get(f"/studio/{SLUG}/results/interim?rehearsal=1").status_code == 403


def test_the_interim_report_is_headed_interim_and_has_no_fixed_sample_inference(
    rehearsed, client_for
):
    analyst = client_for("analyst@example.org")
    response = analyst.get(f"/studio/{SLUG}/results/interim?rehearsal=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>INTERIM · " in html and "<h1>INTERIM: " in html
    assert html.index('id="sequential"') < html.index('id="descriptives"')
    assert "p_value" not in html and "conf_low" not in html


def test_downloads_before_the_target_are_stamped_interim(rehearsed, client_for, tmp_path):
    import pyarrow.parquet as pq
    import pyreadstat

    analyst = client_for("analyst@example.org")
    csv = analyst.get(f"/studio/{SLUG}/download/csv")
    assert 'filename="torture-ban-interim.csv"' in csv.headers["Content-Disposition"]
    assert "interim" not in csv.get_data(as_text=True).lower()  # never a line in a CSV
    parquet = analyst.get(f"/studio/{SLUG}/download/parquet")
    assert "torture-ban-interim.parquet" in parquet.headers["Content-Disposition"]
    meta = pq.read_schema(io.BytesIO(parquet.get_data())).metadata
    assert json.loads(meta[b"framelab"])["interim"] is True
    for fmt in ("sav", "dta"):
        got = analyst.get(f"/studio/{SLUG}/download/{fmt}")
        assert f"torture-ban-interim.{fmt}" in got.headers["Content-Disposition"]
        path = tmp_path / f"x.{fmt}"
        path.write_bytes(got.get_data())
        reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        _, meta = reader(str(path), metadataonly=True)
        assert meta.file_label.startswith("INTERIM ")
    book = analyst.get(f"/studio/{SLUG}/download/codebook-json").get_json()
    assert book["interim"] is True
    bundle = analyst.get(f"/studio/{SLUG}/bundle.zip")
    assert 'filename="torture-ban-interim-bundle.zip"' in bundle.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(bundle.get_data())).namelist()
    # no real participant yet: no report at all, and never the fixed-sample one
    assert not any(n.endswith("/report/results.json") for n in names)
    readme = zipfile.ZipFile(io.BytesIO(bundle.get_data())).read(f"{SLUG}/README.txt")
    assert readme.decode().startswith("INTERIM")


def test_a_bundle_of_real_participants_before_the_target_holds_the_interim_report_only(
    studio_app, client_for
):
    _with_monitoring(studio_app)
    _rehearse(studio_app, N, rehearsal=False)
    analyst = client_for("analyst@example.org")
    page = analyst.get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    assert 'id="live-real-table"' in page and 'id="live-rehearsal"' not in page
    bundle = analyst.get(f"/studio/{SLUG}/bundle.zip")
    assert 'filename="torture-ban-interim-bundle.zip"' in bundle.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(bundle.get_data()))
    results = json.loads(archive.read(f"{SLUG}/report/interim-results.json"))
    assert results["meta"]["interim"] is True
    assert [r["arm"] for r in results["sequential"]] == [a.id for a in make_study().frame_arms]
    assert {"effects", "omnibus", "equivalence", "effect_sizes"}.isdisjoint(results)
    html = archive.read(f"{SLUG}/report/interim-index.html").decode()
    assert "<h1>INTERIM: " in html
    live = analyst.get(f"/studio/{SLUG}/live.json").get_json()
    assert live["sequential"] == results["sequential"]


def test_the_plan_and_launch_pages_show_the_monitoring_before_launch(studio_app, client_for):
    owner = client_for("owner@example.org")
    plan = owner.get(f"/studio/{SLUG}/plan").get_data(as_text=True)
    assert "No monitoring declared" in plan
    _with_monitoring(studio_app)
    plan = owner.get(f"/studio/{SLUG}/plan").get_data(as_text=True)
    section = plan.split('id="monitoring-plan"', 1)[1].split("</ul>", 1)[0]
    assert "Stop for efficacy" in section and "below 0.1 standard deviations" in section
    assert "Ceiling: the planned sample (2000 completed participants)" in section
    launch = owner.get(f"/studio/{SLUG}/launch").get_data(as_text=True)
    row = launch.split('id="lock-monitoring"', 1)[1].split("</tr>", 1)[0]
    assert "Stop for futility" in row and "part of the analysis plan" in row


def test_after_the_owners_close_the_study_is_final_and_nothing_is_interim(rehearsed, client_for):
    with rehearsed.extensions["framelab.db"]() as session:
        set_status(session, SLUG, "closed", now=NOW + timedelta(days=1))
    analyst = client_for("analyst@example.org")
    page = analyst.get(f"/studio/{SLUG}/dashboard").get_data(as_text=True)
    assert "closed by its owner at 0 of 2000 completed" in page
    assert 'id="live"' not in page
    csv = analyst.get(f"/studio/{SLUG}/download/csv")
    assert 'filename="torture-ban.csv"' in csv.headers["Content-Disposition"]
    assert analyst.get(f"/studio/{SLUG}/download/codebook-json").get_json()["interim"] is False
    assert analyst.get(f"/studio/{SLUG}/live.json").status_code == 404
