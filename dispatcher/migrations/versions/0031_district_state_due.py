"""A district's cases by state and reply deadline, with what the dashboard counts of them: its drill-down and
its overdue cases by unit read every open case of the district (a district with 60,000 open cases on
SQLite: 77 and 48 ms), where this index alone answers them (24 ms; the overdue ones found by their deadline,
not among all) (docs/benchmarks.md).

Revision ID: 0031
Revises: 0030
"""

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

COLUMNS = ["district", "state", "reply_due", "street", "urgency", "lead_unit"]


def upgrade() -> None:
    op.create_index("ix_cases_district_state_due", "cases", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_cases_district_state_due", table_name="cases")
