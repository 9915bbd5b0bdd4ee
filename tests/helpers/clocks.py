"""A clock the test moves on by hand, with a sleep that follows it (no real waiting)."""

from __future__ import annotations

import asyncio
import time


class ManualClock:
    """``clock()`` is the time; ``advance(s)`` moves it on and wakes the sleepers it reaches."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now
        self._moved = asyncio.Event()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def sleep(self, seconds: float) -> None:
        until = self.now + seconds
        while self.now < until:
            await self._moved.wait()
