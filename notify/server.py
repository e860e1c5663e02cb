"""The notifier process: ``POST /dossiers/events``, ``GET /health``, the sender and the poller.

``POST /dossiers/events`` takes one signed status event (:mod:`notify.signing`,
:mod:`notify.events`) and answers:

* 200 ``{"event_id", "code", "status", "outcome"}`` (``changed``, ``unchanged``, ``stale``);
* 400 a malformed body or event, 401 a missing or bad signature or a stale timestamp,
  404 an unknown dossier, 409 an ``event_id`` received before (replay), 413 a body over
  16 KB; always ``{"error": "<reason>"}``.

Only this process and the one-stop system should reach it (bind it to the internal
network, or put it behind the proxy with an address allow-list).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from desk.dossiers import DossierStore
from desk.outbox import Outbox
from infra.db import Database, StoreUnavailable
from notify.channels import ChannelSender, TelegramSender, ZaloSender
from notify.events import EventError, EventIntake, parse_event
from notify.polling import CursorStore, HttpFeed, Poller
from notify.sender import Backoff, QuietHours, Sender
from notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, check, event_key

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def make_app(
    intake: EventIntake,
    key: bytes,
    *,
    max_skew_s: float = 300.0,
    clock: Callable[[], float] = time.time,
    outbox: Outbox | None = None,
) -> web.Application:
    """The notifier's web app.

    Args:
        intake: Applies events.
        key: The signing key.
        max_skew_s: Largest allowed distance between an event's timestamp and now.
        clock: Unix time now (tests move it).
        outbox: For ``/health`` counts.
    """

    async def receive(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _error(413, f"the body must be at most {MAX_BODY_BYTES} bytes")
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _error(413, f"the body must be at most {MAX_BODY_BYTES} bytes")
        reason = check(
            key,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            now=clock(),
            max_skew_s=max_skew_s,
        )
        if reason:
            logger.warning("notify: event refused: %s", reason)
            return _error(401, reason)
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(400, "the body must be UTF-8 JSON")
        try:
            event = parse_event(payload)
            result = await asyncio.to_thread(intake.apply, event)
        except EventError as exc:
            return _error(exc.status, exc.reason)
        except StoreUnavailable as exc:
            logger.error("notify: %s", exc)
            return _error(503, "the dossier database is unavailable; send the event again")
        return web.json_response(result)

    async def health(request: web.Request) -> web.Response:
        body: dict[str, Any] = {"status": "ok"}
        if outbox is not None:
            try:
                body["outbox"] = await asyncio.to_thread(outbox.counts)
            except StoreUnavailable:
                return web.json_response({"status": "database unavailable"}, status=503)
        return web.json_response(body)

    app = web.Application(client_max_size=MAX_BODY_BYTES + 1024)
    app.router.add_post("/dossiers/events", receive)
    app.router.add_get("/health", health)
    return app


def channels_from_settings(values: Mapping[str, Any]) -> dict[str, ChannelSender]:
    """The channels the settings turn on (Telegram with a token, Zalo with an app id)."""
    channels: dict[str, ChannelSender] = {}
    if values["MOTCUA_TELEGRAM_TOKEN"]:
        base = values["MOTCUA_TELEGRAM_API_URL"]
        channels["telegram"] = TelegramSender(values["MOTCUA_TELEGRAM_TOKEN"], base or "")
    if values["MOTCUA_ZALO_APP_ID"]:
        from connectors.zalo.api import DEFAULT_API_BASE_URL, DEFAULT_OAUTH_BASE_URL, ZaloApi
        from connectors.zalo.tokens import ZaloTokens, open_token_store

        app_id = values["MOTCUA_ZALO_APP_ID"]
        tokens = ZaloTokens(
            app_id,
            values["MOTCUA_ZALO_ACCESS_TOKEN"],
            values["MOTCUA_ZALO_REFRESH_TOKEN"],
            open_token_store(values["MOTCUA_DATABASE_URL"]),
        )
        api = ZaloApi(
            app_id,
            values["MOTCUA_ZALO_APP_SECRET"],
            tokens,
            values["MOTCUA_ZALO_API_URL"] or DEFAULT_API_BASE_URL,
            values["MOTCUA_ZALO_OAUTH_URL"] or DEFAULT_OAUTH_BASE_URL,
        )
        channels["zalo"] = ZaloSender(api)
    return channels


@dataclass
class Notifier:
    """Everything the notifier runs: the web app, the sender and, when set, the poller.

    Attributes:
        db: The database.
        key: The event signing key.
        sender: The outbox sender.
        host: Listen host.
        port: Listen port (0: any free one, see :attr:`port` after :meth:`start`).
        poller: The polling adapter, if a feed is configured.
        max_skew_s: Largest allowed timestamp distance.
    """

    db: Database
    key: bytes
    sender: Sender
    host: str = "127.0.0.1"
    port: int = 5095
    poller: Poller | None = None
    max_skew_s: float = 300.0
    intake: EventIntake | None = None
    _runner: web.AppRunner | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task] = field(default_factory=list)

    @classmethod
    def from_settings(cls, values: Mapping[str, Any] | None = None, **overrides: Any) -> Notifier:
        """Builds the notifier from the settings registry (:func:`infra.settings.read`)."""
        from infra.settings import read

        values = values or read()
        db = Database(values["MOTCUA_DATABASE_URL"])
        intake = EventIntake(db, DossierStore(db))
        quiet = values["MOTCUA_NOTIFY_QUIET_HOURS"]
        sender = Sender(
            Outbox(db),
            channels_from_settings(values),
            rates={
                "telegram": values["MOTCUA_NOTIFY_TELEGRAM_PER_S"],
                "zalo": values["MOTCUA_NOTIFY_ZALO_PER_S"],
            },
            quiet=QuietHours(*quiet) if quiet else None,
            backoff=overrides.pop("backoff", None) or Backoff(),
        )
        poller = None
        if values["MOTCUA_NOTIFY_POLL_URL"]:
            feed = HttpFeed(values["MOTCUA_NOTIFY_POLL_URL"], values["MOTCUA_NOTIFY_POLL_TOKEN"])
            poller = Poller(
                feed,
                intake,
                CursorStore(db),
                interval_s=values["MOTCUA_NOTIFY_POLL_INTERVAL_S"],
            )
        host, port = values["MOTCUA_NOTIFY_LISTEN"]
        key = event_key(values["MOTCUA_NOTIFY_SECRET"], values["MOTCUA_HOME"])
        return cls(
            db=db,
            key=key,
            sender=sender,
            host=host,
            port=port,
            poller=poller,
            max_skew_s=values["MOTCUA_NOTIFY_MAX_SKEW_S"],
            intake=intake,
            **overrides,
        )

    async def start(self, *, serve_events: bool = True) -> None:
        """Starts the web app (unless ``serve_events`` is false), the sender and the poller."""
        intake = self.intake or EventIntake(self.db)
        self._stop = asyncio.Event()
        if serve_events:
            app = make_app(intake, self.key, max_skew_s=self.max_skew_s, outbox=self.sender.outbox)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]
            logger.info("notify: listening on http://%s:%s/dossiers/events", self.host, self.port)
        self._tasks = [asyncio.create_task(self.sender.run(self._stop))]
        if self.poller is not None:
            self._tasks.append(asyncio.create_task(self.poller.run(self._stop)))

    async def stop(self) -> None:
        """Stops the loops (a round in flight finishes), the web app and the channels."""
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for channel in self.sender.channels.values():
            await channel.close()

    async def run_forever(self) -> None:
        """Starts, then waits until cancelled (Ctrl-C or SIGTERM), then stops."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
