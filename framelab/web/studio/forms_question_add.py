"""The add-a-question form of the question editor: one submission makes a complete
question (texts per language, type, phase, role and the type's own parts)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import Optional

from framelab.domain.study import Study
from framelab.web.studio.forms import Places
from framelab.web.studio.forms_questions import (
    DESIRED_CHOICES,
    PHASE_CHOICES,
    ROLE_CHOICES,
    TYPE_CHOICES,
    localized_fields,
    make_form,
    preset_choices,
    value_choices,
)


def add_question_form(spec: Study) -> tuple[type[FlaskForm], Places]:
    """Everything one question needs, in one submission."""
    loc = f"items[{len(spec.items)}]"
    texts, places = localized_fields(
        spec, "text", "Question", f"{loc}.text", None, area=True, required=True
    )
    options, p2 = localized_fields(
        spec,
        "options",
        "Answer options, one per line",
        f"{loc}.options",
        None,
        area=True,
        required=False,
        rows=5,
    )
    fields: dict[str, Field] = {
        **texts,
        "type": RadioField("Kind of answer", choices=TYPE_CHOICES, default="likert"),
        "preset": SelectField(
            "Answer labels (for a scale of 5 or 7 points)",
            choices={"": "Numbers only (no labels)", **preset_choices(spec)},
            default="agree_5",
        ),
        **options,
        "phase": RadioField("When it is asked", choices=PHASE_CHOICES, default="post"),
        "role": RadioField("What it is for", choices=ROLE_CHOICES, default="outcome"),
        "value": SelectField("Value it measures", choices=value_choices(spec), default=""),
        "desired": SelectField("Which way is success", choices=DESIRED_CHOICES, default="increase"),
        "correct": IntegerField(
            "Correct answer (attention checks only)",
            description="The answer's number: 1 to 5 or 7 on a scale, 1 for the first option, "
            "1 for yes and 0 for no.",
            validators=[Optional()],
        ),
        "required": BooleanField("An answer is required", default=True),
        "item_id": StringField(
            "Short name in the data (optional)",
            description="Lower-case letters, digits and _; the column name in downloads. "
            "Made from the question when left empty.",
            validators=[Optional()],
        ),
        "add": SubmitField("Add the question"),
    }
    places.update(p2)
    places.update(
        {
            f"{loc}.id": "item_id",
            f"{loc}.type": "type",
            f"{loc}.phase": "phase",
            f"{loc}.role": "role",
            f"{loc}.value": "value",
            f"{loc}.desired": "desired",
            f"{loc}.correct": "correct",
            f"{loc}.labels": "preset",
            f"{loc}.points": "preset",
        }
    )
    return make_form(fields, "AddQuestionForm"), places
