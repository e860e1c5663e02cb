"""The catalogue database: one table of procedures that search, the bot and staff all read.

SQLite by default, PostgreSQL by URL. Records are stored whole as JSON next to a
content hash, so the index can tell which procedures changed since it was built.
An empty database starts from the built-in catalogue (:mod:`knowledge.builtin`); an
official import goes under it (:func:`layer_builtin`).

Staff edits (:mod:`knowledge.overrides`) are applied on top: ``procedures`` holds the
effective record, the official one is kept beside it, and an import re-applies the edits.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from infra.db import SqlStore, StoreUnavailable
from knowledge.builtin import SOURCE as BUILTIN_SOURCE
from knowledge.builtin import fee_amount_known, load_builtin_catalogue
from knowledge.overrides import (
    Override,
    apply_override,
    check_fields,
    load_overrides,
    official_table,
    override_row,
    overrides_table,
)
from knowledge.schema import InvalidRecord, Procedure

logger = logging.getLogger(__name__)


_metadata = sa.MetaData()
procedures_table = sa.Table(
    "procedures",
    _metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("source", sa.String(32), nullable=False, default=""),
    sa.Column("content_hash", sa.String(16), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)


class CatalogueUnavailable(StoreUnavailable):
    """The catalogue database cannot be reached or read; the message says what to check."""


@dataclass
class UpsertReport:
    """What an import or edit changed.

    Attributes:
        added: Codes that were new.
        changed: Codes whose content changed.
        unchanged: How many records were identical.
        removed: Codes deleted because the source no longer has them.
        errors: ``(code or position, reason)`` for every record that was skipped.
    """

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """Returns the counts, for printing."""
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "removed": len(self.removed),
            "errors": len(self.errors),
        }


def parse_catalogue_json(data: Any) -> tuple[list[Procedure], list[tuple[str, str]]]:
    """Validates a catalogue in the project's own JSON shape.

    Args:
        data: ``{"procedures": [...]}`` or a bare list of procedure objects.

    Returns:
        The valid procedures and ``(code, reason)`` for each invalid one.
    """
    records = data.get("procedures", []) if isinstance(data, dict) else data
    procedures: list[Procedure] = []
    errors: list[tuple[str, str]] = []
    for position, raw in enumerate(records or []):
        try:
            procedures.append(Procedure.from_dict(raw))
        except InvalidRecord as exc:
            errors.append((exc.code or f"#{position}", exc.reason))
    return procedures, errors


def layer_builtin(official: Procedure, builtin: Procedure | None) -> Procedure:
    """Puts the built-in entry of the same code on top of an official record.

    Every value the built-in entry states replaces the official one (the built-in
    catalogue was checked against the official records, and each of its departures is
    explained in its data); values it leaves empty keep the official record's. Keywords
    of both are kept.

    Args:
        official: A record from an official export.
        builtin: The built-in entry of the same code, if any.

    Returns:
        ``official`` when there is no built-in entry, else the layered record with
        ``source="builtin"``.
    """
    if builtin is None:
        return official
    data = official.to_dict()
    for key, value in builtin.to_dict().items():
        if key not in ("source", "keywords") and value not in ("", [], None):
            data[key] = value
    seen = {k.lower() for k in builtin.keywords}
    data["keywords"] = builtin.keywords + [k for k in official.keywords if k.lower() not in seen]
    data["source"] = BUILTIN_SOURCE
    return Procedure.from_dict(data)


def layer_all(procedures: Iterable[Procedure]) -> list[Procedure]:
    """Layers the built-in catalogue over every record of an import (see :func:`layer_builtin`)."""
    builtin = {p.code: p for p in load_builtin_catalogue()}
    return [layer_builtin(p, builtin.get(p.code)) for p in procedures]


class CatalogueStore(SqlStore):
    """Procedures in a SQL database.

    Args:
        db: The database (:class:`infra.db.Database`) or its URL.
    """

    what = "catalogue"
    error = CatalogueUnavailable

    def count(self) -> int:
        """Returns the number of procedures stored."""
        return self._run(
            lambda c: c.execute(sa.select(sa.func.count()).select_from(procedures_table)).scalar()
        )

    def get(self, code: str) -> Procedure | None:
        """Returns the procedure with ``code``, or ``None``."""
        row = self._run(
            lambda c: c.execute(
                sa.select(procedures_table.c.data).where(procedures_table.c.code == code)
            ).first()
        )
        return Procedure.from_dict(json.loads(row[0])) if row else None

    def all(self) -> list[Procedure]:
        """Returns every procedure, ordered by code."""
        rows = self._run(
            lambda c: c.execute(
                sa.select(procedures_table.c.data).order_by(procedures_table.c.code)
            ).all()
        )
        return [Procedure.from_dict(json.loads(r[0])) for r in rows]

    def hashes(self) -> dict[str, str]:
        """Returns ``{code: content_hash}`` for every stored procedure."""
        rows = self._run(
            lambda c: c.execute(
                sa.select(procedures_table.c.code, procedures_table.c.content_hash)
            ).all()
        )
        return {code: h for code, h in rows}

    def fingerprint(self) -> str:
        """Returns a hash of the whole catalogue's content; it changes with any edit."""
        return catalogue_fingerprint(self.hashes())

    def upsert(
        self, procedures: Iterable[Procedure], *, replace_source: str | None = None
    ) -> UpsertReport:
        """Adds or updates procedures in one transaction.

        Records are official data: for a code with staff edits (:mod:`knowledge.overrides`)
        the record is kept as the official one and the stored record is it with the edits
        applied, so a re-import never loses them.

        Args:
            procedures: Validated records.
            replace_source: When given, records of that source that are not in ``procedures``
                are deleted (a full re-import of an official export); their edits are kept
                for when the code comes back.

        Returns:
            What changed in the stored (effective) records.
        """
        report = UpsertReport()
        incoming = {p.code: p for p in procedures}

        def work(conn: sa.engine.Connection) -> None:
            existing = dict(
                conn.execute(
                    sa.select(procedures_table.c.code, procedures_table.c.content_hash)
                ).all()
            )
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            overrides = load_overrides(conn)
            inserts, updates = [], []
            for code, proc in incoming.items():
                if code in overrides:  # keep the official record, store it with the edits
                    _put_official(conn, proc, now)
                    proc = _effective(proc, overrides[code])
                digest = proc.content_hash()
                row = {
                    "code": code,
                    "name": proc.name,
                    "source": proc.source,
                    "content_hash": digest,
                    "data": json.dumps(proc.to_dict(), ensure_ascii=False),
                    "updated_at": now,
                }
                if code not in existing:
                    inserts.append(row)
                    report.added.append(code)
                elif existing[code] != digest:
                    updates.append(row)
                    report.changed.append(code)
                else:
                    report.unchanged += 1
            if inserts:
                conn.execute(procedures_table.insert(), inserts)
            for row in updates:
                conn.execute(
                    procedures_table.update()
                    .where(procedures_table.c.code == row["code"])
                    .values(**row)
                )
            if replace_source is not None:
                stale = conn.execute(
                    sa.select(procedures_table.c.code).where(
                        procedures_table.c.source == replace_source
                    )
                ).scalars()
                report.removed = sorted(set(stale) - set(incoming))
                if report.removed:
                    conn.execute(
                        procedures_table.delete().where(procedures_table.c.code.in_(report.removed))
                    )
                    removed_official = [c for c in report.removed if c in overrides]
                    if removed_official:  # the edits stay, waiting for the code to come back
                        conn.execute(
                            official_table.delete().where(
                                official_table.c.code.in_(removed_official)
                            )
                        )

        self._run(work, write=True)
        return report

    def delete(self, code: str) -> bool:
        """Deletes one procedure (and its kept official record); returns whether it existed."""

        def work(conn: sa.engine.Connection) -> int:
            conn.execute(official_table.delete().where(official_table.c.code == code))
            return conn.execute(
                procedures_table.delete().where(procedures_table.c.code == code)
            ).rowcount

        return bool(self._run(work, write=True))

    # ------------------------------------------------------------------ staff overrides

    def official(self, code: str) -> Procedure | None:
        """Returns the official record of ``code`` (the stored one when it has no edits)."""

        def work(conn: sa.engine.Connection) -> Procedure | None:
            return _official(conn, code)

        return self._run(work)

    def override(self, code: str) -> Override | None:
        """Returns the staff's override of ``code``, or ``None``."""

        def work(conn: sa.engine.Connection) -> Override | None:
            return load_overrides(conn).get(code)

        return self._run(work)

    def overrides(self) -> dict[str, Override]:
        """Returns every override, ``{code: Override}`` (empty before the staff migrations)."""
        return self._run(load_overrides)

    def save_override(
        self,
        code: str,
        *,
        fields: dict[str, Any] | None = None,
        aliases: list[str] | None = None,
        by: str = "",
    ) -> tuple[Override | None, Override | None, Procedure]:
        """Stores staff edits of one procedure and writes its effective record, in one step.

        Fields equal to the official value are dropped. Saving records the official
        record's current hash and values as the base of the edit (so saving again after
        the official data changed acknowledges the change). An override left with no
        fields and no aliases is deleted and the official record restored.

        Args:
            code: The procedure.
            fields: ``{field: value}`` replacing the current overridden fields (``None``
                keeps them).
            aliases: Replaces the aliases (``None`` keeps them).
            by: Who made the change.

        Returns:
            ``(before, after, effective)``: the override before and after (``None`` when
            there is none) and the effective record now stored.

        Raises:
            KeyError: When there is no procedure ``code``.
            ValueError: For a field that may not be overridden or a value that does not
                validate (:class:`~knowledge.schema.InvalidRecord`).
        """
        if fields is not None:
            check_fields(fields)

        def work(conn: sa.engine.Connection):
            official = _official(conn, code)
            if official is None:
                raise KeyError(code)
            before = load_overrides(conn).get(code)
            base = official.to_dict()
            new_fields = dict(before.fields if before else {}) if fields is None else fields
            new_fields = {k: v for k, v in new_fields.items() if v != base.get(k)}
            after = Override(
                code=code,
                fields=new_fields,
                aliases=list(
                    aliases if aliases is not None else (before.aliases if before else [])
                ),
                base_hash=official.content_hash(),
                base_values={k: base.get(k) for k in new_fields},
                updated_by=by,
            )
            effective = apply_override(official, after)
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            after.updated_at = now
            if after.empty:
                conn.execute(overrides_table.delete().where(overrides_table.c.code == code))
                conn.execute(official_table.delete().where(official_table.c.code == code))
                after = None
            else:
                _put_official(conn, official, now)
                row = override_row(after, now)
                if before is None:
                    conn.execute(overrides_table.insert().values(**row))
                else:
                    conn.execute(
                        overrides_table.update().where(overrides_table.c.code == code).values(**row)
                    )
            conn.execute(
                procedures_table.update()
                .where(procedures_table.c.code == code)
                .values(
                    content_hash=effective.content_hash(),
                    data=json.dumps(effective.to_dict(), ensure_ascii=False),
                    name=effective.name,
                    updated_at=now,
                )
            )
            return before, after, effective

        return self._run(work, write=True)

    def add_alias(self, code: str, alias: str, *, by: str = "") -> Procedure:
        """Adds a citizen question as an alias of ``code`` (kept across re-imports).

        Returns:
            The effective record now stored.
        """
        alias = " ".join(alias.split())
        current = self.override(code)
        aliases = list(current.aliases) if current else []
        if alias and alias not in aliases:
            aliases.append(alias)
        return self.save_override(code, aliases=aliases, by=by)[2]

    def ensure_seeded(self) -> int:
        """Loads the built-in catalogue into an empty database.

        Returns:
            How many procedures were added (0 when the database already had some).
        """
        if self.count():
            return 0
        report = self.upsert(load_builtin_catalogue())
        logger.info("empty catalogue: loaded %d built-in procedures", len(report.added))
        return len(report.added)

    def stats(self) -> dict[str, Any]:
        """Returns what the catalogue holds, for ``motcua catalogue stats``.

        Returns:
            ``procedures`` (stored), ``curated`` (with a built-in entry), ``english_names``,
            ``english_documents`` (procedures whose every document has an English name),
            ``fee_amount_known_share`` (of the curated ones, the share whose every channel
            is free or names an amount) and ``fingerprint``.
        """
        procedures = self.all()
        curated = [p for p in procedures if p.source == BUILTIN_SOURCE]
        known = sum(fee_amount_known(p) for p in curated)
        return {
            "procedures": len(procedures),
            "curated": len(curated),
            "english_names": sum(bool(p.name_en) for p in procedures),
            "english_documents": sum(
                bool(p.documents) and all(d.name_en for d in p.documents) for p in procedures
            ),
            "fee_amount_known_share": round(known / len(curated), 3) if curated else 0.0,
            "fingerprint": self.fingerprint(),
        }

    def iter_codes(self) -> Iterator[str]:
        """Yields every stored code in order."""
        yield from sorted(self.hashes())


