"""The reach page: the campaign's channel links (short links and QR codes) and invitation lists.

Channel links and lists belong to the campaign (DECISIONS rule 1): every version's page
shows the same ones. An invitation list's CSV of links is the answer to its upload and
comes again whenever the same contacts are uploaded again (framelab.services
.recipient_lists); framelab keeps no contact id to make it from.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, redirect, request, url_for

from framelab.clock import now
from framelab.domain.contact_lists import ContactListError
from framelab.services.channel_links import (
    CODE,
    QR_FORMATS,
    ChannelLinkError,
    channel_link,
    channel_links,
    create_channel_link,
    qr_image,
)
from framelab.services.pseudonyms import PseudonymKeyError
from framelab.services.recipient_lists import recipient_lists, upload_recipient_list
from framelab.services.study_versions import LoadedStudy
from framelab.web.participant.views_link import pseudonym_key
from framelab.web.studio.auth import require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms_reach import ChannelLinkForm, RecipientListForm


def _channel_url(code: str) -> str:
    return url_for("participant.channel", code=code, _external=True)


def _page(
    study: LoadedStudy,
    *,
    link_form: ChannelLinkForm | None = None,
    list_form: RecipientListForm | None = None,
    list_error: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    html = render_study(
        "studio/reach.html",
        study,
        "studio.reach",
        links=channel_links(session(), study.id),
        lists=recipient_lists(session(), study.id),
        link_url=_channel_url,
        link_form=link_form or ChannelLinkForm(formdata=None),
        list_form=list_form or RecipientListForm(formdata=None),
        list_error=list_error,
    )
    return html, status


@bp.route("/<slug>/reach")
@require_role("view")
def reach(study: LoadedStudy) -> tuple[str, int]:
    return _page(study)


@bp.route("/<slug>/reach/channels", methods=["POST"])
@require_role("edit")
def add_channel_link(study: LoadedStudy) -> Any:
    form = ChannelLinkForm()
    if not form.validate_on_submit():
        return _page(study, link_form=form, status=422)
    try:
        link = create_channel_link(
            session(), study.id, kind=form.kind.data, name=form.name.data or "", now=now()
        )
    except ChannelLinkError as error:
        form.name.errors = [*form.name.errors, str(error)]
        return _page(study, link_form=form, status=422)
    flash(f"Link '{link.name}' made: {_channel_url(link.code)}", "info")
    return redirect(url_for("studio.reach", slug=study.slug) + "#channel-links")


@bp.route("/<slug>/reach/qr")
@require_role("view")
def channel_qr(study: LoadedStudy) -> Response:
    """A channel link's QR code (`?link=<code>&format=svg|png`), as a download."""
    code, fmt = request.args.get("link", ""), request.args.get("format", "svg")
    if not CODE.match(code) or fmt not in QR_FORMATS:
        abort(400)  # not a link code or format (an unknown link is a 404)
    try:
        link = channel_link(session(), study.id, code)
    except LookupError:
        abort(404)
    name = f"{study.slug}-{link.source}-qr.{fmt}"
    return Response(
        qr_image(_channel_url(link.code), fmt),
        mimetype=QR_FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/<slug>/reach/lists", methods=["POST"])
@require_role("manage")
def upload_recipients(study: LoadedStudy) -> Any:
    """An invitation list's upload; the answer is the CSV of (contact id, link)."""
    form = RecipientListForm()
    if not form.validate_on_submit():
        return _page(study, list_form=form, status=422)
    try:
        upload = upload_recipient_list(
            session(),
            study.id,
            form.file.data.read(),
            name=form.list_name.data,
            column=form.column.data or "",
            key=pseudonym_key(),
            link_for=lambda token: url_for("participant.invited", token=token, _external=True),
            now=now(),
        )
    except ContactListError as error:
        return _page(study, list_form=form, list_error=str(error), status=422)
    except PseudonymKeyError as error:
        current_app.logger.error("invitation list: the pseudonym key cannot be used: %s", error)
        message = "The pseudonym key cannot be used; nothing was stored (see the server's log)."
        return _page(study, list_form=form, list_error=message, status=503)
    name = f"{study.slug}-invitations-{upload.list_id}.csv"
    return Response(
        upload.csv,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
