"""Studio pages: the study list, new study (template or upload), overview, study file, members."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for

from framelab.clock import now
from framelab.domain.confounds import check_study, placeholder_locations
from framelab.domain.names import arm_name
from framelab.domain.study import StudyError, load_study
from framelab.services import accounts, invitations, study_drafts, study_lifecycle
from framelab.services.accounts import AccountError
from framelab.services.study_drafts import StudyLocked
from framelab.services.study_overview import study_overview
from framelab.services.study_versions import LoadedStudy
from framelab.web.i18n import UI_LANGUAGES, language_name
from framelab.web.studio.auth import current_account, require_login, require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms import (
    ActionForm,
    MemberForm,
    NewStudyForm,
    RemoveMemberForm,
    UploadForm,
    YamlForm,
)
from framelab.web.studio.forms_accounts import InvitationForm
from framelab.web.studio.views_launch import campaign_link
from framelab.web.studio.views_review import review_required

# Offered as ticks on the new-study page: every interface language framelab ships, then
# other common campaign languages (any other code can be typed).
OFFERED_LANGUAGES = tuple(dict.fromkeys([*UI_LANGUAGES, "pt", "tr", "de", "it", "sw"]))


@bp.route("/")
@require_login
def index() -> str:
    me = current_account()
    refs = accounts.studies_for(session(), me)
    return render_template(
        "studio/index.html",
        studies=refs,
        logout_form=ActionForm(),
        invitations=invitations.pending_for(session(), me, now=now()),
        invitation_form=InvitationForm(),
        can_create=me.can_create_studies,
    )


def _new_forms() -> tuple[NewStudyForm, UploadForm, list[study_drafts.TemplateInfo]]:
    infos = study_drafts.template_infos()
    form = NewStudyForm(prefix="tpl")
    form.template.choices = {t.name: template_label(t) for t in infos}
    offered = {code: f"{language_name(code)} ({code})" for code in OFFERED_LANGUAGES}
    form.languages.choices = offered
    form.default_language.choices = {"": "The first language ticked", **offered}
    return form, UploadForm(prefix="up"), infos


def template_label(info: study_drafts.TemplateInfo) -> str:
    name = (
        "Blank study"
        if info.name == study_drafts.BLANK
        else info.name.replace("-", " ").capitalize()
    )
    return f"{name}: {info.description[:1].upper()}{info.description[1:]}"


def _spec_from_form(form: NewStudyForm):
    """The new study's spec from the form; StudyError naming the form's fields."""
    languages = form.chosen_languages()
    if not languages:
        raise StudyError([("languages", "tick at least one language")])
    spec = study_drafts.spec_from_template(form.template.data, form.slug.data, languages)
    title = (form.title.data or "").strip()
    if title:
        texts = {lang: title for lang in spec.languages}
        spec = study_drafts.replace_sections(
            spec, {"title": title if len(spec.languages) == 1 else texts}
        )
    return spec


@bp.route("/new", methods=["GET", "POST"])
@require_login
def new_study() -> Any:
    if not current_account().can_create_studies:
        # A site admin grants this (accounts page); GET and POST alike, before any parsing.
        return render_template("studio/new_forbidden.html"), 403
    form, upload, infos = _new_forms()
    errors: list[tuple[str, str]] = []
    try:
        if form.submit.data and form.validate_on_submit():
            spec = _spec_from_form(form)
            created = study_drafts.create_study(session(), spec, owner=current_account(), now=now())
            flash(
                f"Study {created.slug} created. Texts starting with \u201cTO FILL\u201d "
                f"are yours to write; the list below shows where they are.",
                "info",
            )
            return redirect(url_for("studio.to_fill", slug=created.slug))
        if upload.submit_upload.data and upload.validate_on_submit():
            text = upload.text.data or ""
            if upload.file.data:
                text = upload.file.data.read().decode("utf-8", errors="replace")
            spec = load_study(text)
            created = study_drafts.create_study(session(), spec, owner=current_account(), now=now())
            flash(f"Study {created.slug} created from your file.", "info")
            return redirect(url_for("studio.overview", slug=created.slug))
    except StudyError as exc:
        errors = list(exc.errors)
    status = 422 if errors or form.errors or upload.errors else 200
    page = render_template(
        "studio/new.html", form=form, upload=upload, errors=errors, templates=infos
    )
    return page, status


new_study.required_permission = "create"  # type: ignore[attr-defined]


@bp.route("/<slug>/to-fill")
@require_role("view")
def to_fill(study: LoadedStudy) -> str:
    """Every text that still holds a template's placeholder, with a link to its editor."""
    spec = study.spec
    places = []
    for location, language in placeholder_locations(spec):
        places.append((location, language, *_editor_for(spec, location)))
    untranslated = [w for w in check_study(spec).warnings if w.kind == "untranslated"]
    return render_study(
        "studio/to_fill.html",
        study,
        "studio.overview",
        places=places,
        untranslated=untranslated,
    )


