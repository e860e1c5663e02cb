"""``motcua serve`` with real services: 2 Rasa + 2 action servers behind the real nginx.

PostgreSQL (catalogue, dossiers, conversation log; trackers in a second database), Redis
(lock store) and RabbitMQ (events, written by ``python -m bot.events consume``) at
127.0.0.1. One cluster for the module; the tests run in file order and each leaves it
working (the launcher restarts what a test kills):

* /health reports every part;
* a staff edit reaches both action servers' answers without a restart (timed);
* two messages sent at once by one citizen are processed one after the other, in order;
* the Rasa server that held a conversation is killed: the follow-up keeps the procedure
  and the language;
* a dead action server: nginx retries on the other; both dead: the citizen gets the
  polite "busy" text, and the next message after the restart is answered;
* RabbitMQ stopped and started mid-run: every turn still reaches the conversation log.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.bot.test_cluster_stores import AMQP_URL, _amqp
from tests.bot.test_e2e import ROOT, Process, _env, texts
from tests.conftest import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.slow

PASSPORT = "1.001456"
BUSY_VI = "hệ thống đang bận"


def _ensure_model() -> None:
    """Trains the dialogue model once if the current training data has none (a clean CI clone)."""
    from bot.model import train

    train(ROOT / "models", log=lambda _: None)


def _create_database(admin, name: str) -> str:
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)


def _drop_database(admin, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


def _ports(n: int) -> list[int]:
    """``n`` free ports whose successors are free too (replicas take consecutive ports).

    Below the kernel's ephemeral range (32768-60999): a port taken from it can be grabbed
    by an outgoing connection while a killed server is down, and the restart cannot bind.
    """
    import random
    import socket

    def free(port: int) -> bool:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    out: list[int] = []
    while len(out) < n:
        port = random.randrange(20000, 32000, 2)
        if port not in out and free(port) and free(port + 1):
            out.append(port)
    return out


class Cluster:
    def __init__(self, home: Path, env: dict[str, str], process: Process) -> None:
        self.home, self.env, self.process = home, env, process
        self.base = f"http://{env['MOTCUA_LISTEN']}"

    def parts(self) -> dict[str, dict]:
        return json.loads((self.home / "run" / "cluster.json").read_text())["parts"]

    def kill(self, name: str) -> None:
        os.kill(self.parts()[name]["pid"], signal.SIGKILL)

    def by_port(self, port: int) -> str:
        return next(n for n, p in self.parts().items() if p["port"] == port)

    def health(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.base + "/health", timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def wait_healthy(self, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, body = self.health()
            if code == 200 and all(
                r["status"] == "ok" for r in body["parts"]["rasa"] + body["parts"]["actions"]
            ):
                return body
            time.sleep(1)
        pytest.fail(f"cluster not healthy after {timeout} s: {body}\n{self.process.output[-2000:]}")

    def say(self, sender: str, message: str) -> tuple[list, int]:
        """Posts through the balancer; returns the reply and the Rasa port that answered."""
        data = json.dumps({"sender": sender, "message": message}).encode()
        request = urllib.request.Request(
            self.base + "/webhooks/rest/webhook", data, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as resp:
            upstream = resp.headers["X-Upstream"].split(",")[-1].strip()
            return json.loads(resp.read()), int(upstream.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    _ensure_model()
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    tag = uuid.uuid4().hex[:8]
    names = [f"motcua_test_{tag}", f"motcua_test_{tag}_trk"]
    try:
        app_db, tracker_db = (_create_database(admin, n) for n in names)
    except sa.exc.OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL is not running: {exc.__class__.__name__}"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    home = tmp_path_factory.mktemp("cluster")
    rasa, actions, *others = _ports(7)
    queue = f"motcua_test_{tag}"
    env = _env(
        home,
        MOTCUA_RASA_REPLICAS="2",
        MOTCUA_ACTIONS_REPLICAS="2",
        MOTCUA_RASA_PORT=str(rasa),
        MOTCUA_ACTIONS_PORT=str(actions),
        MOTCUA_LISTEN=f"127.0.0.1:{others[0]}",
        MOTCUA_STAFF_LISTEN=f"127.0.0.1:{others[1]}",
        MOTCUA_STAFF_PORT=str(others[2]),
        MOTCUA_ACTIONS_BALANCER_PORT=str(others[3]),
        MOTCUA_HEALTH_PORT=str(others[4]),
        MOTCUA_DATABASE_URL=app_db,
        MOTCUA_TRACKER_STORE_URL=tracker_db,
        MOTCUA_LOCK_STORE_URL="redis://127.0.0.1:6379/3",
        MOTCUA_EVENT_BROKER_URL=AMQP_URL,
        MOTCUA_EVENT_QUEUE=queue,
        MOTCUA_RASA_TOKEN=f"rasa-{tag}",
        MOTCUA_ACTIONS_TOKEN=f"actions-{tag}",
        MOTCUA_PSEUDONYM_KEY=f"pseudonyms-{tag}",  # the log's sender ids, read back below
    )
    env["MOTCUA_DATABASE_URL"] = app_db  # _env drops it
    process = Process([sys.executable, "-m", "bot.cli", "serve"], env)
    try:
        process.wait_for("motcua: cluster ready.", 1500)
        yield Cluster(home, env, process)
    finally:
        status = process.stop(timeout=90)
        _drop_database(admin, names[0])
        _drop_database(admin, names[1])
        admin.dispose()
        asyncio.run(_amqp(lambda channel: channel.queue_delete(queue)))
    assert status == 0, process.output[-3000:]


def test_health_reports_every_part(cluster):
    body = cluster.wait_healthy()
    parts = body["parts"]
    assert body["status"] in ("ok", "degraded")
    assert len(parts["rasa"]) == 2 and len(parts["actions"]) == 2
    version = parts["index"]["version"]
    assert version and {a["index_version"] for a in parts["actions"]} == {version}
    for name in ("database", "tracker_store", "lock_store", "event_broker", "nginx", "consumer"):
        assert parts[name]["status"] == "ok", (name, parts[name])


def test_internal_interfaces_need_their_tokens(cluster):
    """Rasa's HTTP API and the action servers answer only with the tokens, on 127.0.0.1."""
    rasa = f"http://127.0.0.1:{cluster.env['MOTCUA_RASA_PORT']}"
    assert _code(f"{rasa}/conversations/x/tracker") == 401
    assert _code(f"{rasa}/status?token={cluster.env['MOTCUA_RASA_TOKEN']}") == 200
    port = int(cluster.env["MOTCUA_ACTIONS_PORT"])
    with pytest.raises(urllib.error.HTTPError) as refused:
        _answer_directly(port, "làm hộ chiếu cần giấy tờ gì", token="")
    assert refused.value.code == 401
    token = cluster.env["MOTCUA_ACTIONS_TOKEN"]
    assert PASSPORT in _answer_directly(port, "làm hộ chiếu cần giấy tờ gì", token)


