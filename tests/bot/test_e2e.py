"""End to end: ``motcua run`` starts the real servers; we chat over REST like a client would.

The first run trains the dialogue model (a few minutes); later runs reuse it (its
file name carries the fingerprint of the training data).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 1200

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A child process whose output is collected by a thread (so it never blocks)."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, marker: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(marker in line for line in self.lines):
                return
            if self.proc.poll() is not None:
                time.sleep(0.2)
                pytest.fail(f"process exited ({self.proc.returncode}):\n{self.output[-3000:]}")
            time.sleep(0.5)
        pytest.fail(f"no {marker!r} after {timeout} s:\n{self.output[-3000:]}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig) if sig == signal.SIGKILL else self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()


def post(url: str, body: bytes | dict, timeout: float = 60) -> tuple[int, object]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def texts(reply: object) -> str:
    return "\n".join(m.get("text", "") for m in reply)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MOTCUA_PSEUDONYM_KEY", None)  # the embedded default makes its own key in its home
    env.update(
        MOTCUA_HOME=str(home),
        PYTHONUNBUFFERED="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        **extra,
    )
    if "MOTCUA_STAFF_PORT" not in extra:  # motcua run starts the staff console too
        env["MOTCUA_STAFF_PORT"] = str(free_port())
    env.pop("MOTCUA_DATABASE_URL", None)
    return env


TELEGRAM_SECRET = "e2e-secret-token"
ZALO_OA_SECRET = "e2e-oa-secret"


@pytest.fixture(scope="module")
def fakes():
    """Local fakes of Telegram's Bot API and Zalo's OA API, on a background event loop."""
    from tests.auxil.background import BackgroundLoop
    from tests.auxil.fake_telegram import FakeTelegram
    from tests.auxil.fake_zalo import FakeZalo

    loop = BackgroundLoop()
    telegram = loop.enter(FakeTelegram)
    zalo = loop.enter(FakeZalo)
    yield {"telegram": telegram, "zalo": zalo}
    loop.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory, fakes):
    """``motcua run`` with every channel configured from the environment (fakes for APIs)."""
    home = tmp_path_factory.mktemp("e2e")
    rasa_port, actions_port = free_port(), free_port()
    telegram, zalo = fakes["telegram"], fakes["zalo"]
    env = _env(
        home,
        MOTCUA_RASA_PORT=str(rasa_port),
        MOTCUA_ACTIONS_PORT=str(actions_port),
        MOTCUA_TELEGRAM_TOKEN=telegram.token,
        MOTCUA_TELEGRAM_SECRET=TELEGRAM_SECRET,
        MOTCUA_TELEGRAM_API_URL=telegram.api_base_url,
        MOTCUA_TELEGRAM_WEBHOOK_URL="https://bot.example.org/webhooks/telegram/webhook",
        MOTCUA_ZALO_APP_ID=zalo.app_id,
        MOTCUA_ZALO_APP_SECRET=zalo.app_secret,
        MOTCUA_ZALO_OA_SECRET=ZALO_OA_SECRET,
        MOTCUA_ZALO_ACCESS_TOKEN=zalo.access_token,
        MOTCUA_ZALO_REFRESH_TOKEN=zalo.refresh_token,
        MOTCUA_ZALO_API_URL=zalo.url,
        MOTCUA_ZALO_OAUTH_URL=zalo.url,
    )
    runner = Process([sys.executable, "-m", "bot.cli", "run"], env)
    runner.wait_for("motcua: ready.", READY_TIMEOUT_S)
    yield {
        "url": f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
        "base": f"http://127.0.0.1:{rasa_port}",
        "rasa_port": rasa_port,
        "actions_port": actions_port,
        "runner": runner,
        "home": home,
    }
    runner.stop()


def wait_until(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_a_conversation_over_rest(running):
    url = running["url"]
    status, reply = post(url, {"sender": "e2e-1", "message": "làm hộ chiếu cần giấy tờ gì"})
    assert status == 200
    assert "1.001456" in texts(reply), reply
    _, reply = post(url, {"sender": "e2e-1", "message": "thế hết bao nhiêu tiền"})
    assert "1.001456" in texts(reply) and "200.000" in texts(reply), reply
    _, reply = post(url, {"sender": "e2e-1", "message": "and online?"})
    assert "1.001456" in texts(reply), reply


REPLAY = """
- name: greeting-then-follow-up
  covers: greeting
  turns:
    - user: "hello! how much is the judicial record certificate?"
      expect: {answer: ["3.000333", "3.000330"], lang: en, contains: ["Fees"]}
    - user: "and online?"
      expect: {answer: ["3.000333", "3.000330"], lang: en}
- name: two-aspects-then-english
  covers: two-aspects, language-switch
  turns:
    - user: "làm giấy khai sinh cho con cần giấy tờ gì và hết bao nhiêu tiền"
      expect: {answer: ["1.001193"], lang: vi, contains: ["Hồ sơ cần chuẩn bị", "Phí, lệ phí"]}
    - user: "please answer in English"
      expect: {lang: en}
    - user: "ok, how long does it take?"
      expect: {answer: ["1.001193"], lang: en, contains: ["Processing time"]}
