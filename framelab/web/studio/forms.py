"""Studio forms (Flask-WTF: every POST carries a CSRF token).

Forms that depend on the study (one field per language, arm or item) are built per
request by the `*_form` factories, which also return where each field sits in the
study file, so a StudyError location such as `arms[2].frame.body.es` is shown next
to the field `body_es` (see `place_errors`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    Field,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from framelab.domain.items import Item
from framelab.domain.names import CONTROL, arm_name
from framelab.domain.study import Study
from framelab.domain.values import describe_value

SLUG_HELP = "3 to 64 lower-case letters, digits or -; it appears in the participant link"


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (rendered inside a fieldset with a legend)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    submit = SubmitField("Sign in")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class NewStudyForm(FlaskForm):
    """A new study from the blank study or a template, in the languages ticked."""

    template = RadioField("Start from", validators=[DataRequired()], default="blank")
    title = StringField(
        "Study title",
        description="Participants see it on every page; you can change it later.",
        validators=[Optional(), Length(max=200)],
    )
    languages = MultiCheckboxField(
        "Languages of the study",
        description="Tick every language participants may answer in.",
        default=["en"],
    )
    other_languages = StringField(
        "Other languages",
        description="Language codes separated by commas, for example sw, pt-BR.",
        validators=[Optional(), Regexp(r"^[A-Za-z0-9, -]*$", message="letters, digits, - and ,")],
    )
    default_language = SelectField(
        "Main language",
        description="Participants whose language is not offered see this one.",
        default="",
    )
    slug = StringField(
        "Short name (slug)",
        description=SLUG_HELP,
        validators=[DataRequired(), Regexp(r"^[a-z0-9-]{3,64}$", message=SLUG_HELP)],
    )
    submit = SubmitField("Create study")

    def chosen_languages(self) -> list[str]:
        """Ticked then typed languages, the main language first, each once."""
        typed = [c.strip() for c in (self.other_languages.data or "").split(",") if c.strip()]
        chosen = list(dict.fromkeys([*(self.languages.data or []), *typed]))
        main = self.default_language.data
        if main and main in chosen:
            chosen.remove(main)
            chosen.insert(0, main)
        return chosen


class UploadForm(FlaskForm):
    file = FileField("Study file (YAML or JSON)")
    text = TextAreaField("…or paste the study file here")
    submit_upload = SubmitField("Create from file")


class YamlForm(FlaskForm):
    yaml = TextAreaField("Study file (YAML)", validators=[DataRequired()])
    submit = SubmitField("Save the study file")


class AccountForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Temporary password",
        description=(
            "At least 12 characters, not a common password; tell the person through a "
            "separate channel. They must choose their own at their first sign-in."
        ),
        validators=[DataRequired(), Length(max=1024)],
    )
    can_create_studies = BooleanField("May create studies")
    is_admin = BooleanField("Site admin (owner of every study, creates accounts)")
    submit = SubmitField("Create account")


class RemoveMemberForm(FlaskForm):
    user_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class MemberForm(FlaskForm):
    email = EmailField(
        "Email address",
        description=(
            "They see the invitation on their study list when they sign in; the role "
            "starts when they accept it."
        ),
        validators=[DataRequired(), Length(max=254)],
    )
    role = SelectField(
        "Role",
        choices={
            "viewer": "Viewer: sees the study and the dashboard",
            "editor": "Editor: drafts frames, texts, items and design",
            "analyst": "Analyst: edits and locks the analysis plan, reads results",
            "translator": "Translator: edits the texts of every language, nothing else",
            "reviewer": (
                "Reviewer (ethics or safeguarding lead): reads the consent, debrief and data "
                "plan and approves them before launch"
            ),
            "owner": "Owner: everything, including launch and members",
        },
    )
    submit = SubmitField("Invite")


# Plain words for the multiple-comparison corrections; the method's name stays in brackets.
CORRECTION_CHOICES = {
    "holm": "Keep the overall false-alarm risk at the level above (Holm; recommended)",
    "bonferroni": "The same, more cautiously (Bonferroni)",
    "bh": "Allow a few false alarms among many findings (Benjamini-Hochberg)",
    "none": "No allowance: each frame on its own (none)",
}


class FiniteDecimalField(DecimalField):
    """A decimal field that takes finite numbers only.

    Python's Decimal reads "sNaN", "NaN" and "Infinity"; a signalling NaN then failed
    the range check's comparison and float() (a 500) instead of showing a form error.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if valuelist and self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError("Enter a number, for example 0.05 (not NaN or infinity).")


