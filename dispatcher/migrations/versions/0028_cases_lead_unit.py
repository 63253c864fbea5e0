"""The unit of a case's current assignment on the case itself, with an index by unit and state: a worker's
inbox read every open case of the city (4,233 at 200,000 cases) and checked each against the unit's current
assignments, its whole history (12,867 for the busiest street), about 10 ms of the page in PostgreSQL; it
now reads the unit's open cases from the index (docs/benchmarks.md). The column is written with the case's
state (`case_rows.state_values`), so a redispatch moves it with the assignment; the migration fills it from
the current assignments of the cases stored before.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("lead_unit", sa.String(64)))
    op.execute(
        "UPDATE cases SET lead_unit = (SELECT assignments.unit FROM assignments "
        "WHERE assignments.ticket_id = cases.ticket_id AND assignments.current IS true)"
    )
    op.create_index("ix_cases_lead_unit_state", "cases", ["lead_unit", "state", "ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_lead_unit_state", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("lead_unit")
