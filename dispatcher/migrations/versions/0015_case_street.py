"""The resolved street (or township) of a case: repeats are linked by it when the community is unknown.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("street", sa.String(12)))
    # a community's code begins with its street's (9 digits): older cases that know one know the other
    op.execute("UPDATE cases SET street = substr(community, 1, 9) WHERE community IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("street")
