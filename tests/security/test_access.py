"""The whole URL map: every route outside the participant pages needs sign-in and the right role.

Unlike tests/studio/test_roles.py (the studio's own rules), this walks every rule
of the app, so a route added later in any blueprint is covered too: it must
either be a participant page, a static file, or declare a permission that the
role check enforces.
"""

from __future__ import annotations

import re

import pytest

from framelab.services.accounts import PERMISSIONS, role_allows
from tests.studio.conftest import CREATORS, OTHER, PEOPLE, RULE_VALUES, SLUG

# Public by design: participants are anonymous; static files; the sign-in pages (password,
# second-factor code, sign-out) and the one-time reset link (its token is the credential).
PUBLIC_ENDPOINTS = {
    "static",
    "studio.static",
    "studio.login",
    "studio.login_code",
    "studio.logout",
    "studio.reset_password",
}
PUBLIC_BLUEPRINTS = {"participant"}
VALUES = {
    **RULE_VALUES,
    "code": "not-a-code",
    "filename": "framelab.css",
}


def protected_rules(app) -> list[tuple[str, str, str, str | None]]:
    """(endpoint, method, url, declared permission) of every non-public rule and method."""
    out = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            blueprint = rule.endpoint.rpartition(".")[0]
            if rule.endpoint in PUBLIC_ENDPOINTS or blueprint in PUBLIC_BLUEPRINTS:
                continue
            missing = set(rule.arguments) - set(VALUES)
            assert not missing, f"{rule.rule}: no test value for {sorted(missing)}"
            url = rule.build({k: VALUES[k] for k in rule.arguments})[1]
            permission = getattr(app.view_functions[rule.endpoint], "required_permission", None)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule.endpoint, method, url, permission))
    return out


def test_public_routes_are_only_participant_pages_static_files_and_sign_in(studio_app):
    public = sorted(
        rule.endpoint
        for rule in studio_app.url_map.iter_rules()
        if rule.endpoint in PUBLIC_ENDPOINTS
        or rule.endpoint.rpartition(".")[0] in PUBLIC_BLUEPRINTS
    )
    assert {e for e in public if not e.startswith("participant.")} == PUBLIC_ENDPOINTS
    # The studio's public views say so themselves, so the list above cannot drift silently.
    for endpoint in PUBLIC_ENDPOINTS - {"static", "studio.static"}:
        assert studio_app.view_functions[endpoint].required_permission == "public"


def test_every_other_route_declares_a_known_permission(studio_app):
    rules = protected_rules(studio_app)
    assert len(rules) >= 25, "the studio's rules are missing from the URL map"
    known = set(PERMISSIONS) | {"login", "admin", "create"}
    undeclared = sorted({e for e, _m, _u, p in rules if p not in known})
    assert undeclared == []


def test_anonymous_requests_to_every_protected_route_go_to_sign_in(studio_app, client_for):
    client = client_for(None)
    for endpoint, method, url, _permission in protected_rules(studio_app):
        response = client.open(url, method=method, data={})
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.headers["Location"].startswith("/studio/login"), endpoint


def _masked(page: bytes) -> bytes:
    """A page with its form tokens blanked: a signed token carries the second it was made."""
    return re.sub(rb'(name="csrf_token"[^>]*value=")[^"]*"', rb'\1"', page)


def test_a_signed_in_account_without_a_role_learns_nothing_about_the_study(studio_app, client_for):
    client = client_for("stranger@example.org")
    for endpoint, method, url, permission in protected_rules(studio_app):
        response = client.open(url, method=method, data={})
        if permission == "admin":
            assert response.status_code in (403, 404), (endpoint, method, response.status_code)
        if permission in ("login", "admin", "create"):
            continue
        assert response.status_code == 404, (endpoint, method, response.status_code)
        # Exactly the answer a study that does not exist gets (the path itself aside).
        missing = client.open(url.replace(SLUG, "no-such-study"), method=method, data={})
        assert missing.status_code == 404, endpoint
        assert _masked(response.data.replace(SLUG.encode(), b"no-such-study")) == _masked(
            missing.data
        ), endpoint
    assert client.get(f"/studio/{OTHER}/").status_code == 200


@pytest.mark.parametrize("email", sorted(e for e, role in PEOPLE.items() if role))
def test_every_route_admits_exactly_the_roles_its_permission_names(studio_app, client_for, email):
    role = PEOPLE[email]
    client = client_for(email)
    refused = 0
    refused_for: set[str] = set()
    for endpoint, method, url, permission in protected_rules(studio_app):
        response = client.open(url, method=method, data={})
        if permission == "admin":  # site admins only; none of these accounts is one
            assert response.status_code in (403, 404), (role, endpoint, method)
        elif permission == "create" and email not in CREATORS:  # granted by an admin
            assert response.status_code == 403, (role, endpoint, method)
        elif permission in ("login", "create") or role_allows(role, permission):
            assert response.status_code not in (401, 403, 404), (role, endpoint, method)
        else:
            refused += 1
            refused_for.add(permission)
            assert response.status_code == 403, (role, endpoint, method, response.status_code)
    # The owner may do everything on the study but sign it off (DECISIONS rule 9: that is
    # the reviewer's); every other role is refused more.
    if role == "owner":
        assert refused_for == {"review"}
    else:
        assert refused_for - {"review"}
