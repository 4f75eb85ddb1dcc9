"""The reference: a minimal Flask + SQLAlchemy app serving the same pages as framelab's flow.

What a competent developer would write by hand for one study: pages built from the study
file once at start-up, a signed-cookie session holding the participant's id and step, a
session CSRF token checked on every post, one INSERT per answer page (answers as one JSON
row) and nothing else — no validation beyond the form's own choices, no blocked
randomization, no page timing, no flags. framelab's flow throughput is measured against
this app (target: at least 0.9x), served by the same gunicorn command on the same database.

URLs follow framelab's: GET /s/<slug> starts a participant and redirects to the resume link
/s/<slug>/p/<code>, which shows (GET) and accepts (POST) the current step's form.

Run: FRAMELAB_DATABASE_URL=sqlite:///ref.sqlite gunicorn 'benchmarks.reference_app:create_app()'
(create the tables first with `create_schema(url)`; the benchmark does).
"""

from __future__ import annotations

import json
import os
import random
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from flask import Flask, abort, redirect, request, session, url_for
from markupsafe import Markup

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STUDY = ROOT / "examples" / "torture-ban.yaml"

metadata = sa.MetaData()
participants = sa.Table(
    "ref_participant",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(40), nullable=False, unique=True),
    sa.Column("arm", sa.String(64), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
)
answers = sa.Table(
    "ref_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("participant_id", sa.Integer, sa.ForeignKey("ref_participant.id"), nullable=False),
    sa.Column("step", sa.String(20), nullable=False),
    sa.Column("answers", sa.Text, nullable=False),
    sa.Column("answered_at", sa.DateTime, nullable=False),
)


def make_engine(url: str) -> sa.Engine:
    """The same connection settings a careful hand-written app would use (WAL on SQLite)."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)


def create_schema(url: str) -> None:
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def _text(value: Any, lang: str = "en") -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def _phases(item: dict) -> list[str]:
    phase = item.get("phase", "pre")
    return list(phase) if isinstance(phase, list) else [phase]


def _choices(item: dict) -> list[tuple[str, str]]:
    kind = item.get("type")
    if kind == "likert":
        points = int(item.get("points", 5))
        return [(str(v), str(v)) for v in range(1, points + 1)]
    if kind == "binary":
        return [("1", "Yes"), ("0", "No")]
    if kind == "choice":
        return [(str(o["value"]), _text(o.get("label"))) for o in item.get("options", [])]
    return []


def build_steps(spec: dict) -> list[tuple[str, list[dict]]]:
    """The page sequence and each page's items, as framelab's flow orders them."""
    items = spec.get("items", [])
    pre = [i for i in items if "pre" in _phases(i)]
    post = [i for i in items if "post" in _phases(i) and i.get("role") != "intent"]
    intent = [i for i in items if "post" in _phases(i) and i.get("role") == "intent"]
    steps: list[tuple[str, list[dict]]] = [("consent", [])]
    if pre:
        steps.append(("pre", pre))
    steps.append(("message", []))
    steps.append(("post", post))
    if intent:
        steps.append(("intent", intent))
    steps.append(("debrief", []))
    return steps


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title>
</head><body data-step="{{ step }}"><main><h1>{{ title }}</h1>
<p>Step {{ index }} of {{ total }}</p><progress max="{{ total }}" value="{{ index }}"></progress>
{% if step == 'debrief' %}<p>{{ debrief }}</p>{% else %}
<form method="post" action="{{ action }}">
<input type="hidden" name="csrf_token" value="{{ csrf }}"><input type="hidden" name="step" value="{{ step }}">
{% if step == 'consent' %}<p>{{ consent }}</p>
<fieldset><legend>Do you agree?</legend>
<label><input type="radio" name="consent" value="yes" required> Yes</label>
<label><input type="radio" name="consent" value="no"> No</label></fieldset>
{% elif step == 'message' %}<h2>{{ frame_title }}</h2><div>{{ frame_body }}</div>
{% else %}{% for item in items %}
{% if item.choices %}<fieldset><legend>{{ item.text }}</legend>{% for value, label in item.choices %}
<label><input type="radio" name="{{ item.id }}" value="{{ value }}"{% if item.required %} required{% endif %}> {{ label }}</label>
{% endfor %}</fieldset>
{% elif item.type == 'slider' %}<label>{{ item.text }}
<input type="range" name="{{ item.id }}" min="0" max="100" value="50"></label>
{% else %}<label>{{ item.text }}<textarea name="{{ item.id }}" maxlength="2000"></textarea></label>{% endif %}
{% endfor %}{% endif %}
<button type="submit">Continue</button></form>{% endif %}</main></body></html>"""


def create_app(study_path: str | None = None, database_url: str | None = None) -> Flask:
    """The reference app for one study file (FRAMELAB_BENCH_STUDY, default the example study)."""
    path = Path(study_path or os.environ.get("FRAMELAB_BENCH_STUDY") or DEFAULT_STUDY)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    url = database_url or os.environ["FRAMELAB_DATABASE_URL"]
    engine = make_engine(url)
    steps = build_steps(spec)
    order = [name for name, _ in steps]
    pages = {
        name: [
            {
                "id": i["id"],
                "type": i.get("type"),
                "text": _text(i.get("text")),
                "choices": _choices(i),
                "required": i.get("required", True),
            }
            for i in page_items
        ]
        for name, page_items in steps
    }
    arms = {a["id"]: a.get("frame") or {} for a in spec.get("arms", [])}
    slug = spec["slug"]

    app = Flask(__name__)
    app.secret_key = os.environ.get("FRAMELAB_SECRET_KEY") or secrets.token_hex(16)
    template = app.jinja_env.from_string(PAGE)

    @app.get("/")
    def index() -> str:
        return "reference app"

    @app.get("/s/<study>")
    def start(study: str):
        if study != slug:
            abort(404)
        code = secrets.token_urlsafe(18)
        arm = random.choice(list(arms))
        with engine.begin() as conn:
            pid = conn.execute(
                participants.insert().values(code=code, arm=arm, started_at=datetime.now(UTC))
            ).inserted_primary_key[0]
        session.update(pid=pid, code=code, arm=arm, step="consent", csrf=secrets.token_hex(16))
        return redirect(url_for("page", study=study, code=code), 303)

    @app.route("/s/<study>/p/<code>", methods=["GET", "POST"])
    def page(study: str, code: str):
        if study != slug or session.get("code") != code:
            abort(404)
        step = session["step"]
        if request.method == "POST":
            form = request.form
            if form.get("csrf_token") != session["csrf"]:
                abort(400)
            if form.get("step") == step and step != "debrief":
                if step in ("pre", "post", "intent"):
                    given = {i["id"]: form.get(i["id"], "") for i in pages[step]}
                    with engine.begin() as conn:
                        conn.execute(
                            answers.insert().values(
                                participant_id=session["pid"],
                                step=step,
                                answers=json.dumps(given),
                                answered_at=datetime.now(UTC),
                            )
                        )
                session["step"] = order[order.index(step) + 1]
            return redirect(url_for("page", study=study, code=code), 303)
        frame = arms.get(session["arm"], {})
        return template.render(
            title=_text(spec.get("title")),
            step=step,
            index=order.index(step) + 1,
            total=len(order),
            action=request.path,
            csrf=session["csrf"],
            items=pages[step],
            consent=_text(spec.get("consent")),
            debrief=_text(spec.get("debrief")),
            frame_title=_text(frame.get("title")),
            frame_body=Markup.escape(_text(frame.get("body"))),
        )

    return app
