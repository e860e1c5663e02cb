"""What ``motcua run`` and ``motcua serve`` start: one plan of processes, two sizes.

A :class:`Plan` lists the parts (command line, environment, port, probes) in stages: the
supervisor starts a stage's parts together and waits for their readiness before the next
stage. ``motcua run`` is 1 action server + the staff console, then 1 Rasa server serving
citizens itself; ``motcua serve`` is the indexer, then M action servers, then N Rasa
servers bound to 127.0.0.1, nginx in front, the events consumer and the staff console.
Everything else — preparing data, training, writing endpoints and credentials, supervising
and health — is the same code for both (:mod:`bot.launcher`).

Internal interfaces are closed by default: Rasa's HTTP API needs ``MOTCUA_RASA_TOKEN``
(random per start when unset) and action servers listen on 127.0.0.1 and need
``MOTCUA_ACTIONS_TOKEN`` (idem), which Rasa sends from the ``endpoints.yml`` written for
the start.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot import probes
from bot.errors import RunError
from infra.settings import ROOT, read
from infra.settings import listen as parse_listen

PROBE_TIMEOUT_S = 30.0
"""How long a Rasa server may take to parse the probe message (p50 is 7.5 s at saturation)."""


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every child: this one's, quiet libraries, the checkout importable."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("TRANSFORMERS_VERBOSITY", "error")
    env.setdefault("USE_TF", "0")  # transformers (in the action server): no TensorFlow
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def _host_port(listen: str) -> tuple[str, int]:
    return parse_listen(listen)


@dataclass(frozen=True)
class LaunchSettings:
    """Where the parts listen, how many there are, and the shared stores.

    Built from the settings registry (:func:`infra.settings.read`); see the README's
    settings table for each variable. ``listen`` and ``staff_listen`` are nginx ``listen``
    values (``HOST:PORT``); the tokens are random per start when their variables are unset.
    """

    rasa_replicas: int = 1
    actions_replicas: int = 1
    rasa_port: int = 5005
    actions_port: int = 5055
    listen: str = "0.0.0.0:8080"
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
    home: Path = Path("var")
    models_dir: Path = ROOT / "models"
    index_dir: Path = Path("var/index")
    rasa_token: str = ""
    actions_token: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LaunchSettings:
        """Reads and checks the settings.

        Raises:
            ValueError: For a malformed value, or several Rasa servers without shared stores.
        """
        v = read(env)
        settings = cls(
            rasa_replicas=v["MOTCUA_RASA_REPLICAS"],
            actions_replicas=v["MOTCUA_ACTIONS_REPLICAS"],
            rasa_port=v["MOTCUA_RASA_PORT"],
            actions_port=v["MOTCUA_ACTIONS_PORT"],
            listen="{}:{}".format(*v["MOTCUA_LISTEN"]),
            staff_listen="{}:{}".format(*v["MOTCUA_STAFF_LISTEN"]),
            staff_port=v["MOTCUA_STAFF_PORT"],
            actions_balancer_port=v["MOTCUA_ACTIONS_BALANCER_PORT"],
            health_port=v["MOTCUA_HEALTH_PORT"],
            tracker_store_url=v["MOTCUA_TRACKER_STORE_URL"],
            lock_store_url=v["MOTCUA_LOCK_STORE_URL"],
            event_broker_url=v["MOTCUA_EVENT_BROKER_URL"],
            event_queue=v["MOTCUA_EVENT_QUEUE"],
            database_url=v["MOTCUA_DATABASE_URL"],
            restart=v["MOTCUA_RESTART"],
            home=v["MOTCUA_HOME"],
            models_dir=v["MOTCUA_MODELS_DIR"],
            index_dir=v["MOTCUA_INDEX_DIR"],
            rasa_token=v["MOTCUA_RASA_TOKEN"] or secrets.token_urlsafe(32),
            actions_token=v["MOTCUA_ACTIONS_TOKEN"] or secrets.token_urlsafe(32),
        )
        missing = [
            name
            for name, value in (
                ("MOTCUA_TRACKER_STORE_URL", settings.tracker_store_url),
                ("MOTCUA_LOCK_STORE_URL", settings.lock_store_url),
            )
            if not value
        ]
        if settings.rasa_replicas > 1 and missing:
            raise ValueError(
                f"{settings.rasa_replicas} Rasa servers need shared stores: set "
                f"{' and '.join(missing)} (postgresql://… and redis://…)"
            )
        return settings

    @property
    def rasa_ports(self) -> list[int]:
        """The Rasa servers' ports."""
        return [self.rasa_port + n for n in range(self.rasa_replicas)]

    @property
    def actions_ports(self) -> list[int]:
        """The action servers' ports."""
        return [self.actions_port + n for n in range(self.actions_replicas)]

    @property
    def run_dir(self) -> Path:
        """Where this start's files go (endpoints, credentials, nginx, ``cluster.json``)."""
        return (self.home / "run").resolve()

    @property
    def logs_dir(self) -> Path:
        """The parts' logs and pid files."""
        return self.home / "logs"

    def ports(self) -> dict[str, int]:
        """Every port ``motcua serve`` binds, by what binds it."""
        ports = {f"Rasa server {n + 1}": p for n, p in enumerate(self.rasa_ports)}
        ports.update({f"action server {n + 1}": p for n, p in enumerate(self.actions_ports)})
        ports.update(
            {
                "balancer (MOTCUA_LISTEN)": _host_port(self.listen)[1],
                "staff balancer (MOTCUA_STAFF_LISTEN)": _host_port(self.staff_listen)[1],
                "action balancer (MOTCUA_ACTIONS_BALANCER_PORT)": self.actions_balancer_port,
                "health (MOTCUA_HEALTH_PORT)": self.health_port,
                "staff console (MOTCUA_STAFF_PORT)": self.staff_port,
            }
        )
        return ports


