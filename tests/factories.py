"""The factories every area's tests build studies, plans and databases with.

One way to build a test study: start from a study as plain data and change what the test
is about with keyword overrides, `a__b=v` setting data["a"]["b"] (`items__2__points=5`
indexes a list, `design__seed=...` deletes the key, `None` stores null):

study_data(**overrides) -> dict         # examples/torture-ban.yaml as data
make_study(**overrides) -> Study        # the same, validated
small_study_data(**overrides) -> dict   # a small valid bilingual blocked study
small_study(**overrides) -> Study
with_change(data, "arms[1].frame.values", v) -> dict   # one change by dotted path
example_plan(**overrides) -> dict       # the analysis plan of a torture-ban-like export
session_for(database_url)               # context manager: a Session on a fresh schema
session_factory_for(database_url)       # context manager: a sessionmaker on a fresh schema
publish(session, spec=None, status="live") -> LoadedStudy
valid_answers(spec, step, **chosen) -> dict[str, str]   # a form every item accepts
approve(session, slug)                  # the reviewer sign-off a launch needs
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from framelab.db import full_metadata
from framelab.db.session import make_engine, make_session_factory
from framelab.domain.study import Study, study_from_data

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
EXAMPLE = EXAMPLES / "torture-ban.yaml"

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _set(data: Any, path: str, value: Any) -> None:
    steps: list[str | int] = [int(index) if index else key for key, index in _STEP.findall(path)]
    target = data
    for step in steps[:-1]:
        target = target.setdefault(step, {}) if isinstance(target, dict) else target[step]
    if value is not ...:
        target[steps[-1]] = value
    elif isinstance(target, dict):
        target.pop(steps[-1], None)
    else:
        del target[steps[-1]]


def with_change(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `data` with the value at `path` (`arms[1].frame.values`) replaced.

    A missing mapping on the way is created; `value=...` (Ellipsis) deletes the key instead.
    """
    data = copy.deepcopy(data)
    _set(data, path, value)
    return data


