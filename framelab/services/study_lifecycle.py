"""Study lifecycle: pilot, launch, pause, resume and close; the plan lock; the target
raise; a new version of a campaign.

Lifecycle actions come with plain-language refusals: launching needs a reviewer's
approval of the current spec (unless the instance turned sign-off off) and every
language complete; a study that reached its target_n is closed; a live study is changed
by creating a new version (a copy in draft, a study of its own on the campaign's links).
Creating and editing drafts is framelab.services.study_drafts. Services take a Session,
own the transaction (`reading`/`writing`) and never import Flask.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from framelab.db.accounts import StudyMembership
from framelab.db.models import Study, StudyVersion
from framelab.db.session import reading, writing
from framelab.domain.translation import Gap, translation_gaps
from framelab.services import audit, campaigns, review
from framelab.services.accounts import Account
from framelab.services.dashboard import completed_count
from framelab.services.study_drafts import (
    StudyLocked,
    apply_edit,
    lock_state,
    replace_sections,
    target_message,
)
from framelab.services.study_targets import close_at_target_in_session
from framelab.services.study_versions import (
    LoadedStudy,
    add_version,
    get_study,
    lock_hashes,
    set_status,
)

# action -> (statuses it may start from, status it leads to)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "pilot": (("draft",), "pilot"),
    "draft": (("pilot",), "draft"),
    "live": (("draft", "pilot"), "live"),
    "pause": (("live",), "paused"),
    "resume": (("paused",), "live"),
    "close": (("live", "paused"), "closed"),
}


class LifecycleError(ValueError):
    """A status change that is not possible from the study's current status."""


class ReviewRequired(LifecycleError):
    """Going live without a reviewer's approval of the current spec (DECISIONS rule 9)."""

    def __init__(self, slug: str, voided: bool) -> None:
        self.voided = voided
        why = (
            "it was edited after the reviewer approved it, which voided the approval"
            if voided
            else "no reviewer has approved it yet"
        )
        super().__init__(
            f"review: {slug} cannot go live because {why}. A reviewer of the study reads the "
            "consent, debrief and data plan on its Review page and approves them."
        )


class TranslationIncomplete(LifecycleError):
    """Launching a study some language of which is not fully translated; `gaps` says what."""

    def __init__(self, slug: str, gaps: list[Gap]) -> None:
        self.gaps = gaps
        by_language: dict[str, list[str]] = {}
        for gap in gaps:
            by_language.setdefault(gap.lang, []).append(gap.key)
        parts = []
        for lang, keys in by_language.items():
            shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
            parts.append(f"{lang} ({len(keys)}: {shown})")
        super().__init__(
            f"translation: {slug} cannot go live until every language is complete; still "
            f"untranslated or missing: {'; '.join(parts)}. The Languages page lists them all."
        )


# ------------------------------------------------------------------ target and plan


def raise_target(session: Session, slug: str, target_n: int, *, now: datetime) -> LoadedStudy:
    """Raise the target sample of a launched study (the view lets only the owner call it).

    Only upwards (DECISIONS rule 2): a lower target would show the results before the
    planned sample and close the study without the owner's "close now". Results stay
    hidden because the new target is above the count; the study stays open.
    """
    with writing(session):
        loaded = get_study(session, slug)
        state = lock_state(session, slug)
        current = loaded.spec.target_n
        if state.locked_at is None:
            raise LifecycleError(
                f"target: {slug} has not gone live; set its target sample on the plan page."
            )
        if loaded.status == "closed":
            raise StudyLocked("study", f"{slug} is closed; create a new version to run it again.")
        if current is None:
            raise StudyLocked("target", target_message(None))
        if target_n <= current:
            raise StudyLocked(
                "target",
                f"target: {target_n} is not above the current target of {current}; after "
                "launch the target can only be raised. To stop earlier, close the study "
                "(Close now, confirmed).",
            )
        spec = replace_sections(loaded.spec, {"target_n": target_n})
        return apply_edit(session, slug, spec, now=now, target_may_change=True)


def lock_plan(session: Session, slug: str, *, now: datetime) -> str:
    """Pre-register the analysis plan: record its hash; later plan edits are refused."""
    with writing(session):
        loaded = get_study(session, slug)
        version = session.get(StudyVersion, loaded.version_id)
        if version.plan_hash is None:
            version.plan_hash = lock_hashes(loaded.spec)["plan"]
            version.plan_locked_at = now
            session.get(Study, loaded.id).updated_at = now
            audit.record(
                session,
                loaded.id,
                "plan_locked",
                now=now,
                detail=f"plan hash {version.plan_hash}",
                spec_hash=loaded.spec_hash,
            )
        return version.plan_hash


