"""The pauses and the extensions asked, by district, in the order the dashboard lists them: its two panels
and its count of pauses read every open case of the district to keep the few with a pause or an extension
asked (a district with 60,000 open cases: 41-44 ms each on SQLite, whatever the planner's statistics);
these partial indexes hold those cases only (docs/benchmarks.md).

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

# each index's condition as the lists write it (`paused = ...` implies it; `rows.has` for the extension)
PAUSE_ASKED = "paused IS NOT NULL"
EXTENSION_ASKED = "CAST(pending_extension AS TEXT) != 'null'"
INDEXES = {"ix_cases_pauses": PAUSE_ASKED, "ix_cases_extensions_asked": EXTENSION_ASKED}


def upgrade() -> None:
    for name, condition in INDEXES.items():
        where = sa.text(condition)
        op.create_index(
            name,
            "cases",
            ["district", "dispatched_at", "ticket_id"],
            sqlite_where=where,
            postgresql_where=where,
        )


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="cases")
