"""From a model's step loop to a request's coroutine: the loop rings after each step that made the request
characters, and the event loop is woken only by the first ring since the coroutine last looked, so a busy
step loop costs the event loop one wake-up per look, not one per character."""

from __future__ import annotations

import asyncio
import threading


class Bell:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.rung = False
        self.lock = threading.Lock()
        self.ready = asyncio.Event()

    def ring(self) -> None:
        """From any thread."""
        with self.lock:
            if self.rung:
                return
            self.rung = True
        self.loop.call_soon_threadsafe(self.ready.set)

    async def wait(self) -> None:
        """Until a ring since the last wait; what rang is read after this returns."""
        await self.ready.wait()
        with self.lock:
            self.rung = False
            self.ready.clear()
