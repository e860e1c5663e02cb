"""Work a webhook does after it answered, and a turn whose failure never escapes.

Telegram and Zalo want an answer within seconds and retry otherwise, so their webhooks
answer at once and handle the message in a background task. :class:`BackgroundTasks`
keeps those tasks referenced (asyncio only keeps weak references), logs their failures
and lets shutdown wait for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable


class BackgroundTasks:
    """The tasks a channel started and has not seen finish.

    Args:
        log: The channel's logger (failures are logged there).
        channel: The channel's name, at the start of each log line.
    """

    def __init__(self, log: logging.Logger, channel: str) -> None:
        self.log = log
        self.channel = channel
        self._tasks: set[asyncio.Future[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Awaitable[None], what: str) -> None:
        """Runs ``work`` in the background; ``what`` names it in the log if it fails."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)

        def done(finished: asyncio.Future[None]) -> None:
            self._tasks.discard(finished)
            if finished.cancelled():
                self.log.error("%s: %s was cancelled", self.channel, what)
            elif finished.exception() is not None:
                self.log.error("%s: %s failed", self.channel, what, exc_info=finished.exception())

        task.add_done_callback(done)

    async def drain(self) -> None:
        """Waits until every task started so far (and any they start) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def guarded_turn(
    work: Awaitable[object], log: logging.Logger, channel: str, sender: str
) -> None:
    """Awaits Rasa's handling of one message; a failure or timeout is logged, never raised.

    The caller then checks whether anything was sent and, when nothing was, sends the
    "busy" text: a citizen is never left without an answer.

    Args:
        work: ``on_new_message(...)`` for the message.
        log: The channel's logger.
        channel: The channel's name, for the log.
        sender: The conversation id, for the log.
    """
    try:
        await work
    except asyncio.CancelledError:  # Rasa cancels a turn that outlives its timeout
        log.error("%s: message from %s timed out", channel, sender)
    except Exception:
        log.exception("%s: message from %s failed", channel, sender)
