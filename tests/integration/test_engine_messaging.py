"""Two real engines on the real Synapse: conversations, messages, history, presence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from engine import events as ev
from engine.engine import Engine
from engine.errors import InvalidUserId, ServerRefused, UnknownUser
from engine.matrix_events import ENCRYPTED_PLACEHOLDER, MAX_BODY_BYTES
from engine.models import ConversationKind, MessageState, Presence
from engine.user_directory import search_users
from tests.helpers.engines import eventually, signed_in_engine, wait_for_event
from tests.helpers.users import TestUser

pytestmark = pytest.mark.integration


@pytest.fixture
async def pair(
    make_user: Callable[..., TestUser], tmp_path: Path
) -> AsyncIterator[tuple[Engine, Engine, str]]:
    """Alice and Bob signed in, with a direct conversation both have joined."""
    alice_user = make_user("alice", displayname="Alice")
    bob_user = make_user("bob", displayname="Bob")
    alice = await signed_in_engine(alice_user, tmp_path / "alice")
    bob = await signed_in_engine(bob_user, tmp_path / "bob")
    room_id = await alice.conversations.start_direct_conversation(bob_user.user_id)
    await eventually(lambda: room_id in {c.room_id for c in bob.conversations.all()})
    await eventually(lambda: bob.conversations.conversation(room_id).member_count == 2)
    await eventually(lambda: alice.conversations.conversation(room_id).member_count == 2)
    try:
        yield alice, bob, room_id
    finally:
        await alice.session.close()
        await bob.session.close()


async def test_direct_conversation_is_two_party_on_both_sides(pair):
    alice, bob, room_id = pair
    alice_view = alice.conversations.conversation(room_id)
    bob_view = bob.conversations.conversation(room_id)
    assert alice_view.kind == ConversationKind.DIRECT
    assert bob_view.kind == ConversationKind.DIRECT
    assert alice_view.peer_user_id == bob.session.user_id
    assert bob_view.peer_user_id == alice.session.user_id
    assert alice_view.display_name == "Bob"
    assert bob_view.display_name == "Alice"
    # Asking again reuses the room instead of creating a second one.
    assert await alice.conversations.start_direct_conversation(bob.session.user_id) == room_id


async def test_messages_flow_both_ways_with_states(pair):
    alice, bob, room_id = pair
    received = asyncio.ensure_future(
        wait_for_event(
            bob, lambda e: isinstance(e, ev.MessageAdded) and e.message.body == "hello bob"
        )
    )
    echo = await alice.conversations.send_text(room_id, "hello bob")
    assert echo.state == MessageState.SENDING
    await wait_for_event(
        alice,
        lambda e: (
            isinstance(e, ev.MessageChanged)
            and e.message.key == echo.key
            and e.message.state == MessageState.SENT
        ),
    )
    event = await received
    assert event.message.sender == alice.session.user_id
    assert event.message.sender_name == "Alice"
    assert event.message.state == MessageState.RECEIVED

    await bob.conversations.send_text(room_id, "hi alice")
    await eventually(
        lambda: any(m.body == "hi alice" for m in alice.conversations.messages(room_id))
    )
    # Alice's own message is one row, not a local echo plus a server copy.
    assert [m.body for m in alice.conversations.messages(room_id)].count("hello bob") == 1
    await eventually(lambda: alice.conversations.conversation(room_id).unread_count >= 1)
    await alice.conversations.mark_read(room_id)
    assert alice.conversations.conversation(room_id).unread_count == 0


async def test_history_is_paginated_back_to_the_start(make_user, tmp_path):
    alice_user, bob_user = make_user("alice"), make_user("bob")
    bob = await signed_in_engine(bob_user, tmp_path / "bob")
    try:
        room_id = await bob.conversations.start_direct_conversation(alice_user.user_id)
        for i in range(75):
            await bob.conversations.send_text(room_id, f"history {i}")
        await eventually(
            lambda: all(
                m.state == MessageState.SENT
                for m in bob.conversations.messages(room_id)
                if not m.changes
            ),
            timeout=30,
        )
    finally:
        await bob.session.close()
    # Alice signs in afterwards: the first sync brings only the latest page.
    alice = await signed_in_engine(alice_user, tmp_path / "alice")
    try:
        await eventually(lambda: alice.conversations.conversation(room_id) is not None)
        first_page = [m.body for m in alice.conversations.messages(room_id)]
        assert "history 0" not in first_page
        prepended: list[ev.MessagesPrepended] = []
        alice.session.bus.subscribe(
            lambda e: prepended.append(e) if isinstance(e, ev.MessagesPrepended) else None
        )
        reached_start = False
        while not reached_start:
            reached_start = await alice.conversations.load_older(room_id, limit=20)
        bodies = [
            m.body for m in alice.conversations.messages(room_id) if m.body.startswith("history")
        ]
        assert bodies == [f"history {i}" for i in range(75)]
        assert len(prepended) >= 2 and prepended[-1].reached_start
        keys = [m.key for m in alice.conversations.messages(room_id)]
        assert len(keys) == len(set(keys))
        assert await alice.conversations.load_older(room_id) is True  # nothing more, no error
    finally:
        await alice.session.close()


async def test_long_message_is_split_not_lost(pair):
    alice, bob, room_id = pair
    text = ("0123456789abcdef" * 64 + "\n") * 64  # 64 KiB and a bit
    await alice.conversations.send_text(room_id, text)

    def bob_has_everything() -> bool:
        parts = [
            m.body
            for m in bob.conversations.messages(room_id)
            if m.sender == alice.session.user_id and not m.changes
        ]
        return "".join(parts) == text.strip("\n")

    await eventually(bob_has_everything, timeout=30)
    parts = [
        m
        for m in bob.conversations.messages(room_id)
        if m.sender == alice.session.user_id and not m.changes
    ]
    assert len(parts) == -(-len(text.encode()) // MAX_BODY_BYTES)


async def test_hostile_html_is_sanitised(pair):
    alice, bob, room_id = pair
    client = bob.session.client  # a raw client, as another Matrix app would send it
    await client.room_send(
        room_id,
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": "bold",
            "format": "org.matrix.custom.html",
            "formatted_body": '<b>bold</b><script>alert(1)</script><img src="https://e.org/x.png">',
        },
    )
    await eventually(lambda: any(m.html for m in alice.conversations.messages(room_id)))
    message = next(m for m in alice.conversations.messages(room_id) if m.html)
    assert message.html == "<b>bold</b>"
    await bob.conversations.send_text(room_id, "<b>not bold</b>\u202eevil\x07")
    await eventually(
        lambda: any("not bold" in m.body for m in alice.conversations.messages(room_id))
    )
    plain = next(m for m in alice.conversations.messages(room_id) if "not bold" in m.body)
    assert plain.body == "<b>not bold</b>evil"
    assert plain.html is None


async def test_hostile_display_name_is_cleaned(make_user, tmp_path):
    mallory_user = make_user("mallory", displayname="<script>x</script>\u202eAdmin\x00" + "A" * 500)
    alice_user = make_user("alice")
    alice = await signed_in_engine(alice_user, tmp_path / "a")
    mallory = await signed_in_engine(mallory_user, tmp_path / "m")
    try:
        room_id = await mallory.conversations.start_direct_conversation(alice_user.user_id)
        await eventually(lambda: alice.conversations.conversation(room_id) is not None)
        await eventually(lambda: alice.conversations.conversation(room_id).display_name != room_id)
        name = alice.conversations.conversation(room_id).display_name
        assert "\u202e" not in name and "\x00" not in name
        assert name.startswith("<script>x</script>Admin")
        assert len(name) <= 80
    finally:
        await alice.session.close()
        await mallory.session.close()


async def test_encrypted_room_is_shown_as_encrypted(pair):
    alice, bob, room_id = pair
    client = bob.session.client
    await client.room_put_state(room_id, "m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"})
    await client.room_send(
        room_id,
        "m.room.encrypted",
        {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg2yyOwAtHaZTwyNg",
            "sender_key": "IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA",
            "session_id": "X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ",
            "device_id": "RJYKSTBOIE",
        },
    )
    await eventually(lambda: alice.conversations.conversation(room_id).encrypted)
    await eventually(lambda: any(m.encrypted for m in alice.conversations.messages(room_id)))
    message = next(m for m in alice.conversations.messages(room_id) if m.encrypted)
    assert message.body == ENCRYPTED_PLACEHOLDER
    with pytest.raises(ServerRefused, match="encrypted"):
        await alice.conversations.send_text(room_id, "would leak in plain text")


async def test_typing_and_presence_reach_the_peer(pair):
    alice, bob, room_id = pair
    await alice.conversations.set_typing(room_id, True)
    await eventually(lambda: bob.conversations.typing_names(room_id) == ("Alice",))
    await alice.conversations.set_typing(room_id, False)
    await eventually(lambda: bob.conversations.typing_names(room_id) == ())

    await alice.meeting_presence.choose(Presence.BUSY, None)
    await eventually(lambda: bob.presences.presence_of(alice.session.user_id) == Presence.BUSY)
    await eventually(lambda: bob.conversations.conversation(room_id).peer_presence == Presence.BUSY)
    await alice.meeting_presence.choose(Presence.AWAY, None)
    await eventually(lambda: bob.presences.presence_of(alice.session.user_id) == Presence.AWAY)
    await alice.meeting_presence.choose(Presence.AVAILABLE, None)
    await eventually(lambda: bob.presences.presence_of(alice.session.user_id) == Presence.AVAILABLE)


async def test_new_conversation_bad_ids(make_user, tmp_path):
    alice = await signed_in_engine(make_user("alice"), tmp_path / "a")
    try:
        for bad in ("bob", "@bob", "@Bob Smith:localhost", "@bob:", "", "@" + "x" * 300 + ":hs"):
            with pytest.raises(InvalidUserId):
                await alice.conversations.start_direct_conversation(bad)
        with pytest.raises(UnknownUser):
            await alice.conversations.start_direct_conversation("@nobody-here:localhost")
        with pytest.raises(InvalidUserId):
            await alice.conversations.start_direct_conversation(alice.session.user_id)
    finally:
        await alice.session.close()


async def test_user_directory_search(make_user, tmp_path):
    alice = await signed_in_engine(make_user("alice"), tmp_path / "a")
    target = make_user("zebedee", displayname="Zebedee Quux")
    try:
        found = []
        for _ in range(50):
            found = await search_users(alice.session, "Zebedee")
            if found:
                break
            await asyncio.sleep(0.1)
        assert [u.user_id for u in found] == [target.user_id]
        assert found[0].display_name == "Zebedee Quux"
        assert await search_users(alice.session, "   ") == []
    finally:
        await alice.session.close()
