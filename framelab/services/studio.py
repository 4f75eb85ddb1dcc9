"""Studio use cases: create, edit, lock, launch, version and close studies.

Built on framelab.services.study_versions (publish_study, get_study, set_status, lock_hashes),
adding what the studio needs on top:

- edits are whole validated specs; a change to a locked part (frames, items, design or
  analysis plan of a study that has been live, or a plan an analyst locked) is refused
  with StudyLocked naming the part;
- a draft nobody has answered yet is edited in place (one version), otherwise an edit
  becomes a new version through publish_study(replace=True);
- lifecycle actions with plain-language refusals; a study that reached target_n is
  closed; a live study is changed by creating a new study version (a copy in draft).

Services take a Session, own the transaction and never import Flask.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from framelab.db.accounts import StudyMembership
from framelab.db.models import Participant, Study, StudyVersion
from framelab.db.session import reading, writing
from framelab.domain.study import (
    Localized,
    LocalizedLabels,
    StudyError,
    load_study_file,
    study_from_data,
)
from framelab.domain.study import Study as StudySpec
from framelab.domain.translation import Gap, translation_gaps
from framelab.services import audit, campaigns, review
from framelab.services.accounts import Account
from framelab.services.study_versions import (
    LOCK_PARTS,
    LoadedStudy,
    add_version,
    close_at_target_in_session,
    get_study,
    lock_hashes,
    publish_study,
    set_status,
)

# part -> (its name in messages, the verb that agrees with it)
PART_NAMES = {
    "frames": ("arms and frames", "are"),
    "items": ("items and scales", "are"),
    "design": ("design", "is"),
    "plan": ("analysis plan", "is"),
}
# action -> (statuses it may start from, status it leads to)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "pilot": (("draft",), "pilot"),
    "draft": (("pilot",), "draft"),
    "live": (("draft", "pilot"), "live"),
    "pause": (("live",), "paused"),
    "resume": (("paused",), "live"),
    "close": (("live", "paused"), "closed"),
}
# Structure-only study templates, shipped inside the package (see pyproject's package-data).
TEMPLATE_FOLDER = Path(__file__).resolve().parents[1] / "study_templates"
BLANK = "blank"


class StudyLocked(ValueError):
    """An edit to a locked part; the message says why and what to do instead."""

    def __init__(self, part: str, message: str) -> None:
        self.part = part
        super().__init__(message)


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


@dataclass(frozen=True)
class LockState:
    """What of the current version is locked, and the recorded hashes."""

    locked_at: datetime | None
    hashes: dict[str, str | None]
    plan_locked: bool
    participants: int
    plan_locked_at: datetime | None = None

    def is_locked(self, part: str) -> bool:
        return self.locked_at is not None or (part == "plan" and self.plan_locked)


# ------------------------------------------------------------------ templates


def templates() -> dict[str, Path]:
    """The study templates shipped inside the package, by file stem (blank first)."""
    found = {p.stem: p for p in sorted(TEMPLATE_FOLDER.glob("*.yaml"))}
    return dict(sorted(found.items(), key=lambda kv: (kv[0] != BLANK, kv[0])))


@dataclass(frozen=True)
class TemplateInfo:
    """What the new-study page says about a template."""

    name: str
    description: str
    languages: tuple[str, ...]
    arms: int


def template_infos() -> list[TemplateInfo]:
    """Every shipped template with the first paragraph of its header comment."""
    out = []
    for name, path in templates().items():
        text = path.read_text(encoding="utf-8")
        lines = []
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            lines.append(line.lstrip("# ").strip())
        description = " ".join(lines).split(" Structure only")[0].split(" Every text")[0]
        spec = load_study_file(path)
        out.append(
            TemplateInfo(
                name=name,
                description=description.removeprefix("Template: ").strip(),
                languages=tuple(spec.languages),
                arms=len(spec.arms),
            )
        )
    return out


def spec_from_template(
    name: str, slug: str, languages: Sequence[str] | None = None, *, seed: int | None = None
) -> StudySpec:
    """A template's study under a new slug, in `languages` (first = default).

    Only the structure comes over: no completion code or redirect, no arm labels (they
    would reach the codebook unseen), and a fresh random seed. A chosen language the
    template has no text for gets the text of the template's default language, which
    the confound check then flags as untranslated. Raises StudyError.
    """
    available = templates()
    if name not in available:
        known = ", ".join(available) or "none installed"
        raise StudyError([("template", f"'{name}' is not a template (known: {known})")])
    spec = load_study_file(available[name])
    chosen = list(dict.fromkeys(languages or spec.languages))
    if not chosen:
        raise StudyError([("languages", "choose at least one language")])
    data = _restricted(spec, spec.model_dump(mode="json"), chosen, spec.default_language)
    data["slug"] = slug
    data["languages"] = chosen
    data["default_language"] = chosen[0]
    data.pop("completion", None)
    for arm in data["arms"]:
        arm.pop("label", None)
    data["design"]["seed"] = seed if seed is not None else secrets.randbelow(2**31 - 2) + 1
    return study_from_data(data)


def _restricted(node: Any, data: Any, languages: list[str], source: str) -> Any:
    """`data` (node's JSON form) with every localized text given in exactly `languages`."""
    if isinstance(node, Localized | LocalizedLabels):
        texts = {lang: node.get(lang, source) for lang in languages}
        return texts[languages[0]] if len(languages) == 1 else texts
    if isinstance(node, BaseModel) and isinstance(data, dict):
        return {
            key: _restricted(getattr(node, key), value, languages, source)
            if key in type(node).model_fields
            else value
            for key, value in data.items()
        }
    if isinstance(node, list) and isinstance(data, list):
        return [_restricted(n, d, languages, source) for n, d in zip(node, data, strict=True)]
    return data


def replace_sections(spec: StudySpec, changes: Mapping[str, Any]) -> StudySpec:
    """The spec with whole top-level sections replaced (JSON-like data); raises StudyError."""
    data = spec.model_dump(mode="json")
    data.update(changes)
    return study_from_data(data)


# ------------------------------------------------------------------ create and edit


def create_study(
    session: Session, spec: StudySpec, *, owner: Account, now: datetime
) -> LoadedStudy:
    """Store a new draft study and make `owner` its owner; StudyError when the slug is taken."""
    taken = session.scalar(sa.select(Study.id).where(Study.slug == spec.slug))
    if taken is not None:
        session.rollback()
        raise StudyError(
            [("slug", f"'{spec.slug}' is already used by another study; choose another")]
        )
    version = publish_study(session, spec, status="draft", now=now)
    session.add(
        StudyMembership(user_id=owner.id, study_id=version.study_id, role="owner", created_at=now)
    )
    audit.record(
        session,
        version.study_id,
        "created",
        now=now,
        spec_hash=version.spec_hash,
        actor=audit.Actor.of(owner),
    )
    session.commit()
    return get_study(session, spec.slug)


def lock_state(session: Session, slug: str) -> LockState:
    """Locks and participant count of the study's current version."""
    loaded = get_study(session, slug)
    version = session.get(StudyVersion, loaded.version_id)
    participants = _participants(session, version.id)
    state = LockState(
        locked_at=version.locked_at,
        hashes={
            "frames": version.frames_hash,
            "items": version.items_hash,
            "design": version.design_hash,
            "plan": version.plan_hash,
        },
        plan_locked=version.plan_hash is not None,
        participants=participants,
        plan_locked_at=version.plan_locked_at,
    )
    session.rollback()
    return state


def _participants(session: Session, version_id: int) -> int:
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Participant)
            .where(Participant.study_version_id == version_id)
        )
        or 0
    )


