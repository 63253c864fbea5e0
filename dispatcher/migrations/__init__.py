"""Alembic migrations of the Jiesu database."""
