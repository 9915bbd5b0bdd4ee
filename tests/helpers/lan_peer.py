"""A discovery peer for tests, run with ``ip netns exec NS python -m tests.helpers.lan_peer``.

Run inside a network namespace the test made, so its multicast never leaves it.
``announce NAME SERVER PORT FP_HEX ADDRESS`` announces (on the namespace's
loopback) that server at ADDRESS:PORT until a line "withdraw"
on stdin, prints "withdrawn", and exits at end of input. ``browse`` prints one
JSON line with the list of servers found each time it changes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict

from engine.lan_discovery import DiscoveredServer, LanAnnouncer, LanBrowser

_LOOPBACK = ["127.0.0.1"]  # the namespace's own loopback: all that exists in it


async def _lines() -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _say(text: str) -> None:
    print(text, flush=True)


async def announce(name: str, server: str, port: str, fingerprint: str, address: str) -> None:
    announcer = LanAnnouncer(interfaces=_LOOPBACK)
    await announcer.announce(
        name,
        server_name=server,
        addresses=[address],
        port=int(port),
        fingerprint=bytes.fromhex(fingerprint),
    )
    _say("announced")
    stdin = await _lines()
    while line := await stdin.readline():
        if line.strip() == b"withdraw":
            await announcer.withdraw()
            _say("withdrawn")
    await announcer.withdraw()


async def browse() -> None:
    def changed(servers: list[DiscoveredServer]) -> None:
        _say(json.dumps([asdict(s) | {"fingerprint": s.fingerprint.hex()} for s in servers]))

    browser = LanBrowser(changed, interfaces=_LOOPBACK)
    await browser.start()
    _say("browsing")
    stdin = await _lines()
    while await stdin.readline():
        pass
    await browser.stop()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    asyncio.run(announce(*args) if command == "announce" else browse(*args))
