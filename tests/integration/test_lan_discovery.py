"""Discovery of meeting servers on the network (issue 10), inside a network namespace.

The workplace's rule: no test sends multicast on this machine's real
interfaces. So announcer and browser run as subprocesses inside a network
namespace the test makes (only a loopback in it, with multicast on), and
the namespace is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.helpers.netns import loopback_namespace

pytestmark = pytest.mark.integration

_ROOT = Path(__file__).resolve().parents[2]
_LOOPBACK = "127.0.0.1"
_WAIT_S = 30.0


@pytest.fixture
def namespace() -> Iterator[str]:
    """A network namespace of the test's own: a loopback with multicast, nothing else."""
    with loopback_namespace() as name:
        yield name


class Peer:
    """A tests.helpers.lan_peer process in the namespace; reads its lines as they come."""

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

    async def servers_until(self, condition) -> list[dict]:
        """Read the browser's lists until one satisfies ``condition``."""
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


@pytest.fixture
async def peers(namespace: str) -> AsyncIterator:
    started: list[Peer] = []

    async def peer(*args: str) -> Peer:
        process = await asyncio.create_subprocess_exec(
            "ip", "netns", "exec", namespace, sys.executable, "-m", "tests.helpers.lan_peer",
            *args, cwd=_ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        started.append(Peer(process))
        return started[-1]

    yield peer
    for running in started:
        if running.process.stdin is not None:
            running.process.stdin.close()
        try:
            await asyncio.wait_for(running.process.wait(), 10)
        except TimeoutError:
            running.process.kill()
            await running.process.wait()


async def test_a_server_is_announced_with_its_fingerprint_and_withdrawn(peers):
    browser = await peers("browse", _LOOPBACK)
    await browser.until("browsing")
    first, second = secrets.token_bytes(32).hex(), secrets.token_bytes(32).hex()

    hannah = await peers("announce", "Hannah's laptop", "hannah.local", "8448", first, _LOOPBACK)
    await hannah.until("announced")
    found = await browser.servers_until(lambda s: len(s) == 1)
    assert found == [
        {
            "instance": "Hannah's laptop",
            "server_name": "hannah.local",
            "host": _LOOPBACK,
            "port": 8448,
            "fingerprint": first,
        }
    ]
    # A second computer of the same name is listed as well: it takes nobody's place.
    other = await peers("announce", "Hannah's laptop", "other.local", "9448", second, _LOOPBACK)
    await other.until("announced")
    both = await browser.servers_until(lambda s: len(s) == 2)
    assert {s["fingerprint"] for s in both} == {first, second}
    assert [s["instance"] for s in both] == ["Hannah's laptop"] * 2

    # Turning network access off withdraws the announcement: browsers drop it at once.
    await hannah.send("withdraw")
    await hannah.until("withdrawn")
    left = await browser.servers_until(lambda s: len(s) == 1)
    assert [(s["server_name"], s["port"], s["fingerprint"]) for s in left] == [
        ("other.local", 9448, second)
    ]
