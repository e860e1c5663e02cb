"""``python -m notify [--host H] [--port P]``: the notifier (events endpoint, sender, poller).

Settings come from the registry (``MOTCUA_NOTIFY_*``, the channels' ``MOTCUA_TELEGRAM_*``
and ``MOTCUA_ZALO_*``, ``MOTCUA_DATABASE_URL``); see the README's "Dossier notices".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from infra.privacy import install_log_filter
from notify.server import Notifier


def main(argv: list[str] | None = None) -> int:
    """Runs the notifier until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m notify", description=__doc__)
    parser.add_argument("--host", help="listen host (default from MOTCUA_NOTIFY_LISTEN)")
    parser.add_argument("--port", type=int, help="listen port (default from MOTCUA_NOTIFY_LISTEN)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    install_log_filter()
    notifier = Notifier.from_settings()
    if args.host:
        notifier.host = args.host
    if args.port is not None:
        notifier.port = args.port

    async def run() -> None:
        task = asyncio.create_task(notifier.run_forever())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