def _editor_for(spec, location: str) -> tuple[str, str]:
    """(what the text is, the page where it is edited) for a study-file location."""
    head = location.split(".")[0].split("[")[0]
    if head == "arms":
        index = int(location.split("[")[1].split("]")[0])
        arm = spec.arms[index]
        what = "placebo text" if arm.control else f"message of {arm_name(spec, arm.id)}"
        if arm.frame is None:
            return what, url_for("studio.frames", slug=spec.slug)
        return what, url_for("studio.edit_frame", slug=spec.slug, arm_id=arm.id)
    if head == "items":
        index = int(location.split("[")[1].split("]")[0])
        item = spec.items[index]
        part = location.split(".", 1)[1] if "." in location else "text"
        return f"question {item.id} ({part.replace('_', ' ')})", url_for(
            "studio.items", slug=spec.slug
        )
    names = {"title": "study title", "consent": "consent page", "debrief": "debrief page"}
    return names.get(head, head), url_for("studio.texts", slug=spec.slug)


@bp.route("/<slug>/")
@require_role("view")
def overview(study: LoadedStudy) -> str:
    page = study_overview(session(), study.slug, now=now())
    return render_study(
        "studio/overview.html",
        page.study,
        "studio.overview",
        lock=page.lock,
        participant_link=campaign_link(page.campaign),
        campaign=page.campaign,
        review_state=page.review,
        review_required=review_required(),
        action_form=ActionForm(),
        actions=study_lifecycle.ACTIONS,
    )


@bp.route("/<slug>/study.yaml")
@require_role("view")
def download_yaml(study: LoadedStudy) -> Response:
    return Response(
        study.spec.to_yaml(),
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{study.slug}.yaml"'},
    )


@bp.route("/<slug>/yaml", methods=["GET", "POST"])
@require_role("edit")
def yaml_editor(study: LoadedStudy) -> Any:
    form = YamlForm()
    errors: list[tuple[str, str]] = []
    locked = None
    if form.validate_on_submit():
        try:
            spec = load_study(form.yaml.data or "")
            study_drafts.update_study(session(), study.slug, spec, now=now())
            flash("Study file saved.", "info")
            return redirect(url_for("studio.yaml_editor", slug=study.slug))
        except StudyError as exc:
            errors = list(exc.errors)
        except StudyLocked as exc:
            locked = str(exc)
    elif request.method == "GET":
        form.yaml.data = study.spec.to_yaml()
    status = 422 if errors or locked or form.errors else 200
    page = render_study(
        "studio/yaml.html", study, "studio.yaml_editor", form=form, errors=errors, locked=locked
    )
    return page, status


def _members_page(study: LoadedStudy, form: MemberForm, error: str | None = None) -> str:
    return render_study(
        "studio/members.html",
        study,
        "studio.members",
        form=form,
        members=accounts.list_members(session(), study.id),
        invited=invitations.pending_for_study(session(), study.id, now=now()),
        remove_form=RemoveMemberForm(),
        invitation_form=InvitationForm(),
        error=error,
    )


@bp.route("/<slug>/members")
@require_role("view")
def members(study: LoadedStudy) -> str:
    return _members_page(study, MemberForm())


# The owner's answer is the same whether or not the address has an account.
INVITED = (
    "Invitation recorded for {email} as {role}. If a studio account exists for that "
    "address, they see the invitation on their study list and the role starts when they "
    "accept it; otherwise ask a site admin to create the account. Pending invitations "
    "are listed below and expire in 30 days."
)


@bp.route("/<slug>/members", methods=["POST"])
@require_role("manage")
def add_member(study: LoadedStudy) -> Any:
    form = MemberForm()
    if form.validate_on_submit():
        try:
            outcome = invitations.invite(
                session(),
                study.id,
                form.email.data or "",
                form.role.data or "",
                invited_by=current_account().email,
                now=now(),
            )
            address = accounts.normalise_email(form.email.data or "")
            if outcome == "changed":
                flash(f"{address} is now {form.role.data} of {study.slug}.", "info")
            else:
                flash(INVITED.format(email=address, role=form.role.data), "info")
            return redirect(url_for("studio.members", slug=study.slug))
        except AccountError as exc:
            return _members_page(study, form, str(exc)), 422
    return _members_page(study, form), 422


# Row ids are 64-bit signed integers on every database: a larger number names no row
# (and SQLite cannot even take it as a parameter).
MAX_ROW_ID = 2**63 - 1


def _no_such_row(value: int | None, what: str, study: LoadedStudy) -> tuple[str, int] | None:
    """A 422 members page when the posted id cannot be a row id, else None."""
    if value is not None and not 1 <= value <= MAX_ROW_ID:
        return _members_page(study, MemberForm(), f"{what}: there is no such {what}."), 422
    return None


@bp.route("/<slug>/members/invitation", methods=["POST"])
@require_role("manage")
def withdraw_invitation(study: LoadedStudy) -> Any:
    form = InvitationForm()
    if form.validate_on_submit():
        if refused := _no_such_row(form.invitation_id.data, "invitation", study):
            return refused
        invitations.withdraw(session(), study.id, form.invitation_id.data)
        flash("Invitation withdrawn.", "info")
    return redirect(url_for("studio.members", slug=study.slug))


@bp.route("/<slug>/members/remove", methods=["POST"])
@require_role("manage")
def remove_member(study: LoadedStudy) -> Any:
    form = RemoveMemberForm()
    if form.validate_on_submit():
        if refused := _no_such_row(form.user_id.data, "member", study):
            return refused
        try:
            accounts.revoke_role(session(), study.id, form.user_id.data)
            flash("Access removed.", "info")
        except AccountError as exc:
            flash(str(exc), "error")
    return redirect(url_for("studio.members", slug=study.slug))
