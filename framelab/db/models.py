"""Typed SQLAlchemy 2.0 models. Models never commit; services own the transaction.

Privacy: no IP address, user agent or raw panel id is stored anywhere; panel ids
are kept only as keyed pseudonyms, HMAC-SHA256 under a key file outside the database
of the salted SHA-256 (framelab.services.pseudonyms; the salt is the campaign's,
`Study.salt`).

The assignment log names no participant and holds no time (migration s010): a
withdrawal's erased stratum cannot be joined back from it. It is append-only: a flush
that updates or deletes a log row raises, so balance accounting and replay always see
every assignment made. The database enforces it too (triggers on SQLite and
PostgreSQL, migrations s009 and s010, and `create_all` through
`ASSIGNMENT_LOG_TRIGGERS`): UPDATE is always refused, DELETE unless the study's id is
in `assignment_log_erasure`, which only an erasure writes,
inside its own transaction (framelab.services.erasure).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from framelab.domain import participant_codes

STUDY_STATUSES = ("draft", "pilot", "live", "paused", "closed")
PARTICIPANT_STATUSES = ("started", "screened_out", "assigned", "completed", "withdrawn")
PHASES = ("pre", "post")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def new_salt() -> str:
    """A per-study salt for panel id hashing."""
    return secrets.token_hex(16)


def new_participant_code() -> str:
    """An unguessable participant code (100 random bits, Crockford base32: participant_codes)."""
    return participant_codes.new_code()


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with constraint names stable across SQLite and PostgreSQL."""

    metadata = sa.MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


def one_of(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    """A CHECK that `column` holds one of `values`, named after the column."""
    return sa.CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=column)


class Study(Base):
    __tablename__ = "study"
    __table_args__ = (one_of("status", STUDY_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    current_version: Mapped[int | None] = mapped_column(sa.Integer)
    salt: Mapped[str] = mapped_column(sa.String(64), default=new_salt)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # A campaign (DECISIONS rule 1) is the first study of a slug and every version made
    # from it: a later version is its own study row (own status, lock, plan, assignment
    # log) whose `campaign_id` is the first study's id. The first study's row says which
    # of them receives new participants on the campaign's links (NULL: the first itself).
    # Plain integers (no foreign key): SQLite can add them without rebuilding the study
    # table that everything references; only framelab.services.campaigns writes them.
    campaign_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    receiving_study_id: Mapped[int | None] = mapped_column(sa.Integer)
    # When `framelab erase-study` or `purge-expired` removed the participant data (a
    # tombstone: the study row, its versions and audit trail stay).
    erased_at: Mapped[datetime | None]

    versions: Mapped[list[StudyVersion]] = relationship(
        back_populates="study", order_by="StudyVersion.version"
    )

    @property
    def campaign_root_id(self) -> int:
        """The id of the campaign's first study (this study's own id for a first study)."""
        return self.campaign_id if self.campaign_id is not None else self.id


class StudyVersion(Base):
    __tablename__ = "study_version"
    __table_args__ = (sa.UniqueConstraint("study_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    spec_json: Mapped[str] = mapped_column(sa.Text)
    spec_hash: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime]
    locked_at: Mapped[datetime | None]
    frames_hash: Mapped[str | None] = mapped_column(sa.String(64))
    items_hash: Mapped[str | None] = mapped_column(sa.String(64))
    design_hash: Mapped[str | None] = mapped_column(sa.String(64))
    plan_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # When the plan hash was recorded (plan lock or launch): the report's pre-registration test.
    plan_locked_at: Mapped[datetime | None]

    study: Mapped[Study] = relationship(back_populates="versions")


class Participant(Base):
    __tablename__ = "participant"
    __table_args__ = (
        # NULL panel hashes (no panel) never collide, on SQLite and PostgreSQL alike.
        sa.UniqueConstraint("study_id", "panel_hash"),
        one_of("status", PARTICIPANT_STATUSES),
        # The target check counts completed real participants (index only).
        sa.Index(
            "ix_participant_study_status", "study_id", "status", "pilot", "rehearsal", "duplicate"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_participant_code)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), index=True)
    study_version_id: Mapped[int] = mapped_column(sa.ForeignKey("study_version.id"))
    spec_hash: Mapped[str] = mapped_column(sa.String(64))
    panel_hash: Mapped[str | None] = mapped_column(sa.String(64))
    panel_study_hash: Mapped[str | None] = mapped_column(sa.String(64))
    panel_session_hash: Mapped[str | None] = mapped_column(sa.String(64))
    source: Mapped[str | None] = mapped_column(sa.String(64))
    # The channel link (framelab.db.reach) they came through; erased with the source.
    channel_id: Mapped[int | None] = mapped_column(sa.Integer)
    language: Mapped[str] = mapped_column(sa.String(16))
    stratum: Mapped[str | None] = mapped_column(sa.String(64))
    arm: Mapped[str | None] = mapped_column(sa.String(64))
    step: Mapped[str] = mapped_column(sa.String(16), default="consent")
    status: Mapped[str] = mapped_column(sa.String(16), default="started")
    pilot: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # A simulated participant (framelab simulate): never in real counts, targets or analyses.
    # Server default only, so inserts written for an older schema (no such column) still work.
    rehearsal: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    # A repeat panel id (DECISIONS rule 5): enrolled like anyone, with no panel hash of its
    # own, assigned outside the block sequence (DuplicateAssignment), never in real counts,
    # targets or analyses. Server default only, like `rehearsal`.
    duplicate: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    attention_failed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    speeder: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    honeypot: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    duration_seconds: Mapped[float | None] = mapped_column(sa.Float)
    started_at: Mapped[datetime]
    consented_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]

    responses: Mapped[list[Response]] = relationship(back_populates="participant")
    study_version: Mapped[StudyVersion] = relationship()


class Response(Base):
    __tablename__ = "response"
    __table_args__ = (
        sa.UniqueConstraint("participant_id", "item_id", "phase"),
        one_of("phase", PHASES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(sa.String(64))
    phase: Mapped[str] = mapped_column(sa.String(8))
    value_int: Mapped[int | None] = mapped_column(sa.Integer)
    value_text: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime]

    participant: Mapped[Participant] = relationship(back_populates="responses")


class PageVisit(Base):
    __tablename__ = "page_visit"
    __table_args__ = (sa.UniqueConstraint("participant_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(sa.String(16))
    shown_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    seconds: Mapped[float | None] = mapped_column(sa.Float)


class AssignmentLog(Base):
    """One assignment of a block sequence: stratum, position, block, arm; nobody's and no time.

    Since migration s010 a log row names no participant and carries no time, and no
    participant row points to it: after a withdrawal (which erases the participant's
    stratum) nothing joins their row back to a stratum. `pilot` and `rehearsal` are the
    study's state and the simulation's mark when the slot was taken (for the bundle's
    log and the audit), not anything a participant answered.
    """

    __tablename__ = "assignment_log"
    __table_args__ = (sa.UniqueConstraint("study_id", "stratum", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), index=True)
    arm: Mapped[str] = mapped_column(sa.String(64))
    stratum: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(sa.Integer)
    block_index: Mapped[int] = mapped_column(sa.Integer)
    position_in_block: Mapped[int] = mapped_column(sa.Integer)
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    spec_hash: Mapped[str] = mapped_column(sa.String(64))
    pilot: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    rehearsal: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class BlockState(Base):
    """The persistent per-stratum counter: the next free position of the sequence."""

    __tablename__ = "block_state"

    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), primary_key=True)
    stratum: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    next_position: Mapped[int] = mapped_column(sa.Integer, default=0)


class DuplicateCounter(Base):
    """The next position in a study's sequence of duplicates (apart from every stratum's)."""

    __tablename__ = "duplicate_counter"

    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), primary_key=True)
    next_position: Mapped[int] = mapped_column(sa.Integer, default=0)


