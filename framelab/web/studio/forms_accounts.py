"""Studio forms about accounts: passwords, reset links, two-factor codes, admin actions, invitations."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length
from wtforms.widgets import HiddenInput

from framelab.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

PASSWORD_HELP = (
    f"At least {MIN_PASSWORD_LENGTH} characters, not a common password. Three or four "
    "unrelated words are long and easy to remember."
)


def _new_password() -> PasswordField:
    return PasswordField(
        "New password",
        description=PASSWORD_HELP,
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )


def _repeat() -> PasswordField:
    return PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="the two passwords differ")],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password()
    repeat = _repeat()
    submit = SubmitField("Change password")


class ResetPasswordForm(FlaskForm):
    new_password = _new_password()
    repeat = _repeat()
    submit = SubmitField("Set the new password")


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        description="6 digits; a new code appears every 30 seconds.",
        validators=[DataRequired(), Length(max=16)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField("Continue")


class AccountActionForm(FlaskForm):
    """An admin's button on one account (the action is in the button's value)."""

    action = HiddenField(validators=[DataRequired(), Length(max=32)])


class InvitationForm(FlaskForm):
    """Accept or decline (account's list) or withdraw (member page) an invitation."""

    invitation_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    answer = HiddenField(validators=[Length(max=16)])