@dataclass
class Part:
    """One child process: how to start it, when it is ready, whether it still answers.

    Attributes:
        name: Its name in logs, pid files and ``cluster.json``.
        command: Its command line (no secret: those go in ``env``).
        env: Its environment.
        port: The port it binds (waited free before a restart).
        ready: True once it serves (waited for before the next stage).
        ready_timeout: Seconds to wait for ``ready``.
        answers: Run periodically once started; failing several times in a row means it
            stopped answering (restarted like a dead part).
    """

    name: str
    command: list[str]
    env: dict[str, str]
    port: int | None = None
    ready: Callable[[], bool] | None = None
    ready_timeout: float = 60.0
    answers: Callable[[], bool] | None = None
    restarts: list[float] = field(default_factory=list)


@dataclass
class Plan:
    """Every part of one start, in stages, and how to treat them.

    Attributes:
        mode: ``run`` or ``serve``.
        settings: The settings it was built from.
        model: The dialogue model the Rasa servers load.
        stages: Parts started together, each stage ready before the next.
        ports: What must be free before anything starts: ``{what: (port, variable)}``.
        action_url: The Rasa servers' action endpoint.
        restart: Start a part that died (or stopped answering) again; else stop everything.
        health_port: Serve ``/health`` there (``None``: no health server).
        nginx: Render and check nginx's config before starting.
        build_index: The preparing step builds the search index (else the indexer part does).
        demo: The preparing step seeds the demo dossiers into an empty dossier table.
    """

    mode: str
    settings: LaunchSettings
    model: Path
    stages: list[list[Part]]
    ports: dict[str, tuple[int, str]]
    action_url: str
    restart: bool
    health_port: int | None = None
    nginx: bool = False
    build_index: bool = True
    demo: bool = True

    @property
    def parts(self) -> list[Part]:
        """Every part, in start order."""
        return [part for stage in self.stages for part in stage]

    @property
    def endpoints(self) -> Path:
        """This start's ``endpoints.yml``."""
        return self.settings.run_dir / "endpoints.yml"

    @property
    def credentials(self) -> Path:
        """This start's ``credentials.yml``."""
        return self.settings.run_dir / "credentials.yml"


def _actions(name: str, port: int, s: LaunchSettings, env: dict[str, str], **kw) -> Part:
    command = [sys.executable, "-m", "actions.server", "--port", str(port)]
    return Part(name, command, {**env, "MOTCUA_ACTIONS_TOKEN": s.actions_token}, port, **kw)


def _rasa(
    name: str,
    port: int,
    plan_files: tuple[Path, Path, Path],
    s: LaunchSettings,
    env: dict[str, str],
    interface: str,
) -> Part:
    model, endpoints, credentials = plan_files
    # No --cors: the channels answer cross-origin requests by the widget allow-list.
    command = [
        sys.executable, "-m", "bot.rasa_server",
        "--interface", interface,
        "--port", str(port),
        "--model", str(model),
        "--endpoints", str(endpoints),
        "--credentials", str(credentials),
    ]  # fmt: skip
    return Part(
        name,
        command,
        {**env, "MOTCUA_RASA_TOKEN": s.rasa_token},
        port,
        ready=probes.bind(probes.rasa_status, port, s.rasa_token),
        ready_timeout=600,
        answers=probes.bind(probes.rasa_answers, port, s.rasa_token, PROBE_TIMEOUT_S),
    )


