"""Small factories shared by every area's tests.

make_study(**overrides) -> Study        # examples/torture-ban.yaml with top-level keys
                                        # replaced; `design__seed=7` sets a nested key
session_for(database_url)               # context manager: a Session on a fresh schema
session_factory_for(database_url)       # context manager: a sessionmaker on a fresh schema
publish(session, spec=None, status="live") -> LoadedStudy
valid_answers(spec, step, **chosen) -> dict[str, str]   # a form every item accepts
"""

from __future__ import annotations

import copy
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
EXAMPLE = ROOT / "examples" / "torture-ban.yaml"


@lru_cache(maxsize=1)
def _example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def study_data(**overrides: Any) -> dict[str, Any]:
    """The example study as plain data with overrides applied (`a__b=v` sets data['a']['b'])."""
    data = copy.deepcopy(_example_data())
    for key, value in overrides.items():
        parts = key.split("__")
        target = data
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        if value is None:
            target.pop(parts[-1], None)
        else:
            target[parts[-1]] = value
    return data


def make_study(**overrides: Any) -> Study:
    """A validated Study built from examples/torture-ban.yaml with `overrides`."""
    return study_from_data(study_data(**overrides))


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
    from framelab.services.flow import items_for_step

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
