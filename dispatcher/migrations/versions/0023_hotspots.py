"""Hotspots (主动治理): the detector's tallies and the hotspots it opened.

Revision ID: 0023
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import UtcDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotspot_tallies",
        sa.Column("key", sa.String(96), primary_key=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "hotspots",
        sa.Column("hotspot_id", sa.String(64), primary_key=True),
        sa.Column("district", sa.String(12), nullable=False),
        sa.Column("street", sa.String(12)),
        sa.Column("community", sa.String(16)),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("span", sa.String(8), nullable=False),
        sa.Column("window_start", UtcDateTime, nullable=False),
        sa.Column("window_end", UtcDateTime, nullable=False),
        sa.Column("observed", sa.Integer, nullable=False),
        sa.Column("expected", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("first_ticket_id", sa.String(64)),
        sa.Column("ticket_ids", sa.JSON, nullable=False),
        sa.Column("detected_at", UtcDateTime, nullable=False),
        sa.Column("closed_at", UtcDateTime),
        sa.Column("status", sa.String(8), nullable=False),
    )
    op.create_index("ix_hotspots_status_detected", "hotspots", ["status", "detected_at"])
    op.create_index("ix_hotspots_district_status_detected", "hotspots", ["district", "status", "detected_at"])


def downgrade() -> None:
    op.drop_index("ix_hotspots_district_status_detected", table_name="hotspots")
    op.drop_index("ix_hotspots_status_detected", table_name="hotspots")
    op.drop_table("hotspots")
    op.drop_table("hotspot_tallies")
