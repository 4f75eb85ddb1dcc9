"""Studio forms (Flask-WTF: every POST carries a CSRF token): sign-in, new study, upload,
accounts and members, the texts page, and the helpers of the study-shaped forms; the
frames and design pages' forms are in `forms_frames`, the plan and power pages' in
`forms_plan`, the question editor's in `forms_questions`.

Forms that depend on the study (one field per language, arm or item) are built per
request by the `*_form` factories, which also return where each field sits in the
study file, so a StudyError location such as `arms[2].frame.body.es` is shown next
to the field `body_es` (see `place_errors`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
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

from framelab.domain.study import Study

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


# ------------------------------------------------------------ study-shaped forms

Places = dict[str, str]  # study-file location -> form field name


def field_name(prefix: str, *parts: str) -> str:
    """A form field name for a location part (language codes may contain '-')."""
    return "_".join([prefix, *(p.replace("-", "_") for p in parts)])


def localized_text_fields(
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


def derived_form(base: type[FlaskForm], fields: dict[str, Field], name: str) -> type[FlaskForm]:
    return type(name, (base,), dict(fields))


def texts_form(spec: Study) -> tuple[type[FlaskForm], Places]:
    """Study title, consent and debrief per language; target sample; speeder threshold."""
    fields: dict[str, Field] = {}
    places: Places = {}
    for attr, label, area in (
        ("title", "Study title", False),
        ("consent", "Consent page (Markdown)", True),
        ("debrief", "Debrief page (Markdown)", True),
    ):
        f, p = localized_text_fields(spec, spec, attr, attr, label, area=area)
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
    return derived_form(FlaskForm, fields, "TextsForm"), places


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
