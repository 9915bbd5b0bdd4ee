"""A presence choice and the engine's own sync crossing at the server.

A sync request built just before the person picks Busy still carries the old
``set_presence=online``. When the server handles it after the presence write,
it puts the device back online (Synapse keeps the status message), and that
sync's answer brings the echo back. Real engine, real Synapse; the crossing is
made to happen every time by holding the engine's next sync request until the
write is done (the request itself goes out unchanged).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engine.models import Presence
from engine.presence import to_matrix
from tests.helpers.holds import wake_sync
from tests.helpers.users import TestUser
from tests.integration.test_meeting_presence import on_server, writes_done

pytestmark = pytest.mark.integration


async def test_a_sync_built_before_a_presence_choice_does_not_undo_it(people, make_user):
    user = make_user("alice", displayname="Alice")
    alice = await people("Alice", user)
    client = alice.session.require_client()
    real_sync = client.sync
    built: list[dict[str, Any]] = []
    go = asyncio.Event()

    async def sent_late(*args: Any, **kwargs: Any) -> Any:
        if not go.is_set():
            built.append(kwargs)  # built now, with the presence of the moment
            await go.wait()
        return await real_sync(*args, **kwargs)

    client.sync = sent_late
    while not built:  # end the long poll on its way, so the next one is held
        await wake_sync(alice)
        await asyncio.sleep(0.05)
    assert built[0]["set_presence"] == "online"

    await alice.meeting_presence.choose(Presence.BUSY, None)
    assert writes_done(alice)
    go.set()  # the old request reaches the server after the write

    # The syncs after it carry Busy again: the server comes back to the choice,
    # and the app keeps showing it.
    await server_holds(user, to_matrix(Presence.BUSY))
    assert alice.presences.own_presence is Presence.BUSY


async def server_holds(user: TestUser, expected: tuple[str, str], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (held := await on_server(user)) != expected:
        if loop.time() > deadline:
            raise AssertionError(f"the server holds {held}, not {expected}")
        await asyncio.sleep(0.5)
