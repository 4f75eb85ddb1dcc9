"""Editor pages: CSRF, sign-in, placed validation errors, the confound warning, preview, downloads."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from framelab.services import accounts
from tests.studio.conftest import PASSWORD, SLUG, build_app, copy_database

TOKEN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def _token(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@pytest.fixture
def csrf_app(tmp_path, studio_template):
    app = build_app(copy_database(studio_template, tmp_path / "csrf.sqlite"), WTF_CSRF_ENABLED=True)
    yield app
    app.extensions["framelab.engine"].dispose()


def _login(client, email: str, password: str = PASSWORD):
    page = client.get("/studio/login").get_data(as_text=True)
    return client.post(
        "/studio/login?next=/studio/",
        data={"email": email, "password": password, "csrf_token": _token(page)},
    )


def test_forms_without_a_csrf_token_are_rejected(csrf_app):
    client = csrf_app.test_client()
    refused = client.post(
        "/studio/login", data={"email": "owner@example.org", "password": PASSWORD}
    )
    assert refused.status_code == 400
    assert _login(client, "owner@example.org").status_code == 302
    # Signed in, a state-changing POST without the token is still refused and changes nothing.
    assert client.post(f"/studio/{SLUG}/status/pilot").status_code == 400
    assert (
        client.post(f"/studio/{SLUG}/plan/lock", data={"csrf_token": "forged"}).status_code == 400
    )
    overview = client.get(f"/studio/{SLUG}/").get_data(as_text=True)
    assert "status-draft" in overview
    done = client.post(f"/studio/{SLUG}/status/pilot", data={"csrf_token": _token(overview)})
    assert done.status_code == 302
    assert "status-pilot" in client.get(f"/studio/{SLUG}/").get_data(as_text=True)


def test_sign_in_with_a_wrong_password_fails_and_next_must_be_local(csrf_app):
    client = csrf_app.test_client()
    wrong = _login(client, "owner@example.org", "not the password")
    assert wrong.status_code == 401
    assert "The email or password is not right." in wrong.get_data(as_text=True)
    page = client.get("/studio/login").get_data(as_text=True)
    response = client.post(
        "/studio/login?next=https://evil.example/",
        data={"email": "owner@example.org", "password": PASSWORD, "csrf_token": _token(page)},
    )
    assert response.headers["Location"] == "/studio/"


def test_a_missing_translation_is_shown_next_to_its_field(client_for):
    client = client_for("editor@example.org")
    form = _texts_form(client)
    form["consent_es"] = ""
    response = client.post(f"/studio/{SLUG}/texts", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="consent_es-error"' in html
    assert 'aria-describedby="consent_es-error"' in html


def _texts_form(client) -> dict[str, str]:
    html = client.get(f"/studio/{SLUG}/texts").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    fields.update(
        {
            name: value.strip("\n")
            for name, value in re.findall(
                r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S
            )
        }
    )
    import html as html_lib

    return {k: html_lib.unescape(v) for k, v in fields.items()}


def test_study_file_errors_name_their_location(client_for):
    client = client_for("editor@example.org")
    text = client.get(f"/studio/{SLUG}/study.yaml").get_data(as_text=True)
    bad = text.replace("values:\n    - care", "values:\n    - kindness", 1)
    assert bad != text
    response = client.post(f"/studio/{SLUG}/yaml", data={"yaml": bad})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(
        r"<code>arms\[1\]\.frame\.values\[0\]</code>: &#39;kindness&#39; is not a known value", html
    )


def _frame_form(client, arm: str = "care") -> dict[str, object]:
    html = client.get(f"/studio/{SLUG}/frames/{arm}").get_data(as_text=True)
    import html as html_lib

    form: dict[str, object] = {
        name: html_lib.unescape(value.strip("\n"))
        for name, value in re.findall(
            r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S
        )
    }
    form.update(
        dict(
            re.findall(r'<input[^>]*id="title_[^"]*"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)
        )
    )
    form["values"] = re.findall(r'<input checked[^>]*name="values"[^>]*value="([^"]+)"', html)
    return form


def test_an_overlong_frame_gets_the_confound_warning_in_the_preview(client_for):
    client = client_for("editor@example.org")
    form = _frame_form(client)
    assert "body_en" in form and "title_ar" in form
    form["body_en"] = str(form["body_en"]) + "\n\n" + str(form["body_en"])
    response = client.post(f"/studio/{SLUG}/frames/care", data={**form, "preview": "Preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # The frame is called by its name, never its id.
    assert re.search(r"Care \(harm\) \(en\) has \d+ words, \d+% longer than the other texts", html)
    # A preview saves nothing.
    assert "longer than the other texts" not in client.get(f"/studio/{SLUG}/frames").get_data(
        as_text=True
    )
    saved = client.post(f"/studio/{SLUG}/frames/care", data={**form, "save": "Save frame"})
    assert saved.status_code == 302
    assert "longer than the other texts" in client.get(f"/studio/{SLUG}/frames").get_data(
        as_text=True
    )


def test_live_preview_endpoint_returns_sanitized_html_and_figures(client_for):
    client = client_for("editor@example.org")
    form = _frame_form(client)
    form["body_en"] = "Hello **world** <script>alert(1)</script>"
    data = client.post(f"/studio/{SLUG}/frames/care/check", data=form).get_json()
    assert data["ok"] is True
    assert "<strong>world</strong>" in data["html"]["en"]
    assert "<script>" not in data["html"]["en"]
    assert {m["language"] for m in data["metrics"]} == {"en", "es", "fr", "ar"}
    assert any("shorter than the other texts" in w for w in data["warnings"])
    # The live figures read as the page's own: "34 seconds", not a bare number of s.
    english = next(m for m in data["metrics"] if m["language"] == "en")
    seconds = english["reading_seconds"]
    assert english["reading_time"] == f"{int(seconds + 0.5)} second" + (
        "s" if int(seconds + 0.5) != 1 else ""
    )


def test_the_frames_page_gives_reading_times_in_words_from_the_published_rate(client_for):
    from framelab.domain.confounds import check_study
    from tests.factories import make_study

    page = client_for("editor@example.org").get(f"/studio/{SLUG}/frames").get_data(as_text=True)
    care = next(
        m for m in check_study(make_study()).metrics if (m.arm, m.language) == ("care", "en")
    )
    assert care.reading_seconds == round(60 * care.words / 238, 1)  # Brysbaert (2019)
    row = re.search(r'<tr id="row-care-en">(.*?)</tr>', page, re.S).group(1)
    assert f"<td>{int(care.reading_seconds + 0.5)} seconds</td>" in row


def test_preview_shows_the_participant_page_and_records_nothing(client_for, studio_app):
    from sqlalchemy import func, select

    from framelab.db.models import Participant
    from framelab.web.database import db_session

    client = client_for("viewer@example.org")
    html = client.get(f"/studio/{SLUG}/preview/loyalty/ar/message").get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in html
    assert "preview-note" in html and 'method="post"' not in html
    assert client.get(f"/studio/{SLUG}/preview/loyalty/xx/message").status_code == 404
    with studio_app.app_context():
        assert db_session().scalar(select(func.count()).select_from(Participant)) == 0


def test_power_planner_warns_when_the_sample_misses_small_effects(client_for):
    client = client_for("viewer@example.org")
    html = client.get(f"/studio/{SLUG}/power").get_data(as_text=True)
    # torture-ban: target 2000 over 5 arms = 400 per arm: d = 0.1 is out of reach.
    assert 'value="400"' in html
    assert "Underpowered" in html or "Marginal" in html
    assert "d = 0.1 to 0.2" in html
    big = client.get(
        f"/studio/{SLUG}/power?effect=0.15&n_per_arm=5000&attrition=10&alpha=0.05&correction=holm"
    )
    assert "Adequate." in big.get_data(as_text=True)
    in_points = client.get(
        f"/studio/{SLUG}/power?effect=0.15&difference=0.4&outcome_sd=1.6&n_per_arm=400"
        "&attrition=20&alpha=0.05&correction=holm"
    ).get_data(as_text=True)
    assert "Power for d = 0.25" in in_points
    assert "allowing for 20% drop-out" in in_points


def test_downloads_give_data_codebook_yaml_and_a_bundle(client_for):
    client = client_for("analyst@example.org")
    csv = client.get(f"/studio/{SLUG}/download/csv")
    assert csv.status_code == 200 and csv.data.startswith(b"participant,arm,")
    assert client.get(f"/studio/{SLUG}/download/codebook-json").get_json()
    assert client.get(f"/studio/{SLUG}/download/sav").data[:4] == b"$FL2"
    bundle = zipfile.ZipFile(io.BytesIO(client.get(f"/studio/{SLUG}/bundle.zip").data))
    names = {n.split("/", 1)[1] for n in bundle.namelist()}
    assert {
        "data/tidy.csv",
        "data/tidy.parquet",
        "codebook.json",
        "study.yaml",
        "analysis_plan.json",
        "lock.json",
        "seed.txt",
        "software.json",
        "README.txt",
    } <= names
    # The study is live below its target: the bundle is interim (issue 20), and its
    # README says so and why there is no report yet (too few participants).
    readme = bundle.read(f"{SLUG}/README.txt").decode()
    assert readme.startswith("INTERIM: taken before the study reached its planned sample")
    assert "needs 2 more" in readme


def test_owner_invites_a_member_who_accepts_and_unknown_emails_get_the_same_answer(
    client_for, studio_app
):
    owner = client_for("owner@example.org")
    answers = []
    for email in ("nobody@example.org", "stranger@example.org"):
        response = owner.post(
            f"/studio/{SLUG}/members", data={"email": email, "role": "viewer"},
            follow_redirects=True,
        )  # fmt: skip
        assert response.status_code == 200
        flash = response.get_data(as_text=True).split('class="flash flash-info">')[1]
        answers.append(flash.split("</p>")[0].replace(email, "EMAIL"))
    assert answers[0] == answers[1]
    assert "if a studio account exists for that address" in answers[0].lower()
    stranger = client_for("stranger@example.org")
    assert stranger.get(f"/studio/{SLUG}/").status_code == 404  # not before accepting
    listing = stranger.get("/studio/").get_data(as_text=True)
    assert "you are invited" in listing and "owner@example.org" in listing
    invitation = int(listing.split('name="invitation_id" value="')[1].split('"')[0])
    accepted = stranger.post(
        "/studio/invitations", data={"invitation_id": invitation, "answer": "accept"}
    )
    assert accepted.status_code == 302
    assert stranger.get(f"/studio/{SLUG}/").status_code == 200


def test_create_a_study_from_a_template_makes_the_creator_owner(client_for, studio_app):
    client = client_for("editor@example.org")  # a site admin allowed it to create studies
    response = client.post(
        "/studio/new",
        data={
            "tpl-template": "value-frames",
            "tpl-languages": ["en"],
            "tpl-slug": "my-copy",
            "tpl-submit": "Create study",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/studio/my-copy/to-fill")
    from framelab.web.database import db_session

    with studio_app.app_context():
        account = accounts.account_by_email(db_session(), "editor@example.org")
        refs = {r.slug: r.role for r in accounts.studies_for(db_session(), account)}
    assert refs["my-copy"] == "owner"
    taken = client.post(
        "/studio/new",
        data={
            "tpl-template": "value-frames",
            "tpl-languages": ["en"],
            "tpl-slug": "my-copy",
            "tpl-submit": "Create study",
        },
    )
    assert taken.status_code == 422
    assert "already used by another study" in taken.get_data(as_text=True)


def test_upload_a_study_file_or_see_its_errors_with_locations(client_for):
    client = client_for("editor@example.org")
    text = client.get(f"/studio/{SLUG}/study.yaml").get_data(as_text=True)
    uploaded = text.replace(f"slug: {SLUG}", "slug: uploaded-study", 1)
    response = client.post(
        "/studio/new",
        data={
            "up-file": (io.BytesIO(uploaded.encode()), "study.yaml"),
            "up-submit_upload": "Create from file",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/studio/uploaded-study/")
    bad = uploaded.replace("slug: uploaded-study", "slug: second-upload").replace(
        "points: 7", "points: 4", 1
    )
    refused = client.post(
        "/studio/new", data={"up-text": bad, "up-submit_upload": "Create from file"}
    )
    assert refused.status_code == 422
    assert re.search(r"<code>items\[\d+\]\.points</code>", refused.get_data(as_text=True))
