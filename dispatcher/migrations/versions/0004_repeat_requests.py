"""Repeat requests: the resolved community, the requester's phone for lookup, the case linked to.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("community", sa.String(12)))
        batch.add_column(sa.Column("requester_phone", sa.String(32)))
        batch.add_column(sa.Column("linked_to", sa.String(64)))
        batch.create_index("ix_cases_requester_phone", ["requester_phone"])
        batch.create_index("ix_cases_linked_to", ["linked_to"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_linked_to")
        batch.drop_index("ix_cases_requester_phone")
        for column in ("linked_to", "requester_phone", "community"):
            batch.drop_column(column)
