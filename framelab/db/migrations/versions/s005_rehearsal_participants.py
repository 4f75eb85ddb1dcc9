"""Mark simulated participants as rehearsal rows.

Revision ID: s005
Revises: s004
Create Date: 2026-12-03

`participant.rehearsal` is true for participants enrolled by `framelab simulate` (a
rehearsal token only the simulator holds; see docs/privacy.md). Rehearsal rows never
count towards a study's target or dashboard and never enter a real analysis. Rows of
earlier releases cannot be told apart afterwards and stay real (false): a database
where bots ran before this revision needs a fresh study for a clean real sample.
The target check's index gains the column, so counting real completions still reads
the index alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s005"
down_revision = "s004"
branch_labels = None
depends_on = None

_INDEX = "ix_participant_study_status"


def upgrade() -> None:
    with op.batch_alter_table("participant") as batch:
        batch.add_column(
            sa.Column("rehearsal", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.drop_index(_INDEX, table_name="participant")
    op.create_index(_INDEX, "participant", ["study_id", "status", "pilot", "rehearsal"])


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="participant")
    with op.batch_alter_table("participant") as batch:
        batch.drop_column("rehearsal")
    op.create_index(_INDEX, "participant", ["study_id", "status", "pilot"])
