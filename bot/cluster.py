"""``motcua serve``: the production launcher, N Rasa servers and M action servers behind nginx.

What runs (every process a child of this one, its log and pid under ``$MOTCUA_HOME``):

* ``motcua index watch`` — the one writer of search index versions: it publishes a version
  at start and after every import or staff edit (see :mod:`knowledge.service`);
* M action servers (``python -m actions.server``, ``MOTCUA_INDEX_READONLY=1``): each loads
  the current index version read-only and follows newer ones without a restart;
* N Rasa servers (``rasa run``) sharing the PostgreSQL tracker store and the Redis lock
  store; their action endpoint is nginx's internal action balancer;
* the events consumer (``python -m bot.events consume``) when ``MOTCUA_EVENT_BROKER_URL``
  is set, and the staff console (``python -m staff.server``) when it is installed;
* nginx (Debian's package) with the config rendered from ``deploy/nginx.conf.tmpl``:
  webhooks round robin, socket.io sticky, ``/health``, the staff console on its own port;
* ``/health``: served by this process (through nginx), JSON with every part's state.

A child that dies is started again (and reported); Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bot.runner import (
    ROOT,
    RunError,
    RunSettings,
    Servers,
    _env,
    get_json,
    port_free,
    stop_on_signals,
)

logger = logging.getLogger(__name__)

TEMPLATE = ROOT / "deploy" / "nginx.conf.tmpl"


def _int(env: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name) or str(default)
    if not raw.isdigit() or int(raw) < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {raw!r}")
    return int(raw)


def _listen_port(listen: str) -> tuple[str, int]:
    """Splits an nginx ``listen`` value (``8080``, ``0.0.0.0:8080``) into host and port."""
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"not a listen address: {listen!r} (use PORT or HOST:PORT)")
    return host or "0.0.0.0", int(port)


@dataclass(frozen=True)
class ClusterSettings:
    """What ``motcua serve`` starts and where (read from the environment).

    Attributes:
        rasa_replicas: Rasa servers (``MOTCUA_RASA_REPLICAS``, 1).
        actions_replicas: Action servers (``MOTCUA_ACTIONS_REPLICAS``, 1).
        rasa_port: First Rasa server port; the others follow (``MOTCUA_RASA_PORT``, 5005).
        actions_port: First action server port (``MOTCUA_ACTIONS_PORT``, 5055).
        listen: nginx's citizen-facing listen address (``MOTCUA_LISTEN``, ``8080``).
        staff_listen: nginx's staff console address (``MOTCUA_STAFF_LISTEN``,
            ``127.0.0.1:8081``; bind it to the office network's interface).
        staff_port: The staff console process (``MOTCUA_STAFF_PORT``, 5080).
        actions_balancer_port: nginx's internal action balancer (``MOTCUA_ACTIONS_BALANCER_PORT``,
            5050), the Rasa servers' action endpoint.
        health_port: This process's health server (``MOTCUA_HEALTH_PORT``, 5090), behind nginx.
        tracker_store_url, lock_store_url, event_broker_url, event_queue: The stores.
        database_url: Catalogue, dossiers and conversation log.
        restart: Start a dead child again (``MOTCUA_RESTART``, on).
    """

    rasa_replicas: int = 1
    actions_replicas: int = 1
    rasa_port: int = 5005
    actions_port: int = 5055
    listen: str = "8080"
    staff_listen: str = "127.0.0.1:8081"
    staff_port: int = 5080
    actions_balancer_port: int = 5050
    health_port: int = 5090
    tracker_store_url: str = ""
    lock_store_url: str = ""
    event_broker_url: str = ""
    event_queue: str = "motcua_events"
    database_url: str = ""
    restart: bool = True

    @classmethod
    def from_env(cls, env: dict[str, str]) -> ClusterSettings:
        """Reads and checks the settings.

        Raises:
            ValueError: For a malformed value, or several Rasa servers without shared stores.
        """
        from infra.settings import Settings

        settings = cls(
            rasa_replicas=_int(env, "MOTCUA_RASA_REPLICAS", 1),
            actions_replicas=_int(env, "MOTCUA_ACTIONS_REPLICAS", 1),
            rasa_port=_int(env, "MOTCUA_RASA_PORT", 5005),
            actions_port=_int(env, "MOTCUA_ACTIONS_PORT", 5055),
            listen=env.get("MOTCUA_LISTEN") or "8080",
            staff_listen=env.get("MOTCUA_STAFF_LISTEN") or "127.0.0.1:8081",
            staff_port=_int(env, "MOTCUA_STAFF_PORT", 5080),
            actions_balancer_port=_int(env, "MOTCUA_ACTIONS_BALANCER_PORT", 5050),
            health_port=_int(env, "MOTCUA_HEALTH_PORT", 5090),
            tracker_store_url=env.get("MOTCUA_TRACKER_STORE_URL") or "",
            lock_store_url=env.get("MOTCUA_LOCK_STORE_URL") or "",
            event_broker_url=env.get("MOTCUA_EVENT_BROKER_URL") or "",
            event_queue=env.get("MOTCUA_EVENT_QUEUE") or "motcua_events",
            database_url=Settings.from_env(env).database_url,
            restart=(env.get("MOTCUA_RESTART") or "1").lower() not in ("0", "false", "no"),
        )
        _listen_port(settings.listen)
        _listen_port(settings.staff_listen)
        if settings.rasa_replicas > 1:
            missing = [
                name
                for name, value in (
                    ("MOTCUA_TRACKER_STORE_URL", settings.tracker_store_url),
                    ("MOTCUA_LOCK_STORE_URL", settings.lock_store_url),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"{settings.rasa_replicas} Rasa servers need shared stores: set "
                    f"{' and '.join(missing)} (postgresql://… and redis://…)"
                )
        from bot.runner import store_endpoints

        store_endpoints(env)  # checks the URL schemes
        return settings

    @property
    def rasa_ports(self) -> list[int]:
        """The Rasa servers' ports."""
        return [self.rasa_port + n for n in range(self.rasa_replicas)]

    @property
    def actions_ports(self) -> list[int]:
        """The action servers' ports."""
        return [self.actions_port + n for n in range(self.actions_replicas)]

    def ports(self) -> dict[str, int]:
        """Every port this launcher binds, by what binds it."""
        ports = {f"Rasa server {n + 1}": p for n, p in enumerate(self.rasa_ports)}
        ports.update({f"action server {n + 1}": p for n, p in enumerate(self.actions_ports)})
        ports.update(
            {
                "balancer (MOTCUA_LISTEN)": _listen_port(self.listen)[1],
                "staff balancer (MOTCUA_STAFF_LISTEN)": _listen_port(self.staff_listen)[1],
                "action balancer (MOTCUA_ACTIONS_BALANCER_PORT)": self.actions_balancer_port,
                "health (MOTCUA_HEALTH_PORT)": self.health_port,
                "staff console (MOTCUA_STAFF_PORT)": self.staff_port,
            }
        )
        return ports