def _code(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _answer_directly(port: int, text: str, token: str) -> str:
    """Runs the answer action on one action server (as Rasa would call it)."""
    call = {
        "next_action": "action_answer_procedure",
        "sender_id": f"edit-{uuid.uuid4().hex[:6]}",
        "tracker": {
            "sender_id": "edit",
            "slots": {"language": "vi"},
            "latest_message": {"text": text, "intent": {"name": "ask_documents"}},
            "events": [],
            "latest_action_name": "action_listen",
        },
        "domain": {},
        "version": "3.6.2",
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhook",
        json.dumps(call).encode(),
        {"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        body = json.loads(resp.read())
    return "\n".join(
        str(r.get("text") or "") + json.dumps(r.get("buttons") or []) for r in body["responses"]
    )


def test_a_staff_edit_reaches_every_action_server_within_seconds(cluster, capsys):
    from knowledge.catalogue import CatalogueStore
    from knowledge.schema import Procedure

    question = "nuôi ong lấy mật cần giấy tờ gì"
    ports = [int(cluster.env["MOTCUA_ACTIONS_PORT"]) + n for n in range(2)]
    token = cluster.env["MOTCUA_ACTIONS_TOKEN"]
    assert all("1.001193" not in _answer_directly(p, question, token) for p in ports)
    store = CatalogueStore(cluster.env["MOTCUA_DATABASE_URL"])
    birth = store.get("1.001193")
    keywords = [*birth.keywords, "nuôi ong lấy mật"]
    edited = Procedure.from_dict({**birth.to_dict(), "keywords": keywords})
    started = time.monotonic()
    store.upsert([edited])
    store.dispose()
    seen: dict[int, float] = {}
    while len(seen) < len(ports) and time.monotonic() - started < 30:
        for port in ports:
            if port not in seen and "1.001193" in _answer_directly(port, question, token):
                seen[port] = time.monotonic() - started
        time.sleep(0.1)
    assert len(seen) == len(ports), f"the edit reached only {seen} in 30 s"
    with capsys.disabled():
        print(f"\nedit to answer: {', '.join(f'{s:.2f} s' for s in seen.values())}")
    reply, _ = cluster.say(f"edit-{uuid.uuid4().hex[:6]}", question)
    assert "1.001193" in texts(reply)


def _tracker_events(cluster, sender: str) -> list[tuple[str, dict]]:
    engine = sa.create_engine(cluster.env["MOTCUA_TRACKER_STORE_URL"], future=True)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": sender},
        ).all()
    engine.dispose()
    return [(t, json.loads(d)) for t, d in rows]


def test_two_messages_sent_at_once_are_processed_in_order(cluster):
    sender = f"twice-{uuid.uuid4().hex[:6]}"
    first, second = "làm hộ chiếu cần giấy tờ gì", "còn lệ phí?"
    replies: dict[str, tuple] = {}
    times: dict[str, float] = {}

    def send(text: str) -> None:
        times[f"sent {text}"] = time.monotonic()
        replies[text] = cluster.say(sender, text)
        times[f"done {text}"] = time.monotonic()

    one = threading.Thread(target=send, args=(first,))
    two = threading.Thread(target=send, args=(second,))
    one.start()
    time.sleep(0.01)
    two.start()
    one.join(120)
    two.join(120)
    assert times[f"sent {second}"] < times[f"done {first}"], "the two were not in flight together"
    events = _tracker_events(cluster, sender)
    kinds = [k for k, _ in events]
    users = [d["text"] for k, d in events if k == "user"]
    assert users == [first, second]
    # The second turn starts after the first one's answer: never interleaved.
    first_user, second_user = (i for i, k in enumerate(kinds) if k == "user")
    assert "bot" in kinds[first_user:second_user], (kinds, replies)
    assert "bot" in kinds[second_user:], (kinds, replies)
    assert PASSPORT in texts(replies[first][0])
    assert PASSPORT in texts(replies[second][0]) and "Phí, lệ phí" in texts(replies[second][0])


def test_a_conversation_keeps_its_slots_when_its_rasa_server_is_killed(cluster):
    vi, en = f"vi-{uuid.uuid4().hex[:6]}", f"en-{uuid.uuid4().hex[:6]}"
    reply, port = cluster.say(vi, "làm hộ chiếu cần giấy tờ gì")
    assert PASSPORT in texts(reply)
    for _ in range(4):  # the English conversation on the same server (round robin)
        en = f"en-{uuid.uuid4().hex[:6]}"
        reply, en_port = cluster.say(en, "How much is a passport?")
        if en_port == port:
            break
    assert en_port == port and PASSPORT in texts(reply)
    victim = cluster.by_port(port)
    cluster.kill(victim)
    reply, other = cluster.say(vi, "còn lệ phí?")
    assert other != port
    answer = texts(reply)
    assert PASSPORT in answer and "Phí, lệ phí" in answer and "200.000 đ" in answer, answer
    reply, _ = cluster.say(en, "and the fee?")
    answer = texts(reply)
    assert PASSPORT in answer and "Fees:" in answer and "200,000 VND" in answer, answer
    cluster.process.wait_for(f"motcua: {victim} exited", 30)
    cluster.wait_healthy(600)  # the launcher started it again


def test_a_dead_action_server_is_skipped_then_both_dead_get_a_polite_reply(cluster):
    cluster.kill("actions-1")
    for n in range(4):  # nginx retries every call on the survivor
        reply, _ = cluster.say(f"act-{n}-{uuid.uuid4().hex[:4]}", "làm hộ chiếu cần giấy tờ gì")
        assert PASSPORT in texts(reply), reply
    cluster.kill("actions-2")
    sender = f"act-{uuid.uuid4().hex[:6]}"
    reply, _ = cluster.say(sender, "đăng ký khai sinh cần gì")
    assert BUSY_VI in texts(reply), reply
    cluster.wait_healthy(300)
    # nginx keeps a server it saw fail out of rotation for fail_timeout (2 s) after it is back
    deadline = time.monotonic() + 10
    while True:
        reply, _ = cluster.say(sender, "làm hộ chiếu cần giấy tờ gì")
        if PASSPORT in texts(reply) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert PASSPORT in texts(reply), reply


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def test_rabbitmq_restarted_mid_run_loses_no_analytics_event(cluster, monkeypatch):
    from desk.conversations import ConversationLog

    monkeypatch.setenv("MOTCUA_PSEUDONYM_KEY", cluster.env["MOTCUA_PSEUDONYM_KEY"])

    sender = f"mq-{uuid.uuid4().hex[:6]}"
    messages = ["làm hộ chiếu cần giấy tờ gì", "còn lệ phí?", "mất bao lâu", "nộp ở đâu"]
    cluster.say(sender, messages[0])
    try:
        _rabbitmqctl("stop_app")
        for text in messages[1:3]:
            reply, _ = cluster.say(sender, text)
            assert PASSPORT in texts(reply)  # answers do not wait for analytics
    finally:
        _rabbitmqctl("start_app")
    _rabbitmqctl("await_startup")
    cluster.say(sender, messages[3])
    log = ConversationLog(cluster.env["MOTCUA_DATABASE_URL"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        turns = log.transcript(sender)
        if len(turns) >= len(messages):
            break
        time.sleep(1)
    assert [t.text for t in turns] == messages, [t.text for t in turns]
    assert all(t.procedure_code == PASSPORT for t in turns)
    log.dispose()