def _staff(s: LaunchSettings, env: dict[str, str]) -> Part:
    command = [sys.executable, "-m", "staff.server", "--port", str(s.staff_port)]
    check = probes.bind(probes.http_ok, s.staff_port)
    return Part("staff", command, env, s.staff_port, ready=check, answers=check)


def _notify(env: dict[str, str]) -> Part:
    """The notifier (``python -m notify``): status events in, dossier notices out."""
    from infra.settings import read

    port = read()["MOTCUA_NOTIFY_LISTEN"][1]
    check = probes.bind(probes.http_ok, port)
    return Part("notify", [sys.executable, "-m", "notify"], env, port, ready=check, answers=check)


def run_plan(settings: LaunchSettings, model: Path) -> Plan:
    """``motcua run``: one action server and the staff console, then one Rasa server.

    The Rasa server serves citizens itself (all interfaces, like the channels need); its
    HTTP API answers only with the token.
    """
    s, env = settings, child_env()
    files = (model, s.run_dir / "endpoints.yml", s.run_dir / "credentials.yml")
    actions_ok = probes.bind(probes.http_ok, s.actions_port)
    stages = [
        [
            _actions(
                "actions",
                s.actions_port,
                s,
                env,
                ready=actions_ok,
                ready_timeout=180,
                answers=actions_ok,
            ),
            _staff(s, env),
            _notify(env),
        ],
        [_rasa("rasa", s.rasa_port, files, s, env, "0.0.0.0")],
    ]
    ports = {
        "Rasa server": (s.rasa_port, "MOTCUA_RASA_PORT"),
        "action server": (s.actions_port, "MOTCUA_ACTIONS_PORT"),
        "staff server": (s.staff_port, "MOTCUA_STAFF_PORT"),
    }
    action_url = f"http://127.0.0.1:{s.actions_port}/webhook"
    return Plan("run", s, model, stages, ports, action_url, restart=False)


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


def nginx_command(run_dir: Path) -> list[str]:
    """The nginx command line: foreground, on ``run_dir/nginx.conf``, no root, no system paths."""
    return [
        nginx_binary(),
        "-p", f"{run_dir}/",
        "-c", str(run_dir / "nginx.conf"),
        "-e", str(run_dir / "logs" / "nginx-error.log"),
        "-g", "daemon off;",
    ]  # fmt: skip


def serve_plan(settings: LaunchSettings, model: Path, *, demo: bool = False) -> Plan:
    """``motcua serve``: the indexer, M action servers, then N Rasa servers behind nginx."""
    s, env = settings, child_env()
    files = (model, s.run_dir / "endpoints.yml", s.run_dir / "credentials.yml")
    indexer = Part(
        "indexer",
        [sys.executable, "-m", "bot.cli", "index", "watch"],
        env,
        ready=probes.bind(probes.index_current, s.database_url, s.index_dir),
        ready_timeout=600,
    )
    readonly = {**env, "MOTCUA_INDEX_READONLY": "1"}
    actions = []
    for n, port in enumerate(s.actions_ports, 1):
        indexed = probes.bind(probes.actions_indexed, port)
        actions.append(
            _actions(
                f"actions-{n}", port, s, readonly, ready=indexed, ready_timeout=300, answers=indexed
            )
        )
    front = [
        _rasa(f"rasa-{n}", port, files, s, env, "127.0.0.1")
        for n, port in enumerate(s.rasa_ports, 1)
    ]
    front.append(Part("nginx", nginx_command(s.run_dir), env, _host_port(s.listen)[1]))
    if s.event_broker_url:
        front.append(Part("consumer", [sys.executable, "-m", "bot.events", "consume"], env))
    front.append(_staff(s, env))
    front.append(_notify(env))
    ports = {what: (port, "") for what, port in s.ports().items()}
    action_url = f"http://127.0.0.1:{s.actions_balancer_port}/webhook"
    return Plan(
        "serve",
        s,
        model,
        [[indexer], actions, front],
        ports,
        action_url,
        restart=s.restart,
        health_port=s.health_port,
        nginx=True,
        build_index=False,
        demo=demo,
    )
