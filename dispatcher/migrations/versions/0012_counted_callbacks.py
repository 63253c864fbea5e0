"""Callbacks carry whether they count, so the rates are one indexed scan; indexes for the secondary
indicators (cases received, overdue, rejected returns, extensions per month).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as table:
        table.add_column(sa.Column("counted", sa.Boolean, nullable=False, server_default=sa.true()))
    op.execute(
        "UPDATE callbacks SET counted = (current AND valid"
        " AND NOT EXISTS (SELECT 1 FROM cases WHERE cases.ticket_id = callbacks.ticket_id"
        " AND cases.terminated IS NOT NULL)"
        " AND NOT EXISTS (SELECT 1 FROM appeals WHERE appeals.callback_id = callbacks.id"
        " AND appeals.status = 'accepted'))"
    )
    op.create_index(
        "ix_callbacks_counted",
        "callbacks",
        ["month", "counted", "unit_class", "unit", "contacted", "resolved", "satisfaction"],
    )
    op.create_index("ix_assignments_assigned_at", "assignments", ["assigned_at", "unit"])
    op.create_index("ix_audit_action_at", "audit", ["action", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_action_at", "audit")
    op.drop_index("ix_assignments_assigned_at", "assignments")
    op.drop_index("ix_callbacks_counted", "callbacks")
    with op.batch_alter_table("callbacks") as table:
        table.drop_column("counted")
