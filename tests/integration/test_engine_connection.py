"""The server going away mid-conversation: reconnect, catch up, outbox exactly once."""

from __future__ import annotations

import secrets

import pytest

from engine import events as ev
from engine.credentials import CredentialStore
from engine.engine import Engine
from engine.models import ConnectionState, MessageState
from tests.helpers.engines import eventually, expect_event, message_state
from tests.helpers.keyrings import MemoryKeyring

pytestmark = pytest.mark.integration


def _register(server, prefix: str) -> tuple[str, str]:
    localpart = f"{prefix}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    server.register_user_blocking(localpart, password, displayname=prefix.title())
    return localpart, password


async def _engine(server, account, data_dir, store=None, remember=False) -> Engine:
    engine = Engine(data_dir, store or CredentialStore(backend=MemoryKeyring()))
    await engine.session.login(server.base_url, account[0], account[1], remember=remember)
    await engine.session.start()
    return engine


async def test_restart_mid_conversation_loses_and_duplicates_nothing(private_synapse, tmp_path):
    server = private_synapse
    alice = await _engine(server, _register(server, "alice"), tmp_path / "a")
    bob_account = _register(server, "bob")
    bob = await _engine(server, bob_account, tmp_path / "b")
    try:
        room_id = await alice.conversations.start_direct_conversation(bob.session.user_id)
        await eventually(lambda: bob.conversations.conversation(room_id) is not None)
        await alice.conversations.send_text(room_id, "before")
        await eventually(
            lambda: any(m.body == "before" for m in bob.conversations.messages(room_id))
        )

        lost = expect_event(
            alice,
            lambda e: (
                isinstance(e, ev.ConnectionStateChanged) and e.state == ConnectionState.RECONNECTING
            ),
        )
        await server.stop()
        await lost
        # Typed while the server is down: shown as Sending, kept in the outbox.
        echo = await alice.conversations.send_text(room_id, "while offline")
        assert message_state(alice, room_id, echo.key) == MessageState.SENDING

        back = expect_event(
            alice,
            lambda e: (
                isinstance(e, ev.ConnectionStateChanged) and e.state == ConnectionState.CONNECTED
            ),
            timeout=30,
        )
        await server.start()
        await back
        await eventually(lambda: message_state(alice, room_id, echo.key) == MessageState.SENT, 30)
        await bob.conversations.send_text(room_id, "after")
        await eventually(
            lambda: any(m.body == "after" for m in alice.conversations.messages(room_id)), 30
        )
        await eventually(
            lambda: any(m.body == "while offline" for m in bob.conversations.messages(room_id)), 30
        )
    finally:
        await alice.session.close()
        await bob.session.close()

    # A fresh sign-in sees each message exactly once on the server.
    check = await _engine(server, bob_account, tmp_path / "check")
    try:
        await eventually(lambda: check.conversations.conversation(room_id) is not None)
        bodies = [m.body for m in check.conversations.messages(room_id)]
        assert bodies.count("before") == 1
        assert bodies.count("while offline") == 1
        assert bodies.count("after") == 1
    finally:
        await check.session.close()


async def test_outbox_survives_an_engine_restart(private_synapse, tmp_path):
    server = private_synapse
    store = CredentialStore(backend=MemoryKeyring())
    alice_account = _register(server, "alice")
    bob_account = _register(server, "bob")
    alice = await _engine(server, alice_account, tmp_path / "a", store, remember=True)
    room_id = await alice.conversations.start_direct_conversation(f"@{bob_account[0]}:localhost")
    await server.stop()
    await alice.conversations.send_text(room_id, "queued one")
    await alice.conversations.send_text(room_id, "queued two")
    await alice.session.close()  # the app is closed while offline

    await server.start()
    reopened = Engine(tmp_path / "a", store)
    assert await reopened.session.restore(homeserver_url=server.base_url) is not None
    await reopened.session.start()
    bob = await _engine(server, bob_account, tmp_path / "b")
    try:
        await eventually(lambda: bob.conversations.conversation(room_id) is not None, 30)
        await eventually(
            lambda: (
                [m.body for m in bob.conversations.messages(room_id) if m.body.startswith("queued")]
                == ["queued one", "queued two"]
            ),
            30,
        )
        await eventually(
            lambda: all(
                m.state == MessageState.SENT
                for m in reopened.conversations.messages(room_id)
                if not m.changes
            ),
            30,
        )
        # Restart once more: nothing is left to send, nothing is sent twice.
        await reopened.session.close()
        again = Engine(tmp_path / "a", store)
        await again.session.restore(homeserver_url=server.base_url)
        await again.session.start()
        await eventually(lambda: again.conversations.conversation(room_id) is not None)
        await eventually(
            lambda: len([m for m in again.conversations.messages(room_id) if not m.changes]) >= 2
        )
        bodies = [m.body for m in again.conversations.messages(room_id)]
        assert bodies.count("queued one") == 1 and bodies.count("queued two") == 1
        assert all(
            m.state == MessageState.SENT
            for m in again.conversations.messages(room_id)
            if not m.changes
        )
        await again.session.close()
    finally:
        await bob.session.close()
