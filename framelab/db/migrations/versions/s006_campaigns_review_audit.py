"""Campaigns of versions, reviewer sign-off and the audit trail.

Revision ID: s006
Revises: s005
Create Date: 2026-12-03

- `study.campaign_id`: a later version of a study is its own study row (own status, lock,
  plan and assignment log) that points at the campaign's first study; the first study's
  `receiving_study_id` names the version that receives new participants on the
  campaign's links (NULL: the first study itself). Both are plain integers, so
  SQLite adds them without rebuilding the table every other table references. Studies of earlier releases are
  each their own campaign; a `<slug>-vN` copy made by the old "new version" stays a
  separate campaign with its own link, as it was.
- The `reviewer` role on a study, `review` (a reviewer's decision on one spec hash) and
  `audit_event` (append-only: who edited, approved, locked, launched, closed, exported
  or erased what, and when).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s006"
down_revision = "s005"
branch_labels = None
depends_on = None

_BEFORE = ("owner", "editor", "analyst", "translator", "viewer")
_AFTER = ("owner", "editor", "analyst", "reviewer", "translator", "viewer")


def _roles(roles: tuple[str, ...]) -> None:
    with op.batch_alter_table("study_membership") as batch:
        batch.drop_constraint(op.f("ck_study_membership_role"), type_="check")
        batch.create_check_constraint(
            op.f("ck_study_membership_role"), f"role IN ({', '.join(repr(r) for r in roles)})"
        )


def upgrade() -> None:
    with op.batch_alter_table("study") as batch:
        batch.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("receiving_study_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_study_campaign_id"), "study", ["campaign_id"])
    _roles(_AFTER)
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_email", sa.String(254), nullable=False),
        sa.Column("decision", sa.String(24), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('approved', 'changes_requested')", name=op.f("ck_review_decision")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["account.id"], name=op.f("fk_review_reviewer_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], name=op.f("fk_review_study_id_study")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
    )  # fmt: skip
    op.create_index(op.f("ix_review_study_id"), "review", ["study_id"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["account.id"], name=op.f("fk_audit_event_actor_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_audit_event_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )  # fmt: skip
    op.create_index(op.f("ix_audit_event_study_id"), "audit_event", ["study_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_event_study_id"), table_name="audit_event")
    op.drop_table("audit_event")
    op.drop_index(op.f("ix_review_study_id"), table_name="review")
    op.drop_table("review")
    op.execute("DELETE FROM study_membership WHERE role = 'reviewer'")
    _roles(_BEFORE)
    op.drop_index(op.f("ix_study_campaign_id"), table_name="study")
    with op.batch_alter_table("study") as batch:
        batch.drop_column("receiving_study_id")
        batch.drop_column("campaign_id")
