"""Storage adapters (SQLAlchemy): tables, the SQL unit of work, the outbox."""
