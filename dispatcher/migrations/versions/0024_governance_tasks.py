"""Governance tasks (主动治理任务): a hotspot made a task for one unit, and the cases it links.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import UtcDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "governance_tasks",
        sa.Column("task_id", sa.String(16), primary_key=True),
        sa.Column("hotspot_id", sa.String(64), nullable=False, unique=True),
        sa.Column("district", sa.String(12), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False),
        sa.Column("ask", sa.Text, nullable=False),
        sa.Column("due_at", UtcDateTime, nullable=False),
        sa.Column("how", sa.Text, nullable=False),
        sa.Column("center_at", UtcDateTime, nullable=False),
        sa.Column("ticket_ids", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("report", sa.Text),
        sa.Column("reported_by", sa.String(64)),
        sa.Column("reported_at", UtcDateTime),
    )
    op.create_index("ix_governance_tasks_open_due", "governance_tasks", ["reported_at", "due_at"])
    op.create_index("ix_governance_tasks_district", "governance_tasks", ["district", "reported_at"])
    op.create_index("ix_governance_tasks_unit", "governance_tasks", ["unit", "reported_at"])
    op.create_table(
        "governance_task_cases",
        sa.Column("task_id", sa.String(16), sa.ForeignKey("governance_tasks.task_id"), primary_key=True),
        sa.Column("ticket_id", sa.String(64), sa.ForeignKey("cases.ticket_id"), primary_key=True),
    )
    op.create_index("ix_governance_task_cases_ticket", "governance_task_cases", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_governance_task_cases_ticket", table_name="governance_task_cases")
    op.drop_table("governance_task_cases")
    op.drop_index("ix_governance_tasks_unit", table_name="governance_tasks")
    op.drop_index("ix_governance_tasks_district", table_name="governance_tasks")
    op.drop_index("ix_governance_tasks_open_due", table_name="governance_tasks")
    op.drop_table("governance_tasks")
