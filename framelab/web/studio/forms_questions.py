"""Forms of the question and scale editors (Flask-WTF: every POST carries a CSRF token).

Forms that depend on the study (one field per language, option or item) are built per
request by the ``*_form`` factories, which also return where each field sits in the
study file (``items[3].labels.es`` -> ``labels_es``) so `forms.place_errors` can show
a StudyError next to its field.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, NumberRange, Optional

from framelab.domain.builder.build_questions import ui_phase, ui_role
from framelab.domain.builder.label_presets import PRESETS, matching_preset
from framelab.domain.study import Item, Study
from framelab.domain.values import describe_value
from framelab.web.i18n import language_name
from framelab.web.studio.forms import Places, field_name

TYPE_CHOICES = {
    "likert": "Scale of 5 or 7 points (agree, support, likely …)",
    "binary": "Yes / no",
    "choice": "One choice among options",
    "slider": "Slider from 0 to 100",
    "text": "Short written answer",
}
PHASE_CHOICES = {
    "pre": "Before the message",
    "post": "After the message",
    "both": "Both before and after (shows the change)",
}
ROLE_CHOICES = {
    "outcome": "Outcome: the attitude the frames should move",
    "intent": "Intended action: sign, join, donate …",
    "covariate": "Background: who the participant is (age, region …), asked before",
    "value_item": "Value-scale item: how much someone holds a value (give the value below)",
    "attention_check": "Attention check: one answer is correct (give it below)",
    "manipulation_check": "Manipulation check: did they notice what the message appealed to?",
}
DESIRED_CHOICES = {
    "increase": "Higher answers are better for the campaign",
    "decrease": "Lower answers are better for the campaign",
}
PRESET_HELP = "Sources of the ready-made labels"


def _lang_label(text: str, lang: str) -> str:
    return f"{text} – {language_name(lang)} ({lang})"


def _int_or_none(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


def make_form(fields: dict[str, Field], name: str) -> type[FlaskForm]:
    return type(name, (FlaskForm,), dict(fields))


def preset_choices(spec: Study) -> dict[str, str]:
    """Presets in the order offered, marked when they lack one of the study's languages."""
    out = {}
    for key, preset in PRESETS.items():
        missing = [lang for lang in spec.languages if not preset.covers([lang])]
        note = f" (no wording in {', '.join(missing)})" if missing else ""
        out[key] = f"{preset.name}{note}"
    return out


def _describe(tag: str, custom: list[str]) -> str:
    value = describe_value(tag, custom)
    return f"{value.label}: {value.description}"


def value_choices(spec: Study) -> dict[str, str]:
    return {
        "": "(none)",
        **{t: _describe(t, spec.custom_values) for t in spec.known_values()},
    }


def localized_fields(
    spec: Study,
    prefix: str,
    label: str,
    loc: str,
    current: Any,
    *,
    area: bool,
    required: bool,
    rows: int | None = None,
) -> tuple[dict[str, Field], Places]:
    fields: dict[str, Field] = {}
    places: Places = {}
    for lang in spec.languages:
        name = field_name(prefix, lang)
        value = current.get(lang, None) if current is not None else ""
        if isinstance(value, list):
            value = "\n".join(value)
        kind = TextAreaField if area else StringField
        fields[name] = kind(
            _lang_label(label, lang),
            default=value or "",
            validators=[InputRequired()] if required else [Optional()],
            render_kw={"rows": rows} if rows else None,
        )
        places[f"{loc}.{lang}"] = name
        if lang == spec.default_language:
            places[loc] = name
    return fields, places


# ------------------------------------------------------------------ edit a question


def _answer_choices(spec: Study, item: Item) -> dict[str, str]:
    labels = item.value_labels(spec.default_language, spec.default_language)
    return {
        "": "(not an attention check)",
        **{
            str(v): f"{v}: {labels[v]}" if v in labels else str(v)
            for v in item.allowed_values() or []
        },
    }


def edit_question_form(spec: Study, item: Item, index: int) -> tuple[type[FlaskForm], Places]:
    """One question: wording, short name, answers for its type, phase, role and flags."""
    loc = f"items[{index}]"
    texts, places = localized_fields(
        spec, "text", "Question", f"{loc}.text", item.text, area=True, required=True
    )
    fields: dict[str, Field] = dict(texts)
    short, p = localized_fields(
        spec,
        "label",
        "Short name in reports (optional)",
        f"{loc}.label",
        item.label,
        area=False,
        required=False,
    )
    fields.update(short)
    places.update(p)
    fields.update(
        {
            "phase": RadioField("When it is asked", choices=PHASE_CHOICES, default=ui_phase(item)),
            "role": RadioField("What it is for", choices=ROLE_CHOICES, default=ui_role(item)),
            "value": SelectField(
                "Value it measures", choices=value_choices(spec), default=item.value or ""
            ),
            "desired": SelectField(
                "Which way is success (outcomes and actions)",
                choices=DESIRED_CHOICES,
                default=item.desired or "increase",
            ),
            "correct": SelectField(
                "Correct answer (attention checks only)",
                choices=_answer_choices(spec, item),
                default="" if item.correct is None else str(item.correct),
                coerce=_int_or_none,
                validate_choice=False,
            ),
            "required": BooleanField("An answer is required", default=item.required),
            "item_id": StringField(
                "Short name in the data",
                default=item.id,
                description="Lower-case letters, digits and _; the column name in downloads. "
                "The design, scales and analysis plan follow a new name.",
                validators=[InputRequired()],
            ),
            "save": SubmitField("Save the question"),
        }
    )
    for name in ("phase", "role", "value", "desired", "correct"):
        places[f"{loc}.{name}"] = name
    places[f"{loc}.required"] = "required"
    places[f"{loc}.id"] = "item_id"
    builder = {
        "likert": _likert_fields,
        "slider": _slider_fields,
        "binary": _binary_fields,
        "choice": _choice_fields,
        "text": _text_fields,
    }[item.type]
    more, more_places = builder(spec, item, loc)
    fields.update(more)
    places.update(more_places)
    return make_form(fields, "EditQuestionForm"), places


