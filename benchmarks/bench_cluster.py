"""Load benchmark of ``motcua serve`` over the nginx balancer: 1+1 against 2+2 replicas.

For each replica count it starts the production launcher on free ports, with the real
PostgreSQL (catalogue, dossiers, trackers, conversation log), Redis (lock store) and
RabbitMQ (events, written by the consumer) at 127.0.0.1, then lets N simulated citizens
(default 50, asyncio + aiohttp, no think time) talk for S seconds (default 60): questions,
follow-ups ("còn lệ phí?"), English, dossier lookups with the seeded demo codes, small
talk. Every citizen starts a new conversation (a new sender) after each script.

Prints, per configuration: p50/p95/p99 latency, messages per second, errors (non-200,
empty reply or the "busy" apology), lost turns (a message the balancer accepted that is
not a user event in the tracker store afterwards), how long the events consumer took to
write every turn to the conversation log after the run, and the resident memory of each
process, and the CPU each process used during the load (in cores) with the whole
machine's busy share (PostgreSQL, Redis, RabbitMQ and this client included).

Usage:
    python benchmarks/bench_cluster.py [--replicas 1,2] [--users 50] [--seconds 60]
    python benchmarks/bench_cluster.py --url http://127.0.0.1:8080   # a running cluster

It needs the trained model (models/, see README) and loads both cores for minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_dialogue import percentile, rss_mb  # noqa: E402 (same folder; run as a script)

POSTGRES_ADMIN_URL = os.environ.get(
    "MOTCUA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
REDIS_URL = "redis://127.0.0.1:6379/4"


def _dossier_codes() -> list[str]:
    from desk.demo import demo_dossiers

    codes = [d[0].code for d in demo_dossiers(date.today())]
    return [codes[0], codes[1].lower(), codes[2].replace("-", " "), codes[3]]


def conversations() -> list[list[str]]:
    """The scripts citizens follow: questions, follow-ups, dossier lookups, small talk."""
    codes = _dossier_codes()
    return [
        ["xin chào", "làm hộ chiếu cần giấy tờ gì", "còn lệ phí?", "mất bao lâu"],
        ["dang ky khai sinh cho con can gi", "co mat phi khong", "nop online duoc ko"],
        ["What documents do I need for a criminal record certificate?", "how much is it?"],
        [f"hồ sơ {codes[0]} đến đâu rồi", "cảm ơn"],
        ["làm lại căn cước bị mất", "nộp ở đâu", "cảm ơn nhé"],
        [f"tra cứu hồ sơ {codes[1]}", f"còn hồ sơ {codes[2]} thì sao"],
        ["sổ đỏ bị mất thì xin cấp lại thế nào", "bao lâu thì có"],
        ["đăng ký thường trú cần gì", "ai được đăng ký"],
        ["fee for marriage registration", "and online?"],
        [f"check dossier {codes[3]}", "thanks"],
    ]


BUSY = ("hệ thống đang bận", "the service is busy")


def free_port(avoid: set[int] | None = None) -> int:
    """A free port (and its successor) below the kernel's ephemeral range (see the test)."""
    avoid = avoid if avoid is not None else set()
    while True:
        port = random.randrange(20000, 32000, 2)
        if port in avoid:
            continue
        try:
            for candidate in (port, port + 1):
                with socket.socket() as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        avoid.update({port, port + 1})
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Run:
    """Counts of one load run."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.sent: dict[str, int] = {}  # sender -> messages the balancer answered


async def citizen(session, url: str, n: int, scripts, run: Run, stop_at: float, rng) -> None:
    round_ = 0
    while time.monotonic() < stop_at:
        script = scripts[rng.randrange(len(scripts))]
        sender = f"bench-{n}-{round_}-{uuid.uuid4().hex[:4]}"
        round_ += 1
        for text in script:
            if time.monotonic() >= stop_at:
                return
            start = time.perf_counter()
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as resp:
                    body = await resp.json(content_type=None)
                    if resp.status == 200:
                        run.sent[sender] = run.sent.get(sender, 0) + 1
                    reply = " ".join(m.get("text") or "" for m in body or [])
                    if resp.status != 200 or not body:
                        run.errors.append(f"{resp.status} {body!r}"[:200])
                    elif any(b in reply for b in BUSY):
                        run.errors.append(f"busy: {text}")
                    else:
                        run.latencies.append((time.perf_counter() - start) * 1000)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                run.errors.append(repr(exc)[:200])


async def load(url: str, users: int, seconds: float, seed: int = 7) -> tuple[Run, float]:
    """One pass of every script (warm-up), then ``users`` citizens for ``seconds``."""
    scripts = conversations()
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=users + 10)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for i, script in enumerate(scripts):
            for text in script:
                async with session.post(url, json={"sender": f"warm-{i}", "message": text}) as resp:
                    await resp.read()
        run = Run()
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(
            *(citizen(session, url, i, scripts, run, stop_at, random.Random(seed + i))
              for i in range(users))
        )  # fmt: skip
        elapsed = time.monotonic() - started
    return run, elapsed


def lost_turns(tracker_url: str, sent: dict[str, int]) -> int:
    """Messages answered over the balancer that are not user events in the tracker store."""
    import sqlalchemy as sa

    engine = sa.create_engine(tracker_url, future=True)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT sender_id, count(*) FROM events WHERE type_name = 'user' "
                "AND sender_id LIKE 'bench-%' GROUP BY sender_id"
            )
        ).all()
    engine.dispose()
    stored = dict(rows)
    return sum(max(0, n - stored.get(s, 0)) for s, n in sent.items())


def analytics_catch_up(database_url: str, expected: int, timeout: float = 120) -> dict:
    """Waits until the conversation log has ``expected`` bench turns (the consumer's lag)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url, future=True)
    started = time.monotonic()
    count = 0
    try:
        while time.monotonic() - started < timeout:
            with engine.connect() as conn:
                count = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM conversation_turns WHERE sender_id LIKE 'bench-%'"
                    )
                ).scalar()
            if count >= expected:
                break
            time.sleep(0.5)
    finally:
        engine.dispose()
    return {
        "analytics_turns": count,
        "analytics_missing": max(0, expected - count),
        "analytics_caught_up_after_s": round(time.monotonic() - started, 1),
    }


