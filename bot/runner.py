"""``motcua run``: prepare what is missing, start the Rasa and action servers, watch them.

1. the catalogue database (seeded from the bundled sample when empty) and its index;
2. the demo dossiers on an empty dossier table;
3. the dialogue model, trained only when its training data changed (the model's
   file name carries a fingerprint of config, domain, NLU data, rules and stories);
4. the action server, then the Rasa server, each checked through its health
   endpoint (``/health`` and ``/status``; Rasa answers the webhook with ``[]`` even
   without a model, so the webhook proves nothing);
5. Ctrl-C (or SIGTERM) stops both; if either dies, the other is stopped too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config.yml"
DOMAIN = ROOT / "bot" / "domain"
TRAINING_DATA = (ROOT / "nlu", ROOT / "bot" / "rules", ROOT / "bot" / "stories")
ENDPOINTS = ROOT / "bot" / "endpoints.yml"
CREDENTIALS = ROOT / "bot" / "credentials.yml"
"""REST only: for running ``rasa run`` by hand (``motcua run`` writes its own, see below)."""


class RunError(RuntimeError):
    """A problem to report in one line (port taken, model missing, a server died)."""


@dataclass(frozen=True)
class RunSettings:
    """Where the servers listen and where models and logs go.

    Attributes:
        rasa_port: Rasa server port (``MOTCUA_RASA_PORT``, 5005).
        actions_port: Action server port (``MOTCUA_ACTIONS_PORT``, 5055).
        models_dir: Trained models (``MOTCUA_MODELS_DIR``, ``models/``).
        logs_dir: Server logs (``$MOTCUA_HOME/logs``).
    """

    rasa_port: int
    actions_port: int
    models_dir: Path
    logs_dir: Path

    @classmethod
    def from_env(cls, home: Path) -> RunSettings:
        """Reads the run settings from the environment."""
        return cls(
            rasa_port=int(os.environ.get("MOTCUA_RASA_PORT", 5005)),
            actions_port=int(os.environ.get("MOTCUA_ACTIONS_PORT", 5055)),
            models_dir=Path(os.environ.get("MOTCUA_MODELS_DIR") or ROOT / "models"),
            logs_dir=home / "logs",
        )


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml", ".py"))
        elif path.exists():
            out.append(path)
    return out


def training_fingerprint() -> str:
    """Returns a hash of everything the dialogue model is trained from."""
    digest = hashlib.sha256()
    sources = _files([CONFIG, DOMAIN, *TRAINING_DATA, ROOT / "nlu" / "components.py"])
    for path in sources:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_path(models_dir: Path) -> Path:
    """Returns where the model for the current training data lives."""
    return models_dir / f"motcua-{training_fingerprint()}.tar.gz"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("TRANSFORMERS_VERBOSITY", "error")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def train(models_dir: Path, *, force: bool = False, log=print) -> Path:
    """Trains the dialogue model unless one for the current data exists.

    Args:
        models_dir: Where models are kept.
        force: Train even when a model for this data exists.
        log: Where progress lines go.

    Returns:
        The model file.

    Raises:
        RunError: When training fails (with the end of its output).
    """
    target = model_path(models_dir)
    if target.exists() and not force:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    log(f"motcua: training the dialogue model ({target.name}); this takes a few minutes…")
    started = time.monotonic()
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(CONFIG),
        "--domain", str(DOMAIN),
        "--data", *(str(p) for p in TRAINING_DATA),
        "--out", str(models_dir),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=ROOT, env=_env(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not target.exists():
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise RunError(f"training failed (exit {result.returncode}):\n{tail}")
    log(f"motcua: model trained in {time.monotonic() - started:.0f} s")
    return target


def port_free(port: int) -> bool:
    """Tells whether nothing listens on ``port`` on any interface."""
    from actions.server import port_free as free

    return free(port, "0.0.0.0")


def get_json(url: str, timeout: float = 2.0) -> tuple[int, dict]:
    """GETs ``url``; returns ``(status, JSON body)``, ``(0, {})`` when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except (urllib.error.URLError, OSError, ValueError):
        return 0, {}


