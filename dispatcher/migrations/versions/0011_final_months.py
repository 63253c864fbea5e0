"""The months whose final scores (and ranking) were published: once each.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "final_months",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("published_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("final_months")
