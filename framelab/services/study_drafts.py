"""Study drafts: templates, creating a study, and saving edits with the locks respected.

Built on framelab.services.study_versions (publish_study, get_study, lock_hashes):

- a new study comes from a shipped template (structure only) or an uploaded file, and
  its creator becomes its owner;
- edits are whole validated specs; a change to a locked part (frames, items, design or
  analysis plan of a study that has been live, or a plan an analyst locked) is refused
  with StudyLocked naming the part, and so is a changed target sample after launch;
- a draft nobody has answered yet is edited in place (one version), otherwise an edit
  becomes a new version through publish_study(replace=True); the audit trail names the
  sections each edit changed.

Status changes, the plan lock, the target raise and new versions of a campaign are in
framelab.services.study_lifecycle. Services take a Session, own the transaction
(`reading`/`writing`) and never import Flask.
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
from framelab.domain.builder import editing
from framelab.domain.study import (
    Localized,
    LocalizedLabels,
    StudyError,
    load_study_file,
    study_from_data,
)
from framelab.domain.study import Study as StudySpec
from framelab.services import audit
from framelab.services.accounts import Account
from framelab.services.study_versions import (
    LOCK_PARTS,
    LoadedStudy,
    get_study,
    lock_hashes,
    publish_study,
)

# part -> (its name in messages, the verb that agrees with it)
PART_NAMES = {
    "frames": ("arms and frames", "are"),
    "items": ("items and scales", "are"),
    "design": ("design", "is"),
    "plan": ("analysis plan", "is"),
}
# Structure-only study templates, shipped inside the package (see pyproject's package-data).
TEMPLATE_FOLDER = Path(__file__).resolve().parents[1] / "study_templates"
BLANK = "blank"


class StudyLocked(ValueError):
    """An edit to a locked part; the message says why and what to do instead."""

    def __init__(self, part: str, message: str) -> None:
        self.part = part
        super().__init__(message)


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
    with writing(session):
        taken = session.scalar(sa.select(Study.id).where(Study.slug == spec.slug))
        if taken is not None:
            raise StudyError(
                [("slug", f"'{spec.slug}' is already used by another study; choose another")]
            )
        version = publish_study(session, spec, status="draft", now=now)
        session.add(
            StudyMembership(
                user_id=owner.id, study_id=version.study_id, role="owner", created_at=now
            )
        )
        audit.record(
            session,
            version.study_id,
            "created",
            now=now,
            spec_hash=version.spec_hash,
            actor=audit.Actor.of(owner),
        )
    return get_study(session, spec.slug)


def lock_state(session: Session, slug: str) -> LockState:
    """Locks and participant count of the study's current version."""
    with reading(session):
        loaded = get_study(session, slug)
        version = session.get(StudyVersion, loaded.version_id)
        return LockState(
            locked_at=version.locked_at,
            hashes={
                "frames": version.frames_hash,
                "items": version.items_hash,
                "design": version.design_hash,
                "plan": version.plan_hash,
            },
            plan_locked=version.plan_hash is not None,
            participants=_participants(session, version.id),
            plan_locked_at=version.plan_locked_at,
        )


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
    raises it, through `study_lifecycle.raise_target`.
    """
    return apply_edit(session, slug, spec, now=now, target_may_change=False)


def set_target(session: Session, slug: str, target_n: int | None, *, now: datetime) -> LoadedStudy:
    """Set the target sample of a study not yet launched ("use this number").

    A launched study's target is locked with the design (DECISIONS rule 2): then this
    raises StudyLocked("target") whatever the number, and only the owner raises it,
    confirmed, through `study_lifecycle.raise_target`.
    """
    with writing(session):
        current = get_study(session, slug).spec
        if lock_state(session, slug).locked_at is not None:
            raise StudyLocked("target", target_message(current.target_n))
        return update_study(session, slug, editing.set_target(current, target_n), now=now)


def apply_edit(
    session: Session, slug: str, spec: StudySpec, *, now: datetime, target_may_change: bool
) -> LoadedStudy:
    """`update_study`, or with `target_may_change` the owner's raise of the target sample."""
    with writing(session):  # the checks and the change see one state of the study
        loaded = get_study(session, slug)
        if spec.slug != slug:
            raise StudyError(
                [("slug", f"the slug of an existing study cannot change (it is '{slug}')")]
            )
        if loaded.status == "closed":
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
            raise StudyLocked("target", target_message(loaded.spec.target_n))
        if spec.content_hash() == loaded.spec_hash:
            return loaded
        _store_edit(session, loaded, spec, state, now=now, target_may_change=target_may_change)
    return get_study(session, slug)


def _store_edit(
    session: Session,
    loaded: LoadedStudy,
    spec: StudySpec,
    state: LockState,
    *,
    now: datetime,
    target_may_change: bool,
) -> None:
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
        return
    version = publish_study(session, spec, status=loaded.status, replace=True, now=now)
    if state.plan_locked and version.plan_hash is None:
        # publish_study starts the new version unlocked; the analyst's plan lock carries over.
        version.plan_hash = state.hashes["plan"]
        version.plan_locked_at = state.plan_locked_at
    action = "target_raised" if target_may_change else "edited"
    audit.record(session, loaded.id, action, now=now, detail=detail, spec_hash=version.spec_hash)


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


def target_message(target: int | None) -> str:
    """Why the target sample of a launched study cannot change as asked."""
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
