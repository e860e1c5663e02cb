"""An asyncio loop in a thread, so synchronous tests can run async fakes beside real servers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

T = TypeVar("T")


class BackgroundLoop:
    """Runs an event loop in a daemon thread; ``run`` and ``enter`` block until done."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._entered: list[AbstractAsyncContextManager[Any]] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Runs ``coro`` on the loop and returns its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def enter(self, factory) -> Any:
        """Creates an async context manager on the loop (``factory()``) and enters it."""

        async def _enter():
            manager = factory()
            value = await manager.__aenter__()
            self._entered.append(manager)
            return value

        return self.run(_enter())

    def close(self) -> None:
        """Exits every entered context manager and stops the loop."""
        for manager in reversed(self._entered):
            self.run(manager.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