def rasa_ready(port: int) -> bool:
    """Tells whether the Rasa server at ``port`` has a model loaded (``/status`` is 200)."""
    status, body = get_json(f"http://127.0.0.1:{port}/status")
    return status == 200 and bool(body.get("model_file"))


def actions_ready(port: int) -> bool:
    """Tells whether the action server at ``port`` answers ``/health``."""
    status, body = get_json(f"http://127.0.0.1:{port}/health")
    return status == 200 and body.get("status") == "ok"


@dataclass
class Servers:
    """The two server processes and their logs."""

    settings: RunSettings
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        """Starts one server with its output in ``logs_dir/<name>.log``."""
        self.settings.logs_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.settings.logs_dir / f"{name}.log"
        self.logs[name] = log_path
        with open(log_path, "ab") as log:
            self.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        (self.settings.logs_dir / f"{name}.pid").write_text(str(self.processes[name].pid))

    def dead(self) -> str | None:
        """Returns the name of a server that has exited, if any."""
        return next((n for n, p in self.processes.items() if p.poll() is not None), None)

    def tail(self, name: str, lines: int = 15) -> str:
        """Returns the end of a server's log."""
        try:
            return "\n".join(self.logs[name].read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_until(self, name: str, ready, timeout: float) -> None:
        """Waits for ``ready()``; raises :class:`RunError` if the server dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            if self.processes[name].poll() is not None:
                raise RunError(
                    f"the {name} server exited (status {self.processes[name].returncode}):\n"
                    f"{self.tail(name)}"
                )
            time.sleep(0.5)
        raise RunError(
            f"the {name} server did not become ready in {timeout:.0f} s:\n{self.tail(name)}"
        )

    def stop(self, grace: float = 10.0) -> None:
        """Stops every server: SIGTERM, then SIGKILL after ``grace`` seconds."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            (self.settings.logs_dir / f"{name}.pid").unlink(missing_ok=True)


CHANNEL_MODULES = {
    "connectors.webchat.WebchatInput": "connectors.webchat",
    "connectors.telegram.TelegramInput": "connectors.telegram",
    "connectors.zalo.ZaloInput": "connectors.zalo",
}
"""Optional channels: each module's ``credentials_from_env`` says whether it is configured."""


def channel_credentials(env: dict[str, str]) -> dict[str, dict]:
    """Returns the ``credentials.yml`` content: REST always, other channels when configured.

    Rasa stops on an unset ``${VAR}`` in its YAML, so instead of one file with every
    channel, the runner writes the channels whose settings are present in the environment.
    """
    import importlib

    credentials: dict[str, dict] = {"connectors.rest.RestInput": {}}
    for class_path, module_name in CHANNEL_MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            logger.warning("channel %s unavailable: %s", class_path, exc)
            continue
        settings = module.credentials_from_env(env)
        if settings is not None:
            credentials[class_path] = settings
    return credentials


def write_credentials(path: Path, env: dict[str, str]) -> list[str]:
    """Writes the credentials file for this run; returns the channel names enabled."""
    import yaml

    credentials = channel_credentials(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `motcua run` from the environment; edits are overwritten.\n"
        + yaml.safe_dump(credentials, sort_keys=False),
        encoding="utf-8",
    )
    path.chmod(0o600)
    return [c.rsplit(".", 1)[-1].removesuffix("Input").lower() for c in credentials]


def store_endpoints(env: dict[str, str]) -> dict[str, dict]:
    """Returns Rasa's tracker store, lock store and event broker sections from URLs.

    Embedded defaults need none of them (in-memory trackers and locks, no broker); a
    cluster sets:

    * ``MOTCUA_TRACKER_STORE_URL`` — ``postgresql://user:pass@host:5432/db`` (SQL tracker
      store, shared by every Rasa server);
    * ``MOTCUA_LOCK_STORE_URL`` — ``redis://:pass@host:6379/1`` (one conversation is
      processed by one server at a time);
    * ``MOTCUA_EVENT_BROKER_URL`` — ``amqp://user:pass@host:5672/`` (conversation events
      to RabbitMQ, queue ``MOTCUA_EVENT_QUEUE``, default ``motcua_events``; the consumer
      ``python -m bot.events consume`` writes them to the conversation log). Without it,
      events go to the conversation log in-process (:class:`bot.events.ConversationLogBroker`).

    Raises:
        ValueError: For a URL of the wrong scheme.
    """
    from urllib.parse import unquote, urlsplit

    sections: dict[str, dict] = {}
    tracker = env.get("MOTCUA_TRACKER_STORE_URL")
    if tracker:
        url = urlsplit(tracker)
        if not url.scheme.startswith("postgresql"):
            raise ValueError("MOTCUA_TRACKER_STORE_URL must be a postgresql:// URL")
        sections["tracker_store"] = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": url.hostname or "localhost",
            "port": url.port or 5432,
            "db": url.path.lstrip("/") or "motcua",
            "username": unquote(url.username or ""),
            "password": unquote(url.password or ""),
        }
    lock = env.get("MOTCUA_LOCK_STORE_URL")
    if lock:
        url = urlsplit(lock)
        if url.scheme != "redis":
            raise ValueError("MOTCUA_LOCK_STORE_URL must be a redis:// URL")
        sections["lock_store"] = {
            "type": "bot.locks.AtomicRedisLockStore",  # Rasa's "redis" races across servers
            "url": url.hostname or "localhost",
            "port": url.port or 6379,
            "db": int(url.path.lstrip("/") or 0),
            "password": unquote(url.password or "") or None,
            "key_prefix": "motcua",
        }
    broker = env.get("MOTCUA_EVENT_BROKER_URL")
    if not broker:
        # Embedded: conversation events go straight to the SQL conversation log (staff
        # review queue and dashboard), written by a background thread off the answer path.
        sections["event_broker"] = {"type": "bot.events.ConversationLogBroker"}
    else:
        url = urlsplit(broker)
        if url.scheme not in ("amqp", "amqps"):
            raise ValueError("MOTCUA_EVENT_BROKER_URL must be an amqp:// URL")
        sections["event_broker"] = {
            "type": "bot.events.RetryingPikaEventBroker",  # Rasa's pika broker, retrying
            "url": url.hostname or "localhost",
            "port": url.port or 5672,
            "username": unquote(url.username or "guest"),
            "password": unquote(url.password or "guest"),
            "queues": [env.get("MOTCUA_EVENT_QUEUE") or "motcua_events"],
            # Rasa's default exchange (rasa-exchange, fanout) copies every event to every
            # queue bound to it: another deployment or test on the same RabbitMQ would
            # receive ours. One exchange per queue keeps them apart.
            "exchange_name": env.get("MOTCUA_EVENT_QUEUE") or "motcua_events",
        }
    return sections


