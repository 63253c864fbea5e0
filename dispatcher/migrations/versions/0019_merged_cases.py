"""并案: a case merged into a main case about the same incident, and where an un-merge returns it.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("merged_into", sa.String(64)))
        batch.add_column(sa.Column("merged", sa.JSON()))
        batch.create_index("ix_cases_merged_into", ["merged_into"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_merged_into")
        batch.drop_column("merged")
        batch.drop_column("merged_into")
