"""Queued cases (manual dispatch, triage) and co-handling units of an assignment.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("queue", sa.String(64)))
        batch.create_index("ix_cases_queue", ["queue"])
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("co_handlers", sa.JSON, nullable=False, server_default="[]"))
    with op.batch_alter_table("assignments") as batch:
        batch.alter_column("co_handlers", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("co_handlers")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_queue")
        batch.drop_column("queue")
