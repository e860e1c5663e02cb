"""The polling adapter: status events fetched from one-stop systems that cannot push.

A source answers "what changed after this cursor" (:class:`StatusSource`); the bundled
one reads an HTTP feed (:class:`HttpFeed`)::

    GET <MOTCUA_NOTIFY_POLL_URL>?cursor=<last cursor>     Authorization: Bearer <token>
    200 {"events": [<status event>, ...], "cursor": "<opaque, for the next call>"}

Each event has the pushed events' shape (:mod:`notify.events`) and goes through the
same :meth:`notify.events.EventIntake.apply`; the cursor is stored in the database after
its events are applied, so a restart resumes where it stopped and an event fetched twice
is recognised by its ``event_id``. A source over a database view or a file is a class
with the same ``fetch`` method.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timezone
from typing import Any, Protocol

import httpx
import sqlalchemy as sa

from infra.db import SqlStore
from notify.events import EventError, EventIntake, parse_event

logger = logging.getLogger(__name__)

cursors_table = sa.Table(
    "notify_cursors",
    sa.MetaData(),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)


class StatusSource(Protocol):
    """Where polled status events come from."""

    async def fetch(self, cursor: str | None) -> tuple[list[Any], str | None]:
        """Returns the events after ``cursor`` and the cursor to ask with next."""


class HttpFeed:
    """A JSON feed of status events (see the module's docstring).

    Args:
        url: The feed's URL.
        token: Bearer token, if the feed wants one.
        timeout: Seconds for one request.
    """

    def __init__(self, url: str, token: str = "", timeout: float = 20.0) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = timeout

    async def fetch(self, cursor: str | None) -> tuple[list[Any], str | None]:
        """GETs the feed after ``cursor``.

        Raises:
            httpx.HTTPError: When the feed cannot be read (the poller tries again later).
            ValueError: When it answers something else than the documented JSON.
        """
        params = {"cursor": cursor} if cursor else {}
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            resp = await client.get(self.url, params=params, headers=self.headers)
            resp.raise_for_status()
            body = resp.json()
        if not isinstance(body, dict) or not isinstance(body.get("events"), list):
            raise ValueError('the feed must answer {"events": [...], "cursor": ...}')
        nxt = body.get("cursor")
        return body["events"], str(nxt) if nxt is not None else cursor


class CursorStore(SqlStore):
    """Where each poller keeps its cursor."""

    what = "poll cursor"

    def get(self, name: str) -> str | None:
        """The stored cursor of ``name``."""
        t = cursors_table
        row = self._run(lambda c: c.execute(sa.select(t.c.value).where(t.c.name == name)).first())
        return row[0] if row else None

    def put(self, name: str, value: str) -> None:
        """Stores the cursor of ``name``."""
        t = cursors_table
        now = datetime.now(timezone.utc).replace(tzinfo=None)

        def work(conn: sa.engine.Connection) -> None:
            done = conn.execute(
                t.update().where(t.c.name == name).values(value=value, updated_at=now)
            ).rowcount
            if not done:
                conn.execute(t.insert().values(name=name, value=value, updated_at=now))

        self._run(work, write=True)


class Poller:
    """Polls a source and applies its events.

    Args:
        source: The source.
        intake: Applies each event (through the dossier store).
        cursors: Where the cursor is kept.
        name: The cursor's name.
        interval_s: Seconds between polls.
    """

    def __init__(
        self,
        source: StatusSource,
        intake: EventIntake,
        cursors: CursorStore,
        *,
        name: str = "poll",
        interval_s: float = 60.0,
    ) -> None:
        self.source = source
        self.intake = intake
        self.cursors = cursors
        self.name = name
        self.interval_s = interval_s

    async def poll_once(self) -> dict[str, int]:
        """Fetches once and applies what came.

        Returns:
            How many events were ``changed``, ``unchanged``, ``stale``, ``repeated``
            (seen before) or ``rejected`` (malformed, unknown dossier: logged).
        """
        cursor = await asyncio.to_thread(self.cursors.get, self.name)
        events, nxt = await self.source.fetch(cursor)
        counts = {"changed": 0, "unchanged": 0, "stale": 0, "repeated": 0, "rejected": 0}
        for raw in events:
            try:
                event = parse_event(raw)
                result = await asyncio.to_thread(self.intake.apply, event, source="poll")
            except EventError as exc:
                key = "repeated" if exc.status == 409 else "rejected"
                if key == "rejected":
                    logger.warning("notify: polled event rejected: %s", exc.reason)
                counts[key] += 1
                continue
            counts[result["outcome"]] += 1
        if nxt is not None and nxt != cursor:
            await asyncio.to_thread(self.cursors.put, self.name, nxt)
        return counts

    async def run(self, stop: asyncio.Event) -> None:
        """Polls every ``interval_s`` until ``stop`` is set; errors are logged and retried."""
        while not stop.is_set():
            try:
                counts = await self.poll_once()
                if any(counts.values()):
                    logger.info("notify: polled %s", counts)
            except Exception as exc:
                logger.warning("notify: polling failed: %s: %s", type(exc).__name__, exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)
