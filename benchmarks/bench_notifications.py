"""Dossier notices: throughput to the fake Telegram and Zalo APIs, and lag from event to delivery.

Usage::

    .venv/bin/python benchmarks/bench_notifications.py [--followers 10000] [--dossiers 1000]
        [--telegram-share 0.7] [--rate 1000] [--database-url URL]

Sets up ``--dossiers`` dossiers followed by ``--followers`` citizens in all (Telegram and
Zalo), starts the real notifier (aiohttp endpoint, sender, SQLite by default) and the
local fakes, posts one signed status event per dossier over HTTP, and waits until every
notice has reached a fake. Prints one JSON object: notices delivered per second (first
event to last delivery) and the lag of each notice from its event's POST to its arrival
(p50/p95/max). ``--rate`` is the per-channel rate limit used (the production defaults,
25/s for Telegram and 10/s for Zalo, would make the run last minutes and measure the
limits, not the code).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desk.dossiers import RECEIVED, Dossier, DossierStore
from desk.follows import follows_table
from desk.outbox import Outbox
from infra.db import Database
from infra.privacy import pseudonym
from notify.sender import Backoff, Sender
from notify.server import Notifier
from notify.signing import signed_headers
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.fake_zalo import FakeZalo
from tests.notifications.conftest import channels_for

KEY = b"bench-key"


class TimedTelegram(FakeTelegram):
    """The fake Telegram, noting when each message arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}

    async def _answer(self, method, params):
        if method == "sendMessage":
            self.arrived[str(params["chat_id"])] = time.monotonic()
        return await super()._answer(method, params)


@dataclass
class TimedZalo(FakeZalo):
    """The fake Zalo OA API, noting when each message arrived."""

    arrived: dict = field(default_factory=dict)

    async def _send(self, request):
        before = len(self.sent)
        resp = await super()._send(request)
        if len(self.sent) > before:
            self.arrived[self.sent[-1].recipient["user_id"]] = time.monotonic()
        return resp


def prepare(db: Database, n_dossiers: int, n_followers: int, telegram_share: float) -> dict:
    """Dossiers and follows; returns ``{address: dossier code}``."""
    store = DossierStore(db)
    today = date.today()
    codes = [f"000.00.20.H26-261101-{i:04d}" for i in range(n_dossiers)]
    store.add_many(
        Dossier(code, "1.001193", "Đăng ký khai sinh", "UBND phường", "", "", today, None, RECEIVED)
        for code in codes
    )
    rows, owner = [], {}
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for n in range(n_followers):
        code = codes[n % n_dossiers]
        telegram = n < n_followers * telegram_share
        address = str(10_000_000 + n) if telegram else f"z{n}"
        owner[address] = code
        rows.append(
            {
                "dossier_code": code,
                "channel": "telegram" if telegram else "zalo",
                "who": pseudonym(address),
                "address": address,
                "language": "vi" if n % 3 else "en",
                "consent": "notify-status-v1",
                "created_at": now,
                "active": True,
                "ended_at": None,
            }
        )
    db.ensure_schema()
    with db.engine.begin() as conn:
        conn.execute(follows_table.insert(), rows)
    return owner


async def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.database_url or f"sqlite:///{tmp}/bench.db")
        owner = prepare(db, args.dossiers, args.followers, args.telegram_share)
        async with TimedTelegram() as tg, TimedZalo() as zl:
            channels = channels_for(tg, zl, Path(tmp))
            sender = Sender(
                Outbox(db),
                channels,
                rates={"telegram": args.rate, "zalo": args.rate},
                backoff=Backoff(base_s=0.2, max_s=2.0),
                batch=args.batch,
                concurrency=args.concurrency,
                idle_s=0.05,
            )
            notifier = Notifier(db=db, key=KEY, sender=sender, port=0)
            await notifier.start()
            url = f"http://127.0.0.1:{notifier.port}/dossiers/events"
            posted: dict[str, float] = {}
            codes = sorted(set(owner.values()))
            start = time.monotonic()
            async with aiohttp.ClientSession() as http:
                sem = asyncio.Semaphore(8)

                async def post(i: int, code: str) -> None:
                    payload = {"event_id": f"bench-{i}", "code": code, "status": "in_progress"}
                    body = json.dumps(payload).encode()
                    async with sem:
                        posted[code] = time.monotonic()
                        headers = signed_headers(KEY, body, int(time.time()))
                        async with http.post(url, data=body, headers=headers) as resp:
                            assert resp.status == 200, await resp.text()

                await asyncio.gather(*(post(i, c) for i, c in enumerate(codes)))
            events_done = time.monotonic()
            deadline = time.monotonic() + args.timeout
            while len(tg.arrived) + len(zl.arrived) < len(owner):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            end = time.monotonic()
            await notifier.stop()
        arrived = {**tg.arrived, **zl.arrived}
        lags = sorted(arrived[a] - posted[owner[a]] for a in arrived)
        q = statistics.quantiles(lags, n=100) if len(lags) > 1 else [0.0] * 99
        db.dispose()
        return {
            "followers": len(owner),
            "dossiers": len(codes),
            "delivered": len(arrived),
            "telegram_messages": len(tg.accepted),
            "zalo_messages": len(zl.sent),
            "events_posted_s": round(events_done - start, 2),
            "total_s": round(end - start, 2),
            "notices_per_s": round(len(arrived) / (max(arrived.values()) - start), 1)
            if arrived
            else 0.0,
            "lag_p50_s": round(q[49], 2),
            "lag_p95_s": round(q[94], 2),
            "lag_max_s": round(lags[-1], 2) if lags else None,
            "rate_limit_per_channel": args.rate,
            "database": "sqlite" if not args.database_url else args.database_url.split(":")[0],
            "cpus": os.cpu_count(),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--dossiers", type=int, default=1_000)
    parser.add_argument("--telegram-share", type=float, default=0.7)
    parser.add_argument("--rate", type=float, default=1000.0, help="per-channel notices/s limit")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
