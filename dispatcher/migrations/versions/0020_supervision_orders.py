"""Supervision orders (督办单): a supervisor's order for a reply on a case, by a deadline.

Revision ID: 0020
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import UtcDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervision_orders",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("ticket_id", sa.String(64), sa.ForeignKey("cases.ticket_id"), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("addressee", sa.String(8), nullable=False),
        sa.Column("head_post", sa.String(64)),
        sa.Column("ask", sa.Text, nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("how", sa.Text, nullable=False),
        sa.Column("issued_by", sa.String(64), nullable=False),
        sa.Column("issued_at", UtcDateTime, nullable=False),
        sa.Column("answer", sa.Text),
        sa.Column("answered_by", sa.String(64)),
        sa.Column("answered_at", UtcDateTime),
    )
    op.create_index("ix_supervision_orders_ticket_id", "supervision_orders", ["ticket_id"])
    op.create_index("ix_supervision_orders_open_due", "supervision_orders", ["answered_at", "due_at"])
    op.create_index("ix_supervision_orders_unit", "supervision_orders", ["unit", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_supervision_orders_unit", table_name="supervision_orders")
    op.drop_index("ix_supervision_orders_open_due", table_name="supervision_orders")
    op.drop_index("ix_supervision_orders_ticket_id", table_name="supervision_orders")
    op.drop_table("supervision_orders")
