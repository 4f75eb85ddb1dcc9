"""The frame library: cards of finished studies and partners' cards, pooled per value.

- /studio/library: every card the user may see, filters, frames by value x outcome,
  pooled figures (signed-in users; a local card only for owners/analysts of its study).
- /studio/library/partners, /studio/library/import: admins register a partner's public
  key and import the cards it signed.
- /studio/<slug>/library-card: owners and analysts add a final study's card and
  download it signed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FloatField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from framelab.clock import now
from framelab.services import card_keys, library, library_view
from framelab.services.cards import CardDetails, CardRefused
from framelab.services.study_versions import LoadedStudy
from framelab.web.studio.auth import current_account, require_login, require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms import ActionForm

MAX_CARD_BYTES = 2_000_000
_KEY = "framelab.card_signing_key"


def signing_key() -> card_keys.SigningKey:
    """The instance's card key: CARD_KEY_FILE in the config (FRAMELAB_CARD_KEY_FILE, by
    framelab.config), else `card_signing_key` in the instance folder (made on first use);
    a testing app without either signs with card_keys.TESTING_KEY."""
    app = current_app
    key = app.extensions.get(_KEY)
    if key is None:
        configured = app.config.get("CARD_KEY_FILE")
        if not configured and app.testing:
            key = card_keys.TESTING_KEY
        else:
            path = Path(configured or Path(app.instance_path) / card_keys.KEY_FILE_NAME)
            key = card_keys.load_or_create_signing_key(path)
        app.extensions[_KEY] = key
    return key


class PartnerForm(FlaskForm):
    name = StringField("Partner's name", validators=[DataRequired(), Length(max=120)])
    public_key = TextAreaField(
        "Partner's public key",
        description="44 characters of base64 from the partner's library page, or a PEM block.",
        validators=[DataRequired(), Length(max=2000)],
    )


class ImportForm(FlaskForm):
    card = FileField("Signed card file (.card.json)", validators=[FileRequired()])


class CardForm(FlaskForm):
    country = StringField(
        "Country (two-letter ISO code)",
        validators=[DataRequired(), Regexp(r"^[A-Za-z]{2}$", message="two letters, e.g. KE")],
    )
    audience = StringField(
        "Who took part",
        description="A short description of the audience, e.g. “adults in Kenya from a panel”. "
        "Never a participant's words.",
        validators=[DataRequired(), Length(max=300)],
    )
    moderator_name = StringField(
        "Audience measure for comparisons (optional)",
        description="e.g. “audience ideology, 1 left to 7 right”: the library compares "
        "studies on it once at least 10 have it.",
        validators=[Optional(), Length(max=120)],
    )
    moderator_value = FloatField("Its value for this audience", validators=[Optional()])
    include_text = BooleanField("Include the frames' texts (otherwise only their hash)")


def _filters() -> library_view.Filters:
    args = request.args
    return library_view.Filters(
        country=args.get("country", "").strip()[:2].upper(),
        language=args.get("language", "").strip()[:16],
        audience=args.get("audience", "").strip()[:100],
        messenger=args.get("messenger", "").strip()[:120],
    )


def _final_studies() -> list[tuple[Any, library.Finality]]:
    from framelab.services.accounts import role_allows, studies_for

    out = []
    for ref in studies_for(session(), current_account()):
        if ref.status == "closed" and role_allows(ref.role, "results"):
            out.append((ref, library.finality(session(), ref.slug)))
    return out


@bp.route("/library")
@require_login
def library_page() -> str:
    me = current_account()
    view = library_view.library(session(), me, _filters())
    key = signing_key()
    return render_template(
        "studio/library.html",
        view=view,
        key=key,
        partners=library.partners(session()) if me.is_admin else [],
        is_admin=me.is_admin,
        finished=_final_studies(),
        carded={c.study_slug for c in view.cards if c.origin == "local"},
        partner_form=PartnerForm(prefix="partner"),
        import_form=ImportForm(prefix="import"),
    )


def _admin_only() -> Any:
    """Registering partners and importing are the instance's decisions: site admins only."""
    if not current_account().is_admin:
        return render_template("studio/admin_only.html"), 403
    return None


