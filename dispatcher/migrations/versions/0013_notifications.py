"""Notifications (one row per event × recipient × channel: the delivery log) and people's preferences.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import Id, UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("ticket_id", sa.String(64)),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(512), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("html", sa.Text),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime),
    )
    op.create_index("ix_notifications_ticket_id", "notifications", ["ticket_id"])
    op.create_index("ix_notifications_recipient", "notifications", ["recipient"])
    op.create_index("ix_notifications_due", "notifications", ["status", "channel", "due_at"])
    op.create_table(
        "preferences",
        sa.Column("person", sa.String(128), primary_key=True),
        sa.Column("addresses", sa.JSON, nullable=False),
        sa.Column("quiet", sa.String(16)),
        sa.Column("language", sa.String(8), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("preferences")
    op.drop_table("notifications")
