"""People and systems with their roles and scope, and their API tokens (stored hashed, revocable).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from dispatcher.adapters.tables import Id, UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(64)),
        sa.Column("post", sa.String(64)),
        sa.Column("scope", sa.String(12)),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), sa.ForeignKey("people.username"), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("revoked_at", UtcDateTime),
        sa.Column("last_used_at", UtcDateTime),
    )
    op.create_index("ix_tokens_token_hash", "tokens", ["token_hash"], unique=True)
    op.create_index("ix_tokens_username", "tokens", ["username"])


def downgrade() -> None:
    op.drop_table("tokens")
    op.drop_table("people")
