"""Alembic migrations of the staff console's tables (``python -m staff.migrate``)."""