"""


def test_eval_conversations_replays_over_rest(running, tmp_path):
    path = tmp_path / "conversations.yml"
    path.write_text(REPLAY, "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "eval", "conversations", str(path), "--compact",
         "--url", running["base"]],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["turns"] == 5 and summary["conversations"] == 2
    assert summary["turns_right"] == 5, summary["failures"]
    assert summary["by_class"]["language-switch"]["right"] == 3


def test_turns_reach_the_conversation_log_with_feedback_and_masked_data(running):
    from desk.conversations import ConversationLog
    from infra.privacy import pseudonym

    url, sender = running["url"], "e2e-log"
    _, reply = post(url, {"sender": sender, "message": "lệ phí làm hộ chiếu, sđt tôi 0912345678"})
    buttons = [b["payload"] for m in reply for b in m.get("buttons", [])]
    assert '/feedback{"rating":"down"}' in buttons, reply
    _, reply = post(url, {"sender": sender, "message": '/feedback{"rating":"down"}'})
    assert "xin lỗi" in texts(reply).lower(), reply
    log = ConversationLog(f"sqlite:///{running['home'] / 'motcua.db'}")
    # The log keeps the sender's pseudonym, made with the deployment's key (in its home).
    key = (running["home"] / "pseudonym.key").read_bytes().strip()  # made by the server
    stored = pseudonym(sender, key=key)
    assert wait_until(lambda: len(log.transcript(stored)) == 2, 10), log.transcript(stored)
    assert log.turns(sender_id=sender) == []  # this process's key gives another pseudonym
    answer, feedback = log.transcript(stored)
    assert answer.channel == "rest" and answer.procedure_code == "1.001456"
    assert answer.text == "lệ phí làm hộ chiếu, sđt tôi [phone]"
    assert answer.outcome == "answer" and answer.rating == "down"
    assert answer.review_reasons == ["thumbs_down"]
    assert answer.response_ms is not None and 0 <= answer.response_ms < 30_000
    assert "1.001456" in answer.reply
    assert feedback.outcome == "feedback"
    log.dispose()


def test_dossier_status_and_handoff(running):
    url = running["url"]
    message = "hồ sơ của tôi mã 000.00.20.H26-251103-0042 giờ đến bước nào rồi"
    _, reply = post(url, {"sender": "e2e-2", "message": message})
    assert "000.00.20.H26-251103-0042" in texts(reply), reply
    assert "quá hạn" in texts(reply).lower(), reply
    _, reply = post(url, {"sender": "e2e-2", "message": "abc123"})
    _, reply = post(url, {"sender": "e2e-2", "message": "cho tôi gặp cán bộ"})
    assert "1022" in texts(reply), reply


def test_english_question_gets_an_english_answer(running):
    message = "How much does a criminal record certificate cost?"
    _, reply = post(running["url"], {"sender": "e2e-3", "message": message})
    assert "3.000333" in texts(reply), reply


def test_bad_input_gets_clear_answers(running):
    url = running["url"]
    status, reply = post(url, b"{not json")
    assert status == 400 and "JSON" in reply["error"]
    status, reply = post(url, {"message": "hi"})
    assert status == 400 and "sender" in reply["error"]
    status, reply = post(url, {"sender": "e2e-4", "message": "   "})
    assert status == 200 and texts(reply)
    status, reply = post(url, {"sender": "e2e-4", "message": "hộ chiếu " * 2000})
    assert status == 200 and "2000" in texts(reply)


def test_an_import_is_answered_without_a_restart(running, tmp_path):
    record = {
        "code": "9.000002",
        "name": "Cấp phép bay thiết bị bay không người lái (flycam) cho cá nhân",
        "name_en": "Drone (flycam) flight permit for individuals",
        "channels": [
            {
                "channel": "online",
                "processing_time": {"value": 7, "unit": "working_days", "text": "7 ngày"},
                "fee": {"amounts_vnd": [], "free": True, "text": "Miễn phí"},
            }
        ],
        "source": "e2e",
    }
    path = tmp_path / "extra.json"
    path.write_text(json.dumps({"procedures": [record]}, ensure_ascii=False), "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "catalogue", "import", str(path)],
        cwd=ROOT, env=_env(running["home"]), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]

    def answered() -> bool:
        question = "cấp phép bay flycam cần giấy tờ gì"
        _, reply = post(running["url"], {"sender": "e2e-6", "message": question})
        return "9.000002" in texts(reply)

    assert wait_until(answered, timeout=30)


def test_channels_are_enabled_from_the_environment(running):
    assert "channels: rest, webchat, telegram, zalo" in running["runner"].output


def test_telegram_update_is_answered_at_the_bot_api(running, fakes):
    telegram = fakes["telegram"]
    update = {
        "update_id": 900001,
        "message": {
            "message_id": 11,
            "date": int(time.time()),
            "chat": {"id": 5550001, "type": "private"},
            "from": {"id": 5550001, "is_bot": False, "first_name": "An", "language_code": "vi"},
            "text": "làm hộ chiếu cần giấy tờ gì",
        },
    }
    url = f"{running['base']}/webhooks/telegram/webhook"
    body = json.dumps(update).encode()
    request = urllib.request.Request(
        url,
        body,
        {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200
    assert wait_until(
        lambda: any("1.001456" in t for t in telegram.sent_texts())
    ), telegram.sent_texts()
    forged = urllib.request.Request(
        url, body, {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "x"}
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(forged, timeout=10)
    assert info.value.code == 403


def test_zalo_signed_message_is_answered_and_a_forged_one_is_not(running, fakes):
    from tests.auxil.fake_zalo import signed_request

    zalo = fakes["zalo"]
    event = {
        "event_name": "user_send_text",
        "sender": {"id": "8427459843975934875"},
        "recipient": {"id": "2914829419112233445"},
        "message": {"text": "fee for a criminal record certificate", "msg_id": "e2e-msg-1"},
        "user_id_by_app": "5522118833",
    }
    raw, headers = signed_request(event, zalo.app_id, ZALO_OA_SECRET)
    url = f"{running['base']}/webhooks/zalo/webhook"
    with urllib.request.urlopen(urllib.request.Request(url, raw, headers), timeout=10) as resp:
        assert resp.status == 200
    assert wait_until(lambda: any("3.000333" in t for t in zalo.texts)), zalo.texts
    before = len(zalo.texts)
    forged_event = {**event, "message": {"text": "làm hộ chiếu", "msg_id": "e2e-msg-2"}}
    raw, headers = signed_request(forged_event, zalo.app_id, "not-the-secret")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(urllib.request.Request(url, raw, headers), timeout=10)
    assert 400 <= info.value.code < 500
    time.sleep(3)
    assert len(zalo.texts) == before


async def test_widget_against_the_real_assistant(running):
    """The demo page, a question, a quick reply, a reload: in Chromium, end to end."""
    from tests.web.test_widget import ask, bot_texts, browser_context, screenshot_path

    async with browser_context(viewport={"width": 1280, "height": 800}) as context:
        page = await context.new_page()
        await page.goto(f"{running['base']}/webhooks/webchat/demo")
        await page.click(".mcw-launcher")
        await ask(page, "làm lại căn cước bị mất cần gì")
        replacement = re.compile(r"1\.014064|2\.001194|1\.000757")  # any level's re-issue
        await page.locator(".mcw-msg-bot", has_text=replacement).wait_for(timeout=30_000)
        await ask(page, "đăng ký xe")
        choice = page.locator(".mcw-choice").first
        await choice.wait_for(timeout=30_000)
        code = (await choice.inner_text()).rsplit("(", 1)[-1].rstrip(")")
        answers = await page.locator(".mcw-msg-bot").count()
        await choice.click()
        answer = page.locator(".mcw-msg-bot").nth(answers)
        await answer.wait_for(timeout=30_000)
        assert "Thủ tục:" in await answer.inner_text()
        assert code in await answer.inner_text()
        await page.screenshot(path=screenshot_path("widget-real-assistant.png"))
        before = await bot_texts(page)
        await page.reload()
        await page.locator(".mcw-msg-bot").last.wait_for()
        assert await bot_texts(page) == before


def test_port_in_use_is_one_clear_line(running, tmp_path):
    env = _env(tmp_path, MOTCUA_RASA_PORT=str(running["rasa_port"]))
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"port {running['rasa_port']}" in result.stderr and "in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_dead_action_server_leaves_a_polite_message(running, tmp_path):
    """A Rasa server whose action server is gone answers "try again", not silence."""
    from bot.model import model_path
    from bot.render import CREDENTIALS, write_endpoints
    from infra.settings import read

    model = model_path(read()["MOTCUA_MODELS_DIR"])
    port = free_port()
    endpoints = tmp_path / "endpoints.yml"
    write_endpoints(endpoints, f"http://127.0.0.1:{free_port()}/webhook")  # nothing listens
    env = _env(tmp_path)
    rasa = Process(
        [
            sys.executable, "-m", "rasa", "run", "--enable-api", "--model", str(model),
            "--endpoints", str(endpoints), "--credentials", str(CREDENTIALS),
            "--port", str(port),
        ],
        env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as r:
                    if json.loads(r.read()).get("model_file"):
                        break
            except (urllib.error.URLError, OSError):
                pass
            assert rasa.proc.poll() is None, rasa.output[-2000:]
            time.sleep(1)
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        _, reply = post(url, {"sender": "e2e-5", "message": "làm hộ chiếu cần giấy tờ gì"})
        assert "thử lại" in texts(reply), reply
    finally:
        rasa.stop(signal.SIGTERM)


def test_ctrl_c_stops_both_servers(running):
    runner = running["runner"]
    assert runner.stop(signal.SIGINT) == 0
    for port in (running["rasa_port"], running["actions_port"]):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
    assert "stopping" in runner.output