def write_endpoints(path: Path, action_url: str, env: dict[str, str] | None = None) -> None:
    """Writes this run's ``endpoints.yml``: the project's, our action server, the stores.

    Args:
        path: Where to write.
        action_url: The action server's webhook.
        env: Environment with the optional store URLs (see :func:`store_endpoints`).
    """
    import yaml

    endpoints = yaml.safe_load(ENDPOINTS.read_text("utf-8")) or {}
    endpoints["action_endpoint"] = {**(endpoints.get("action_endpoint") or {}), "url": action_url}
    endpoints.update(store_endpoints(env or {}))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(
        "# Written by `motcua run` from bot/endpoints.yml; edits are overwritten.\n"
        + yaml.safe_dump(endpoints, sort_keys=False),
        encoding="utf-8",
    )


@contextmanager
def stop_on_signals() -> Iterator[Callable[[], bool]]:
    """Turns SIGINT and SIGTERM into a flag a supervising loop polls; restores the handlers.

    Yields:
        A function that tells whether a stop was asked for.
    """
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def prepare(log=print) -> None:
    """Seeds the catalogue, builds its index and seeds demo dossiers where missing."""
    from desk.demo import seed_demo
    from desk.dossiers import DossierStore
    from infra.settings import get_settings
    from knowledge.service import open_search

    settings = get_settings()
    opened = open_search(settings)
    log(f"motcua: catalogue ready, {len(opened.search)} procedures ({opened.store._safe_url()})")
    store = DossierStore(settings.database_url)
    added = seed_demo(store)
    if added:
        log(f"motcua: seeded {added} demo dossiers (e.g. 000.00.20.H26-251103-0042)")


