"""Tokens may expire: web sessions and `POST /api/login` tokens always do, `jiesu users token --expires`.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import UtcDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("expires_at", UtcDateTime))


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("expires_at")
