"""Forms of the frames and design pages: a frame's texts and values, new frames, the
placebo, an arm's settings, allocation, factors and the design in plain words."""

from __future__ import annotations

from collections.abc import Sequence

from flask_wtf import FlaskForm
from wtforms import (
    Field,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from framelab.domain.items import Item
from framelab.domain.names import CONTROL, arm_name
from framelab.domain.study import Study
from framelab.domain.values import describe_value
from framelab.web.studio.forms import (
    MultiCheckboxField,
    Places,
    derived_form,
    field_name,
    localized_text_fields,
)


def frame_form(spec: Study, arm_index: int) -> tuple[type[FlaskForm], Places]:
    """Title and body per language and the value tags of one arm's frame."""
    arm = spec.arms[arm_index]
    loc = f"arms[{arm_index}].frame"
    title, p1 = localized_text_fields(spec, arm.frame, "title", f"{loc}.title", "Title", area=False)
    body, p2 = localized_text_fields(
        spec, arm.frame, "body", f"{loc}.body", "Message (Markdown)", area=True
    )
    fields: dict[str, Field] = {**title, **body}
    choices = {tag: _value_label(tag, spec.custom_values) for tag in spec.known_values()}
    fields["values"] = MultiCheckboxField(
        "Values this frame appeals to",
        choices=choices,
        default=list(arm.frame.values) if arm.frame else [],
    )
    fields["preview"] = SubmitField("Preview")
    fields["save"] = SubmitField("Save frame")
    return derived_form(FlaskForm, fields, "FrameForm"), {**p1, **p2, f"{loc}.values": "values"}


def _value_label(tag: str, custom: Sequence[str]) -> str:
    value = describe_value(tag, custom)
    return f"{value.label}: {value.description}"


# ------------------------------------------------------------ frames page (build_frames)


def _value_choices(spec: Study) -> dict[str, str]:
    return {tag: _value_label(tag, spec.custom_values) for tag in spec.known_values()}


def _factor_fields(spec: Study, current: dict[str, str] | None, loc: str) -> tuple[dict, Places]:
    fields: dict[str, Field] = {}
    places: Places = {}
    for name, levels in (spec.design.factors or {}).items():
        field = field_name("factor", name)
        fields[field] = SelectField(
            f"{name.replace('_', ' ').capitalize()}",
            choices={level: level for level in levels},
            default=(current or {}).get(name, levels[0]),
        )
        places[f"{loc}.factors.{name}"] = field
    if fields:
        places[f"{loc}.factors"] = next(iter(fields))
    return fields, places


def _arm_name_with_role(spec: Study, arm_id: str) -> str:
    name = arm_name(spec, arm_id)
    return f"{name} (control)" if spec.arm(arm_id).control and name != CONTROL else name


def add_frame_form(spec: Study) -> tuple[type[FlaskForm], Places]:
    """A new frame arm: its name, texts per language (empty: to write later), values, levels."""
    loc = f"arms[{len(spec.arms)}]"
    fields: dict[str, Field] = {}
    places: Places = {}
    number = len(spec.frame_arms) + 1
    for lang in spec.languages:
        fields[field_name("name", lang)] = StringField(
            f"Name ({lang}, optional)",
            description=(
                "What the studio, the downloads and the report call this frame, for example "
                f"“Fairness”. Leave it empty to call it “Frame {number}”."
            ),
            validators=[Optional(), Length(max=200)],
        )
        places[f"{loc}.label.{lang}"] = field_name("name", lang)
    first = field_name("name", spec.default_language)
    places.update({"arm_id": first, f"{loc}.id": first, f"{loc}.label": first})
    for lang in spec.languages:
        fields[field_name("title", lang)] = StringField(
            f"Title ({lang})", validators=[Optional(), Length(max=300)]
        )
        fields[field_name("body", lang)] = TextAreaField(
            f"Message ({lang}, Markdown)", validators=[Optional(), Length(max=20_000)]
        )
        places[f"{loc}.frame.title.{lang}"] = field_name("title", lang)
        places[f"{loc}.frame.body.{lang}"] = field_name("body", lang)
    fields["values"] = MultiCheckboxField(
        "Values this frame appeals to", choices=_value_choices(spec)
    )
    places[f"{loc}.frame.values"] = "values"
    factor_fields, factor_places = _factor_fields(spec, None, loc)
    fields.update(factor_fields)
    places.update(factor_places)
    fields["add"] = SubmitField("Add frame")
    return derived_form(FlaskForm, fields, "AddFrameForm"), places


def placebo_form(spec: Study) -> tuple[type[FlaskForm], Places]:
    """The control's placebo text, per language."""
    index = spec.arms.index(spec.control_arm)
    loc = f"arms[{index}].frame"
    title, p1 = localized_text_fields(
        spec, spec.control_arm.frame, "title", f"{loc}.title", "Title", area=False
    )
    body, p2 = localized_text_fields(
        spec, spec.control_arm.frame, "body", f"{loc}.body", "Placebo text (Markdown)", area=True
    )
    fields: dict[str, Field] = {
        **{f"placebo_{k}": v for k, v in title.items()},
        **{f"placebo_{k}": v for k, v in body.items()},
        "save_placebo": SubmitField("Show this placebo text"),
    }
    places = {loc_: f"placebo_{name}" for loc_, name in {**p1, **p2}.items()}
    return derived_form(FlaskForm, fields, "PlaceboForm"), places


def arm_settings_form(spec: Study, index: int) -> tuple[type[FlaskForm], Places]:
    """One arm's codebook label per language, value tags and factor levels."""
    arm = spec.arms[index]
    loc = f"arms[{index}]"
    fields: dict[str, Field] = {}
    places: Places = {}
    for lang in spec.languages:
        name = field_name("label", lang)
        fields[name] = StringField(
            f"Name ({lang})",
            default=arm.label.get(lang, None) if arm.label else "",
            validators=[Optional(), Length(max=200)],
        )
        places[f"{loc}.label.{lang}"] = name
        if lang == spec.default_language:
            places[f"{loc}.label"] = name
    if not arm.control:
        fields["values"] = MultiCheckboxField(
            "Values this frame appeals to",
            choices=_value_choices(spec),
            default=list(arm.frame.values) if arm.frame else [],
        )
        places[f"{loc}.frame.values"] = "values"
        factor_fields, factor_places = _factor_fields(spec, arm.factors, loc)
        fields.update(factor_fields)
        places.update(factor_places)
    fields["save"] = SubmitField("Save settings")
    return derived_form(FlaskForm, fields, "ArmSettingsForm"), places


def allocation_form(spec: Study, sizes: dict[int, str]) -> tuple[type[FlaskForm], Places]:
    """Arm weights and the block size, chosen among the sizes that fit the weights."""
    weights = spec.weights()
    fields: dict[str, Field] = {}
    places: Places = {}
    for arm in spec.arms:
        name = field_name("weight", arm.id)
        fields[name] = IntegerField(
            f"Share of {_arm_name_with_role(spec, arm.id)}",
            default=weights[arm.id],
            validators=[Optional(), NumberRange(1, 100)],
        )
        places[f"design.weights.{arm.id}"] = name
    places["design.weights"] = field_name("weight", spec.arms[0].id)
    if spec.design.scheme != "simple":
        _add_block_size(fields, places, spec, sizes)
    fields["save_allocation"] = SubmitField("Save shares")
    return derived_form(FlaskForm, fields, "AllocationForm"), places


def factors_form(spec: Study) -> tuple[type[FlaskForm], Places]:
    """The levels of each factor of a factorial design, comma-separated."""
    fields: dict[str, Field] = {}
    places: Places = {}
    for name, levels in (spec.design.factors or {}).items():
        field = field_name("levels", name)
        fields[field] = StringField(
            f"Levels of {name.replace('_', ' ')}",
            description="Separated by commas; renaming a level renames it in every arm.",
            default=", ".join(levels),
            validators=[InputRequired()],
        )
        places[f"design.factors.{name}"] = field
    fields["save_factors"] = SubmitField("Save levels")
    return derived_form(FlaskForm, fields, "FactorsForm"), places


def blocking_questions(spec: Study) -> list[Item]:
    """Questions a design can balance on: required, asked before the message, with a fixed
    set of answers."""
    return [
        i for i in spec.items_for("pre") if i.type in ("choice", "binary", "likert") and i.required
    ]


def group_field(item_id: str, value: int) -> str:
    """The design form's field for the group of one answer of a blocking question."""
    return f"group-{item_id}-{value}"


def _add_block_size(
    fields: dict[str, Field], places: Places, spec: Study, sizes: dict[int, str]
) -> None:
    """The block-size choice (among `sizes`, which fit the shares), placed at design.block_size."""
    fields["block_size"] = SelectField(
        "Block size",
        choices={str(size): label for size, label in sizes.items()},
        default=str(spec.block_size()),
        validate_choice=False,
    )
    places["design.block_size"] = "block_size"


def plain_design_form(spec: Study, sizes: dict[int, str]) -> tuple[type[FlaskForm], Places]:
    """Randomization in plain words: scheme, blocking question, the groups of its answers,
    block size among the sizes that fit the shares, and the seed."""
    design = spec.design
    blockable = blocking_questions(spec)
    fields: dict[str, Field] = {
        "scheme": RadioField(
            "How arms are drawn",
            choices={
                "complete": "In blocks over the whole study: the arms stay the same size",
                "blocked": "In blocks within groups of an answer given before the message",
                "simple": "A separate draw for each participant (arm sizes vary by chance)",
                "factorial": "In blocks over every combination of the factors",
            },
            default=design.scheme,
        ),
        "block_by": SelectField(
            "Balance within the answers to",
            description=(
                "A required question asked before the message; the groups of its answers "
                "are set below."
            ),
            choices={"": "(choose a question)"}
            | {i.id: f"{i.id}: {spec.text(i.text, spec.default_language)[:80]}" for i in blockable},
            default=design.block_by or "",
        ),
        "seed": IntegerField(
            "Random seed",
            description="The whole sequence of draws follows from it, so it can be checked later.",
            default=design.seed,
            validators=[InputRequired()],
        ),
    }
    places: Places = {f"design.{n}": n for n in ("scheme", "seed", "block_by")}
    # Every field in one form, so one submission sets the scheme, the question and the
    # groups of its answers; the page's script shows only what the choices above need.
    _add_block_size(fields, places, spec, sizes)
    for item in blockable:
        labels = item.value_labels(spec.default_language)
        saved = design.strata if item.id == design.block_by else None
        current = {v: label for label, values in (saved or {}).items() for v in values}
        for value in item.allowed_values() or []:
            fields[group_field(item.id, value)] = StringField(
                f"Group of the answer “{labels.get(value, value)}”",
                default=current.get(value, ""),
                validators=[Optional(), Length(max=60)],
            )
    if design.block_by and any(i.id == design.block_by for i in blockable):
        first = (spec.item(design.block_by).allowed_values() or [0])[0]
        places["design.strata"] = group_field(design.block_by, first)
    fields["save"] = SubmitField("Save design")
    return derived_form(FlaskForm, fields, "PlainDesignForm"), places
