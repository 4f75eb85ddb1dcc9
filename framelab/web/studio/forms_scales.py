"""The scale editor's form (Flask-WTF): items ticked, reverse-coded items ticked separately."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired

from framelab.domain.builder.build_scales import scale_candidates
from framelab.domain.study import Item, Scale, Study
from framelab.web.studio.forms import MultiCheckboxField, Places
from framelab.web.studio.forms_questions import (
    DESIRED_CHOICES,
    localized_fields,
    make_form,
    value_choices,
)


def scale_form(spec: Study, scale: Scale | None) -> tuple[type[FlaskForm], Places]:
    """A scale: its items ticked, reverse-coded items ticked separately, value, name."""
    index = spec.scales.index(scale) if scale is not None else len(spec.scales)
    loc = f"scales[{index}]"
    candidates = scale_candidates(spec)
    members = list(scale.items) if scale else []

    def describe(item: Item) -> str:
        kind = f"{item.points} points" if item.type == "likert" else "slider"
        when = " and ".join("before" if p == "pre" else "after" for p in item.phase)
        return f"{item.id}: {spec.text(item.text, spec.default_language)} ({kind}, {when})"

    fields: dict[str, Field] = {}
    places: Places = {}
    if scale is None:
        fields["scale_id"] = StringField(
            "Short name of the scale",
            description="Lower-case letters, digits and _; the column name in downloads.",
            validators=[InputRequired()],
        )
        places[f"{loc}.id"] = "scale_id"
    fields["members"] = MultiCheckboxField(
        "Questions averaged into the scale",
        choices={i.id: describe(i) for i in candidates},
        default=[i for i in members if not _reversed(spec, i)],
    )
    fields["reverse"] = MultiCheckboxField(
        "Reverse-coded questions (agreeing means less of the value)",
        choices={i.id: describe(i) for i in candidates if i.type == "likert"},
        default=[i for i in members if _reversed(spec, i)],
    )
    fields["value"] = SelectField(
        "Value the scale measures",
        choices=value_choices(spec),
        default=(scale.value if scale else "") or "",
    )
    places[f"{loc}.items"] = "members"
    places[f"{loc}.value"] = "value"
    short, p = localized_fields(
        spec,
        "label",
        "Short name in reports (optional)",
        f"{loc}.label",
        scale.label if scale else None,
        area=False,
        required=False,
    )
    fields.update(short)
    places.update(p)
    fields["desired"] = SelectField(
        "Which way is success (when the scale is an outcome)",
        choices=DESIRED_CHOICES,
        default=(scale.desired if scale else None) or "increase",
    )
    places[f"{loc}.desired"] = "desired"
    fields["save"] = SubmitField("Save the scale" if scale else "Add the scale")
    return make_form(fields, "ScaleForm"), places


def _reversed(spec: Study, item_id: str) -> bool:
    item = spec.item(item_id)
    return item.type == "likert" and item.reverse
