"""How each deadline was computed: the duration, its source and the calendar facts used.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deadlines") as table:
        table.add_column(sa.Column("how", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as table:
        table.drop_column("how")
