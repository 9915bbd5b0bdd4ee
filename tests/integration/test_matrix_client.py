"""Big answers (sync, joined members) are parsed on a worker thread, and parsed right."""

from __future__ import annotations

import threading

import pytest
from nio import JoinedMembersResponse, LoginResponse, RoomCreateResponse, SyncResponse

from engine import matrix_client
from engine.matrix_client import MatrixClient

pytestmark = pytest.mark.integration


async def test_sync_and_members_are_parsed_off_the_loop_thread(make_user, monkeypatch):
    parsed_on: list[tuple[str, bool]] = []
    parse = matrix_client._response_from_body

    def watched(response_class, body, data):
        is_loop_thread = threading.current_thread() is threading.main_thread()
        parsed_on.append((response_class.__name__, is_loop_thread))
        return parse(response_class, body, data)

    monkeypatch.setattr(matrix_client, "_response_from_body", watched)
    user = make_user("parser", displayname="Parser")
    client = MatrixClient(user.homeserver_url, user.user_id)
    try:
        assert isinstance(await client.login(user.password), LoginResponse)
        created = await client.room_create(name="Parsed elsewhere")
        assert isinstance(created, RoomCreateResponse)

        synced = await client.sync(timeout=0)
        members = await client.joined_members(created.room_id)

        assert isinstance(synced, SyncResponse)
        assert created.room_id in synced.rooms.join
        assert created.room_id in client.rooms  # nio applied it on the loop as usual
        assert isinstance(members, JoinedMembersResponse)
        assert [m.user_id for m in members.members] == [user.user_id]
        assert ("SyncResponse", False) in parsed_on
        assert ("JoinedMembersResponse", False) in parsed_on
        assert all(not on_loop for _, on_loop in parsed_on)
    finally:
        await client.close()


def test_an_unreadable_answer_is_an_error_response_not_a_crash():
    response = matrix_client._response_from_body(SyncResponse, b"<html>bad gateway", ())
    assert not isinstance(response, SyncResponse)  # nio's SyncError for a bad body