# ---------------------------------------------------------------------------------- nginx


def render_nginx(settings: ClusterSettings, template: Path = TEMPLATE) -> str:
    """Returns nginx's config for ``settings`` from the template.

    Raises:
        ValueError: When the template names a value that does not exist.
    """

    def servers(ports: list[int]) -> str:
        return "\n".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports
        )

    values = {
        "listen": settings.listen,
        "staff_listen": settings.staff_listen,
        "actions_balancer_port": str(settings.actions_balancer_port),
        "health_port": str(settings.health_port),
        "staff_port": str(settings.staff_port),
        "rasa_servers": servers(settings.rasa_ports),
        "action_servers": servers(settings.actions_ports),
        "worker_processes": "1" if (os.cpu_count() or 1) <= 2 else "2",
        # Started as root, workers would be nobody, who cannot reach tmp/ (see write_nginx).
        "user": "user root root;\n" if os.geteuid() == 0 else "",
    }

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise ValueError(f"{template.name}: unknown placeholder {{{{ {name} }}}}")
        return values[name]

    return re.sub(r"\{\{\s*(\w+)\s*\}\}", fill, template.read_text("utf-8"))


def nginx_binary() -> str:
    """Returns nginx's path.

    Raises:
        RunError: When nginx is not installed (with how to install it).
    """
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if not found:
        raise RunError("nginx is not installed: run scripts/install-nginx.sh (Debian's nginx)")
    return found


