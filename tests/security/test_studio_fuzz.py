"""Studio fuzz (issue 16): every route x every form field x hostile values x every role.

The routes are the app's URL map: every rule of the `studio` blueprint and the
participant blueprint's POST forms. A route's fields are collected from the forms
its pages render (a form posting to a POST-only rule is found on the page that
shows it) plus the request fields its view reads by name. The hostile values are
named (HOSTILE); each route meets a third of them (each value a third of the routes;
SQLite and PostgreSQL take different thirds; FRAMELAB_FUZZ_FULL=1 sends all) in every
field, by an account that may edit (the owner; the site admin for the admin pages),
every role then visits every
route with one hostile value in every field, every route gets hostile Host headers,
and a few requests go through with CSRF checking on. One app per backend (SQLite,
and PostgreSQL when FRAMELAB_TEST_DATABASE_URL is set), on a database filled once.

Nothing may answer 500 or more; `pytest -s` prints the requests sent per route.
"""

from __future__ import annotations

import inspect
import io
import os
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import EnvironBuilder, FlaskClient

from framelab.services import accounts
from tests.conftest import PG_ENV, drop_postgres_schema, make_postgres_schema_url
from tests.factories import make_study, publish, session_factory_for
from tests.members import give_role
from tests.studio.conftest import (
    NOW,
    PASSWORD,
    RULE_VALUES,
    SLUG,
    build_app,
    copy_database,
    fill_database,
    sign_in,
)
from tests.web.reach import channel_code, invitation_links

# A spooled upload (> 500 KB) that a refused request parsed is closed by the garbage
# collector, not explicitly; CPython closes it at once (refcount), so only the warning
# is silenced here. Known and noted (issue 16 closing note).
pytestmark = pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")

PER_FIELD = int(os.environ.get("FRAMELAB_FUZZ_PER_FIELD", "1"))
# Each route meets a third of the hostile values (every value meets a third of the routes;
# the two backends take different thirds), which keeps the sweep within the suite's time.
# FRAMELAB_FUZZ_FULL=1 sends every value to every route (with PER_FIELD=23: the full cross).
SHARES = 1 if os.environ.get("FRAMELAB_FUZZ_FULL") == "1" else 3
LIVE = "live-study"  # a live study for the participant forms
TARGET = "target@example.org"  # the account the admin's per-account actions point at
EXTRA_ROLES = {"translator@example.org": "translator", "reviewer@example.org": "reviewer"}
# Every kind of visitor: anonymous, no role, each study role, the site admin.
ROLES = {
    "anonymous": None,
    "no role": "stranger@example.org",
    "viewer": "viewer@example.org",
    "translator": "translator@example.org",
    "reviewer": "reviewer@example.org",
    "editor": "editor@example.org",
    "analyst": "analyst@example.org",
    "owner": "owner@example.org",
    "admin": "admin@example.org",
}


def _nested_yaml(depth: int) -> str:
    return "".join(f"{'  ' * n}a:\n" for n in range(depth)) + "  " * depth + "x"


