"""挂起 (pause): a case's pause, asked or approved, and its status for the dashboard's counts and queue.

Revision ID: 0022
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("pause", sa.JSON))
        batch.add_column(sa.Column("paused", sa.String(16)))
    op.create_index("ix_cases_paused", "cases", ["paused", "ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_paused", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("paused")
        batch.drop_column("pause")
