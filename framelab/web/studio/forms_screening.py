"""The screener editor's form (Flask-WTF): the questions asked, and up to four conditions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, StringField, SubmitField

from framelab.domain.builder.build_screening import FlatRule, screener_candidates
from framelab.domain.study import Study
from framelab.web.studio.forms import MultiCheckboxField, Places
from framelab.web.studio.forms_questions import make_form

ROWS = 4
OPERATORS = {"in": "is one of", "not_in": "is none of"}


def screener_form(spec: Study, rows: FlatRule | None) -> tuple[type[FlaskForm], Places]:
    """The screener's questions ticked, how conditions combine, and each condition's row."""
    candidates = screener_candidates(spec)
    lang = spec.default_language

    def describe(item_id: str) -> str:
        item = spec.item(item_id)
        return f"{item.id}: {spec.text(item.text, lang)}"

    fields: dict[str, Field] = {
        "items": MultiCheckboxField(
            "Questions asked on the screener page (right after the consent)",
            choices={i.id: describe(i.id) for i in candidates},
            default=list(spec.screener.items) if spec.screener else [],
        ),
        "combine": RadioField(
            "Screen a participant out when",
            choices={"any": "any condition below holds", "all": "every condition holds"},
            default=rows.combine if rows else "any",
        ),
    }
    places: Places = {"screener.items": "items", "screener.screen_out": "combine"}
    shown = list(rows.conditions) if rows else []
    for n in range(ROWS):
        item, op, values = shown[n] if n < len(shown) else ("", "in", ())
        fields[f"item_{n}"] = SelectField(
            f"Condition {n + 1}: question",
            choices={"": "(no condition)", **{i.id: i.id for i in candidates}},
            default=item,
        )
        fields[f"op_{n}"] = SelectField(
            f"Condition {n + 1}: the answer", choices=dict(OPERATORS), default=op
        )
        fields[f"values_{n}"] = StringField(
            f"Condition {n + 1}: answer values",
            description="The stored values, separated by commas (for example 1, 2).",
            default=", ".join(str(v) for v in values),
        )
    fields["submit"] = SubmitField("Save the screener")
    return make_form(fields, "ScreenerForm"), places


def conditions_of(form: FlaskForm) -> tuple[list[tuple[str, str, tuple[int, ...]]], dict]:
    """The filled rows as conditions, and the rows whose values are not whole numbers."""
    conditions = []
    errors: dict[str, list[str]] = {}
    for n in range(ROWS):
        item = form[f"item_{n}"].data or ""
        if not item:
            continue
        text = form[f"values_{n}"].data or ""
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts or not all(p.lstrip("-").isdigit() and len(p) <= 9 for p in parts):
            errors[f"values_{n}"] = ["Give whole numbers separated by commas, for example 1, 2."]
            continue
        conditions.append((item, form[f"op_{n}"].data, tuple(int(p) for p in parts)))
    return conditions, errors