class PowerForm(FlaskForm):
    """The power planner: a GET form (changes nothing, so no CSRF token needed)."""

    class Meta:
        csrf = False

    effect = FiniteDecimalField(
        "Expected effect, in standard deviations (Cohen's d)",
        places=3,
        default=0.15,
        validators=[NumberRange(0.01, 2)],
    )
    difference = FiniteDecimalField(
        "Expected difference in outcome points",
        places=2,
        validators=[Optional(), NumberRange(0.001, 100)],
    )
    outcome_sd = FiniteDecimalField(
        "and the outcome's standard deviation (SD)",
        places=2,
        validators=[Optional(), NumberRange(0.001, 100)],
    )
    n_per_arm = IntegerField(
        "Completed participants per arm", validators=[Optional(), NumberRange(2, 1_000_000)]
    )
    attrition = FiniteDecimalField(
        "Expected drop-out (%)",
        description="Of every 100 who start, how many leave before the end; 15 is common online.",
        places=0,
        default=15,
        validators=[NumberRange(0, 90)],
    )
    alpha = FiniteDecimalField(
        "Risk of a false alarm (significance level, alpha)",
        description="0.05: a frame that does nothing is declared to work 5 times in 100.",
        places=3,
        default=0.05,
        validators=[NumberRange(0.001, 0.2)],
    )
    correction = SelectField(
        "Allowance for testing several frames",
        choices={k: v for k, v in CORRECTION_CHOICES.items() if k != "bh"},
        default="holm",
    )
    r2 = FiniteDecimalField(
        "How much the questions asked before the message predict the outcome (R², 0 to 0.9)",
        description="From a pilot or an earlier study; leave empty if unknown (counted as 0).",
        places=2,
        validators=[Optional(), NumberRange(0, 0.9)],
    )
    submit = SubmitField("Calculate")


# ------------------------------------------------------------ study-shaped forms

Places = dict[str, str]  # study-file location -> form field name


def field_name(prefix: str, *parts: str) -> str:
    """A form field name for a location part (language codes may contain '-')."""
    return "_".join([prefix, *(p.replace("-", "_") for p in parts)])


def _localized(
    spec: Study, holder: Any, attr: str, loc: str, label: str, *, area: bool, required: bool = True
) -> tuple[dict[str, Field], Places]:
    fields: dict[str, Field] = {}
    places: Places = {}
    value = getattr(holder, attr) if holder is not None else None
    for lang in spec.languages:
        name = field_name(attr, lang)
        current = value.get(lang, None) if value is not None else None
        kind = TextAreaField if area else StringField
        validators = [InputRequired()] if required else [Optional()]
        fields[name] = kind(f"{label} ({lang})", default=current or "", validators=validators)
        places[f"{loc}.{lang}"] = name
        if lang == spec.default_language:
            places[loc] = name
    return fields, places


def _make(base: type[FlaskForm], fields: dict[str, Field], name: str) -> type[FlaskForm]:
    return type(name, (base,), dict(fields))


def frame_form(spec: Study, arm_index: int) -> tuple[type[FlaskForm], Places]:
    """Title and body per language and the value tags of one arm's frame."""
    arm = spec.arms[arm_index]
    loc = f"arms[{arm_index}].frame"
    title, p1 = _localized(spec, arm.frame, "title", f"{loc}.title", "Title", area=False)
    body, p2 = _localized(spec, arm.frame, "body", f"{loc}.body", "Message (Markdown)", area=True)
    fields: dict[str, Field] = {**title, **body}
    choices = {tag: _value_label(tag, spec.custom_values) for tag in spec.known_values()}
    fields["values"] = MultiCheckboxField(
        "Values this frame appeals to",
        choices=choices,
        default=list(arm.frame.values) if arm.frame else [],
    )
    fields["preview"] = SubmitField("Preview")
    fields["save"] = SubmitField("Save frame")
    return _make(FlaskForm, fields, "FrameForm"), {**p1, **p2, f"{loc}.values": "values"}


