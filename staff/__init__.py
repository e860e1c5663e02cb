"""The staff console: review what the bot got wrong, refine answers, see the change live.

A small aiohttp web app (``python -m staff.server``) with server-rendered pages in
Vietnamese and English, a JSON API under ``/api/`` described by ``/api/openapi.json``,
staff accounts with roles, CSRF-protected sessions in the database and an audit log.
Its tables are created by the one Alembic history (``infra/migrations``).
"""