def _official(conn: sa.engine.Connection, code: str) -> Procedure | None:
    """The kept official record of ``code``, else the stored one (it has no edits)."""
    row = conn.execute(
        sa.select(official_table.c.data).where(official_table.c.code == code)
    ).first()
    if row is None:
        row = conn.execute(
            sa.select(procedures_table.c.data).where(procedures_table.c.code == code)
        ).first()
    return Procedure.from_dict(json.loads(row[0])) if row else None


def _put_official(conn: sa.engine.Connection, official: Procedure, now: datetime) -> None:
    row = {
        "content_hash": official.content_hash(),
        "data": json.dumps(official.to_dict(), ensure_ascii=False),
        "updated_at": now,
    }
    updated = conn.execute(
        official_table.update().where(official_table.c.code == official.code).values(**row)
    ).rowcount
    if not updated:
        conn.execute(official_table.insert().values(code=official.code, **row))


def _effective(official: Procedure, override: Override) -> Procedure:
    try:
        return apply_override(official, override)
    except InvalidRecord as exc:  # an edit that no longer fits must not stop the import
        logger.warning("staff edits of %s no longer apply (%s): kept official", exc.code, exc)
        return official


def catalogue_fingerprint(hashes: dict[str, str]) -> str:
    """Returns the fingerprint of a catalogue given ``{code: content_hash}``."""
    digest = hashlib.sha256()
    for code in sorted(hashes):
        digest.update(f"{code}:{hashes[code]}\n".encode())
    return digest.hexdigest()[:16]
