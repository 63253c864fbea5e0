"""SLA timers: the warning and escalation steps of each deadline, fired once each by the sweeper.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import Id, UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_timers",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.String(64), sa.ForeignKey("cases.ticket_id"), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("deadline", UtcDateTime, nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fired_at", UtcDateTime),
        sa.UniqueConstraint("ticket_id", "stage", "kind", "level", "deadline", name="uq_sla_timers_firing"),
    )
    op.create_index("ix_sla_timers_ticket_id", "sla_timers", ["ticket_id"])
    op.create_index("ix_sla_timers_status_due_at", "sla_timers", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("sla_timers")