def _create_database(name: str) -> str:
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)


def _drop_database(name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def start_cluster(replicas: int, home: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    tag = uuid.uuid4().hex[:8]
    taken: set[int] = set()
    app_db, tracker_db = f"motcua_bench_{tag}", f"motcua_bench_{tag}_trk"
    env = dict(
        os.environ,
        MOTCUA_HOME=str(home),
        PYTHONUNBUFFERED="1",
        MOTCUA_RASA_REPLICAS=str(replicas),
        MOTCUA_ACTIONS_REPLICAS=str(replicas),
        MOTCUA_RASA_PORT=str(free_port(taken)),
        MOTCUA_ACTIONS_PORT=str(free_port(taken)),
        MOTCUA_LISTEN=f"127.0.0.1:{free_port(taken)}",
        MOTCUA_STAFF_LISTEN=f"127.0.0.1:{free_port(taken)}",
        MOTCUA_STAFF_PORT=str(free_port(taken)),
        MOTCUA_ACTIONS_BALANCER_PORT=str(free_port(taken)),
        MOTCUA_HEALTH_PORT=str(free_port(taken)),
        MOTCUA_DATABASE_URL=_create_database(app_db),
        MOTCUA_TRACKER_STORE_URL=_create_database(tracker_db),
        MOTCUA_LOCK_STORE_URL=REDIS_URL,
        MOTCUA_EVENT_BROKER_URL=AMQP_URL,
        MOTCUA_EVENT_QUEUE=f"motcua_bench_{tag}",
        MOTCUA_RESTART="0",
    )
    env["_BENCH_DATABASES"] = f"{app_db},{tracker_db}"
    log = open(home / "serve.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--demo"],  # dossier lookups use them
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 1200
    while "motcua: cluster ready." not in (home / "serve.log").read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((home / "serve.log").read_text()[-3000:])
        time.sleep(1)
    return process, env


def stop_cluster(process: subprocess.Popen, env: dict[str, str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for name in env["_BENCH_DATABASES"].split(","):
        _drop_database(name)
    import aio_pika

    async def drop_queue() -> None:
        connection = await aio_pika.connect_robust(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(env["MOTCUA_EVENT_QUEUE"])

    asyncio.run(drop_queue())


def parts(home: Path) -> dict[str, dict]:
    return json.loads((home / "run" / "cluster.json").read_text())["parts"]


def memory(home: Path) -> dict[str, float | None]:
    return {name: rss_mb(part["pid"]) for name, part in sorted(parts(home).items())}


def summarise(run: Run, elapsed: float, lost: int, rss: dict) -> dict:
    lat = run.latencies
    return {
        "messages": len(lat),
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p95_ms": round(percentile(lat, 95), 1) if lat else None,
        "p99_ms": round(percentile(lat, 99), 1) if lat else None,
        "messages_per_s": round(len(lat) / elapsed, 1),
        "errors": len(run.errors),
        "error_samples": run.errors[:3],
        "lost_turns": lost,
        "rss_mb": rss,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", default="1,2", help="replica counts to compare (N+N each)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--url", help="balancer of a running cluster (skips starting one)")
    args = parser.parse_args()
    results = {}
    if args.url:
        run, elapsed = asyncio.run(
            load(f"{args.url}/webhooks/rest/webhook", args.users, args.seconds)
        )
        results["running"] = summarise(run, elapsed, -1, {})
    for replicas in [int(r) for r in args.replicas.split(",") if r] if not args.url else []:
        home = Path(tempfile.mkdtemp(prefix=f"motcua-bench-{replicas}-"))
        started = time.monotonic()
        process, env = start_cluster(replicas, home)
        startup_s = round(time.monotonic() - started, 1)
        try:
            url = f"http://{env['MOTCUA_LISTEN']}/webhooks/rest/webhook"
            pids = {n: p["pid"] for n, p in parts(home).items()}
            cpu_before = {n: cpu_seconds(p) for n, p in pids.items()}
            busy_before = machine_busy()
            run, elapsed = asyncio.run(load(url, args.users, args.seconds))
            busy_after = machine_busy()
            cores = {
                n: round((cpu_seconds(p) - cpu_before[n]) / elapsed, 2) for n, p in pids.items()
            }
            busy = (busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1])
            rss = memory(home)
            lost = lost_turns(env["MOTCUA_TRACKER_STORE_URL"], run.sent)
            analytics = analytics_catch_up(env["MOTCUA_DATABASE_URL"], sum(run.sent.values()))
            results[f"{replicas}+{replicas}"] = {
                **summarise(run, elapsed, lost, rss),
                "cpu_cores_used": cores,
                "machine_cpu_busy": round(busy, 2),
                **analytics,
                "startup_s": startup_s,
            }
        finally:
            stop_cluster(process, env)
        print(json.dumps({f"{replicas}+{replicas}": results[f"{replicas}+{replicas}"]}),
              flush=True)  # fmt: skip
    print(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
