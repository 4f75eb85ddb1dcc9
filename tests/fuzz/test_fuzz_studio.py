"""Hypothesis fuzzing of every studio endpoint, as every kind of visitor.

The forms are discovered from the studio's own pages (every GET rule, as the
owner), so a new field or form is fuzzed without editing this file; every POST
rule is also hit directly. Values: what the form offers, or odd strings, huge
texts, repeated and extra fields; URL parts: other and unknown studies, odd arm
ids and actions. After every request: no 5xx, and nothing changed when the
visitor may not change anything (viewer, another study's owner, anonymous).
After every batch: every stored study version is still a valid study.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from framelab.domain.study import study_from_data
from tests.fuzz.support import count, form_value, huge_text, odd_text, report, run_settings
from tests.security.conftest import table_rows
from tests.studio.conftest import (
    OTHER,
    PEOPLE,
    RULE_VALUES,
    SLUG,
    build_app,
    copy_database,
    sign_in,
)

VALUES = RULE_VALUES
READ_ONLY = ("viewer@example.org", "stranger@example.org", None)
OWN_STUDY_URLS = ("/studio/new",)  # an account allowed to create studies may start its own
# Pages that change only the visitor's own account row: signing out ends its sessions
# (session version), a wrong password or code counts towards its back-off.
OWN_ACCOUNT_URLS = (
    "/studio/login",
    "/studio/login/code",
    "/studio/logout",
    "/studio/account",
    "/studio/account/two-factor",
    "/studio/account/two-factor/off",
)
VISITORS = [*PEOPLE, None]


class FormParser(HTMLParser):
    """The forms of a page: action, method and each field's offered values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action", ""),
                    "method": a.get("method", "get").upper(),
                    "fields": {},
                }
            )
        elif not self.forms:
            return
        elif tag in ("input", "textarea", "select", "button") and a.get("name"):
            values = self.forms[-1]["fields"].setdefault(a["name"], [])
            if a.get("value"):
                values.append(a["value"])
            if tag == "select":
                self._select = a["name"]
        elif tag == "option" and self._select:
            self.forms[-1]["fields"][self._select].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def discover(app: Flask) -> list[tuple[str, str, dict[str, list[str]]]]:
    """(method, url, fields) of every form on every studio page, and every POST rule."""
    owner = app.test_client()
    sign_in(owner, app, "owner@example.org")
    targets: dict[tuple[str, str], dict[str, list[str]]] = {}
    with app.test_request_context():
        rules = [
            (rule, rule.build({k: VALUES[k] for k in rule.arguments})[1])
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("studio.") and rule.endpoint != "studio.static"
        ]
    for rule, url in rules:
        if "POST" in rule.methods:
            targets.setdefault(("POST", url), {})
        if "GET" not in rule.methods:
            continue
        page = owner.get(url)
        if page.status_code != 200 or page.mimetype != "text/html":
            continue
        parser = FormParser()
        parser.feed(page.get_data(as_text=True))
        for form in parser.forms:
            action = form["action"] or url
            fields = targets.setdefault((form["method"], action), {})
            for name, values in form["fields"].items():
                fields.setdefault(name, []).extend(values)
    return [(method, url, fields) for (method, url), fields in sorted(targets.items())]


@pytest.fixture
def studio(tmp_path, studio_template) -> Iterator[tuple[Flask, list, dict]]:
    app = build_app(
        copy_database(studio_template, tmp_path / "fuzz-studio.sqlite"), RATELIMIT_ENABLED=False
    )
    clients = {}
    for email in VISITORS:
        client = app.test_client()
        if email:
            sign_in(client, app, email)
        clients[email] = client
    yield app, discover(app), clients
    app.extensions["framelab.engine"].dispose()


def _swap(url: str, draw) -> str:
    """Sometimes point the URL at another, an unknown or an odd study or arm."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return url.replace(f"/{SLUG}/", f"/{OTHER}/")
    if choice == 1:
        return url.replace(f"/{SLUG}/", f"/{quote(draw(odd_text), safe='') or 'x'}/")
    if choice == 2:
        return url.replace("/care", f"/{quote(draw(odd_text), safe='') or 'x'}")
    return url


def studio_requests(targets):
    @st.composite
    def build(draw) -> dict[str, Any]:
        method, url, fields = draw(st.sampled_from(targets))
        form: dict[str, Any] = {}
        for name, values in fields.items():
            if name != "csrf_token" and draw(st.integers(0, 3)):
                form[name] = draw(form_value(values))
        if fields and draw(st.integers(0, 9)) == 0:
            form[draw(st.sampled_from(sorted(fields)))] = draw(huge_text)
        form.update(draw(st.dictionaries(st.text(min_size=1, max_size=10), odd_text, max_size=2)))
        return {
            "visitor": draw(st.sampled_from(VISITORS)),
            "method": method,
            "url": _swap(url, draw),
            "form": form,
        }

    return build()


def stored_studies_are_valid(app: Flask) -> list[str]:
    engine = app.extensions["framelab.engine"]
    problems = []
    with engine.connect() as conn:
        for version_id, spec_json in conn.exec_driver_sql(
            "SELECT id, spec_json FROM study_version"
        ):
            try:
                study_from_data(json.loads(spec_json))
            except ValueError as error:
                problems.append(f"study_version {version_id}: {error}"[:300])
    return problems


@pytest.mark.slow
def test_fuzzed_studio_requests_never_fail_and_read_only_visitors_change_nothing(studio, capsys):
    app, targets, clients = studio
    assert len(targets) >= 12, "too few studio forms discovered"

    @run_settings(bounded=40, long=500)
    @given(batch=st.lists(studio_requests(targets), min_size=3, max_size=10))
    def batch_of_requests(batch):
        for request in batch:
            before = table_rows(app) if request["visitor"] in READ_ONLY else None
            client = clients[request["visitor"]]
            if request["method"] == "GET":
                response = client.get(request["url"], query_string=request["form"])
            else:
                response = client.post(request["url"], data=request["form"])
            count("studio")
            assert response.status_code < 500, (
                request["method"],
                request["url"],
                response.status_code,
            )
            if before is not None:
                after = table_rows(app)
                where = (request["visitor"], request["url"])
                if request["url"] in OWN_ACCOUNT_URLS:
                    before.pop("account"), after.pop("account")
                # Every existing row stays as it was; only a signed-in account's own new
                # study (a "login" rule such as /studio/new) may add rows.
                for table, rows in before.items():
                    assert set(rows) <= set(after[table]), (*where, table)
                if not (request["visitor"] and request["url"] in OWN_STUDY_URLS):
                    assert after == before, where
        assert stored_studies_are_valid(app) == []

    batch_of_requests()
    report("studio", capsys)
