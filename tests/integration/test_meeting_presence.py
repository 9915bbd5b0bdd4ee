"""Presence around meetings: what it was before comes back after (leave, quit, restart).

Real engines on the real Synapse; what the server holds is read back with a
separate plain client, so the engine's own view cannot fool the test.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nio import AsyncClient, LoginResponse, PresenceGetResponse

from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver
from engine.meeting_presence import BUSY_AFTER_S
from engine.models import Presence
from engine.presence import IN_A_CONFERENCE_CALL, to_matrix
from tests.helpers.engines import eventually, signed_in_engine
from tests.helpers.users import TestUser

pytestmark = pytest.mark.integration

LUNCH = (Presence.AWAY, "Out for lunch")
BEFORE = [LUNCH, (Presence.BUSY, "Presenting")]


async def on_server(user: TestUser) -> tuple[str, str]:
    """(presence, status message) as the server holds it for ``user``."""
    client = AsyncClient(user.homeserver_url, user.user_id)
    try:
        login = await client.login(user.password, device_name="presence probe")
        assert isinstance(login, LoginResponse), login
        response = await client.get_presence(user.user_id)
        assert isinstance(response, PresenceGetResponse), response
        return response.presence, response.status_msg or ""
    finally:
        await client.close()


def writes_done(engine: Engine) -> bool:
    return engine.presences.writes_done


@pytest.mark.parametrize(("presence", "status"), BEFORE)
async def test_leaving_puts_back_the_presence_from_before(make_user, tmp_path, presence, status):
    user = make_user("alice", displayname="Alice")
    alice = await signed_in_engine(user, tmp_path / "alice")
    try:
        await alice.meeting_presence.choose(presence, status)
        room_id = await alice.conferences.meet_now()
        await eventually(lambda: alice.presences.own_status == IN_A_CONFERENCE_CALL)
        await alice.conferences.leave(room_id)
        await eventually(
            lambda: (alice.presences.own_presence, alice.presences.own_status) == (presence, status)
        )
        await eventually(lambda: writes_done(alice))
        assert await on_server(user) == to_matrix(presence, status)
        assert (alice.presences.own_presence, alice.presences.own_status) == (presence, status)
    finally:
        await alice.session.close()


@pytest.mark.parametrize(("presence", "status"), BEFORE)
async def test_quitting_in_a_meeting_leaves_it_and_puts_the_presence_back(
    make_user, tmp_path, presence, status
):
    user = make_user("alice", displayname="Alice")
    bob = await signed_in_engine(make_user("bob", displayname="Bob"), tmp_path / "bob")
    alice = await signed_in_engine(user, tmp_path / "alice")
    try:
        await alice.meeting_presence.choose(presence, status)
        room_id = await alice.conferences.meet_now()
        await bob.conferences.join(room_id)  # Invited: Bob waits in the lobby
        await eventually(lambda: alice.presences.own_status == IN_A_CONFERENCE_CALL)
        await eventually(lambda: writes_done(alice))
        await alice.session.close()  # Ctrl+Q
        assert await on_server(user) == to_matrix(presence, status)
        assert not list((tmp_path / "alice" / "presence").glob("*.json"))
        # The next start does not bring the meeting's presence back.
        again = await signed_in_engine(user, tmp_path / "alice")
        try:
            await eventually(lambda: again.presences.own_status == status)
            await eventually(lambda: writes_done(again))
            assert again.conferences.session(room_id) is None
            assert (await on_server(user))[1] == status
        finally:
            await again.session.close()
    finally:
        await bob.session.close()


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("presence", "status"), BEFORE[:1])
async def test_a_quit_that_could_not_restore_is_repaired_at_the_next_start(
    private_synapse: EmbeddedHomeserver, tmp_path: Path, presence, status
):
    password = "alice-secret-password"
    user_id = await private_synapse.register_user("alice-quit", password, displayname="Alice")
    user = TestUser("alice-quit", user_id, password, private_synapse.base_url)
    alice = await signed_in_engine(user, tmp_path / "alice")
    await alice.meeting_presence.choose(presence, status)
    room_id = await alice.conferences.meet_now()
    await eventually(lambda: alice.presences.own_status == IN_A_CONFERENCE_CALL)
    await eventually(lambda: writes_done(alice))
    await private_synapse.stop()
    await alice.session.close()  # the server is gone: nothing could be left or put back
    assert list((tmp_path / "alice" / "presence").glob("*.json"))
    await private_synapse.start()
    assert (await on_server(user))[1] == IN_A_CONFERENCE_CALL

    again = await signed_in_engine(user, tmp_path / "alice")
    try:
        # No meeting is active in this run: the presence from before it comes back.
        await eventually(
            lambda: (again.presences.own_presence, again.presences.own_status) == (presence, status)
        )
        await eventually(lambda: writes_done(again))
        assert again.conferences.session(room_id) is None
        assert await on_server(user) == to_matrix(presence, status)
        assert not list((tmp_path / "alice" / "presence").glob("*.json"))
    finally:
        await again.session.close()


@contextlib.asynccontextmanager
async def away_for_lunch(make_user, tmp_path: Path) -> AsyncIterator[tuple[TestUser, Engine]]:
    """Alice signed in and Away, "Out for lunch", before any meeting; closed after."""
    user = make_user("alice", displayname="Alice")
    alice = await signed_in_engine(user, tmp_path / "alice")
    try:
        await alice.meeting_presence.choose(*LUNCH)
        yield user, alice
    finally:
        await alice.session.close()


async def test_quick_session_changes_reach_the_server_in_order(make_user, tmp_path):
    """Busy and the presence after it are written one after the other, never crossing."""
    async with away_for_lunch(make_user, tmp_path) as (user, alice):
        client = alice.session.require_client()
        real = client.set_presence
        in_flight: list[int] = []
        most = 0
        sent: list[str] = []
        second_done = asyncio.Event()

        async def slow_network(state: str, status: str | None = None):
            # The first write (Busy) is slow to arrive, as on a busy network.
            nonlocal most
            sent.append(status or "")
            in_flight.append(1)
            most = max(most, len(in_flight))
            try:
                if len(sent) == 1:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(second_done.wait(), 2.0)
                return await real(state, status)
            finally:
                in_flight.pop()
                if len(sent) >= 2:
                    second_done.set()

        client.set_presence = slow_network
        room_id = await alice.conferences.meet_now()
        # Leaving a meeting one organizes asks nothing of the server: Busy is on its way first.
        await eventually(lambda: len(sent) >= 1)
        await alice.conferences.leave(room_id)
        await eventually(lambda: len(sent) >= 2 and not in_flight and writes_done(alice))
        assert most == 1, "two presence writes were on their way at once"
        assert await on_server(user) == to_matrix(*LUNCH)
        assert (alice.presences.own_presence, alice.presences.own_status) == LUNCH


async def test_a_meeting_left_within_a_moment_shows_no_busy(make_user, tmp_path):
    """Busy waits a moment after the meeting starts (BUSY_AFTER_S), off the join's
    way: a meeting left before then writes no Busy at all."""
    async with away_for_lunch(make_user, tmp_path) as (user, alice):
        client = alice.session.require_client()
        real = client.set_presence
        written: list[str] = []

        async def recorded(state: str, status: str | None = None):
            written.append(status or "")
            return await real(state, status)

        client.set_presence = recorded
        room_id = await alice.conferences.meet_now()
        await asyncio.sleep(BUSY_AFTER_S / 3)  # long enough for a write made at once
        await alice.conferences.leave(room_id)
        await asyncio.sleep(BUSY_AFTER_S)
        await eventually(lambda: writes_done(alice))
        assert IN_A_CONFERENCE_CALL not in written
        assert await on_server(user) == to_matrix(*LUNCH)