def _value_label(tag: str, custom: Sequence[str]) -> str:
    value = describe_value(tag, custom)
    return f"{value.label}: {value.description}"


def texts_form(spec: Study) -> tuple[type[FlaskForm], Places]:
    """Study title, consent and debrief per language; target sample; speeder threshold."""
    fields: dict[str, Field] = {}
    places: Places = {}
    for attr, label, area in (
        ("title", "Study title", False),
        ("consent", "Consent page (Markdown)", True),
        ("debrief", "Debrief page (Markdown)", True),
    ):
        f, p = _localized(spec, spec, attr, attr, label, area=area)
        fields.update(f)
        places.update(p)
    fields["target_n"] = IntegerField(
        "Planned sample (completed participants; the study closes when reached)",
        default=spec.target_n,
        validators=[Optional(), NumberRange(1, 10_000_000)],
    )
    fields["speeder_seconds"] = IntegerField(
        "Flag as speeder below (seconds for the whole survey)",
        default=spec.quality.speeder_seconds,
        validators=[Optional(), NumberRange(0, 86_400)],
    )
    fields["save"] = SubmitField("Save texts")
    places.update({"target_n": "target_n", "quality.speeder_seconds": "speeder_seconds"})
    return _make(FlaskForm, fields, "TextsForm"), places


def _choices(ids: Iterable[str]) -> dict[str, str]:
    return {i: i for i in ids}


def _item_choices(spec: Study, ids: Iterable[str]) -> dict[str, str]:
    """Item or scale ids with the question's wording, so campaigners tick what they read."""
    out = {}
    for ident in ids:
        try:
            text = spec.text(spec.item(ident).text, spec.default_language)
        except LookupError:
            text = "the average of " + ", ".join(spec.scale(ident).items)
        out[ident] = f"{ident}: {text[:90]}{'…' if len(text) > 90 else ''}"
    return out


def plan_form(spec: Study) -> tuple[type[FlaskForm], Places]:
    """The analysis plan in plain words: outcomes, covariates, moderators, false-alarm risk,
    allowance for several frames, exclusions and the target sample."""
    post = [i.id for i in spec.items_for("post") if i.type != "text"] + [s.id for s in spec.scales]
    pre = [i.id for i in spec.items_for("pre") if i.type != "text"] + [s.id for s in spec.scales]
    plan = spec.analysis
    fields: dict[str, Field] = {
        "primary": MultiCheckboxField(
            "Main outcomes: what the frames should change (primary)",
            choices=_item_choices(spec, post),
            default=plan.primary,
        ),
        "secondary": MultiCheckboxField(
            "Other outcomes to look at (secondary, exploratory)",
            choices=_item_choices(spec, post),
            default=plan.secondary,
        ),
        "covariates": MultiCheckboxField(
            "Answers given before the message that make the estimate more precise (covariates)",
            choices=_item_choices(spec, pre),
            default=plan.covariates,
        ),
        "moderators": MultiCheckboxField(
            "Groups to compare: does a frame work differently for them? (moderators)",
            choices=_item_choices(spec, pre),
            default=plan.moderators,
        ),
        "alpha": FiniteDecimalField(
            "Risk of a false alarm (significance level, alpha)",
            description="0.05 means a frame that does nothing is declared to work 5 times in 100.",
            # Shown as the study gives it: rounding to 3 places turned 0.0125 into 0.013.
            places=None,
            default=plan.alpha,
            validators=[InputRequired()],
        ),
        "correction": SelectField(
            "Allowance for testing several frames",
            choices=CORRECTION_CHOICES,
            default=plan.correction,
        ),
        "exclude": MultiCheckboxField(
            "Leave out of the analysis participants who",
            choices={
                "attention_failed": "failed an attention check",
                "speeder": "answered too fast to have read (speeders)",
                "honeypot": "filled the hidden field only robots see (honeypot)",
            },
            default=list(plan.exclude),
        ),
        "target_n": IntegerField(
            "Target sample: completed participants",
            description="The study closes when this many have finished (pilot runs not counted).",
            default=spec.target_n,
            validators=[Optional(), NumberRange(1, 10_000_000)],
        ),
        "save": SubmitField("Save analysis plan"),
    }
    places = {
        f"analysis.{name}": name
        for name in (
            "primary",
            "secondary",
            "covariates",
            "moderators",
            "alpha",
            "correction",
            "exclude",
        )
    }
    places["target_n"] = "target_n"
    return _make(FlaskForm, fields, "PlanForm"), places


