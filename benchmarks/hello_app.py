"""The ceiling: a bare Flask app with the same URLs and number of pages, and no database.

Each page is a few hundred bytes with one form; the step lives in the signed session cookie.
Whatever framelab or the reference app reach, Flask under the same gunicorn command on this
machine cannot do better than this, so ratios against it show how much of the budget the
framework itself uses.
"""

from __future__ import annotations

import os
import secrets

from flask import Flask, abort, redirect, request, session, url_for
from markupsafe import escape

STEPS = ("consent", "pre", "message", "post", "intent", "debrief")


def create_app() -> Flask:
    app = Flask(__name__)
    app.secret_key = os.environ.get("FRAMELAB_SECRET_KEY") or secrets.token_hex(16)

    @app.get("/")
    def index() -> str:
        return "hello"

    @app.get("/s/<study>")
    def start(study: str):
        code = secrets.token_urlsafe(18)
        session.update(code=code, step=STEPS[0])
        return redirect(url_for("page", study=study, code=code), 303)

    @app.route("/s/<study>/p/<code>", methods=["GET", "POST"])
    def page(study: str, code: str):
        if session.get("code") != code:
            abort(404)
        step = session["step"]
        if request.method == "POST":
            if request.form.get("step") == step and step != STEPS[-1]:
                session["step"] = STEPS[STEPS.index(step) + 1]
            return redirect(url_for("page", study=study, code=code), 303)
        if step == STEPS[-1]:
            return f'<!doctype html><body data-step="{step}"><p>Thank you.</p></body>'
        field = "" if step == "message" else '<input type="radio" name="q" value="1" required>'
        return (
            f'<!doctype html><body data-step="{step}"><form method="post" action="{escape(request.path)}">'
            f'<input type="hidden" name="step" value="{step}">{field}'
            "<button>Continue</button></form></body>"
        )

    return app
