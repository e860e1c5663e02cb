"""Benchmark of the whole assistant over REST: latency, throughput and memory.

Starts ``motcua run`` on free ports (or uses ``--url`` of a running one), then
* 1 user: sequential messages of mixed conversations (questions, follow-ups,
  dossier lookups, small talk), p50/p95/p99 latency;
* N concurrent users (default 20) for a fixed time: messages per second, latency,
  errors;
* the resident memory of the Rasa server and the action server.

With ``--compare-default`` it also trains a model with Rasa's default configuration
(an empty ``pipeline``/``policies``: Rasa fills in its defaults) on the same training data,
serves it with the same action server, runs the same N-user phase against it and prints
``ratio_to_rasa_default`` (our messages/s over its messages/s), so the throughput figure
means the same on any machine.

Usage:
    python benchmarks/bench_dialogue.py [--users 20] [--seconds 30] [--url URL]
        [--compare-default]

Targets (2 cores): p50 <= 100 ms and p95 <= 250 ms at 1 user; >= 20 messages/s at
20 users with no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]

CONVERSATIONS = [
    ["xin chào", "làm hộ chiếu cần giấy tờ gì", "thế hết bao nhiêu tiền", "mất bao lâu"],
    ["dang ky khai sinh cho con can gi", "co mat phi khong", "nop online duoc ko"],
    ["What documents do I need for a criminal record certificate?", "how much is it?"],
    ["hồ sơ 000.00.20.H26-251103-0042 đến đâu rồi", "cảm ơn"],
    ["làm lại căn cước bị mất", "nộp ở đâu", "cảm ơn nhé"],
    ["sổ đỏ bị mất thì xin cấp lại thế nào", "bao lâu thì có"],
    ["đăng ký thường trú cần gì", "ai được đăng ký"],
    ["fee for marriage registration", "and online?"],
]


BUSY = ("hệ thống đang bận", "the service is busy")
"""The channel's "busy" reply (connectors.guards), vi and en: counted as an error."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {}
    return {
        "n": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
    }


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


async def user(session, url, sender, conversation, latencies, errors, stop_at=None, rounds=1):
    base, done = sender, 0
    while True:
        for text in conversation:
            if stop_at is not None and time.monotonic() >= stop_at:
                return
            start = time.perf_counter()
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as resp:
                    body = await resp.json()
                    if resp.status != 200 or not body:
                        errors.append(f"{resp.status} {body!r}"[:200])
                    elif any(b in str(m.get("text", "")) for m in body for b in BUSY):
                        errors.append(f"busy reply to {text!r}")  # Rasa said nothing in time
                    else:
                        latencies.append((time.perf_counter() - start) * 1000)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                errors.append(repr(exc))
        done += 1
        if stop_at is None and done >= rounds:
            return
        sender = f"{base}-r{done}"  # a new citizen: dossier lookups are limited per sender


def _token(name: str) -> dict[str, str]:
    """Rasa's API and the action server need the tokens of the run (see the README)."""
    token = os.environ.get(name, "")
    return {"token": token} if token else {}


async def breakdown(session, rasa_base: str, actions_base: str | None) -> dict:
    """Times the parts of one turn: NLU alone, and the answer action alone."""
    questions = [c[0] for c in CONVERSATIONS] * 5
    nlu: list[float] = []
    for text in questions:
        start = time.perf_counter()
        async with session.post(
            f"{rasa_base}/model/parse", json={"text": text}, params=_token("MOTCUA_RASA_TOKEN")
        ) as resp:
            await resp.json()
        nlu.append((time.perf_counter() - start) * 1000)
    parts = {"nlu_parse": summary(nlu)}
    if actions_base:
        action: list[float] = []
        for n, text in enumerate(questions):
            call = {
                "next_action": "action_answer_procedure",
                "sender_id": f"profile-{n}",
                "tracker": {
                    "sender_id": f"profile-{n}",
                    "slots": {"language": "vi"},
                    "latest_message": {"text": text, "intent": {"name": "ask_documents"}},
                    "events": [],
                    "latest_action_name": "action_listen",
                },
                "domain": {},
                "version": "3.6.2",
            }
            start = time.perf_counter()
            token = _token("MOTCUA_ACTIONS_TOKEN").get("token", "")
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with session.post(f"{actions_base}/webhook", json=call, headers=headers) as resp:
                await resp.json()
            action.append((time.perf_counter() - start) * 1000)
        parts["answer_action"] = summary(action)
    return parts


async def measure(url: str, users: int, seconds: float, actions_base: str | None) -> dict:
    timeout = aiohttp.ClientTimeout(total=60)
    rasa_base = url.split("/webhooks/")[0]
    async with aiohttp.ClientSession(timeout=timeout) as session:
        warm: list[float] = []
        await user(
            session,
            url,
            "warm",
            [text for conversation in CONVERSATIONS for text in conversation],
            warm,
            [],
            rounds=1,
        )
        single: list[float] = []
        errors1: list[str] = []
        for n, conversation in enumerate(CONVERSATIONS * 3):
            await user(session, url, f"solo-{n}", conversation, single, errors1)
        crowd = await crowd_phase(session, url, users, seconds, "u")
        parts = await breakdown(session, rasa_base, actions_base)
    return {
        "breakdown_one_user": parts,
        "one_user": {**summary(single), "errors": len(errors1)},
        f"{users}_users": crowd,
    }


