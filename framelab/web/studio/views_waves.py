"""The follow-up page: who is due for a wave now, as lists the campaign sends itself.

Only while a wave's window is open for someone is there anyone due. For invited
participants the list gives their invitation link (to find the contact in the
campaign's own invitations file) and their personal follow-up link; for panel
participants the campaign uploads the panel ids it has and gets back the ones that are
due, matched by keyed hash (framelab.services.wave_due: the ids are never stored). Each
download hands out personal links, so it is for the owner and is in the audit trail.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, url_for

from framelab.clock import now
from framelab.domain.contact_lists import ContactListError, read_contact_ids
from framelab.services import audit
from framelab.services.pseudonyms import PseudonymKeyError
from framelab.services.study_versions import LoadedStudy
from framelab.services.wave_due import due_counts, due_csv, due_invited, due_panel
from framelab.web.participant.follow_up import follow_up_url
from framelab.web.participant.views_link import pseudonym_key
from framelab.web.studio.auth import require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms_waves import DueInvitedForm, DuePanelForm


def _page(
    study: LoadedStudy,
    *,
    panel_form: DuePanelForm | None = None,
    error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    html = render_study(
        "studio/waves.html",
        study,
        "studio.downloads",
        counts=due_counts(session(), study.slug, now=now()),
        invited_form=DueInvitedForm(formdata=None),
        panel_form=panel_form or DuePanelForm(formdata=None),
        error=error,
    )
    return html, status


def _download(study: LoadedStudy, data: bytes, name: str) -> Response:
    audit.record_export(session(), study.id, name, now=now(), spec_hash=study.spec_hash)
    return Response(
        data,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _key_error(study: LoadedStudy, error: Exception, form: DuePanelForm | None = None):
    current_app.logger.error("due list: the pseudonym key cannot be used: %s", error)
    message = "The pseudonym key cannot be used (see the server's log)."
    return _page(study, panel_form=form, error=message, status=503)


@bp.route("/<slug>/follow-up")
@require_role("manage")
def follow_up(study: LoadedStudy) -> tuple[str, int]:
    return _page(study)


@bp.route("/<slug>/follow-up/invited", methods=["POST"])
@require_role("manage")
def due_invited_list(study: LoadedStudy) -> Any:
    """The invited participants due now: invitation link, follow-up link, wave, closing date."""
    if not DueInvitedForm().validate_on_submit():
        return _page(study, status=422)
    try:
        rows = due_invited(session(), study.slug, key=pseudonym_key(), now=now())
    except PseudonymKeyError as error:
        return _key_error(study, error)
    invited = [
        (url_for("participant.invited", token=token, _external=True), due) for token, due in rows
    ]
    data = due_csv(invited, "invitation_link", follow_up_url)
    return _download(study, data, f"{study.slug}-due-invited.csv")


@bp.route("/<slug>/follow-up/panel", methods=["POST"])
@require_role("manage")
def due_panel_list(study: LoadedStudy) -> Any:
    """The uploaded panel ids that are due now: panel id, follow-up link, wave, closing date."""
    form = DuePanelForm()
    if not form.validate_on_submit():
        return _page(study, panel_form=form, status=422)
    try:
        ids = read_contact_ids(form.file.data.read(), form.column.data or "")
        rows = due_panel(session(), study.slug, ids, key=pseudonym_key(), now=now())
    except ContactListError as error:
        return _page(study, panel_form=form, error=str(error), status=422)
    except PseudonymKeyError as error:
        return _key_error(study, error, form)
    data = due_csv(rows, "panel_id", follow_up_url)
    return _download(study, data, f"{study.slug}-due-panel.csv")
