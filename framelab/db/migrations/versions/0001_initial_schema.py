"""Initial schema: studies and versions, participants, responses, page visits, assignment log, block state.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'pilot', 'live', 'paused', 'closed')", name=op.f("ck_study_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study")),
        sa.UniqueConstraint("slug", name=op.f("uq_study_slug")),
    )
    op.create_table(
        "block_state",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=64), nullable=False),
        sa.Column("next_position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_block_state_study_id_study")
        ),
        sa.PrimaryKeyConstraint("study_id", "stratum", name=op.f("pk_block_state")),
    )
    op.create_table(
        "study_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("frames_hash", sa.String(length=64), nullable=True),
        sa.Column("items_hash", sa.String(length=64), nullable=True),
        sa.Column("design_hash", sa.String(length=64), nullable=True),
        sa.Column("plan_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_study_version_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_version")),
        sa.UniqueConstraint("study_id", "version", name=op.f("uq_study_version_study_id_version")),
    )
    op.create_index(
        op.f("ix_study_version_spec_hash"), "study_version", ["spec_hash"], unique=False
    )
    op.create_index(op.f("ix_study_version_study_id"), "study_version", ["study_id"], unique=False)

    op.create_table(
        "participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("study_version_id", sa.Integer(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("panel_hash", sa.String(length=64), nullable=True),
        sa.Column("panel_study_hash", sa.String(length=64), nullable=True),
        sa.Column("panel_session_hash", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("stratum", sa.String(length=64), nullable=True),
        sa.Column("arm", sa.String(length=64), nullable=True),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pilot", sa.Boolean(), nullable=False),
        sa.Column("attention_failed", sa.Boolean(), nullable=False),
        sa.Column("speeder", sa.Boolean(), nullable=False),
        sa.Column("honeypot", sa.Boolean(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('started', 'screened_out', 'assigned', 'completed', 'withdrawn')",
            name=op.f("ck_participant_status"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_participant_study_id_study")
        ),
        sa.ForeignKeyConstraint(
            ["study_version_id"],
            ["study_version.id"],
            name=op.f("fk_participant_study_version_id_study_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant")),
        sa.UniqueConstraint("code", name=op.f("uq_participant_code")),
        sa.UniqueConstraint(
            "study_id", "panel_hash", name=op.f("uq_participant_study_id_panel_hash")
        ),
    )
    op.create_index(op.f("ix_participant_study_id"), "participant", ["study_id"], unique=False)

    op.create_table(
        "assignment_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("arm", sa.String(length=64), nullable=False),
        sa.Column("stratum", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("block_index", sa.Integer(), nullable=False),
        sa.Column("position_in_block", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_assignment_log_participant_id_participant"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_assignment_log_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_log")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_assignment_log_participant_id")),
        sa.UniqueConstraint(
            "study_id",
            "stratum",
            "position",
            name=op.f("uq_assignment_log_study_id_stratum_position"),
        ),
    )
    op.create_index(
        op.f("ix_assignment_log_study_id"), "assignment_log", ["study_id"], unique=False
    )

    op.create_table(
        "page_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_page_visit_participant_id_participant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_visit")),
        sa.UniqueConstraint(
            "participant_id", "step", name=op.f("uq_page_visit_participant_id_step")
        ),
    )
    op.create_table(
        "response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False),
        sa.Column("value_int", sa.Integer(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("phase IN ('pre', 'post')", name=op.f("ck_response_phase")),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_response_participant_id_participant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response")),
        sa.UniqueConstraint(
            "participant_id",
            "item_id",
            "phase",
            name=op.f("uq_response_participant_id_item_id_phase"),
        ),
    )


def downgrade() -> None:

    op.drop_table("response")
    op.drop_table("page_visit")
    op.drop_index(op.f("ix_assignment_log_study_id"), table_name="assignment_log")

    op.drop_table("assignment_log")
    op.drop_index(op.f("ix_participant_study_id"), table_name="participant")

    op.drop_table("participant")
    op.drop_index(op.f("ix_study_version_study_id"), table_name="study_version")
    op.drop_index(op.f("ix_study_version_spec_hash"), table_name="study_version")

    op.drop_table("study_version")
    op.drop_table("block_state")
    op.drop_table("study")