# name -> the value sent (bytes: sent as they are, so invalid UTF-8 reaches the server)
HOSTILE: dict[str, str | bytes] = {
    "oversized 1 MB": "x" * (1 << 20),
    "empty": "",
    "NUL": "a\x00b",
    "lone surrogate": b"a\xed\xa0\x80b",  # U+D800 as UTF-8 bytes: not valid UTF-8
    "invalid UTF-8": b"\xff\xfe\xc3",
    "noncharacter": "a\ufffeb\uffff",
    "control chars": "\x01\x1b[31m\x7f",
    "nan": "nan",
    "inf": "inf",
    "-inf": "-Infinity",
    "sNaN": "sNaN",
    "1e999": "1e999",
    "2**70": str(2**70),
    "-2**70": str(-(2**70)),
    "nested [[[...]]]": "[" * 5000 + "]" * 5000,
    "nested {{...}}": '{"a":' * 3000 + "1" + "}" * 3000,
    "deep YAML": _nested_yaml(600),
    "YAML alias fan": "a: &a ["
    + ",".join(["x"] * 50)
    + "]\n"
    + "".join(
        f"b{n}: &b{n} [{','.join(['*a' if n == 0 else f'*b{n - 1}'] * 50)}]\n" for n in range(6)
    ),
    "<script>": '"><script>alert(1)</script>',
    "formula =1+1": "=1+1",
    "formula @SUM": "@SUM(1+1)*cmd|' /C calc'!A0",
    "$x$ mathtext": "$x$ and $\\frac{a}{b}$ and $5 or $10",
    "unicode RTL": "\u202egnp.exe\u200b\U0001f600",
}
HOSTS = {
    "label > 63 chars": "a" * 64 + ".example.org",
    "empty": "",
    "NUL": "exa\x00mple.org",
    "port junk": "example.org:99999999999",
    "many labels": ".".join(["a"] * 200),
}
# Rules not fuzzed: static files; sign-out (would end the session the sweep uses) is
# sent once, last, by each role in the role sweep.
SKIPPED = {"static", "studio.static"}
LAST = {"studio.logout"}
VALUES = {**RULE_VALUES, "filename": "framelab.css"}
_READS = re.compile(
    r"request\.(?:form|args|values|files)(?:\.get(?:list)?\(|\[)\s*[\"'](\w+)[\"']"
    r"|\bform\.(\w+)\.data\b"
)


