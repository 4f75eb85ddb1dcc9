"""The launch confirmation page: what going live locks, the links, what stays editable.

Going live (`/<slug>/status/live`, views_run.change_status) from draft or pilot needs
this page's confirmation box; without it the action does nothing and leads here.
Closing early ("close now") likewise needs the overview's confirmation box.
The page itself only reads (DECISIONS rule 2: no GET changes state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for

from framelab.domain.translation import translation_gaps
from framelab.services import campaigns, review, study_drafts, study_lifecycle
from framelab.services.dashboard import channels
from framelab.services.study_versions import LOCK_PARTS, LoadedStudy, lock_hashes
from framelab.web.i18n import language_name
from framelab.web.studio.auth import require_role
from framelab.web.studio.blueprint import bp
from framelab.web.studio.common import render_study, session
from framelab.web.studio.forms import ActionForm
from framelab.web.studio.views_review import review_required

# The launch form's confirmation box: change_status refuses to go live without it.
CONFIRM_FIELD = "confirm_launch"
CONFIRM_VALUE = "yes"
# The overview's "close now" box: a study closes early only with it.
CONFIRM_CLOSE = "confirm_close"
# part -> (what the campaigner calls it, what it covers, the page that edits it)
LOCKED_PARTS = {
    "frames": (
        "Frames",
        "every arm, its message (title and text in every language), value tags and share",
        "studio.frames",
    ),
    "items": (
        "Questions",
        "every question, its wording and answers in every language, and the scales",
        "studio.questions",
    ),
    "design": (
        "Design",
        "how participants are assigned: draw, blocking groups, block size, seed",
        "studio.design",
    ),
    "plan": (
        "Analysis plan",
        "outcomes, covariates, subgroups, significance level, allowance, exclusions",
        "studio.plan",
    ),
}


@dataclass(frozen=True)
class LockedPart:
    key: str
    name: str
    covers: str
    endpoint: str
    digest: str
    already_locked: bool


def launch_confirmed() -> bool:
    """Whether the submitted form carries the launch page's confirmation."""
    return request.form.get(CONFIRM_FIELD) == CONFIRM_VALUE


def close_confirmed() -> bool:
    """Whether the overview's "close now" form carries its confirmation (DECISIONS rule 2)."""
    return request.form.get(CONFIRM_CLOSE) == CONFIRM_VALUE


def campaign_link(campaign: campaigns.Campaign) -> str:
    """The campaign's participant link: every version keeps it (DECISIONS rule 1)."""
    return url_for("participant.start", slug=campaign.slug, _external=True)


def _links(study: LoadedStudy, campaign: campaigns.Campaign) -> dict[str, Any]:
    base = campaign_link(campaign)
    spec = study.spec
    return {
        "study": base,
        "languages": [
            (language_name(lang), lang, f"{base}?lang={lang}")
            for lang in spec.languages
            if len(spec.languages) > 1
        ],
        "channels": [(source, f"{base}?src={source}") for source in channels(session(), study.id)],
        "example_channel": f"{base}?src=sms",
    }


@bp.route("/<slug>/launch")
@require_role("view")
def launch(study: LoadedStudy) -> str:
    """What launching locks (with the hashes it will record), the links, the confirmation."""
    spec = study.spec
    lock = study_drafts.lock_state(session(), study.slug)
    computed = lock_hashes(spec)
    parts = [
        LockedPart(
            key=part,
            name=LOCKED_PARTS[part][0],
            covers=LOCKED_PARTS[part][1],
            endpoint=LOCKED_PARTS[part][2],
            digest=(lock.hashes.get(part) or computed[part])
            if lock.is_locked(part)
            else computed[part],
            already_locked=lock.is_locked(part),
        )
        for part in LOCK_PARTS
    ]
    sources, _target = study_lifecycle.ACTIONS["live"]
    found = campaigns.campaign(session(), study.id)
    receiving = found.receiving
    return render_study(
        "studio/launch.html",
        study,
        "studio.overview",
        lock=lock,
        parts=parts,
        links=_links(study, found),
        campaign=found,
        switches_from=receiving
        if receiving.id != study.id and receiving.status in ("live", "paused")
        else None,
        review_state=review.review_state(session(), study.slug),
        review_required=review_required(),
        gaps=translation_gaps(spec),
        can_launch=study.status in sources,
        form=ActionForm(),
        confirm_field=CONFIRM_FIELD,
        confirm_value=CONFIRM_VALUE,
        language_name=language_name,
    )
