"""Alembic migrations of the study database (environment and versions, configured in code)."""