class TargetForm(FlaskForm):
    """ "Use this number" on the power page: the target sample."""

    target_n = IntegerField(
        "Target sample", widget=HiddenInput(), validators=[InputRequired(), NumberRange(1)]
    )
    use = SubmitField("Use this number as the target sample")


def place_errors(
    errors: Iterable[tuple[str, str]], places: Places
) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Split StudyError pairs into field errors (by the longest matching location) and the rest."""
    by_field: dict[str, list[str]] = {}
    rest: list[tuple[str, str]] = []
    ordered = sorted(places, key=len, reverse=True)
    for location, message in errors:
        match = next(
            (
                loc
                for loc in ordered
                if location == loc or location.startswith((loc + ".", loc + "["))
            ),
            None,
        )
        if match is None:
            rest.append((location, message))
        else:
            by_field.setdefault(places[match], []).append(message)
    return by_field, rest


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
    return _make(FlaskForm, fields, "AddFrameForm"), places


def placebo_form(spec: Study) -> tuple[type[FlaskForm], Places]:
    """The control's placebo text, per language."""
    index = spec.arms.index(spec.control_arm)
    loc = f"arms[{index}].frame"
    title, p1 = _localized(
        spec, spec.control_arm.frame, "title", f"{loc}.title", "Title", area=False
    )
    body, p2 = _localized(
        spec, spec.control_arm.frame, "body", f"{loc}.body", "Placebo text (Markdown)", area=True
    )
    fields: dict[str, Field] = {
        **{f"placebo_{k}": v for k, v in title.items()},
        **{f"placebo_{k}": v for k, v in body.items()},
        "save_placebo": SubmitField("Show this placebo text"),
    }
    places = {loc_: f"placebo_{name}" for loc_, name in {**p1, **p2}.items()}
    return _make(FlaskForm, fields, "PlaceboForm"), places


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
    return _make(FlaskForm, fields, "ArmSettingsForm"), places


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
        fields["block_size"] = SelectField(
            "Block size",
            choices={str(size): label for size, label in sizes.items()},
            default=str(spec.block_size()),
            validate_choice=False,
        )
        places["design.block_size"] = "block_size"
    fields["save_allocation"] = SubmitField("Save shares")
    return _make(FlaskForm, fields, "AllocationForm"), places


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
    return _make(FlaskForm, fields, "FactorsForm"), places


def blocking_questions(spec: Study) -> list[Item]:
    """Questions a design can balance on: required, asked before the message, with a fixed
    set of answers."""
    return [
        i for i in spec.items_for("pre") if i.type in ("choice", "binary", "likert") and i.required
    ]


def group_field(item_id: str, value: int) -> str:
    """The design form's field for the group of one answer of a blocking question."""
    return f"group-{item_id}-{value}"


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
    fields["block_size"] = SelectField(
        "Block size",
        choices={str(size): label for size, label in sizes.items()},
        default=str(spec.block_size()),
        validate_choice=False,
    )
    places["design.block_size"] = "block_size"
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
    return _make(FlaskForm, fields, "PlainDesignForm"), places