def locked_changes(old: StudySpec, new: StudySpec, state: LockState) -> list[str]:
    """The locked parts that `new` changes (empty when the edit is allowed)."""
    before, after = lock_hashes(old), lock_hashes(new)
    return [p for p in LOCK_PARTS if before[p] != after[p] and state.is_locked(p)]


def update_study(session: Session, slug: str, spec: StudySpec, *, now: datetime) -> LoadedStudy:
    """Save an edited spec; StudyLocked for a locked part, StudyError for a changed slug.

    The target sample of a launched study is locked with the design (DECISIONS rule 2):
    an edit that changes it is refused here, whichever page sent it; only the owner
    raises it, through `raise_target`.
    """
    return _update(session, slug, spec, now=now, target_may_change=False)


def _update(
    session: Session, slug: str, spec: StudySpec, *, now: datetime, target_may_change: bool
) -> LoadedStudy:
    loaded = get_study(session, slug)
    if spec.slug != slug:
        session.rollback()
        raise StudyError(
            [("slug", f"the slug of an existing study cannot change (it is '{slug}')")]
        )
    if loaded.status == "closed":
        session.rollback()
        raise StudyLocked("study", f"{slug} is closed; create a new version to run it again.")
    state = lock_state(session, slug)
    refused = locked_changes(loaded.spec, spec, state)
    if refused:
        raise StudyLocked(refused[0], _locked_message(refused[0], state))
    if (
        state.locked_at is not None
        and spec.target_n != loaded.spec.target_n
        and not target_may_change
    ):
        session.rollback()
        raise StudyLocked("target", _target_message(loaded.spec.target_n))
    if spec.content_hash() == loaded.spec_hash:
        return loaded
    detail = "changed: " + ", ".join(changed_sections(loaded.spec, spec))
    if state.locked_at is None and state.participants == 0:
        version = session.get(StudyVersion, loaded.version_id)
        version.spec_json = spec.canonical_json()
        version.spec_hash = spec.content_hash()
        study = session.get(Study, loaded.id)
        study.title = spec.text(spec.title, spec.default_language)
        study.updated_at = now
        audit.record(
            session, loaded.id, "edited", now=now, detail=detail, spec_hash=spec.content_hash()
        )
        session.commit()
        return get_study(session, slug)
    version = publish_study(session, spec, status=loaded.status, replace=True, now=now)
    if state.plan_locked and version.plan_hash is None:
        # publish_study starts the new version unlocked; the analyst's plan lock carries over.
        version.plan_hash = state.hashes["plan"]
        version.plan_locked_at = state.plan_locked_at
    action = "target_raised" if target_may_change else "edited"
    audit.record(session, loaded.id, action, now=now, detail=detail, spec_hash=version.spec_hash)
    session.commit()
    return get_study(session, slug)