def _likert_fields(spec: Study, item: Item, loc: str) -> tuple[dict[str, Field], Places]:
    current = matching_preset(item, spec.languages, spec.default_language)
    default = current or ("none" if item.labels is None else "")
    fields: dict[str, Field] = {
        "points": SelectField(
            "Number of points", choices={"5": "5", "7": "7"}, default=str(item.points), coerce=int
        ),
        "preset": SelectField(
            "Answer labels",
            choices={
                "": "The labels typed below",
                "none": "Numbers only (no labels)",
                **preset_choices(spec),
            },
            default=default,
        ),
    }
    labels, places = localized_fields(
        spec,
        "labels",
        "Labels, one per line, lowest first",
        f"{loc}.labels",
        item.labels,
        area=True,
        required=False,
        rows=(item.points or 5) + 1,
    )
    fields.update(labels)
    places[f"{loc}.points"] = "points"
    return fields, places


def _slider_fields(spec: Study, item: Item, loc: str) -> tuple[dict[str, Field], Places]:
    low, p1 = localized_fields(
        spec,
        "min_label",
        "Label at 0 (optional)",
        f"{loc}.min_label",
        item.min_label,
        area=False,
        required=False,
    )
    high, p2 = localized_fields(
        spec,
        "max_label",
        "Label at 100 (optional)",
        f"{loc}.max_label",
        item.max_label,
        area=False,
        required=False,
    )
    return {**low, **high}, {**p1, **p2}


def _binary_fields(spec: Study, item: Item, loc: str) -> tuple[dict[str, Field], Places]:
    yes, p1 = localized_fields(
        spec,
        "yes_label",
        "Words for yes (optional)",
        f"{loc}.yes_label",
        item.yes_label,
        area=False,
        required=False,
    )
    no, p2 = localized_fields(
        spec,
        "no_label",
        "Words for no (optional)",
        f"{loc}.no_label",
        item.no_label,
        area=False,
        required=False,
    )
    return {**yes, **no}, {**p1, **p2}


def option_field(value: int, lang: str) -> str:
    """The field name of one option's label (negative codes are written m1, m2 …)."""
    code = f"{value}" if value >= 0 else f"m{-value}"
    return field_name(f"opt{code}", lang)


def remove_field(value: int) -> str:
    return f"remove_{value}" if value >= 0 else f"remove_m{-value}"


def tag_field(value: int) -> str:
    """The field name of one manipulation-check option's value tag."""
    return f"tag_{value}" if value >= 0 else f"tag_m{-value}"


def _choice_fields(spec: Study, item: Item, loc: str) -> tuple[dict[str, Field], Places]:
    fields: dict[str, Field] = {}
    places: Places = {f"{loc}.options": field_name("new_option", spec.default_language)}
    for j, option in enumerate(item.options or []):
        for lang in spec.languages:
            name = option_field(option.value, lang)
            fields[name] = StringField(
                _lang_label(f"Option {option.value}", lang),
                default=option.label.get(lang, None),
                validators=[InputRequired()],
            )
            places[f"{loc}.options[{j}].label.{lang}"] = name
            if lang == spec.default_language:
                places[f"{loc}.options[{j}].label"] = name
        fields[remove_field(option.value)] = BooleanField(f"Remove option {option.value}")
        if item.role == "manipulation_check":
            # what choosing this option means: a frame appealing to that value was perceived
            fields[tag_field(option.value)] = SelectField(
                f"Option {option.value} names the value",
                choices=value_choices(spec),
                default=option.value_tag or "",
            )
            places[f"{loc}.options[{j}].value_tag"] = tag_field(option.value)
    new, _ = localized_fields(
        spec, "new_option", "New option (optional)", f"{loc}.new", None, area=False, required=False
    )
    fields.update(new)
    fields["drop_references"] = BooleanField(
        "Also remove removed options from the design's blocking groups"
    )
    return fields, places


def _text_fields(spec: Study, item: Item, loc: str) -> tuple[dict[str, Field], Places]:
    field = IntegerField(
        "Longest answer (characters; empty: 2000)",
        default=item.max_length,
        validators=[Optional(), NumberRange(1, 100_000)],
    )
    return {"max_length": field}, {f"{loc}.max_length": "max_length"}


def type_form(spec: Study, item: Item) -> type[FlaskForm]:
    """Change the question's type (answers are carried over where they fit)."""
    fields: dict[str, Field] = {
        "new_type": SelectField("New kind of answer", choices=TYPE_CHOICES, default=item.type),
        "type_preset": SelectField(
            "Labels, when it becomes a scale of 5 or 7 points",
            choices={"": "Keep or carry over the answers", **preset_choices(spec)},
            default="",
        ),
        "change": SubmitField("Change the kind of answer"),
    }
    return make_form(fields, "TypeForm")


class MoveForm(FlaskForm):
    """Up/down buttons: the button pressed sends direction; phase names the list."""

    direction = StringField(validators=[InputRequired(), AnyOf(["up", "down"])])
    phase = StringField(validators=[Optional(), AnyOf(["pre", "post"])])


class RemoveForm(FlaskForm):
    drop_references = BooleanField("Also remove these uses")
    confirm = SubmitField("Remove")
