"""Every studio URL rule x every kind of visitor: login, 404 for strangers, 403 by permission."""

from __future__ import annotations

import pytest

from framelab.services.accounts import PERMISSIONS, role_allows
from tests.studio.conftest import CREATORS, OTHER, PEOPLE, RULE_VALUES, SLUG

VALUES = RULE_VALUES
PUBLIC = {
    "studio.login",
    "studio.login_code",
    "studio.logout",
    "studio.reset_password",
    "studio.static",
}
# POST rules open to any signed-in account because they change only its own things.
OWN_ACCOUNT = {
    "studio.new_study",
    "studio.manage_accounts",
    "studio.account",
    "studio.two_factor_setup",
    "studio.two_factor_off",
    "studio.answer_invitation",
}


def studio_rules(app):
    """(endpoint, method, url, permission) for every studio rule and method."""
    out = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("studio.") or rule.endpoint in PUBLIC:
                continue
            view = app.view_functions[rule.endpoint]
            permission = view.required_permission
            url = rule.build({k: VALUES[k] for k in rule.arguments})[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule.endpoint, method, url, permission))
    return out


def test_every_studio_rule_declares_a_permission(studio_app):
    rules = studio_rules(studio_app)
    assert len(rules) >= 25
    assert {perm for *_, perm in rules} <= set(PERMISSIONS) | {"login", "admin", "create"}
    # The rules that change something are never open to a mere viewer.
    changing = [r for r in rules if r[1] == "POST" and r[0] not in OWN_ACCOUNT]
    assert changing and all(perm not in ("view", "login") for _e, _m, _u, perm in changing)


def _call(client, method, url):
    return client.open(url, method=method, data={})


def test_anonymous_visitors_are_sent_to_login_on_every_rule(studio_app, client_for):
    client = client_for(None)
    for endpoint, method, url, _perm in studio_rules(studio_app):
        response = _call(client, method, url)
        assert response.status_code == 302, (endpoint, method)
        assert "/studio/login" in response.headers["Location"], endpoint


def test_owner_of_another_study_gets_404_on_every_study_rule(studio_app, client_for):
    client = client_for("stranger@example.org")
    for endpoint, method, url, perm in studio_rules(studio_app):
        response = _call(client, method, url)
        if perm == "admin":
            assert response.status_code == 403, endpoint
        elif perm in ("login", "create"):
            assert response.status_code != 404, endpoint
        else:
            assert response.status_code == 404, (endpoint, method, response.status_code)
    # ...while their own study answers normally.
    assert client.get(f"/studio/{OTHER}/").status_code == 200


@pytest.mark.parametrize("email", [e for e, role in PEOPLE.items() if role])
def test_each_role_is_allowed_exactly_what_its_permissions_say(studio_app, client_for, email):
    role = PEOPLE[email]
    client = client_for(email)
    for endpoint, method, url, perm in studio_rules(studio_app):
        response = _call(client, method, url)
        if perm == "admin":
            assert response.status_code == 403, endpoint
            assert b"for site admins" in response.data
        elif perm == "create" and email not in CREATORS:
            assert response.status_code == 403, (endpoint, method)
            assert b"cannot create studies" in response.data
        elif perm in ("login", "create") or role_allows(role, perm):
            assert response.status_code not in (403, 404), (role, endpoint, method)
            assert "/studio/login" not in response.headers.get("Location", ""), endpoint
        else:
            assert response.status_code == 403, (role, endpoint, method, response.status_code)
            assert b"needs the role" in response.data


def test_viewer_cannot_edit_a_frame_and_nothing_changes(studio_app, client_for):
    client = client_for("viewer@example.org")
    response = client.post(
        f"/studio/{SLUG}/frames/care", data={"title_en": "Changed", "save": "Save frame"}
    )
    assert response.status_code == 403
    owner = client_for("owner@example.org")
    page = owner.get(f"/studio/{SLUG}/frames/care").get_data(as_text=True)
    assert "Changed" not in page


def test_editor_cannot_lock_the_plan_but_analyst_can(studio_app, client_for):
    editor = client_for("editor@example.org")
    assert editor.post(f"/studio/{SLUG}/plan/lock").status_code == 403
    assert editor.get(f"/studio/{SLUG}/plan").status_code == 403
    owner = client_for("owner@example.org")
    assert "plan-locked" not in owner.get(f"/studio/{SLUG}/plan").get_data(as_text=True)
    analyst = client_for("analyst@example.org")
    response = analyst.post(f"/studio/{SLUG}/plan/lock")
    assert response.status_code == 302
    page = analyst.get(f"/studio/{SLUG}/plan").get_data(as_text=True)
    assert 'id="plan-locked"' in page


def test_viewer_sees_study_but_not_data_downloads(studio_app, client_for):
    viewer = client_for("viewer@example.org")
    assert viewer.get(f"/studio/{SLUG}/dashboard").status_code == 200
    assert viewer.get(f"/studio/{SLUG}/study.yaml").status_code == 200
    assert viewer.get(f"/studio/{SLUG}/download/csv").status_code == 403
    page = viewer.get(f"/studio/{SLUG}/downloads").get_data(as_text=True)
    assert "download/csv" not in page


def test_study_list_shows_only_the_accounts_studies(studio_app, client_for):
    page = client_for("stranger@example.org").get("/studio/").get_data(as_text=True)
    assert OTHER in page and f"/studio/{SLUG}/" not in page
    page = client_for("viewer@example.org").get("/studio/").get_data(as_text=True)
    assert f"/studio/{SLUG}/" in page and OTHER not in page


def test_only_a_site_admin_creates_accounts(studio_app, client_for):
    from tests.studio.conftest import sign_in

    client = studio_app.test_client()
    sign_in(client, studio_app, "admin@example.org")
    assert client.get("/studio/accounts").status_code == 200
    created = client.post(
        "/studio/accounts", data={"email": "new@example.org", "password": "long enough pass"}
    )
    assert created.status_code == 302
    assert "new@example.org" in client.get("/studio/accounts").get_data(as_text=True)
    short = client.post("/studio/accounts", data={"email": "x@example.org", "password": "short"})
    assert "password: must be at least 12 characters" in short.get_data(as_text=True)
    refused = client_for("owner@example.org").post(
        "/studio/accounts", data={"email": "sneaky@example.org", "password": "long enough pass"}
    )
    assert refused.status_code == 403
    assert "sneaky@example.org" not in client.get("/studio/accounts").get_data(as_text=True)


def test_owner_removes_a_member_but_not_the_last_owner(studio_app, client_for):
    owner = client_for("owner@example.org")
    members = owner.get(f"/studio/{SLUG}/members").get_data(as_text=True)
    assert "viewer@example.org" in members
    viewer_id = _user_id(studio_app, "viewer@example.org")
    assert (
        owner.post(f"/studio/{SLUG}/members/remove", data={"user_id": viewer_id}).status_code == 302
    )
    assert client_for("viewer@example.org").get(f"/studio/{SLUG}/").status_code == 404
    owner_id = _user_id(studio_app, "owner@example.org")
    response = owner.post(
        f"/studio/{SLUG}/members/remove", data={"user_id": owner_id}, follow_redirects=True
    )
    assert "a study needs at least one owner" in response.get_data(as_text=True)
    assert owner.get(f"/studio/{SLUG}/").status_code == 200


def _user_id(app, email: str) -> int:
    from sqlalchemy import select

    from framelab.db.accounts import User
    from framelab.web.database import db_session

    with app.app_context():
        return db_session().scalar(select(User.id).where(User.email == email))
