"""``/health`` of ``motcua serve``: every part's state in one JSON report, served to nginx.

The Rasa and action servers are judged by the same probes the supervisor uses
(:mod:`bot.probes`); the stores by a connection each; the launcher's other children by
whether their process runs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bot import probes
from bot.plan import LaunchSettings

logger = logging.getLogger(__name__)


def _down(reason: str) -> dict:
    return {"status": "down", "error": reason}


def _check_sql(url: str) -> dict:
    import sqlalchemy as sa  # the store clients load only where a store is checked

    try:
        engine = sa.create_engine(url, future=True, pool_pre_ping=True)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:
        return _down(exc.__class__.__name__)
    return {"status": "ok"}


def _check_redis(url: str) -> dict:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:
        return _down(exc.__class__.__name__)
    return {"status": "ok"}


def _check_rabbitmq(url: str, queue: str) -> dict:
    import asyncio

    import aio_pika

    async def check() -> dict:
        connection = await asyncio.wait_for(aio_pika.connect(url, timeout=2), 3)
        try:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
            except aio_pika.exceptions.ChannelClosed:  # no queue yet: nothing published
                return {"status": "ok", "queue": queue, "backlog": 0}
            return {
                "status": "ok",
                "queue": queue,
                "backlog": declared.declaration_result.message_count,
            }
        finally:
            await connection.close()

    try:
        return asyncio.run(check())
    except Exception as exc:
        return _down(exc.__class__.__name__)


def _index_report(index_dir: Path, actions: list[dict]) -> dict:
    from knowledge.index import IndexVersions  # FAISS: serve only

    manifest = IndexVersions(index_dir).manifest()
    if manifest is None:
        return {"status": "down", "version": None}
    lagging = [
        a["port"]
        for a in actions
        if a.get("index_version") not in (None, manifest.name) and a["status"] == "ok"
    ]
    return {
        "status": "ok" if not lagging else "degraded",
        "version": manifest.name,
        "procedures": len(manifest.hashes),
        "catalogue_fingerprint": manifest.fingerprint,
        "published_at": manifest.created_at,
    } | ({"lagging_action_servers": lagging} if lagging else {})


@dataclass
class Health:
    """Checks every part of a running cluster.

    Args:
        settings: The launch settings (ports, stores, Rasa's API token).
        index_dir: Where index versions are published.
        alive: ``name -> bool`` for the launcher's own children (consumer, nginx, indexer).
    """

    settings: LaunchSettings
    index_dir: Path
    alive: Callable[[str], bool | None] = lambda name: None

    def check(self) -> tuple[int, dict]:
        """Returns the HTTP status (200, or 503 when a required part is down) and the report.

        Required: at least one Rasa server and one action server, the database, the tracker
        and lock stores when set, and nginx. A replica down, the broker or consumer down
        (analytics wait, answers do not) or an index not yet on every server is
        ``degraded``.
        """
        s = self.settings
        parts: dict[str, object] = {}
        rasa = []
        for port in s.rasa_ports:
            status = probes.rasa_status(port, s.rasa_token)
            rasa.append(
                {"port": port, "status": "ok" if status else "down"}
                | ({"model": Path(status["model_file"]).name} if status else {})
            )
        parts["rasa"] = rasa
        actions = []
        for port in s.actions_ports:
            status = probes.actions_status(port)
            actions.append(
                {"port": port, "status": "ok", "index_version": status.get("index_version")}
                if status is not None
                else {"port": port, "status": "down"}
            )
        parts["actions"] = actions
        parts["database"] = _check_sql(s.database_url)
        if s.tracker_store_url:
            parts["tracker_store"] = _check_sql(s.tracker_store_url)
        if s.lock_store_url:
            parts["lock_store"] = _check_redis(s.lock_store_url)
        if s.event_broker_url:
            parts["event_broker"] = _check_rabbitmq(s.event_broker_url, s.event_queue)
        for name in ("consumer", "nginx", "indexer", "staff"):
            state = self.alive(name)
            if state is not None:
                parts[name] = {"status": "ok" if state else "down"}
        parts["index"] = _index_report(self.index_dir, actions)
        required_down = (
            not any(r["status"] == "ok" for r in rasa)
            or not any(a["status"] == "ok" for a in actions)
            or any(
                parts[name]["status"] == "down"
                for name in ("database", "tracker_store", "lock_store", "nginx", "index")
                if name in parts
            )
        )
        degraded = any(r["status"] != "ok" for r in rasa + actions) or any(
            isinstance(p, dict) and p.get("status") != "ok" for p in parts.values()
        )
        overall = "down" if required_down else "degraded" if degraded else "ok"
        return (503 if required_down else 200), {"status": overall, "parts": parts}


class HealthServer:
    """Serves ``GET /health`` from a :class:`Health` on a background thread (127.0.0.1)."""

    def __init__(self, health: Health, port: int) -> None:
        self.health = health

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/health":
                    self.send_error(404)
                    return
                try:
                    code, body = health.check()
                except Exception as exc:  # report, never hang the balancer's request
                    logger.exception("health check failed")
                    code, body = 500, {"status": "error", "error": exc.__class__.__name__}
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        """Starts serving."""
        self.thread.start()

    def stop(self) -> None:
        """Stops serving."""
        self.server.shutdown()
        self.server.server_close()
