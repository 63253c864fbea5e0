"""The emergencies by district and state, in the order the dashboard lists them: its emergencies panel read
every open case of the district and kept the emergencies (3,625 cases on 2,084 pages for 334 emergencies,
when the worker had just opened 30,000 requests: 10-16 ms of the page); this partial index holds the
emergency-tier cases only, a few in a hundred (docs/benchmarks.md).

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

EMERGENCY = "urgency = 'emergency'"


def upgrade() -> None:
    condition = sa.text(EMERGENCY)
    op.create_index(
        "ix_cases_emergencies",
        "cases",
        ["district", "state", "dispatched_at", "ticket_id"],
        sqlite_where=condition,
        postgresql_where=condition,
    )


def downgrade() -> None:
    op.drop_index("ix_cases_emergencies", table_name="cases")