@bp.route("/library/partners", methods=["POST"])
@require_login
def library_add_partner() -> Any:
    if (refused := _admin_only()) is not None:
        return refused
    form = PartnerForm(prefix="partner")
    if form.validate_on_submit():
        try:
            partner = library.add_partner(
                session(),
                form.name.data,
                form.public_key.data,
                own_key_id=signing_key().key_id,
                now=now(),
            )
            flash(
                f"{partner.name} added: cards signed with key {partner.key_id[:16]}… import.",
                "info",
            )
        except CardRefused as exc:
            flash(str(exc), "error")
    else:
        flash("Partner: give a name and the partner's public key.", "error")
    return redirect(url_for("studio.library_page") + "#partners")


@bp.route("/library/import", methods=["POST"])
@require_login
def library_import() -> Any:
    if (refused := _admin_only()) is not None:
        return refused
    form = ImportForm(prefix="import")
    if not form.validate_on_submit():
        flash("Import: choose a signed card file.", "error")
        return redirect(url_for("studio.library_page") + "#import")
    raw = form.card.data.read(MAX_CARD_BYTES + 1)
    if len(raw) > MAX_CARD_BYTES:
        flash("Import refused: the file is larger than a card can be (2 MB).", "error")
        return redirect(url_for("studio.library_page") + "#import")
    try:
        card = library.import_card(session(), raw, now=now())
    except CardRefused as exc:
        flash(f"Import refused: {exc}", "error")
        return redirect(url_for("studio.library_page") + "#import")
    flash(f"Imported “{card['study']['title']}”: its signature is valid.", "info")
    return redirect(url_for("studio.library_page"))


library_add_partner.required_permission = "admin"  # type: ignore[attr-defined]
library_import.required_permission = "admin"  # type: ignore[attr-defined]


@bp.route("/<slug>/library-card", methods=["GET", "POST"])
@require_role("results")
def library_card(study: LoadedStudy) -> Any:
    state = library.finality(session(), study.slug)
    form = CardForm()
    frame_arms = [a for a in study.spec.arms if not a.control and a.frame is not None]
    if request.method == "POST" and state.final and form.validate_on_submit():
        messengers = {
            arm.id: request.form.get(f"messenger-{arm.id}", "").strip()[:120] for arm in frame_arms
        }
        details = CardDetails(
            country=form.country.data,
            audience=form.audience.data,
            messengers={k: v for k, v in messengers.items() if v},
            include_text=bool(form.include_text.data),
            moderator_name=(form.moderator_name.data or "").strip() or None,
            moderator_value=form.moderator_value.data,
        )
        try:
            library.publish_card(session(), study.slug, details, key=signing_key(), now=now())
        except CardRefused as exc:
            flash(str(exc), "error")
        else:
            flash("The study's results card is in the library.", "info")
            return redirect(url_for("studio.library_card", slug=study.slug))
    return render_study(
        "studio/library_card.html",
        study,
        "studio.library_card",
        state=state,
        form=form,
        frame_arms=frame_arms,
        has_card=library.has_card(session(), study.slug),
        action_form=ActionForm(),
    )


@bp.route("/<slug>/library-card.card.json")
@require_role("results")
def library_card_download(study: LoadedStudy) -> Any:
    try:
        data = library.export_card(session(), study.slug, now=now())
    except LookupError:
        flash("This study has no results card yet: add it first.", "error")
        return redirect(url_for("studio.library_card", slug=study.slug))
    return Response(
        data,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{study.slug}.card.json"'},
    )


@bp.app_template_global()
def library_evidence(values: list[str]) -> list[library_view.Pool]:
    """What frames of these values did before, for the frame editor and the power planner.

    A template global (read-only) so those pages, which other work is extending, gain
    the panel with a one-line include instead of a change to their views.
    """
    if not values or not current_user.is_authenticated:
        return []
    return library_view.value_evidence(session(), current_account(), list(values))
