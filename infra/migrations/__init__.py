"""Alembic migrations of every table motcua owns (``python -m infra.migrate``)."""
