"""From the generator's thread to a request's coroutine: pieces of text are appended under a lock, and the
event loop is woken only when the box goes from empty to full, so a busy loop drains many characters at
a time instead of being woken once per character."""

from __future__ import annotations

import asyncio
import threading


class Outbox:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.items: list = []
        self.lock = threading.Lock()
        self.ready = asyncio.Event()

    def put(self, item) -> None:
        """From any thread."""
        with self.lock:
            self.items.append(item)
            first = len(self.items) == 1
        if first:
            self.loop.call_soon_threadsafe(self.ready.set)

    async def take(self) -> list:
        """Everything put since the last take; waits for at least one item."""
        while True:
            with self.lock:
                if self.items:
                    out, self.items = self.items, []
                    return out
                self.ready.clear()
            await self.ready.wait()
