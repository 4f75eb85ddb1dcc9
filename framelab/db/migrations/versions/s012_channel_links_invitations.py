"""Channel links and invitation lists (issue 21).

Revision ID: s012
Revises: s011
Create Date: 2026-12-04

- `channel_link`: a campaign's named link per channel (`/c/<code>`), the source its
  participants get, and a bare counter of how often it was opened.
- `recipient_list`, `recipient`, `recipient_list_entry`: uploaded invitation lists,
  one recipient per contact of the campaign, kept as a keyed pseudonym of the contact
  id with the hash of their link's token (framelab.db.reach).
- `participant.channel_id`: the channel link a participant came through (a plain
  nullable integer, as `study.campaign_id`: SQLite adds it without rebuilding the
  participant table; existing participants have none).

Nothing existing changes meaning, so the upgrade is the same on SQLite and PostgreSQL;
downgrade drops the tables and the column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s012"
down_revision = "s011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("participant", sa.Column("channel_id", sa.Integer(), nullable=True))
    op.create_table(
        "channel_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("opened", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.CheckConstraint(
            "kind IN ('sms', 'whatsapp', 'social', 'email', 'poster', 'custom')",
            name=op.f("ck_channel_link_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_channel_link_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_link")),
        sa.UniqueConstraint("code", name=op.f("uq_channel_link_code")),
        sa.UniqueConstraint("study_id", "name", name=op.f("uq_channel_link_study_id_name")),
        sa.UniqueConstraint("study_id", "source", name=op.f("uq_channel_link_study_id_source")),
    )  # fmt: skip
    op.create_index(op.f("ix_channel_link_study_id"), "channel_link", ["study_id"])
    op.create_table(
        "recipient_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_recipient_list_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient_list")),
        sa.UniqueConstraint("study_id", "name", name=op.f("uq_recipient_list_study_id_name")),
    )  # fmt: skip
    op.create_index(op.f("ix_recipient_list_study_id"), "recipient_list", ["study_id"])
    op.create_table(
        "recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("token_nonce", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"],
            name=op.f("fk_recipient_participant_id_participant"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_recipient_study_id_study")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_recipient_participant_id")),
        sa.UniqueConstraint(
            "study_id", "pseudonym", name=op.f("uq_recipient_study_id_pseudonym")
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_recipient_token_hash")),
    )  # fmt: skip
    op.create_index(op.f("ix_recipient_study_id"), "recipient", ["study_id"])
    op.create_table(
        "recipient_list_entry",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"], ["recipient_list.id"],
            name=op.f("fk_recipient_list_entry_list_id_recipient_list"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["recipient.id"],
            name=op.f("fk_recipient_list_entry_recipient_id_recipient"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "recipient_id", name=op.f("pk_recipient_list_entry")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_recipient_list_entry_recipient_id"), "recipient_list_entry", ["recipient_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_recipient_list_entry_recipient_id"), table_name="recipient_list_entry")
    op.drop_table("recipient_list_entry")
    op.drop_index(op.f("ix_recipient_study_id"), table_name="recipient")
    op.drop_table("recipient")
    op.drop_index(op.f("ix_recipient_list_study_id"), table_name="recipient_list")
    op.drop_table("recipient_list")
    op.drop_index(op.f("ix_channel_link_study_id"), table_name="channel_link")
    op.drop_table("channel_link")
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("channel_id")
