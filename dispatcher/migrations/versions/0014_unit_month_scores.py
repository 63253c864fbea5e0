"""Per unit and month, the tally of the counted callbacks, kept by the transactions that change them.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_month_scores",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("unit", sa.String(64), primary_key=True),
        sa.Column("unit_class", sa.String(16), nullable=False),
        sa.Column("valid", sa.Integer, nullable=False),
        sa.Column("contacted", sa.Integer, nullable=False),
        sa.Column("resolved", sa.Integer, nullable=False),
        sa.Column("satisfied", sa.Integer, nullable=False),
        sa.Column("basically_satisfied", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO unit_month_scores SELECT month, unit, max(unit_class), count(*),"
        " sum(CASE WHEN contacted THEN 1 ELSE 0 END), sum(CASE WHEN resolved THEN 1 ELSE 0 END),"
        " sum(CASE WHEN satisfaction = 'satisfied' THEN 1 ELSE 0 END),"
        " sum(CASE WHEN satisfaction = 'basically_satisfied' THEN 1 ELSE 0 END)"
        " FROM callbacks WHERE counted GROUP BY month, unit"
    )


def downgrade() -> None:
    op.drop_table("unit_month_scores")
