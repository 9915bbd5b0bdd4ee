"""Discovery peers (tests.helpers.lan_peer processes) inside a test's network namespace."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[2]
_WAIT_S = 30.0


class Peer:
    """One peer process; reads its lines as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def line(self) -> str:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), _WAIT_S)
        assert raw, "the peer ended early"
        return raw.decode().strip()

    async def until(self, wanted: str) -> None:
        while await self.line() != wanted:
            pass

    async def servers_until(self, condition: Callable[[list[dict[str, Any]]], bool]) -> list[Any]:
        """Read a browser's lists until one satisfies ``condition``."""
        while True:
            line = await self.line()
            if line.startswith("["):
                servers = json.loads(line)
                if condition(servers):
                    return servers

    async def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode() + b"\n")
        await self.process.stdin.drain()


StartPeer = Callable[..., Awaitable[Peer]]


@asynccontextmanager
async def peers_in(namespace: str) -> AsyncIterator[StartPeer]:
    """``await peer("announce", …)`` / ``await peer("browse")``; all ended at the end."""
    started: list[Peer] = []

    async def peer(*args: str) -> Peer:
        process = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", namespace, sys.executable, "-m", "tests.helpers.lan_peer",
            *args, cwd=_ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        started.append(Peer(process))
        return started[-1]

    try:
        yield peer
    finally:
        for running in started:
            if running.process.stdin is not None:
                running.process.stdin.close()
            try:
                await asyncio.wait_for(running.process.wait(), 10)
            except TimeoutError:
                running.process.kill()
                await running.process.wait()