DEFAULT_CONFIG = """recipe: default.v1
language: vi
assistant_id: motcua-rasa-default
pipeline:
policies:
"""


def train_default(out: Path) -> Path:
    """Trains Rasa's default configuration on our training data; returns the model."""
    config = out / "config.yml"
    config.write_text(DEFAULT_CONFIG)
    model = out / "rasa-default.tar.gz"
    if not model.exists():
        subprocess.run(
            [sys.executable, "-m", "rasa", "train", "--config", str(config),
             "--domain", "bot/domain", "--data", "nlu", "bot/rules", "bot/stories",
             "--out", str(out), "--fixed-model-name", "rasa-default"],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return model


def start_default_server(home: Path, model: Path) -> tuple[subprocess.Popen, str]:
    """Serves ``model`` with the run's endpoints (same action server, same stores)."""
    port = free_port()
    log = open(home / "rasa-default.log", "w")  # noqa: SIM115 - closed with the process
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.rasa_server", "--interface", "127.0.0.1",
         "--port", str(port), "--model", str(model),
         "--endpoints", str(home / "run" / "endpoints.yml"),
         "--credentials", str(home / "run" / "credentials.yml")],
        cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"), stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            token = os.environ["MOTCUA_RASA_TOKEN"]
            with urllib.request.urlopen(f"{url}/status?token={token}", timeout=5) as resp:
                if b'"model_file"' in resp.read():
                    return server, f"{url}/webhooks/rest/webhook"
        except OSError:
            pass
        if server.poll() is not None:
            break
        time.sleep(2)
    raise SystemExit((home / "rasa-default.log").read_text()[-3000:])


async def crowd_phase(session, url: str, users: int, seconds: float, prefix: str) -> dict:
    """``users`` citizens at once for ``seconds``: messages/s, latency, errors."""
    many: list[float] = []
    errors: list[str] = []
    stop_at = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(
        *(
            user(session, url, f"{prefix}{i}", CONVERSATIONS[i % len(CONVERSATIONS)], many,
                 errors, stop_at=stop_at)
            for i in range(users)
        )
    )  # fmt: skip
    elapsed = time.monotonic() - started
    return {
        **summary(many),
        "messages_per_s": round(len(many) / elapsed, 1),
        "errors": len(errors),
        "error_samples": errors[:3],
    }


async def many_users(url: str, users: int, seconds: float) -> dict:
    """The N-user phase alone (for the comparison with Rasa's default configuration)."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        warm: list[float] = []
        for n, conversation in enumerate(CONVERSATIONS):
            await user(session, url, f"warm-default-{n}", conversation, warm, [])
        return await crowd_phase(session, url, users, seconds, "d")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="REST webhook of a running assistant")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--actions-url", help="action server base URL (with --url)")
    parser.add_argument(
        "--compare-default",
        action="store_true",
        help="also measure Rasa's default configuration on the same data (trains it once)",
    )
    args = parser.parse_args()
    if args.compare_default and args.url:
        parser.error("--compare-default starts its own assistant: leave out --url")
    actions_base = args.actions_url
    runner = None
    home = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    url = args.url
    if url is None:
        rasa_port, actions_port = free_port(), free_port()
        for name in ("MOTCUA_RASA_TOKEN", "MOTCUA_ACTIONS_TOKEN"):  # known to the breakdown
            os.environ.setdefault(name, secrets.token_urlsafe(16))
        env = dict(os.environ, MOTCUA_HOME=str(home), MOTCUA_RASA_PORT=str(rasa_port),
                   MOTCUA_ACTIONS_PORT=str(actions_port), MOTCUA_STAFF_PORT=str(free_port()),
                   MOTCUA_NOTIFY_LISTEN=f"127.0.0.1:{free_port()}",
                   PYTHONUNBUFFERED="1")  # fmt: skip
        log = open(home / "runner.log", "w")  # noqa: SIM115 - closed with the runner
        runner = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 1200
        while "motcua: ready." not in (home / "runner.log").read_text():
            if runner.poll() is not None or time.monotonic() > deadline:
                print((home / "runner.log").read_text()[-3000:], file=sys.stderr)
                return 1
            time.sleep(1)
        url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
        actions_base = f"http://127.0.0.1:{actions_port}"
    try:
        figures = asyncio.run(measure(url, args.users, args.seconds, actions_base))
        memory = {}
        for name in ("rasa", "actions"):
            pid_file = home / "logs" / f"{name}.pid"
            if pid_file.exists():
                memory[f"{name}_rss_mb"] = rss_mb(int(pid_file.read_text()))
        figures["memory"] = memory
        if args.compare_default:
            model = train_default(ROOT / "models" / "rasa-default")
            server, default_url = start_default_server(home, model)
            try:
                default = asyncio.run(many_users(default_url, args.users, args.seconds))
            finally:
                server.send_signal(signal.SIGINT)
                server.wait(timeout=60)
            ours = figures[f"{args.users}_users"]["messages_per_s"]
            figures["rasa_default_config"] = {f"{args.users}_users": default}
            figures["ratio_to_rasa_default"] = round(ours / max(default["messages_per_s"], 0.1), 2)
        print(json.dumps(figures, ensure_ascii=False, indent=1))
    finally:
        if runner is not None:
            runner.send_signal(signal.SIGINT)
            runner.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