def with_overrides(data: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A copy of `data` with keyword overrides: `a__b=v` sets a.b, `a__0__b=v` sets a[0].b."""
    data = copy.deepcopy(data)
    for key, value in overrides.items():
        _set(data, re.sub(r"__(\d+)(?=__|$)", r"[\1]", key).replace("__", "."), value)
    return data


@lru_cache(maxsize=1)
def _example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def study_data(**overrides: Any) -> dict[str, Any]:
    """The example study (examples/torture-ban.yaml) as plain data with `overrides` applied."""
    return with_overrides(_example_data(), **overrides)


def make_study(**overrides: Any) -> Study:
    """A validated Study built from examples/torture-ban.yaml with `overrides`."""
    return study_from_data(study_data(**overrides))


# ---------------------------------------------------------------- a small study

AGREE = {
    "en": ["Strongly disagree", "Strongly agree"],
    "es": ["Muy en desacuerdo", "Muy de acuerdo"],
}

_SMALL: dict[str, Any] = {
    "slug": "small-study",
    "title": {"en": "Small study", "es": "Estudio pequeño"},
    "languages": ["en", "es"],
    "consent": {"en": "You may stop at any time.", "es": "Puedes parar cuando quieras."},
    "debrief": {"en": "Thank you.", "es": "Gracias."},
    "arms": [
        {
            "id": "control",
            "control": True,
            "frame": {
                "title": {"en": "Parks", "es": "Parques"},
                "body": {"en": "Parks are open.", "es": "Los parques abren."},
            },
        },
        {
            "id": "care",
            "frame": {
                "title": {"en": "Harm", "es": "Daño"},
                "body": {"en": "No one should suffer.", "es": "Nadie debería sufrir."},
                "values": ["care"],
            },
        },
        {
            "id": "liberty",
            "frame": {
                "title": {"en": "Power", "es": "Poder"},
                "body": {"en": "Limit the state.", "es": "Limitar al Estado."},
                "values": ["liberty"],
            },
        },
    ],
    "items": [
        {
            "id": "ideology",
            "type": "likert",
            "points": 5,
            "phase": "pre",
            "text": {"en": "Left or right?", "es": "¿Izquierda o derecha?"},
        },
        {
            "id": "care_1",
            "type": "likert",
            "points": 5,
            "phase": "pre",
            "value": "care",
            "labels": AGREE,
            "text": {"en": "Suffering hurts me.", "es": "El sufrimiento me duele."},
        },
        {
            "id": "care_2",
            "type": "likert",
            "points": 5,
            "phase": "pre",
            "value": "care",
            "labels": AGREE,
            "text": {"en": "I protect the weak.", "es": "Protejo a los débiles."},
        },
        {
            "id": "attn",
            "type": "choice",
            "phase": "pre",
            "role": "attention_check",
            "correct": 2,
            "text": {"en": "Choose Blue.", "es": "Elige Azul."},
            "options": [
                {"value": 1, "label": {"en": "Red", "es": "Rojo"}},
                {"value": 2, "label": {"en": "Blue", "es": "Azul"}},
            ],
        },
        {
            "id": "support",
            "type": "likert",
            "points": 7,
            "phase": ["pre", "post"],
            "role": "outcome",
            "text": {"en": "Support the ban?", "es": "¿Apoyas la prohibición?"},
        },
        {
            "id": "join_sms",
            "type": "binary",
            "phase": "post",
            "role": "intent",
            "text": {"en": "Join?", "es": "¿Unirte?"},
        },
        {
            "id": "donate",
            "type": "slider",
            "phase": "post",
            "role": "intent",
            "text": {"en": "Donate?", "es": "¿Donar?"},
        },
        {
            "id": "comment",
            "type": "text",
            "phase": "post",
            "required": False,
            "max_length": 20,
            "text": {"en": "Anything else?", "es": "¿Algo más?"},
        },
    ],
    "scales": [{"id": "care_values", "items": ["care_1", "care_2"], "value": "care"}],
    "design": {
        "scheme": "blocked",
        "block_by": "ideology",
        "strata": {"left": [1, 2], "centre": [3], "right": [4, 5]},
        "block_size": 6,
        "seed": 7,
    },
    "analysis": {
        "primary": ["support"],
        "secondary": ["join_sms"],
        "covariates": ["ideology", "care_values"],
        "moderators": ["ideology"],
    },
}


def small_study_data(**overrides: Any) -> dict[str, Any]:
    """The small bilingual blocked study as plain data with `overrides` applied."""
    return with_overrides(_SMALL, **overrides)


def small_study(**overrides: Any) -> Study:
    """A validated small study (3 arms, 8 items, one scale) with `overrides`."""
    return study_from_data(small_study_data(**overrides))


# ---------------------------------------------------------------- an analysis plan

_PLAN: dict[str, Any] = {
    "arm": "arm",
    "control": "control",
    "outcomes": [
        {
            "name": "post_support",
            "type": "continuous",
            "baseline": "pre_support",
            "label": "support for the ban",
            "units": "points on the 7-point scale",
            "primary": True,
        },
        {"name": "post_join_sms", "type": "binary", "label": "SMS sign-ups"},
    ],
    "covariates": ["pre_ideology"],
    "moderators": ["pre_ideology_group"],
    "alpha": 0.05,
    "correction": "holm",
    "exclude": {"attention_failed": True},
    "status": "status",
    "arm_labels": {
        "control": "Control",
        "care": "care",
        "fairness": "fairness",
        "loyalty": "loyalty",
    },
    "ri_draws": 2000,
    "seed": 20261125,
}


def example_plan(**overrides: Any) -> dict[str, Any]:
    """The analysis plan (docs/analysis.md) of a torture-ban-like export, with `overrides`.

    Two outcomes (support with its baseline, the primary one; SMS sign-ups), an ideology
    covariate and moderator, Holm correction, attention-check failures excluded. Override
    like a study: `outcomes__1__label="sign-ups"`, `ri_draws=500`, `seed=...` (no seed).
    """
    return with_overrides(_PLAN, **overrides)


@contextmanager
def session_factory_for(database_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on `database_url` with every table created; the engine is disposed after."""
    engine = make_engine(database_url)
    # create_all is much faster than running migrations in every test; tests/db checks
    # that the migrations and the models define the same schema.
    full_metadata().create_all(engine)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def session_for(database_url: str) -> Iterator[Session]:
    """One Session on a fresh schema at `database_url`."""
    with session_factory_for(database_url) as factory, factory() as session:
        yield session


def publish(session: Session, spec: Study | None = None, status: str = "live", now=None):
    """Publish `spec` (default: the example study) and return it as a LoadedStudy."""
    from framelab.services.study_versions import get_study, publish_study

    spec = spec or make_study()
    publish_study(session, spec, status=status, now=now)
    return get_study(session, spec.slug)


def _valid_value(item: Any) -> str:
    if item.type == "text":
        return "A comment."
    if item.role == "attention_check":
        return str(item.correct)
    values = item.allowed_values()
    return str(values[len(values) // 2])


def valid_answers(spec: Study, step: str, **chosen: Any) -> dict[str, str]:
    """A form that every item of `step` accepts (attention checks passed); `chosen` overrides."""
    from framelab.domain.steps import items_for_step

    form = {item.id: _valid_value(item) for item in items_for_step(spec, step)}
    form.update({k: str(v) for k, v in chosen.items()})
    return form


REVIEWER_EMAIL = "reviewer@example.org"


def approve(session: Session, slug: str, *, now=None, email: str = REVIEWER_EMAIL) -> None:
    """The reviewer sign-off every launch needs (DECISIONS rule 9).

    A reviewer account (created on first use, with a random password) gets the reviewer
    role on the study and approves its current spec through the real service.
    """
    import secrets
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from framelab.db.accounts import StudyMembership, User
    from framelab.services import review
    from framelab.services.accounts import get_account, hash_password
    from framelab.services.study_versions import get_study

    now = now or datetime.now(UTC)
    study = get_study(session, slug)
    user = session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            password_hash=hash_password(secrets.token_urlsafe(24)),
            is_admin=False,
            is_active=True,
            created_at=now,
        )
        session.add(user)
        session.flush()
    membership = session.scalar(
        sa.select(StudyMembership).where(
            StudyMembership.user_id == user.id, StudyMembership.study_id == study.id
        )
    )
    if membership is None:
        session.add(
            StudyMembership(user_id=user.id, study_id=study.id, role="reviewer", created_at=now)
        )
    session.commit()
    account = get_account(session, user.id)
    review.decide(session, slug, account, "approved", spec_hash=study.spec_hash, now=now)
