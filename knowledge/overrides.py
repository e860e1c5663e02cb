"""Staff edits on top of the official catalogue: field-level overrides and aliases.

The ``procedures`` table, which search, the bot and everything else read, holds each
procedure's *effective* record: the official record with the staff's overrides applied.
For every procedure that has an override, the official record itself is kept in
``procedure_official``, so a re-import of the official catalogue replaces the official
record and re-applies the edits, and the console can tell when the official data changed
under an edit (its hash is no longer the one the edit was made against).

An override holds whole field values (``{"channels": [...], "name_en": "..."}``) and
aliases: questions staff matched to this procedure, added to its keywords so search finds
them. The two tables are created by the one migration history (``infra/migrations``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from knowledge.schema import Procedure
from knowledge.text import fold

EDITABLE_FIELDS = (
    "name_en",
    "keywords",
    "documents",
    "channels",
    "agencies",
    "applicants",
    "conditions",
    "result",
    "steps",
    "url",
)
"""Fields of a :class:`~knowledge.schema.Procedure` that staff may override."""

overrides_metadata = sa.MetaData()
overrides_table = sa.Table(
    "procedure_overrides",
    overrides_metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("fields", sa.Text, nullable=False, default="{}"),
    sa.Column("aliases", sa.Text, nullable=False, default="[]"),
    sa.Column("base_hash", sa.String(16), nullable=False, default=""),
    sa.Column("base_values", sa.Text, nullable=False, default="{}"),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False, default=""),
)
official_table = sa.Table(
    "procedure_official",
    overrides_metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("content_hash", sa.String(16), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)


@dataclass
class Override:
    """The staff's edits of one procedure.

    Attributes:
        code: The procedure code.
        fields: ``{field: value}`` replacing the official values (JSON shapes of
            :meth:`Procedure.to_dict`), for fields in :data:`EDITABLE_FIELDS`.
        aliases: Citizen questions matched to this procedure, added to its keywords.
        base_hash: Content hash of the official record the edit was made against.
        base_values: The official values of the overridden fields at edit time.
        updated_at: Last change (naive UTC).
        updated_by: Who made it.
    """

    code: str
    fields: dict[str, Any] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    base_hash: str = ""
    base_values: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None
    updated_by: str = ""

    @property
    def empty(self) -> bool:
        """Whether the override changes nothing."""
        return not self.fields and not self.aliases

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-ready dict."""
        return {
            "code": self.code,
            "fields": self.fields,
            "aliases": self.aliases,
            "base_hash": self.base_hash,
            "base_values": self.base_values,
            "updated_at": self.updated_at.isoformat(timespec="seconds")
            if self.updated_at
            else None,
            "updated_by": self.updated_by,
        }


def row_to_override(row: Any) -> Override:
    """Builds an :class:`Override` from a ``procedure_overrides`` row."""
    m = row._mapping
    return Override(
        code=m["code"],
        fields=json.loads(m["fields"] or "{}"),
        aliases=json.loads(m["aliases"] or "[]"),
        base_hash=m["base_hash"] or "",
        base_values=json.loads(m["base_values"] or "{}"),
        updated_at=m["updated_at"],
        updated_by=m["updated_by"] or "",
    )


def override_row(override: Override, now: datetime) -> dict[str, Any]:
    """Returns the ``procedure_overrides`` row of ``override``."""
    return {
        "code": override.code,
        "fields": json.dumps(override.fields, ensure_ascii=False, sort_keys=True),
        "aliases": json.dumps(override.aliases, ensure_ascii=False),
        "base_hash": override.base_hash,
        "base_values": json.dumps(override.base_values, ensure_ascii=False, sort_keys=True),
        "updated_at": now,
        "updated_by": override.updated_by,
    }


def check_fields(fields: dict[str, Any]) -> None:
    """Raises ``ValueError`` for a field staff may not override."""
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValueError(
            f"cannot override {', '.join(unknown)}; editable: {', '.join(EDITABLE_FIELDS)}"
        )


def apply_override(official: Procedure, override: Override | None) -> Procedure:
    """Returns the effective record: ``official`` with the override's fields and aliases.

    Args:
        official: The official record.
        override: The staff's edits, if any.

    Raises:
        knowledge.schema.InvalidRecord: When the overridden values do not validate.
    """
    if override is None or override.empty:
        return official
    data = official.to_dict()
    for name, value in override.fields.items():
        if name in EDITABLE_FIELDS:
            data[name] = value
    keywords = list(data.get("keywords") or [])
    seen = {fold(k) for k in keywords}
    for alias in override.aliases:
        if fold(alias) not in seen:
            keywords.append(alias)
            seen.add(fold(alias))
    data["keywords"] = keywords
    return Procedure.from_dict(data)


def conflicts(official: Procedure, override: Override) -> list[dict[str, Any]]:
    """Lists the overridden fields whose official value changed since the edit.

    Returns:
        ``[{"field", "official_then", "official_now", "staff"}]``, one per such field.
    """
    now = official.to_dict()
    out = []
    for name, staff_value in sorted(override.fields.items()):
        then = override.base_values.get(name)
        if then != now.get(name):
            out.append(
                {
                    "field": name,
                    "official_then": then,
                    "official_now": now.get(name),
                    "staff": staff_value,
                }
            )
    return out


def load_overrides(conn: sa.engine.Connection, codes: list[str] | None = None) -> dict:
    """Returns ``{code: Override}`` (for ``codes`` when given)."""
    query = sa.select(overrides_table)
    if codes is not None:
        if not codes:
            return {}
        query = query.where(overrides_table.c.code.in_(codes))
    return {o.code: o for o in (row_to_override(r) for r in conn.execute(query).all())}
