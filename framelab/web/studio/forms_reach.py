"""Forms of the reach page (Flask-WTF: every POST carries a CSRF token): a new channel link
and an invitation list's upload."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from framelab.services.channel_links import KIND_LABELS, MAX_NAME
from framelab.services.recipient_lists import MAX_LIST_NAME


class ChannelLinkForm(FlaskForm):
    """One named link for one channel."""

    kind = SelectField(
        "Channel", choices=dict(KIND_LABELS), default="sms", validators=[DataRequired()]
    )
    name = StringField(
        "Name of the link",
        description=(
            "What the dashboard calls it, for example 'SMS members March' (the channel's name "
            "if you leave it empty). Each link of the campaign needs its own name."
        ),
        validators=[Optional(), Length(max=MAX_NAME)],
    )
    submit = SubmitField("Make the link")


class RecipientListForm(FlaskForm):
    """A CSV of the campaign's own contact ids, and which column holds them."""

    list_name = StringField(
        "Name of the list",
        description="For example 'Members, SMS, 4 December'. Uploading to a list's name again adds to it.",
        validators=[DataRequired(), Length(max=MAX_LIST_NAME)],
    )
    column = StringField(
        "Column with the contact ids",
        description=(
            "The name in the file's header row, for example contact_id. Leave it empty when "
            "the file has one column. Use your tool's own ids, not phone numbers or e-mail "
            "addresses."
        ),
        validators=[Optional(), Length(max=100)],
    )
    file = FileField("The list (CSV, UTF-8)", validators=[FileRequired("Choose a CSV file.")])
    submit = SubmitField("Upload and download the links")