def changed_sections(old: StudySpec, new: StudySpec) -> list[str]:
    """The top-level sections of the study file that differ (for the audit trail)."""
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    return [key for key in dict.fromkeys([*before, *after]) if before.get(key) != after.get(key)]


def _locked_message(part: str, state: LockState) -> str:
    name, verb = PART_NAMES.get(part, (part, "is"))
    digest = (state.hashes.get(part) or "")[:12]
    if state.locked_at is not None:
        return (
            f"The {name} {verb} locked because the study has gone live (hash {digest}). "
            f"Create a new version to change {'them' if verb == 'are' else 'it'}."
        )
    return (
        f"The analysis plan is locked (pre-registered, hash {digest}). "
        f"Create a new version to change it."
    )


def _target_message(target: int | None) -> str:
    if target is None:
        return (
            "The study went live without a target sample, so it runs until the owner closes "
            "it; a target cannot be added now. Create a new version to plan one."
        )
    return (
        f"The target sample ({target} completed participants) is locked because the study "
        "has gone live: only the owner may raise it (on the overview page). To stop "
        "earlier, the owner closes the study (Close now, confirmed)."
    )


def raise_target(session: Session, slug: str, target_n: int, *, now: datetime) -> LoadedStudy:
    """Raise the target sample of a launched study (the view lets only the owner call it).

    Only upwards (DECISIONS rule 2): a lower target would show the results before the
    planned sample and close the study without the owner's "close now". Results stay
    hidden because the new target is above the count; the study stays open.
    """
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
        raise StudyLocked("target", _target_message(None))
    if target_n <= current:
        raise StudyLocked(
            "target",
            f"target: {target_n} is not above the current target of {current}; after launch "
            "the target can only be raised. To stop earlier, close the study (Close now, "
            "confirmed).",
        )
    spec = replace_sections(loaded.spec, {"target_n": target_n})
    return _update(session, slug, spec, now=now, target_may_change=True)


def lock_plan(session: Session, slug: str, *, now: datetime) -> str:
    """Pre-register the analysis plan: record its hash; later plan edits are refused."""
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
    digest = version.plan_hash
    session.commit()
    return digest


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
    loaded = get_study(session, slug)
    sources, target = ACTIONS[action]
    if loaded.status not in sources:
        session.rollback()
        raise LifecycleError(
            f"status: {slug} is {loaded.status}; '{action}' is possible only from "
            f"{' or '.join(sources)}"
        )
    gaps = translation_gaps(loaded.spec) if target == "live" else []
    if gaps:
        session.rollback()
        raise TranslationIncomplete(slug, gaps)
    launching = action == "live"
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
    session.commit()
    return changed


def close_if_target_reached(session: Session, slug: str, *, now: datetime) -> bool:
    """Close a live study whose completed (non-pilot) participants reached target_n."""
    with reading(session):
        loaded = get_study(session, slug)
    target = loaded.spec.target_n
    if loaded.status != "live" or target is None:
        return False  # a studio page that only reads never queues for the writer lock
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
        session.add(StudyMembership(user_id=user_id, study_id=study.id, role=role, created_at=now))
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
    session.commit()
    return get_study(session, new_slug)
