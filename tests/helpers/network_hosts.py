"""A host computer for guest tests: an embedded server with network access on, and its
organizer's engine signed in through loopback (as on the host's own computer)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver, HomeserverProfile
from engine.network_hosting import create_guest_link, local_network_addresses


def lan_address() -> str:
    """A non-loopback address of this machine for guests to reach the host at."""
    addresses = local_network_addresses()
    if not addresses:
        pytest.skip("this machine has no non-loopback IPv4 address for a guest to use")
    return addresses[0]


@dataclass
class NetworkHost:
    server: EmbeddedHomeserver
    engine: Engine
    address: str

    async def meeting_and_link(self, name: str = "Workshop") -> tuple[str, str]:
        room_id = await self.engine.conferences.meet_now(name)
        alias = self.engine.conferences.details(room_id).alias
        return room_id, await self.new_link(alias)

    async def new_link(self, alias: str) -> str:
        return await create_guest_link(self.server, alias, host=self.address)


@asynccontextmanager
async def network_host(folder: Path, name: str = "Hannah") -> AsyncIterator[NetworkHost]:
    address = lan_address()
    server = EmbeddedHomeserver(folder / "synapse", profile=HomeserverProfile.TEST)
    await server.set_network_access(True, address=address)
    await server.start()
    engine: Engine | None = None
    try:
        password = secrets.token_urlsafe(16)
        user_id = await server.register_user("host", password, displayname=name)
        engine = Engine(folder / "host")
        await engine.session.login(server.base_url, user_id, password, remember=False)
        await engine.session.start()
        yield NetworkHost(server, engine, address)
    finally:
        if engine is not None:
            await engine.session.close()
        await server.stop()
