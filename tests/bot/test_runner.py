"""The launcher's pieces that need no servers: fingerprints, endpoints, credentials."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
import yaml

from bot.model import training_fingerprint
from bot.render import channel_credentials, store_endpoints, write_credentials, write_endpoints


def test_fingerprint_is_stable():
    assert training_fingerprint() == training_fingerprint()
    assert len(training_fingerprint()) == 12


def test_embedded_defaults_need_no_store_and_log_conversations_in_process():
    assert store_endpoints({}) == {"event_broker": {"type": "bot.events.ConversationLogBroker"}}


def test_cluster_urls_become_rasa_sections():
    sections = store_endpoints(
        {
            "MOTCUA_TRACKER_STORE_URL": "postgresql://motcua:p%40ss@db.internal:5433/motcua",
            "MOTCUA_LOCK_STORE_URL": "redis://:secret@cache.internal:6380/2",
            "MOTCUA_EVENT_BROKER_URL": "amqp://rabbit:pw@mq.internal/",
        }
    )
    assert sections["tracker_store"] == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 5433,
        "db": "motcua",
        "username": "motcua",
        "password": "p@ss",
    }
    assert sections["lock_store"]["url"] == "cache.internal"
    assert (sections["lock_store"]["port"], sections["lock_store"]["db"]) == (6380, 2)
    assert sections["lock_store"]["password"] == "secret"
    assert sections["event_broker"]["port"] == 5672
    assert sections["event_broker"]["queues"] == ["motcua_events"]
    assert sections["event_broker"]["exchange_name"] == "motcua_events"  # not Rasa's shared one


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("MOTCUA_TRACKER_STORE_URL", "mysql://x/y"),
        ("MOTCUA_LOCK_STORE_URL", "memcached://x"),
        ("MOTCUA_EVENT_BROKER_URL", "kafka://x"),
    ],
)
def test_wrong_schemes_are_refused(key, value):
    with pytest.raises(ValueError, match=key):
        store_endpoints({key: value})


def test_written_endpoints_keep_the_project_file_and_add_ours(tmp_path):
    path = tmp_path / "endpoints.yml"
    write_endpoints(path, "http://127.0.0.1:6055/webhook", {"MOTCUA_LOCK_STORE_URL": "redis://r"})
    written = yaml.safe_load(path.read_text())
    assert written["action_endpoint"]["url"] == "http://127.0.0.1:6055/webhook"
    assert written["lock_store"]["type"] == "bot.locks.AtomicRedisLockStore"
    assert path.stat().st_mode & 0o077 == 0  # may hold passwords


def test_credentials_enable_channels_from_the_environment(tmp_path):
    assert set(channel_credentials({})) == {
        "connectors.rest.RestInput",
        "connectors.webchat.WebchatInput",
    }
    env = {"MOTCUA_TELEGRAM_TOKEN": "1:x", "MOTCUA_TELEGRAM_SECRET": "s"}
    names = write_credentials(tmp_path / "credentials.yml", env)
    assert names == ["rest", "webchat", "telegram"]
    written = yaml.safe_load((tmp_path / "credentials.yml").read_text())
    assert written["connectors.telegram.TelegramInput"]["token"] == "1:x"


# --- one plan for run and serve -------------------------------------------------------------


def _settings(**env: str):
    from bot.plan import LaunchSettings

    return LaunchSettings.from_env(env)


def test_run_and_serve_are_plans_of_the_same_parts(tmp_path, monkeypatch):
    from bot import plan as plans

    monkeypatch.setattr(plans, "nginx_binary", lambda: "/usr/sbin/nginx")
    model = tmp_path / "motcua-x.tar.gz"
    run = plans.run_plan(_settings(), model)
    stages = [[p.name for p in stage] for stage in run.stages]
    assert stages == [["actions", "staff", "notify"], ["rasa"]]
    assert (run.restart, run.health_port, run.nginx, run.demo) == (False, None, False, True)
    serve = plans.serve_plan(_settings(MOTCUA_ACTIONS_REPLICAS="2"), model)
    names = [p.name for p in serve.parts]
    assert names == ["indexer", "actions-1", "actions-2", "rasa-1", "nginx", "staff", "notify"]
    assert serve.nginx and serve.health_port == 5090 and not serve.build_index


def test_serve_seeds_no_demo_data_unless_asked(tmp_path, monkeypatch):
    from bot import plan as plans

    monkeypatch.setattr(plans, "nginx_binary", lambda: "/usr/sbin/nginx")
    model = tmp_path / "m.tar.gz"
    assert plans.serve_plan(_settings(), model).demo is False
    assert plans.serve_plan(_settings(), model, demo=True).demo is True
    assert plans.run_plan(_settings(), model).demo is True  # the trial shows the demo codes


def test_prepare_seeds_the_demo_dossiers_only_when_asked(tmp_path):
    from desk.dossiers import DossierStore

    env = {**os.environ, "MOTCUA_HOME": str(tmp_path), "MOTCUA_EMBEDDING_MODEL": "none"}
    env.pop("MOTCUA_DATABASE_URL", None)
    credentials = tmp_path / "run" / "credentials.yml"
    command = [sys.executable, "-m", "bot.prepare", "--credentials", str(credentials)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.splitlines()[-1])["channels"][0] == "rest"
    store = DossierStore(f"sqlite:///{tmp_path}/motcua.db")
    assert store.count() == 0
    result = subprocess.run([*command, "--demo"], env=env, capture_output=True, timeout=300)
    assert result.returncode == 0 and store.count() > 0
    assert credentials.stat().st_mode & 0o077 == 0


def test_the_launcher_loads_neither_torch_nor_rasa_nor_the_catalogue():
    code = (
        "import sys, bot.cli, bot.launcher; print(sorted(m for m in ('torch', 'rasa', "
        "'sentence_transformers', 'tensorflow', 'knowledge.search', 'knowledge.catalogue') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


# --- internal interfaces closed -------------------------------------------------------------


def test_rasa_api_is_started_only_behind_a_token(tmp_path):
    from bot import rasa_server
    from bot.plan import run_plan

    settings = _settings()
    rasa = run_plan(settings, tmp_path / "m.tar.gz").stages[1][0]
    assert rasa.command[1:3] == ["-m", "bot.rasa_server"]
    assert "--auth-token" not in rasa.command and settings.rasa_token not in rasa.command
    assert rasa.env["MOTCUA_RASA_TOKEN"] == settings.rasa_token and len(settings.rasa_token) > 30
    assert _settings().rasa_token != settings.rasa_token  # random per start when unset
    os.environ.pop("MOTCUA_RASA_TOKEN", None)
    assert rasa_server.main([]) == 2  # never an open API


def test_action_endpoint_carries_the_action_servers_token(tmp_path):
    path = tmp_path / "endpoints.yml"
    write_endpoints(path, "http://127.0.0.1:5055/webhook", {}, actions_token="s3cret")
    written = yaml.safe_load(path.read_text())
    assert written["action_endpoint"]["headers"] == {"Authorization": "Bearer s3cret"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _outside_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def _status(url: str, body: dict | None = None, headers: dict | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data, {"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_action_server_refuses_calls_without_the_token_and_stays_local():
    port = _free_port()
    code = f"from actions.server import serve; serve({port}, token='s3cret')"
    server = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        call = {"next_action": "action_nobody_knows", "tracker": {"sender_id": "x"}}
        assert _status(base + "/health") == 200
        assert _status(base + "/webhook", call) == 401
        assert _status(base + "/webhook", call, {"Authorization": "Bearer wrong"}) == 401
        assert _status(base + "/webhook", call, {"Authorization": "Bearer s3cret"}) != 401
        outside = _outside_address()
        if outside:
            with socket.socket() as probe:
                assert probe.connect_ex((outside, port)) != 0
    finally:
        server.terminate()
        server.wait(10)


# --- the supervisor notices a part that stops answering -------------------------------------


def _http_part(name: str):
    from bot.plan import Part

    port = _free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=0.5) as resp:
                return resp.status == 200
        except OSError:
            return False

    return Part(name, command, dict(os.environ), port, ready=answers, answers=answers)


def _supervise(supervisor, stop: threading.Event) -> threading.Thread:
    errors: list[Exception] = []

    def target() -> None:
        try:
            supervisor.supervise(stop.is_set)
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.errors = errors
    thread.start()
    return thread


def test_a_part_that_stops_answering_is_started_again(tmp_path):
    from bot.supervisor import Supervisor

    lines: list[str] = []
    supervisor = Supervisor(
        tmp_path / "logs",
        tmp_path / "run",
        restart=True,
        log=lines.append,
        probe_interval=0.2,
        probe_failures=2,
    )
    part = _http_part("web")
    supervisor.start(part)
    supervisor.wait_ready([part])
    hung = supervisor.processes["web"]
    stop = threading.Event()
    thread = _supervise(supervisor, stop)
    try:
        hung.send_signal(signal.SIGSTOP)  # the port stays open; nothing answers
        deadline = time.monotonic() + 30
        while supervisor.processes["web"] is hung and time.monotonic() < deadline:
            time.sleep(0.1)
        assert supervisor.processes["web"] is not hung, lines
        assert any("web stopped answering" in line for line in lines)
        supervisor.wait_ready([part])
    finally:
        stop.set()
        thread.join(10)
        supervisor.stop(grace=2)
        hung.kill()
    assert not thread.errors


def test_without_restarts_a_part_that_stops_answering_stops_everything(tmp_path):
    from bot.errors import RunError
    from bot.supervisor import Supervisor

    supervisor = Supervisor(
        tmp_path / "logs",
        tmp_path / "run",
        restart=False,
        log=lambda _: None,
        probe_interval=0.2,
        probe_failures=2,
    )
    part = _http_part("web")
    supervisor.start(part)
    supervisor.wait_ready([part])
    supervisor.processes["web"].send_signal(signal.SIGSTOP)
    stop = threading.Event()
    thread = _supervise(supervisor, stop)
    thread.join(30)
    stop.set()
    supervisor.processes["web"].kill()
    supervisor.stop(grace=2)
    assert len(thread.errors) == 1 and isinstance(thread.errors[0], RunError)
    assert "stopped answering" in str(thread.errors[0])