class DuplicateAssignment(Base):
    """A duplicate's arm: a weighted draw from (seed, position among the duplicates).

    Kept apart from the assignment log, so that the log's block sequences replay as if
    duplicates had never come, and written with the same two statements as a real
    assignment (a counter and a row), so that their cost does not tell them apart.
    """

    __tablename__ = "duplicate_assignment"
    __table_args__ = (
        sa.UniqueConstraint("study_id", "position"),
        sa.UniqueConstraint("participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participant.id", ondelete="CASCADE"))
    study_id: Mapped[int] = mapped_column(sa.ForeignKey("study.id"), index=True)
    arm: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int] = mapped_column(sa.Integer)
    seed: Mapped[int] = mapped_column(sa.BigInteger)
    spec_hash: Mapped[str] = mapped_column(sa.String(64))


class PseudonymCheck(Base):
    """The pseudonym key chain applied to a fixed input: tells a key file that is not this database's."""

    __tablename__ = "pseudonym_check"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[str] = mapped_column(sa.String(64))
    changed_at: Mapped[datetime]


class AssignmentLogErasure(Base):
    """A study whose assignment log an erasure is deleting, within that one transaction.

    The append-only trigger lets log rows be deleted only while their study is listed
    here; an erasure inserts the row, deletes the log and removes the row before it
    commits, so no other transaction ever sees it.
    """

    __tablename__ = "assignment_log_erasure"

    study_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)


# The same triggers as migrations s009/s010, for databases made with `create_all` (tests).
ASSIGNMENT_LOG_TRIGGERS = {
    "sqlite": (
        "CREATE TRIGGER IF NOT EXISTS assignment_log_no_update BEFORE UPDATE ON assignment_log "
        "BEGIN SELECT RAISE(ABORT, 'assignment_log is append-only: rows cannot be updated'); END",
        "CREATE TRIGGER IF NOT EXISTS assignment_log_no_delete BEFORE DELETE ON assignment_log "
        "WHEN NOT EXISTS (SELECT 1 FROM assignment_log_erasure e WHERE e.study_id = OLD.study_id) "
        "BEGIN SELECT RAISE(ABORT, 'assignment_log is append-only: rows are deleted only by "
        "erase-study'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION assignment_log_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM assignment_log_erasure e "
        "WHERE e.study_id = OLD.study_id) THEN RETURN OLD; END IF; "
        "RAISE EXCEPTION USING MESSAGE = 'assignment_log is append-only: ' || TG_OP || "
        "' refused', ERRCODE = 'restrict_violation'; END $$",
        "CREATE OR REPLACE TRIGGER assignment_log_append_only BEFORE UPDATE OR DELETE "
        "ON assignment_log FOR EACH ROW EXECUTE FUNCTION assignment_log_append_only()",
        "CREATE OR REPLACE TRIGGER assignment_log_no_truncate BEFORE TRUNCATE "
        "ON assignment_log FOR EACH STATEMENT EXECUTE FUNCTION assignment_log_append_only()",
    ),
}


@event.listens_for(Base.metadata, "after_create")
def _create_assignment_log_triggers(
    target: sa.MetaData, connection: sa.Connection, **_: Any
) -> None:
    if "assignment_log" not in target.tables:
        return
    for statement in ASSIGNMENT_LOG_TRIGGERS.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


@event.listens_for(Session, "before_flush")
def _assignment_log_is_append_only(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AssignmentLog) and (obj in session.deleted or session.is_modified(obj)):
            raise ValueError(
                f"assignment_log: row {obj.id} is append-only (updates and deletes are not allowed)"
            )