def write_nginx(settings: ClusterSettings, run_dir: Path) -> list[str]:
    """Writes ``run_dir/nginx.conf`` and its folders; returns the nginx command line.

    nginx's workers buffer large bodies in ``tmp/``. Started as root, nginx would run its
    workers as ``nobody``, who cannot reach a private ``$MOTCUA_HOME``; the config then
    keeps them as the launcher's user (run ``motcua serve`` as a dedicated user instead).
    """
    for sub in ("logs", "tmp"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    conf = run_dir / "nginx.conf"
    conf.write_text(render_nginx(settings), encoding="utf-8")
    return [
        nginx_binary(),
        "-p", f"{run_dir}/",
        "-c", str(conf),
        "-e", str(run_dir / "logs" / "nginx-error.log"),
        "-g", "daemon off;",
    ]  # fmt: skip


def check_nginx(command: list[str]) -> None:
    """Runs ``nginx -t`` on the rendered config.

    Raises:
        RunError: With nginx's own message when the config is invalid.
    """
    result = subprocess.run(
        [*command[:-2], "-t"], capture_output=True, text=True, check=False, timeout=30
    )
    if result.returncode != 0:
        raise RunError(f"nginx rejects its config:\n{result.stderr.strip()}")


# ---------------------------------------------------------------------------------- health


def _down(reason: str) -> dict:
    return {"status": "down", "error": reason}


def _check_sql(url: str) -> dict:
    import sqlalchemy as sa

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


@dataclass
class Health:
    """Checks every part of a running cluster.

    Args:
        settings: The cluster settings.
        index_dir: Where index versions are published.
        alive: ``name -> bool`` for the launcher's own children (consumer, nginx, indexer).
    """

    settings: ClusterSettings
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
            code, body = get_json(f"http://127.0.0.1:{port}/status")
            ok = code == 200 and bool(body.get("model_file"))
            rasa.append(
                {"port": port, "status": "ok" if ok else "down"}
                | ({"model": Path(body["model_file"]).name} if ok else {})
            )
        parts["rasa"] = rasa
        from knowledge.index import IndexVersions

        manifest = IndexVersions(self.index_dir).manifest()
        actions = []
        for port in s.actions_ports:
            code, body = get_json(f"http://127.0.0.1:{port}/motcua/status")
            if code == 200:
                actions.append(
                    {"port": port, "status": "ok", "index_version": body.get("index_version")}
                )
            else:
                actions.append({"port": port, "status": "down"})
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
        index = {"status": "down", "version": None}
        if manifest is not None:
            lagging = [
                a["port"]
                for a in actions
                if a.get("index_version") not in (None, manifest.name) and a["status"] == "ok"
            ]
            index = {
                "status": "ok" if not lagging else "degraded",
                "version": manifest.name,
                "procedures": len(manifest.hashes),
                "catalogue_fingerprint": manifest.fingerprint,
                "published_at": manifest.created_at,
            } | ({"lagging_action_servers": lagging} if lagging else {})
        parts["index"] = index
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
    """Serves ``GET /health`` from a :class:`Health` on a background thread."""

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


# ---------------------------------------------------------------------------------- launcher


@dataclass
class Part:
    """One child process: how to start it and how to tell it is ready."""

    name: str
    command: list[str]
    env: dict[str, str]
    ready: Callable[[], bool] = lambda: True
    port: int | None = None
    restarts: list[float] = field(default_factory=list)


def _module_exists(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _consumer_available() -> bool:
    path = ROOT / "bot" / "events.py"
    return path.exists() and "consume" in path.read_text("utf-8")


class Cluster:
    """The launcher's children, started in order and kept running.

    Args:
        settings: What to start.
        log: Where progress lines go.
    """

    def __init__(self, settings: ClusterSettings, log=print) -> None:
        from infra.settings import get_settings

        self.settings = settings
        self.log = log
        self.knowledge = get_settings()
        self.home = self.knowledge.home
        self.run_dir = (self.home / "run").resolve()
        self.servers = Servers(RunSettings.from_env(self.home))
        self.parts: dict[str, Part] = {}
        self.health: HealthServer | None = None

    # --- starting

    def _start(self, part: Part) -> None:
        self.parts[part.name] = part
        self.servers.start(part.name, part.command, part.env)
        self._write_manifest()

    def _write_manifest(self) -> None:
        parts = {
            name: {
                "pid": self.servers.processes[name].pid,
                "port": part.port,
                "log": str(self.servers.logs[name]),
                "restarts": len(part.restarts),
            }
            for name, part in self.parts.items()
            if name in self.servers.processes
        }
        data = {
            "listen": self.settings.listen,
            "staff_listen": self.settings.staff_listen,
            "launcher_pid": os.getpid(),
            "parts": parts,
        }
        self.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.run_dir / ".cluster.json.tmp"
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(self.run_dir / "cluster.json")

    def alive(self, name: str) -> bool | None:
        """Whether the child ``name`` runs (``None`` when there is no such child)."""
        process = self.servers.processes.get(name)
        return None if process is None else process.poll() is None

    def _check_ports(self) -> None:
        low, high = _ephemeral_range()
        for what, port in self.settings.ports().items():
            if not port_free(port):
                raise RunError(f"port {port} for the {what} is already in use")
            if low <= port <= high:
                self.log(
                    f"motcua: warning: port {port} ({what}) is in the kernel's ephemeral range "
                    f"{low}-{high}; an outgoing connection may take it while that part restarts"
                )

    def _index_current(self) -> bool:
        from knowledge.catalogue import CatalogueStore
        from knowledge.index import IndexVersions

        manifest = IndexVersions(self.knowledge.index_dir).manifest()
        if manifest is None:
            return False
        store = CatalogueStore(self.knowledge.database_url)
        try:
            return manifest.fingerprint == store.fingerprint()
        finally:
            store.dispose()

    def start(self, *, force_train: bool = False) -> None:
        """Prepares the data and model, then starts every part in order.

        Raises:
            RunError: For a port in use, a failed training, or a part that dies or hangs.
        """
        from bot.runner import train, write_credentials, write_endpoints
        from desk.demo import seed_demo
        from desk.dossiers import DossierStore
        from knowledge.catalogue import CatalogueStore

        s = self.settings
        self._check_ports()
        nginx = write_nginx(s, self.run_dir)
        check_nginx(nginx)
        store = CatalogueStore(self.knowledge.database_url)
        store.ensure_seeded()
        self.log(f"motcua: catalogue {store.count()} procedures ({store._safe_url()})")
        store.dispose()
        added = seed_demo(DossierStore(self.knowledge.database_url))
        if added:
            self.log(f"motcua: seeded {added} demo dossiers")
        model = train(self.servers.settings.models_dir, force=force_train, log=self.log)
        env = _env()
        env["SANIC_HOST"] = "127.0.0.1"
        endpoints = self.run_dir / "endpoints.yml"
        write_endpoints(endpoints, f"http://127.0.0.1:{s.actions_balancer_port}/webhook", env)
        credentials = self.run_dir / "credentials.yml"
        channels = write_credentials(credentials, env)

        self._start(
            Part(
                "indexer",
                [sys.executable, "-m", "bot.cli", "index", "watch"],
                env,
                self._index_current,
            )
        )
        self.servers.wait_until("indexer", self._index_current, 600)
        from knowledge.index import IndexVersions

        version = IndexVersions(self.knowledge.index_dir).current_name()
        self.log(f"motcua: index {version} published")

        readonly = {**env, "MOTCUA_INDEX_READONLY": "1"}
        for n, port in enumerate(s.actions_ports, 1):
            self._start(
                Part(
                    f"actions-{n}",
                    [sys.executable, "-m", "actions.server", "--port", str(port)],
                    readonly,
                    _ready_actions(port),
                    port,
                )
            )
        for n in range(1, s.actions_replicas + 1):
            self.servers.wait_until(f"actions-{n}", self.parts[f"actions-{n}"].ready, 300)
        self.log(f"motcua: {s.actions_replicas} action server(s) ready")

        for n, port in enumerate(s.rasa_ports, 1):
            command = [
                sys.executable, "-m", "rasa", "run",
                "--enable-api",
                "--interface", "127.0.0.1",
                "--port", str(port),
                "--model", str(model),
                "--endpoints", str(endpoints),
                "--credentials", str(credentials),
                "--cors", "*",
            ]  # fmt: skip
            self._start(Part(f"rasa-{n}", command, env, _ready_rasa(port), port))
        self.health = HealthServer(Health(s, self.knowledge.index_dir, self.alive), s.health_port)
        self.health.start()
        self._start(Part("nginx", nginx, env, port=_listen_port(s.listen)[1]))
        if s.event_broker_url and _consumer_available():
            self._start(Part("consumer", [sys.executable, "-m", "bot.events", "consume"], env))
        if (ROOT / "staff" / "server.py").exists():
            self._start(
                Part(
                    "staff",
                    [sys.executable, "-m", "staff.server", "--port", str(s.staff_port)],
                    env,
                    port=s.staff_port,
                )
            )
        for n in range(1, s.rasa_replicas + 1):
            self.servers.wait_until(f"rasa-{n}", self.parts[f"rasa-{n}"].ready, 600)
        self.log(f"motcua: {s.rasa_replicas} Rasa server(s) ready")
        host, port = _listen_port(s.listen)
        shown = "localhost" if host in ("0.0.0.0", "", "*") else host
        url = f"http://{shown}:{port}"
        self.log(
            "motcua: cluster ready.\n"
            f"  channels: {', '.join(channels)}\n"
            f"  REST:     POST {url}/webhooks/rest/webhook\n"
            f"  health:   {url}/health\n"
            f"  staff:    http://{s.staff_listen}/\n"
            f"  parts:    {self.run_dir / 'cluster.json'}; logs: {self.servers.settings.logs_dir}\n"
            "  Ctrl-C stops everything."
        )

    # --- running

    def supervise(self, stopping: Callable[[], bool]) -> None:
        """Restarts children that die until ``stopping()`` is true.

        Raises:
            RunError: When restarts are off, or a child died 5 times in 5 minutes.
        """
        while not stopping():
            for name, process in list(self.servers.processes.items()):
                if process.poll() is None or stopping():
                    continue
                part = self.parts[name]
                tail = self.servers.tail(name, 5)
                if not self.settings.restart:
                    raise RunError(f"the {name} process stopped unexpectedly:\n{tail}")
                now = time.monotonic()
                part.restarts = [t for t in part.restarts if now - t < 300] + [now]
                if len(part.restarts) > 5:
                    raise RunError(f"the {name} process keeps dying:\n{tail}")
                self.log(f"motcua: {name} exited (status {process.returncode}); starting it again")
                if part.port and not _wait_port_free(part.port, 30):
                    self.log(f"motcua: port {part.port} of {name} is still taken; trying anyway")
                self._start(part)
            time.sleep(0.5)

    def stop(self) -> None:
        """Stops every child and the health server."""
        self.servers.stop(grace=15)
        if self.health is not None:
            self.health.stop()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _wait_port_free(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_free(port):
            return True
        time.sleep(0.5)
    return False


def _ready_rasa(port: int) -> Callable[[], bool]:
    from bot.runner import rasa_ready

    return lambda: rasa_ready(port)


def _ready_actions(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        code, body = get_json(f"http://127.0.0.1:{port}/motcua/status")
        return code == 200 and bool(body.get("index_version"))

    return ready


def serve(*, force_train: bool = False, log=print) -> int:
    """Runs the cluster until Ctrl-C or SIGTERM; returns the exit status.

    Raises:
        RunError: For bad settings, a port in use, or a part that cannot start.
    """
    try:
        settings = ClusterSettings.from_env(dict(os.environ))
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    cluster = Cluster(settings, log)
    with stop_on_signals() as stopping:
        try:
            cluster.start(force_train=force_train)
            cluster.supervise(stopping)
            log("motcua: stopping…")
            return 0
        finally:
            cluster.stop()


# ---------------------------------------------------------------------------------- CLI


def add_parsers(sub) -> None:
    """Registers ``motcua serve`` on the CLI's subparsers."""
    parser = sub.add_parser(
        "serve", help="production: N Rasa + M action servers behind nginx (see docs/deployment.md)"
    )
    parser.add_argument("--train", action="store_true", help="retrain the dialogue model first")
    parser.set_defaults(func=_cmd_serve)


def add_index_parsers(isub) -> None:
    """Registers ``motcua index publish|watch|status`` on the ``index`` subparsers."""
    publish = isub.add_parser(
        "publish", help="publish a new index version if the catalogue changed"
    )
    publish.add_argument("--force", action="store_true", help="publish even if unchanged")
    publish.set_defaults(func=_cmd_index_publish)
    watch = isub.add_parser("watch", help="publish a version after every catalogue change")
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between checks")
    watch.set_defaults(func=_cmd_index_watch)
    status = isub.add_parser("status", help="the current index version")
    status.set_defaults(func=_cmd_index_status)


def _cmd_serve(args: argparse.Namespace) -> int:
    from bot.cli import CliError

    logging.getLogger("bot.cluster").setLevel(logging.INFO)
    try:
        return serve(force_train=args.train)
    except RunError as exc:
        raise CliError(str(exc)) from exc


def _cmd_index_publish(args: argparse.Namespace) -> int:
    from knowledge.service import IndexPublisher

    manifest = IndexPublisher().publish_if_changed(force=args.force)
    from infra.settings import get_settings
    from knowledge.index import IndexVersions

    current = manifest or IndexVersions(get_settings().index_dir).manifest()
    print(json.dumps({"published": manifest is not None, **(current.to_dict() if current else {})}))
    return 0


def _cmd_index_watch(args: argparse.Namespace) -> int:
    from knowledge.service import IndexPublisher

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    publisher = IndexPublisher()
    print(f"motcua index: watching the catalogue every {args.interval:g} s", flush=True)
    publisher.watch(args.interval, stop, log=lambda line: print(line, flush=True))
    return 0


def _cmd_index_status(args: argparse.Namespace) -> int:
    from infra.settings import get_settings
    from knowledge.index import IndexVersions

    versions = IndexVersions(get_settings().index_dir)
    manifest = versions.manifest()
    print(
        json.dumps(
            {**(manifest.to_dict() if manifest else {"version": None}), "kept": versions.names()}
        )
    )
    return 0
