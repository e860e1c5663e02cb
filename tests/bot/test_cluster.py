"""``motcua serve``'s pieces without Rasa: settings, the nginx config (checked and driven by the
real nginx in front of small fake upstreams), and the health report."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.health import Health, HealthServer
from bot.nginx import render_nginx, write_nginx
from bot.plan import LaunchSettings as ClusterSettings
from tests.bot.test_e2e import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
needs_nginx = pytest.mark.skipif(
    not shutil.os.path.exists(NGINX), reason="nginx not installed (scripts/install-nginx.sh)"
)


def test_settings_default_to_one_of_each():
    settings = ClusterSettings.from_env({})
    assert settings.rasa_replicas == settings.actions_replicas == 1
    assert settings.rasa_ports == [5005] and settings.actions_ports == [5055]


def test_several_rasa_servers_need_shared_stores_in_one_line():
    with pytest.raises(ValueError) as err:
        ClusterSettings.from_env({"MOTCUA_RASA_REPLICAS": "2"})
    message = str(err.value)
    assert "\n" not in message
    assert "MOTCUA_TRACKER_STORE_URL" in message and "MOTCUA_LOCK_STORE_URL" in message
    ok = ClusterSettings.from_env(
        {
            "MOTCUA_RASA_REPLICAS": "2",
            "MOTCUA_ACTIONS_REPLICAS": "3",
            "MOTCUA_TRACKER_STORE_URL": "postgresql://u:p@db/motcua",
            "MOTCUA_LOCK_STORE_URL": "redis://cache:6379/1",
        }
    )
    assert ok.rasa_ports == [5005, 5006] and ok.actions_ports == [5055, 5056, 5057]


@pytest.mark.parametrize(
    "env",
    [
        {"MOTCUA_RASA_REPLICAS": "0"},
        {"MOTCUA_ACTIONS_REPLICAS": "two"},
        {"MOTCUA_LISTEN": "localhost"},
        {"MOTCUA_LOCK_STORE_URL": "memcached://x"},
    ],
)
def test_bad_settings_are_refused(env):
    with pytest.raises(ValueError):
        ClusterSettings.from_env(env)


def test_rendered_config_has_every_server_and_no_placeholder_left():
    settings = ClusterSettings(rasa_replicas=2, actions_replicas=2, rasa_port=7000)
    conf = render_nginx(settings)
    assert "{{" not in conf
    assert conf.count("server 127.0.0.1:7000 ") == 2  # round robin + sticky upstreams
    assert "server 127.0.0.1:5056 " in conf
    assert "hash $remote_addr consistent" in conf


@needs_nginx
def test_nginx_accepts_the_rendered_config(tmp_path):
    settings = ClusterSettings(rasa_replicas=2, actions_replicas=2, listen=str(free_port()))
    command = write_nginx(settings, tmp_path)
    result = subprocess.run([*command[:-2], "-t"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


class _Upstream:
    """A tiny HTTP server that says which port it is (a stand-in Rasa / action server)."""

    def __init__(self, port: int, status: dict | None = None) -> None:
        self.port = port
        self.posts: list[bytes] = []
        outer = self

        class Handler(
            BaseHTTPRequestHandler
        ):  # HTTP/1.0: no kept-alive connection outlives close()
            def _reply(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._reply(200, {"port": outer.port, "path": self.path, **(status or {})})

            def do_POST(self):
                outer.posts.append(self.rfile.read(int(self.headers["Content-Length"])))
                self._reply(200, {"port": outer.port, "path": self.path})

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _request(url: str, body: dict | None = None) -> tuple[int, dict, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), {}


@pytest.fixture
def balancer(tmp_path):
    """Real nginx with our rendered config in front of two fake Rasa and two fake action servers."""
    rasa_port, actions_port = free_port(), free_port()
    while rasa_port + 1 in (actions_port, actions_port + 1) or actions_port + 1 == rasa_port:
        actions_port = free_port()
    settings = ClusterSettings(
        rasa_replicas=2,
        actions_replicas=2,
        rasa_port=rasa_port,
        actions_port=actions_port,
        listen=f"127.0.0.1:{free_port()}",
        staff_listen=f"127.0.0.1:{free_port()}",
        staff_port=free_port(),
        actions_balancer_port=free_port(),
        health_port=free_port(),
    )
    upstreams = {
        p: _Upstream(p)
        for p in [*settings.rasa_ports, *settings.actions_ports, settings.staff_port]
    }
    command = write_nginx(settings, tmp_path)
    nginx = subprocess.Popen(command, stderr=subprocess.PIPE)
    base = f"http://{settings.listen}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/nothing", timeout=1)
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.1)
    yield settings, upstreams, base
    nginx.terminate()
    nginx.wait(10)
    for upstream in upstreams.values():
        upstream.close()


@needs_nginx
def test_webhooks_round_robin_and_skip_a_dead_server(balancer):
    settings, upstreams, base = balancer
    served = set()
    for n in range(4):
        code, headers, body = _request(f"{base}/webhooks/rest/webhook", {"n": n})
        assert code == 200 and body["path"] == "/webhooks/rest/webhook"
        assert headers["X-Upstream"].endswith(str(body["port"]))
        served.add(body["port"])
    assert served == set(settings.rasa_ports)
    upstreams[settings.rasa_ports[0]].close()  # one Rasa server dies
    for n in range(4):
        code, _, body = _request(f"{base}/webhooks/rest/webhook", {"n": n})
        assert code == 200 and body["port"] == settings.rasa_ports[1]


@needs_nginx
def test_socketio_is_sticky(balancer):
    settings, _, base = balancer
    ports = {
        _request(f"{base}/socket.io/?EIO=4&transport=polling&t={n}")[2]["port"] for n in range(6)
    }
    assert len(ports) == 1 and ports <= set(settings.rasa_ports)


@needs_nginx
def test_rasa_api_is_not_public_and_staff_has_its_own_port(balancer):
    settings, _, base = balancer
    for path in ("/status", "/conversations/x/tracker", "/model"):
        assert _request(base + path)[0] == 404
    code, _, body = _request(f"http://{settings.staff_listen}/api/x")
    assert code == 200 and body["port"] == settings.staff_port


@needs_nginx
def test_internal_action_balancer_skips_a_dead_action_server(balancer):
    settings, upstreams, _ = balancer
    url = f"http://127.0.0.1:{settings.actions_balancer_port}/webhook"
    assert {_request(url, {"n": n})[2]["port"] for n in range(4)} == set(settings.actions_ports)
    upstreams[settings.actions_ports[1]].close()
    for n in range(4):
        code, _, body = _request(url, {"n": n})
        assert code == 200 and body["port"] == settings.actions_ports[0]


@needs_nginx
def test_large_action_calls_and_replies_pass(balancer):
    settings, upstreams, base = balancer
    tracker = {"events": [{"event": "user", "text": "x" * 500}] * 4000}  # ~2 MB
    url = f"http://127.0.0.1:{settings.actions_balancer_port}/webhook"
    code, _, body = _request(url, tracker)
    assert code == 200 and body["port"] in settings.actions_ports
    posted = upstreams[body["port"]].posts[-1]
    assert json.loads(posted) == tracker


@needs_nginx
def test_health_through_the_balancer_reports_each_part(balancer, tmp_path, settings):
    from knowledge.service import IndexPublisher

    cluster, upstreams, base = balancer
    IndexPublisher(settings).publish_if_changed()
    for port in cluster.rasa_ports:
        upstreams[port].close()
        upstreams[port] = _Upstream(port, {"model_file": "/m/motcua-x.tar.gz"})
    for port in cluster.actions_ports:
        upstreams[port].close()
        upstreams[port] = _Upstream(port, {"status": "ok", "index_version": "v000001"})
    cluster = cluster.__class__(**{**cluster.__dict__, "database_url": settings.database_url})
    alive = {"nginx": True, "indexer": True}
    server = HealthServer(Health(cluster, settings.index_dir, alive.get), cluster.health_port)
    server.start()
    try:
        code, _, body = _request(base + "/health")
        assert code == 200 and body["status"] == "ok", body
        parts = body["parts"]
        assert [r["status"] for r in parts["rasa"]] == ["ok", "ok"]
        assert parts["rasa"][0]["model"] == "motcua-x.tar.gz"
        assert [a["index_version"] for a in parts["actions"]] == ["v000001", "v000001"]
        assert parts["database"]["status"] == "ok"
        assert parts["index"]["version"] == "v000001"

        upstreams[cluster.rasa_ports[0]].close()  # one replica down: degraded, still 200
        code, _, body = _request(base + "/health")
        assert code == 200 and body["status"] == "degraded"
        assert body["parts"]["rasa"][0]["status"] == "down"

        upstreams[cluster.rasa_ports[1]].close()  # no Rasa server left: 503
        code, _, _ = _request(base + "/health")
        assert code == 503
    finally:
        server.stop()


def test_health_without_anything_running_is_503(settings):
    cluster = ClusterSettings(
        rasa_port=free_port(),
        actions_port=free_port(),
        database_url=settings.database_url,
        lock_store_url="redis://127.0.0.1:1/0",
        event_broker_url="amqp://guest:guest@127.0.0.1:1/",
    )
    code, body = Health(cluster, settings.index_dir).check()
    assert code == 503 and body["status"] == "down"
    assert body["parts"]["lock_store"]["status"] == "down"
    assert body["parts"]["event_broker"]["status"] == "down"
    assert body["parts"]["index"]["status"] == "down"


def test_browser_and_rest_clients_are_limited_per_address_and_cannot_forge_it():
    conf = render_nginx(ClusterSettings(rasa_replicas=2, actions_replicas=1))
    assert "limit_req_zone $binary_remote_addr zone=motcua_clients" in conf
    rest = conf[conf.index("location ~ ^/webhooks/(rest|webchat)/") :]
    assert "limit_req zone=motcua_clients" in rest[: rest.index("}")]
    platforms = conf[conf.index("location /webhooks/ {") :]
    assert "limit_req" not in platforms[: platforms.index("}")]  # Telegram's and Zalo's servers
    assert "$proxy_add_x_forwarded_for" not in conf
