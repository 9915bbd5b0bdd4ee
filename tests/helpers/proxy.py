"""A loopback TCP proxy between an engine and the real Synapse, for network faults.

It forwards bytes unchanged and watches the request lines going up, so it can:
- drop the response to a ``PUT …/send/…`` after the server has answered it (the
  server committed the event; the client sees the connection close), the case
  transaction IDs exist for;
- hold ``/sync`` responses, so a test decides when the client learns anything;
- go dark: close every connection and refuse new ones, as a dropped network does.

aiohttp does not pipeline requests, so the response arriving on a connection
always answers the last request line seen on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from urllib.parse import urlsplit

_REQUEST_LINE = re.compile(rb"(GET|PUT|POST|DELETE) (\S+) HTTP/1\.[01]\r\n")
_SEND_PATH = re.compile(r"/_matrix/client/[^/]+/rooms/[^/]+/send/[^/]+/([^/?]+)")
_SYNC_PATH = re.compile(r"/_matrix/client/[^/]+/sync\b")


class FaultyProxy:
    def __init__(self, target_url: str) -> None:
        target = urlsplit(target_url)
        self._target = (target.hostname or "127.0.0.1", target.port or 80)
        self._server: asyncio.Server | None = None
        self._port = 0
        self._streams: set[asyncio.StreamWriter] = set()
        self._sync_gate = asyncio.Event()
        self._sync_gate.set()
        self._dark = False
        #: How many of the next send responses to drop.
        self.drop_send_responses = 0
        #: Transaction IDs of every PUT …/send/… forwarded to the server, in order.
        self.sends: list[str] = []
        #: Transaction IDs whose response was dropped.
        self.dropped: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self._sync_gate.set()
        self._cut_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def hold_sync(self) -> None:
        self._sync_gate.clear()

    def release_sync(self) -> None:
        self._sync_gate.set()

    def go_dark(self) -> None:
        self._dark = True
        self._cut_all()

    def go_light(self) -> None:
        self._dark = False

    def _cut_all(self) -> None:
        for writer in list(self._streams):
            writer.transport.abort()
        self._streams.clear()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self._dark:
            client_w.transport.abort()
            return
        try:
            server_r, server_w = await asyncio.open_connection(*self._target)
        except OSError:
            client_w.transport.abort()
            return
        self._streams.update((client_w, server_w))
        last: list[tuple[str, str | None]] = [("other", None)]  # (kind, txn ID) of the request

        async def up() -> None:
            while data := await client_r.read(65536):
                for match in _REQUEST_LINE.finditer(data):
                    path = match.group(2).decode("latin-1")
                    if match.group(1) == b"PUT" and (send := _SEND_PATH.match(path)):
                        last[0] = ("send", send.group(1))
                        self.sends.append(send.group(1))
                    elif _SYNC_PATH.match(path):
                        last[0] = ("sync", None)
                    else:
                        last[0] = ("other", None)
                server_w.write(data)
                await server_w.drain()

        async def down() -> None:
            while data := await server_r.read(65536):
                kind, txn_id = last[0]
                if kind == "send" and self.drop_send_responses > 0:
                    # The server has answered: the event is committed. Lose the answer.
                    self.drop_send_responses -= 1
                    self.dropped.append(txn_id or "")
                    return
                if kind == "sync":
                    await self._sync_gate.wait()
                client_w.write(data)
                await client_w.drain()

        tasks = [asyncio.ensure_future(up()), asyncio.ensure_future(down())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, OSError):
                    await task
            for writer in (client_w, server_w):
                self._streams.discard(writer)
                writer.transport.abort()
