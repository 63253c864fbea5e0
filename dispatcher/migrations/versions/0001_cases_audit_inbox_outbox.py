"""Cases, assignments, deadlines, audit trail, inbox and outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import Id, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("category", sa.String(16)),
        sa.Column("location", sa.JSON, nullable=False),
        sa.Column("requester", sa.JSON, nullable=False),
        sa.Column("attachments", sa.JSON, nullable=False),
        sa.Column("related_ticket_id", sa.String(64)),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("dispatched_at", UtcDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_table(
        "assignments",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(64), sa.ForeignKey("cases.ticket_id"), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("post", sa.String(64), nullable=False),
        sa.Column("person", sa.String(64)),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("catalog_version", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("assigned_at", UtcDateTime, nullable=False),
        sa.Column("current", sa.Boolean, nullable=False),
    )
    op.create_index("ix_assignments_ticket_id", "assignments", ["ticket_id"])
    op.create_index("ix_assignments_unit", "assignments", ["unit"])
    op.create_table(
        "deadlines",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(64), sa.ForeignKey("cases.ticket_id"), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fired_at", UtcDateTime),
    )
    op.create_index("ix_deadlines_ticket_id", "deadlines", ["ticket_id"])
    op.create_index("ix_deadlines_status_due_at", "deadlines", ["status", "due_at"])
    op.create_table(
        "audit",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
    )
    op.create_index("ix_audit_ticket_id", "audit", ["ticket_id"])
    op.create_table(
        "inbox",
        sa.Column("source", sa.String(255), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("processed_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.LargeBinary),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime),
    )
    op.create_index(
        "ix_outbox_unsent",
        "outbox",
        ["id"],
        sqlite_where=sa.text("sent_at IS NULL"),
        postgresql_where=sa.text("sent_at IS NULL"),
    )


def downgrade() -> None:
    for table in ("outbox", "inbox", "audit", "deadlines", "assignments", "cases"):
        op.drop_table(table)
