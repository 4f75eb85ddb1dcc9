"""Forms of the follow-up page (Flask-WTF: every POST carries a CSRF token): the invited
participants' due list, and a panel-id list to match."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, SubmitField
from wtforms.validators import Length, Optional


class DueInvitedForm(FlaskForm):
    """Download the invited participants who are due now (no fields but the token)."""

    submit = SubmitField("Download the invited participants' due list")


class DuePanelForm(FlaskForm):
    """A CSV of panel ids (e.g. a panel's export of the study's participants)."""

    column = StringField(
        "Column with the panel ids",
        description=(
            "The name in the file's header row, for example participant_id. Leave it empty "
            "when the file has one column."
        ),
        validators=[Optional(), Length(max=100)],
    )
    file = FileField("Panel ids (CSV, UTF-8)", validators=[FileRequired("Choose a CSV file.")])
    submit = SubmitField("Upload and download the matching due list")
