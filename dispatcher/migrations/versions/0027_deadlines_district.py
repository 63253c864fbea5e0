"""The case's district on each deadline, in the index of the deadlines by stage and due time: the dashboard's
weekly overdue chart for a district read every reply deadline of the city due in its twelve weeks and joined
them with the district's cases (23-34 ms of the district supervisor's page at 200,000 cases); it now reads
them from the index alone, keeping the district's (about 13 ms; docs/benchmarks.md). A case's district is set
when it is opened and never changes, so the copy cannot go stale. The index keeps its place and width (the
district where the case was, which the chart no longer joins for): no more index to write per deadline.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deadlines", sa.Column("district", sa.String(12)))
    op.execute(
        "UPDATE deadlines SET district = "
        "(SELECT cases.district FROM cases WHERE cases.ticket_id = deadlines.ticket_id)"
    )
    op.drop_index("ix_deadlines_stage_due", table_name="deadlines")
    op.create_index(
        "ix_deadlines_stage_due", "deadlines", ["stage", "due_at", "district", "status", "fired_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_deadlines_stage_due", table_name="deadlines")
    op.create_index(
        "ix_deadlines_stage_due", "deadlines", ["stage", "due_at", "status", "fired_at", "ticket_id"]
    )
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("district")