class FormParser(HTMLParser):
    """The forms of a page: action, method, and each field's kind and first offered value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            method = a.get("method", "get").upper()
            self.forms.append({"action": a.get("action", ""), "method": method, "fields": {}})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag in ("input", "textarea", "select", "button") and name:
            kind = a.get("type", tag).lower() if tag == "input" else tag
            field = fields.setdefault(name, {"kind": kind, "value": None})
            if field["value"] is None and a.get("value") and kind not in ("checkbox", "radio"):
                field["value"] = a["value"]
            if tag == "select":
                self._select = name
        elif tag == "option" and self._select:
            field = fields[self._select]
            if field["value"] is None:
                field["value"] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


class Target:
    """One (method, url) to fuzz: its endpoint, fields and baseline form."""

    def __init__(self, endpoint: str, method: str, url: str) -> None:
        self.endpoint, self.method, self.url = endpoint, method, url
        self.fields: dict[str, dict[str, Any]] = {}

    def baseline(self) -> dict[str, str]:
        """What a browser would send unchanged (participant pages: hidden fields only)."""
        participant = self.endpoint.startswith("participant.")
        return {
            name: f["value"]
            for name, f in self.fields.items()
            if f["value"] is not None
            and f["kind"] != "file"
            and name != "csrf_token"
            and (f["kind"] == "hidden" or not participant)
        }


def _view_reads(app: Flask, endpoint: str) -> set[str]:
    view = inspect.unwrap(app.view_functions[endpoint])
    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return set()
    return {a or b for a, b in _READS.findall(source)}


def discover(app: Flask, clients: dict[str, FlaskClient], code: str) -> list[Target]:
    """Every studio rule and participant POST rule, with every field its pages show or it reads."""
    values = {**VALUES, "code": code}
    # The live study's own channel link and invitation, so their pages show their forms.
    reach = {
        "participant.channel": {"code": channel_code(app, name="Fuzz", slug=LIVE)},
        "participant.invited": {
            "token": invitation_links(app, "fuzz-1", slug=LIVE)["fuzz-1"].rpartition("/")[2]
        },
    }
    reach["participant.channel_consent"] = reach["participant.channel"]
    reach["participant.invitation_consent"] = reach["participant.invited"]
    targets: dict[tuple[str, str], Target] = {}
    pages: list[tuple[str, str]] = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            blueprint = rule.endpoint.rpartition(".")[0]
            if rule.endpoint in SKIPPED or blueprint not in ("studio", "participant"):
                continue
            args = {k: values[k] for k in rule.arguments}
            if blueprint == "participant" and "slug" in rule.arguments:
                args["slug"] = LIVE
            args.update(reach.get(rule.endpoint, {}))
            url = rule.build(args)[1]
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            if blueprint == "participant":
                methods = [m for m in methods if m == "POST"]
                if "GET" in rule.methods:
                    pages.append((rule.endpoint, url))
            elif "GET" in rule.methods:
                pages.append((rule.endpoint, url))
            for method in methods:
                target = Target(rule.endpoint, method, url)
                for name in _view_reads(app, rule.endpoint):
                    target.fields.setdefault(name, {"kind": "text", "value": None})
                targets[(method, url)] = target
    # The participant's pages are at /p, for the participant their cookie names.
    clients["anonymous"].set_cookie("p", code, path="/p")
    for endpoint, url in pages:
        who = "admin" if endpoint == "studio.manage_accounts" else "owner"
        client = clients["anonymous"] if endpoint.startswith("participant.") else clients[who]
        page = client.get(url)
        if page.status_code != 200 or page.mimetype != "text/html":
            continue
        parser = FormParser()
        parser.feed(page.get_data(as_text=True))
        for form in parser.forms:
            action = (form["action"] or url).split("?")[0].split("#")[0]
            key = (form["method"], action)
            if key not in targets:
                continue  # a form of another page's rule value (another arm, language...)
            for name, field in form["fields"].items():
                known = targets[key].fields.get(name)
                if known is None or known["value"] is None:
                    targets[key].fields[name] = field
    # The participant addresses of earlier releases take the forms /p and /p/withdraw show.
    by_endpoint = {t.endpoint: t for t in targets.values()}
    for old, new in (("old_submit", "submit"), ("old_withdraw", "do_withdraw")):
        earlier, now = by_endpoint.get(f"participant.{old}"), by_endpoint.get(f"participant.{new}")
        if earlier is not None and now is not None:
            for name, field in now.fields.items():
                earlier.fields.setdefault(name, field)
    for target in targets.values():
        target.fields.pop("csrf_token", None)
    order = sorted(targets.values(), key=lambda t: (t.endpoint in LAST, t.endpoint, t.method))
    return order


def _encode(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def send(client: FlaskClient, target: Target, form: dict[str, str | bytes], **kw: Any):
    """The request, its form urlencoded by hand (bytes kept as they are) or multipart for files."""
    files = {n for n, f in target.fields.items() if f["kind"] == "file"}
    if target.method == "GET":
        query = "&".join(
            f"{quote_from_bytes(_encode(k))}={quote_from_bytes(_encode(v))}"
            for k, v in form.items()
        )
        return client.get(target.url, query_string=query, **kw)
    if files & set(form):
        data: dict[str, Any] = {}
        for name, value in form.items():
            if name in files:
                data[name] = (io.BytesIO(_encode(value)), "upload.yaml")
            elif isinstance(value, str):
                data[name] = value
            else:
                data[name] = value.decode("utf-8", "replace")
        # Werkzeug spools a large multipart body to a temporary file that only the
        # builder's close() closes (client.post would leave it open).
        builder = EnvironBuilder(
            client.application, path=target.url, method="POST", data=data,
            content_type="multipart/form-data", **kw,
        )  # fmt: skip
        try:
            return client.open(builder)
        finally:
            builder.close()
    body = "&".join(
        f"{quote_from_bytes(_encode(k))}={quote_from_bytes(_encode(v))}" for k, v in form.items()
    )
    return client.post(
        target.url,
        data=body.encode("ascii"),
        content_type="application/x-www-form-urlencoded",
        **kw,
    )


# ---------------------------------------------------------------- one app per backend


def _fill(url: str) -> None:
    default = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        fill_database(url)
        with session_factory_for(url) as factory, factory() as session:
            publish(session, make_study(slug=LIVE), status="live")
            accounts.create_user(session, TARGET, PASSWORD, now=NOW)
            study_id = next(
                s.id
                for s in accounts.studies_for(
                    session, accounts.account_by_email(session, "admin@example.org")
                )
                if s.slug == SLUG
            )
            for email, role in EXTRA_ROLES.items():
                accounts.create_user(session, email, PASSWORD, now=NOW)
                give_role(session, study_id, email, role, now=NOW)
    finally:
        accounts._hasher = default


class Run:
    """The app of one backend, its clients, its targets and what was sent."""

    def __init__(self, backend: str, app: Flask, code: str) -> None:
        self.backend, self.app, self.code = backend, app, code
        self.clients = {role: self.client(role) for role in ROLES}
        self.targets = discover(app, self.clients, code)
        self.counts: Counter[str] = Counter()
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)
        self.failures: list[str] = []
        self.seconds: dict[str, float] = {}

    def client(self, role: str) -> FlaskClient:
        client = self.app.test_client()
        if ROLES[role] is not None:
            sign_in(client, self.app, ROLES[role])
        return client

    def check(self, target: Target, response, what: str) -> None:
        self.counts[target.endpoint] += 1
        self.statuses[target.endpoint][response.status_code] += 1
        if response.status_code >= 500:
            self.failures.append(
                f"{response.status_code} {target.method} {target.url} {what}: "
                f"{response.get_data(as_text=True)[:300]!r}"
            )

    def report(self) -> str:
        lines = [f"\nstudio fuzz on {self.backend}: requests per route (status counts)"]
        for endpoint in sorted(self.counts):
            codes = " ".join(f"{c}x{n}" for c, n in sorted(self.statuses[endpoint].items()))
            lines.append(f"  {endpoint:34} {self.counts[endpoint]:6}  {codes}")
        lines.append(f"  {'total':34} {sum(self.counts.values()):6}")
        lines += [f"  time {name}: {seconds:.1f} s" for name, seconds in self.seconds.items()]
        return "\n".join(lines)


def _participant_code(app: Flask) -> str:
    client = app.test_client()
    page = client.get(f"/s/{LIVE}").get_data(as_text=True)
    parser = FormParser()
    parser.feed(page)
    form = {n: f["value"] or "yes" for n, f in parser.forms[0]["fields"].items()}
    response = client.post(f"/s/{LIVE}", data=form)
    # The participant's pages are at /p; who they are is in the participant cookie.
    found = client.get_cookie("p", path="/p")
    assert found, (response.status_code, response.get_data(as_text=True)[:500])
    return found.value


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def run(request, tmp_path_factory) -> Iterator[Run]:
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("fuzz-template") / "studio.sqlite"
        _fill(f"sqlite:///{template}")
        url = copy_database(template, tmp_path_factory.mktemp("fuzz") / "studio.sqlite")
        schema = None
    else:
        if not os.environ.get(PG_ENV):
            pytest.skip(f"PostgreSQL tests need {PG_ENV} (see .ci/run)")
        url, schema = make_postgres_schema_url(os.environ[PG_ENV])
        _fill(url)
    app = build_app(url, RATELIMIT_ENABLED=False)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash answers 500, counted, not raised
    try:
        result = Run(request.param, app, _participant_code(app))
        yield result
        print(result.report())
    finally:
        app.extensions["framelab.engine"].dispose()
        if schema:
            drop_postgres_schema(os.environ[PG_ENV], schema)


def _editor_for(target: Target) -> str:
    if target.endpoint.startswith("participant."):
        return "anonymous"
    if target.endpoint in ("studio.manage_accounts", "studio.account_action"):
        return "admin"
    return "owner"


def _timed(run: Run, name: str):
    class Timer:
        def __enter__(self):
            self.start = time.perf_counter()

        def __exit__(self, *exc):
            run.seconds[name] = time.perf_counter() - self.start

    return Timer()


# ---------------------------------------------------------------- the sweeps


def test_the_fuzz_covers_every_studio_route_and_participant_form(run):
    endpoints = {t.endpoint for t in run.targets}
    with run.app.test_request_context():
        expected = {
            r.endpoint
            for r in run.app.url_map.iter_rules()
            if (r.endpoint.startswith("studio.") and r.endpoint not in SKIPPED)
            or (r.endpoint.startswith("participant.") and "POST" in r.methods)
        }
    assert endpoints == expected
    posts = [t for t in run.targets if t.method == "POST" and t.endpoint not in LAST]
    without_fields = sorted(t.endpoint for t in posts if not t.fields)
    # POST rules whose only input is the URL (and the CSRF token)
    assert set(without_fields) <= {
        "studio.change_status",
        "studio.new_version",
        "studio.lock_plan",
        "studio.use_target",
        "studio.two_factor_off",
        "studio.make_receiving",
        "studio.check_frame",
        "studio.remove_language",
        "studio.remove_arm",
        "studio.remove_question",
        "studio.remove_scale",
        "studio.due_invited_list",  # the invited participants' due list (issue 21)
        # forms of a factorial design / a placebo arm, which the fixture study has not:
        # fuzzed with an unexpected field (and every hostile value) instead
        "studio.set_factor_levels",
        "studio.set_placebo",
    }, without_fields


def _route_share(index: int, backend: str) -> list[str]:
    """The hostile values route number `index` meets on `backend` (all of them when full)."""
    labels = list(HOSTILE)
    start = (index + (backend == "postgresql")) % SHARES
    return labels[start::SHARES]


def test_every_hostile_value_in_every_field_of_every_route(run):
    """Each route x field x hostile value once, by an account that may use the route."""
    run.failures = []
    with _timed(run, "fields x values"):
        for index, target in enumerate(run.targets):
            if target.endpoint in LAST:
                continue
            client = run.clients[_editor_for(target)]
            fields = sorted(target.fields) or ["unexpected"]
            labels = _route_share(index, run.backend)
            # The route's share of the hostile values, every field at least PER_FIELD
            # times (the pairs rotate, so each field meets different values).
            for k in range(max(len(labels), PER_FIELD * len(fields))):
                name, label = fields[k % len(fields)], labels[k % len(labels)]
                form: dict[str, str | bytes] = {**target.baseline(), name: HOSTILE[label]}
                response = send(client, target, form)
                run.check(target, response, f"as {_editor_for(target)}: {name}={label}")
    assert run.failures == [], "\n".join(run.failures)


def test_every_role_on_every_route_with_hostile_values(run):
    """Every role x route, a different hostile value in every field each time; sign-out last."""
    run.failures = []
    labels = list(HOSTILE)
    with _timed(run, "roles x routes"):
        n = 0
        for role in ROLES:
            client = run.client(role)  # fresh: sign-out ends the session at the end
            for target in run.targets:
                label = labels[n % len(labels)]
                n += 1
                form = {name: HOSTILE[label] for name in target.fields} or {"x": HOSTILE[label]}
                response = send(client, target, form)
                run.check(target, response, f"as {role}: every field={label}")
    assert run.failures == [], "\n".join(run.failures)


def test_hostile_host_headers_on_every_route(run):
    run.failures = []
    with _timed(run, "Host headers"):
        for role in ("anonymous", "owner"):
            client = run.client(role)
            for target in run.targets:
                if target.endpoint in LAST:
                    continue
                for label, host in HOSTS.items():
                    response = send(client, target, {}, headers={"Host": host})
                    run.check(target, response, f"as {role}: Host {label}")
    assert run.failures == [], "\n".join(run.failures)


def test_hostile_values_with_csrf_checking_on(run):
    """CSRF on: without a token every POST is refused (400), with one it is fuzzed as above."""
    run.failures = []
    app = build_app(run.app.config["DATABASE_URL"], RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=True)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        client = app.test_client()
        sign_in(client, app, ROLES["owner"])
        token_page = client.get(f"/studio/{SLUG}/texts").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', token_page)
        assert token, "no CSRF token on the texts page"
        posts = [
            t
            for t in run.targets
            if t.method == "POST" and t.endpoint.startswith("studio.") and t.endpoint not in LAST
        ]
        for n, target in enumerate(posts):
            label = list(HOSTILE)[n % len(HOSTILE)]
            form = {name: HOSTILE[label] for name in target.fields}
            refused = send(client, target, form)
            run.check(target, refused, f"CSRF on, no token: {label}")
            # Refused: 400/403 for the token; 413 or 422 when the body's size or code
            # points are refused before the token is read.
            assert refused.status_code in (400, 403, 413, 422), (
                target.endpoint, refused.status_code,
            )  # fmt: skip
            if n % 4 == 0:
                with_token = send(client, target, {**form, "csrf_token": token.group(1)})
                run.check(target, with_token, f"CSRF on, with token: {label}")
    finally:
        app.extensions["framelab.engine"].dispose()
    assert run.failures == [], "\n".join(run.failures)
