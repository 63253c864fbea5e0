"""Callbacks (回访) and appeals (申诉): the base of the three rates; a case's round and termination.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import Id, UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as table:
        table.add_column(sa.Column("round", sa.Integer, nullable=False, server_default="1"))
        table.add_column(sa.Column("callback", sa.JSON))
        table.add_column(sa.Column("terminated", sa.Text))
    op.create_table(
        "callbacks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(64), sa.ForeignKey("cases.ticket_id"), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("recorded_at", UtcDateTime, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("contacted", sa.Boolean, nullable=False),
        sa.Column("resolved", sa.Boolean, nullable=False),
        sa.Column("satisfaction", sa.String(24), nullable=False),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("post", sa.String(64), nullable=False),
        sa.Column("person", sa.String(64)),
        sa.Column("unit_class", sa.String(16), nullable=False),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_callbacks_ticket_id", "callbacks", ["ticket_id"])
    op.create_index("ix_callbacks_month_unit", "callbacks", ["month", "unit"])
    op.create_table(
        "appeals",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("callback_id", Id, sa.ForeignKey("callbacks.id"), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("filed_at", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", UtcDateTime),
        sa.Column("decision_reason", sa.Text),
    )
    op.create_index("ix_appeals_callback_id", "appeals", ["callback_id"])


def downgrade() -> None:
    op.drop_table("appeals")
    op.drop_table("callbacks")
    with op.batch_alter_table("cases") as table:
        table.drop_column("terminated")
        table.drop_column("callback")
        table.drop_column("round")
