"""Joint handling: each co-handling unit's acknowledgement and report, kept with the case.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("co_handlers", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("co_handlers")
