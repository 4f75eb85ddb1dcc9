"""The frame library: partners' public keys, results cards, the library's log.

Revision ID: s011
Revises: s010
Create Date: 2026-12-03

- `library_partner`: a coalition partner's name and Ed25519 public key (and its
  fingerprint, which signed cards name); cards signed by other keys are refused.
- `library_card`: one results card (docs/library.md) as the signed envelope that was
  exported or received, its hash (a card is stored once), whether it is this
  instance's (`study_id`) or a partner's (`partner_id`).
- `library_event`: who added a partner, published, exported or imported a card, and
  every refused import with its reason.

New tables only: nothing existing changes, so the upgrade is the same on SQLite and
PostgreSQL and downgrade drops the three tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s011"
down_revision = "s010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "library_partner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(254), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_partner")),
        sa.UniqueConstraint("name", name=op.f("uq_library_partner_name")),
        sa.UniqueConstraint("key_id", name=op.f("uq_library_partner_key_id")),
    )
    op.create_table(
        "library_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_hash", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(254), nullable=False),
        sa.CheckConstraint(
            "origin IN ('local', 'imported')", name=op.f("ck_library_card_origin")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["library_partner.id"],
            name=op.f("fk_library_card_partner_id_library_partner"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_library_card_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_card")),
        sa.UniqueConstraint("card_hash", name=op.f("uq_library_card_card_hash")),
    )  # fmt: skip
    op.create_index(op.f("ix_library_card_study_id"), "library_card", ["study_id"])
    op.create_table(
        "library_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["account.id"], name=op.f("fk_library_event_actor_id_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_event")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("library_event")
    op.drop_index(op.f("ix_library_card_study_id"), table_name="library_card")
    op.drop_table("library_card")
    op.drop_table("library_partner")