# ------------------------------------------------------------------ lifecycle


def change_status(
    session: Session, slug: str, action: str, *, now: datetime, require_review: bool = True
) -> LoadedStudy:
    """Run a lifecycle action (pilot, draft, live, pause, resume, close).

    Launching (draft or pilot to live) needs a reviewer's approval of the current spec
    unless the instance turned sign-off off (`require_review`). A later version of a
    campaign that goes live receives the campaign's newcomers from then on (its launch
    page says so and asks the owner to confirm; DECISIONS rule 1).
    """
    if action not in ACTIONS:
        raise LifecycleError(
            f"action: {action!r} is not a lifecycle action (expected one of: {', '.join(ACTIONS)})"
        )
    sources, target = ACTIONS[action]
    launching = action == "live"
    with writing(session):
        loaded = get_study(session, slug)
        if loaded.status not in sources:
            raise LifecycleError(
                f"status: {slug} is {loaded.status}; '{action}' is possible only from "
                f"{' or '.join(sources)}"
            )
        gaps = translation_gaps(loaded.spec) if target == "live" else []
        if gaps:
            raise TranslationIncomplete(slug, gaps)
        if launching and require_review:
            state = review.review_state(session, slug)
            if state.approval is None:
                raise ReviewRequired(slug, voided=state.voided is not None)
        changed = set_status(session, slug, target, now=now)
        event = {"live": "launched", "close": "closed"}.get(action, "status")
        audit.record(
            session,
            changed.id,
            event,
            now=now,
            detail=f"{loaded.status} → {changed.status}",
            spec_hash=changed.spec_hash,
        )
        if launching:
            campaigns.make_receiving(session, changed.id, now=now)
    return changed


def close_if_target_reached(session: Session, slug: str, *, now: datetime) -> bool:
    """Close a live study whose completed (non-pilot) participants reached target_n."""
    with reading(session):  # a page that finds nothing to close never queues for the lock
        loaded = get_study(session, slug)
        target = loaded.spec.target_n
        if loaded.status != "live" or target is None or completed_count(session, loaded) < target:
            return False
    with writing(session):
        # The completion that reaches the target closes the study (the participant hot
        # path); this catches a target lowered below the count since, with the same check.
        closed = close_at_target_in_session(session, loaded.id, target, now=now)
    if closed:
        session.expire_all()  # the study row changed by an UPDATE statement
    return closed


def new_version(session: Session, slug: str, *, account: Account, now: datetime) -> LoadedStudy:
    """A new version of the study's campaign, in draft, with the same members.

    The version is a study of its own under `<campaign>-vN` (own lock, plan, assignment
    log and data) that keeps the campaign's links: once it goes live, newcomers on the
    campaign's link enrol into it, while people already in an earlier version finish
    there (DECISIONS rule 1). It starts from this study's spec. The slug is chosen and
    inserted in one transaction and never replaces another study, whoever owns it;
    StudyError when it cannot be had.
    """
    with writing(session):
        loaded = get_study(session, slug)
        root = session.get(Study, session.get(Study, loaded.id).campaign_root_id)
        new_slug = campaigns.version_slug(session, root.slug)
        spec = replace_sections(loaded.spec, {"slug": new_slug})
        members = session.execute(
            sa.select(StudyMembership.user_id, StudyMembership.role).where(
                StudyMembership.study_id == loaded.id
            )
        ).all()
        title = spec.text(spec.title, spec.default_language)
        study = campaigns.insert_version_study(session, root, new_slug, title, now=now)
        add_version(session, study, spec, spec.content_hash(), 1, now)
        for user_id, role in members:
            session.add(
                StudyMembership(user_id=user_id, study_id=study.id, role=role, created_at=now)
            )
        if account.id not in {m[0] for m in members}:
            session.add(
                StudyMembership(user_id=account.id, study_id=study.id, role="owner", created_at=now)
            )
        audit.record(
            session,
            study.id,
            "version_created",
            now=now,
            detail=f"from {loaded.slug} (version {loaded.version}); campaign link /s/{root.slug}",
            spec_hash=spec.content_hash(),
            actor=audit.Actor.of(account),
        )
    return get_study(session, new_slug)
