"""The case lifecycle: reply deadline, result, pending return and extension; audit from-state.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("reply_due", UtcDateTime))
        batch.add_column(sa.Column("result", sa.Text))
        batch.add_column(sa.Column("pending_return", sa.JSON))
        batch.add_column(sa.Column("pending_extension", sa.JSON))
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("from_state", sa.String(20)))


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("from_state")
    with op.batch_alter_table("cases") as batch:
        for column in ("pending_extension", "pending_return", "result", "reply_due"):
            batch.drop_column(column)
