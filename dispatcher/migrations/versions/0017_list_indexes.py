"""Indexes for the lists read in SQL (`dispatcher.reads`): cases by dispatch within a state, a district or
both, and by reception; a unit's current assignments and the few with co-handlers; a case's nearest pending
deadline; fired escalations by firing time. The single-column indexes they begin with go.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

CO_HANDLED = "CAST(co_handlers AS TEXT) != '[]'"
FIRED_ESCALATION = "kind = 'escalation' AND status = 'fired'"
NEW = [
    ("ix_cases_dispatched", "cases", ["dispatched_at", "ticket_id"], ""),
    ("ix_cases_state_dispatched", "cases", ["state", "dispatched_at", "ticket_id"], ""),
    ("ix_cases_district_dispatched", "cases", ["district", "dispatched_at", "ticket_id"], ""),
    ("ix_cases_district_state_dispatched", "cases", ["district", "state", "dispatched_at", "ticket_id"], ""),
    ("ix_cases_received", "cases", ["received_at", "ticket_id"], ""),
    ("ix_cases_district_received", "cases", ["district", "received_at"], ""),
    ("ix_assignments_unit_current", "assignments", ["unit", "current", "ticket_id"], ""),
    ("ix_assignments_co_handled", "assignments", ["ticket_id"], CO_HANDLED),
    ("ix_deadlines_ticket_status_due", "deadlines", ["ticket_id", "status", "due_at"], ""),
    ("ix_sla_timers_fired_escalations", "sla_timers", ["fired_at", "id"], FIRED_ESCALATION),
]
# each the first column of a new one
OLD = [
    ("ix_cases_state", "cases", ["state"]),
    ("ix_cases_district", "cases", ["district"]),
    ("ix_assignments_unit", "assignments", ["unit"]),
    ("ix_deadlines_ticket_id", "deadlines", ["ticket_id"]),
]


def upgrade() -> None:
    for name, table, columns, where in NEW:
        condition = sa.text(where) if where else None
        # the co-handled assignments' lists in their index, to be read without the table
        include = ["co_handlers", "current"] if name == "ix_assignments_co_handled" else None
        op.create_index(
            name,
            table,
            columns,
            sqlite_where=condition,
            postgresql_where=condition,
            postgresql_include=include,
        )
    for name, table, _ in OLD:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in OLD:
        op.create_index(name, table, columns)
    for name, table, _, _ in NEW:
        op.drop_index(name, table_name=table)
