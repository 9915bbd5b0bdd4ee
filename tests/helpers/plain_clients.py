"""Another Matrix client (not Confero): a bare matrix-nio AsyncClient, synced by hand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nio import AsyncClient


async def sync_until(
    client: AsyncClient, predicate: Callable[[], bool], timeout: float = 20.0
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "the plain client never saw it"
        await client.sync(timeout=500, set_presence="online")
