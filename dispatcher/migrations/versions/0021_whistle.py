"""吹哨报到: a called unit's own SLA timers (its unit on the timer, part of the timer's identity).

Revision ID: 0021
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sla_timers") as batch:
        batch.add_column(sa.Column("unit", sa.String(64), nullable=False, server_default=""))
        batch.drop_constraint("uq_sla_timers_firing", type_="unique")
        batch.create_unique_constraint(
            "uq_sla_timers_firing", ["ticket_id", "stage", "kind", "level", "deadline", "unit"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM sla_timers WHERE unit <> ''")
    with op.batch_alter_table("sla_timers") as batch:
        batch.drop_constraint("uq_sla_timers_firing", type_="unique")
        batch.create_unique_constraint(
            "uq_sla_timers_firing", ["ticket_id", "stage", "kind", "level", "deadline"]
        )
        batch.drop_column("unit")
