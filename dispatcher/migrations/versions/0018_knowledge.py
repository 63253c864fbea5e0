"""The knowledge base (知识库), and the entry that answered a consultation closed at intake (直接办结).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("keywords", sa.JSON, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_to", sa.Date),
        sa.Column("retired_at", UtcDateTime),
        sa.Column("retired_by", sa.String(64)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_knowledge_category", "knowledge", ["category"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("knowledge_entry", sa.String(64)))
    op.create_index("ix_cases_knowledge_entry", "cases", ["knowledge_entry"])


def downgrade() -> None:
    op.drop_index("ix_cases_knowledge_entry", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("knowledge_entry")
    op.drop_index("ix_knowledge_category", table_name="knowledge")
    op.drop_table("knowledge")