def run(*, train_only: bool = False, force_train: bool = False, log=print) -> int:
    """Runs the main job; returns the exit status.

    Raises:
        RunError: For a port in use, a failed training, or a server that dies or hangs.
    """
    from infra.settings import get_settings
    from staff.settings import get_staff_settings

    settings = RunSettings.from_env(get_settings().home)
    staff_port = get_staff_settings().port
    ports = (("Rasa", settings.rasa_port), ("action", settings.actions_port), ("staff", staff_port))
    for name, port in ports:
        if not port_free(port):
            variable = {"Rasa": "RASA", "action": "ACTIONS", "staff": "STAFF"}[name]
            raise RunError(
                f"port {port} for the {name} server is already in use; stop what runs there "
                f"or set MOTCUA_{variable}_PORT"
            )
    try:
        store_endpoints(dict(os.environ))  # check the cluster settings before any work
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    prepare(log)
    model = train(settings.models_dir, force=force_train, log=log)
    if train_only:
        log(f"motcua: model {model}")
        return 0
    env = _env()
    home = get_settings().home
    endpoints = home / "endpoints.yml"
    write_endpoints(endpoints, f"http://127.0.0.1:{settings.actions_port}/webhook", env)
    credentials = home / "credentials.yml"
    channels = write_credentials(credentials, env)
    servers = Servers(settings)
    with stop_on_signals() as stopping:
        try:
            servers.start(
                "actions",
                [sys.executable, "-m", "actions.server", "--port", str(settings.actions_port)],
                env,
            )
            staff_command = [sys.executable, "-m", "staff.server", "--port", str(staff_port)]
            servers.start("staff", staff_command, env)
            servers.wait_until("actions", lambda: actions_ready(settings.actions_port), 180)
            servers.start(
                "rasa",
                [
                    sys.executable,
                    "-m",
                    "rasa",
                    "run",
                    "--enable-api",
                    "--model",
                    str(model),
                    "--endpoints",
                    str(endpoints),
                    "--credentials",
                    str(credentials),
                    "--port",
                    str(settings.rasa_port),
                    "--cors",
                    "*",
                ],  # fmt: skip
                env,
            )
            servers.wait_until("rasa", lambda: rasa_ready(settings.rasa_port), 300)
            servers.wait_until("staff", lambda: actions_ready(staff_port), 60)  # same /health
            url = f"http://localhost:{settings.rasa_port}/webhooks/rest/webhook"
            log(
                "motcua: ready.\n"
                f"  channels: {', '.join(channels)}\n"
                f"  REST:    POST {url}\n"
                f"  example: curl -s {url} -H 'Content-Type: application/json' "
                '-d \'{"sender": "me", "message": "làm hộ chiếu cần giấy tờ gì"}\'\n'
                f"  health:  http://localhost:{settings.rasa_port}/status, "
                f"http://localhost:{settings.actions_port}/health\n"
                f"  staff:   http://localhost:{staff_port}/ (accounts: motcua staff create-user)\n"
                f"  logs:    {settings.logs_dir}\n"
                "  Ctrl-C stops every server."
            )
            while not stopping():
                dead = servers.dead()
                if dead:
                    raise RunError(f"the {dead} server stopped unexpectedly:\n{servers.tail(dead)}")
                time.sleep(0.5)
            log("motcua: stopping…")
            return 0
        finally:
            servers.stop()
