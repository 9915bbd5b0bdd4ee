"""The outbox when things go wrong: lost responses, restarts, bad files, a store that
cannot save, a room that became encrypted while a message waited.

Alice talks to the real Synapse through a FaultyProxy (tests/helpers/proxy.py);
Bob talks to it directly and checks what really arrived.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import events as ev
from engine.credentials import CredentialStore
from engine.engine import Engine
from engine.models import ConnectionState, MessageState
from engine.outbox import Outbox, OutboxEntry, OutboxProblemKind, new_transaction_id
from tests.helpers.engines import eventually, expect_event, signed_in_engine, wait_for_event
from tests.helpers.keyrings import MemoryKeyring
from tests.helpers.proxy import FaultyProxy
from tests.helpers.users import TestUser

pytestmark = pytest.mark.integration


@dataclass
class Scene:
    alice: Engine
    bob: Engine
    room_id: str
    proxy: FaultyProxy
    alice_user: TestUser
    alice_dir: Path
    store: CredentialStore


async def alice_engine(scene_or_user, proxy: FaultyProxy, data_dir: Path, store) -> Engine:
    engine = Engine(data_dir, store)
    user = scene_or_user
    await engine.session.login(proxy.base_url, user.user_id, user.password, remember=True)
    await engine.session.start()
    return engine


@pytest.fixture
async def scene(make_user, synapse, tmp_path) -> AsyncIterator[Scene]:
    proxy = FaultyProxy(synapse.base_url)
    await proxy.start()
    alice_user, bob_user = make_user("alice"), make_user("bob")
    store = CredentialStore(backend=MemoryKeyring())
    alice = await alice_engine(alice_user, proxy, tmp_path / "alice", store)
    bob = await signed_in_engine(bob_user, tmp_path / "bob")
    room_id = await alice.conversations.start_direct_conversation(bob_user.user_id)
    await eventually(lambda: bob.conversations.conversation(room_id) is not None)
    await eventually(lambda: bob.conversations.conversation(room_id).member_count == 2)
    state = Scene(alice, bob, room_id, proxy, alice_user, tmp_path / "alice", store)
    try:
        yield state
    finally:
        await state.alice.session.close()
        await bob.session.close()
        await proxy.close()


def bodies(engine: Engine, room_id: str, sender: str) -> list[str]:
    return [m.body for m in engine.conversations.messages(room_id) if m.sender == sender]


async def settle_and_count(scene: Scene, body: str) -> int:
    """How often ``body`` reached Bob, once a later message from Alice has arrived."""
    marker = f"marker {new_transaction_id()}"
    await scene.alice.conversations.send_text(scene.room_id, marker)
    await eventually(
        lambda: marker in bodies(scene.bob, scene.room_id, scene.alice.session.user_id), 30
    )
    return bodies(scene.bob, scene.room_id, scene.alice.session.user_id).count(body)


def is_state(key: str, state: MessageState):
    return lambda e: (
        isinstance(e, ev.MessageChanged) and e.message.key == key and e.message.state == state
    )


# -- exactly once where a duplicate could really happen


async def test_lost_response_is_retried_with_the_same_transaction_id(scene):
    # Syncs are held, so only a retry of the request can settle the message.
    # aiohttp retries an idempotent PUT once by itself; the second loss is the
    # engine's to retry.
    scene.proxy.hold_sync()
    scene.proxy.drop_send_responses = 2
    echo = await scene.alice.conversations.send_text(scene.room_id, "exactly once")
    sent = await wait_for_event(scene.alice, is_state(echo.key, MessageState.SENT), 30)
    assert scene.proxy.dropped == [echo.key, echo.key]
    assert scene.proxy.sends == [echo.key, echo.key, echo.key]  # every retry reused the ID
    scene.proxy.release_sync()
    assert await settle_and_count(scene, "exactly once") == 1
    assert (
        bodies(scene.alice, scene.room_id, scene.alice.session.user_id).count("exactly once") == 1
    )
    assert sent.message.event_id


async def test_restart_with_the_message_still_in_the_outbox(scene):
    scene.proxy.hold_sync()
    scene.proxy.drop_send_responses = 1_000  # every answer is lost
    echo = await scene.alice.conversations.send_text(scene.room_id, "sent before quitting")
    await eventually(lambda: len(scene.proxy.dropped) >= 2, 30)
    await scene.alice.session.close()  # quit: the server has it, the outbox still has it too
    scene.proxy.drop_send_responses = 0
    scene.proxy.release_sync()

    scene.alice = Engine(scene.alice_dir, scene.store)
    assert await scene.alice.session.restore(homeserver_url=scene.proxy.base_url) is not None
    await scene.alice.session.start()
    await eventually(
        lambda: (
            (m := scene.alice.conversations.messages(scene.room_id))
            and any(x.key == echo.key and x.state == MessageState.SENT for x in m)
        ),
        30,
    )
    assert await settle_and_count(scene, "sent before quitting") == 1
    own = bodies(scene.alice, scene.room_id, scene.alice.session.user_id)
    assert own.count("sent before quitting") == 1
    assert {t for t in scene.proxy.sends if t != echo.key} <= {
        m.key for m in scene.alice.conversations.messages(scene.room_id)
    }
    assert scene.alice.conversations.outbox.get(echo.key) is None


# -- a room that became encrypted while the message waited


async def test_room_encrypted_while_offline_fails_the_message_instead_of_leaking(scene):
    lost = expect_event(
        scene.alice,
        lambda e: (
            isinstance(e, ev.ConnectionStateChanged) and e.state is ConnectionState.RECONNECTING
        ),
    )
    scene.proxy.go_dark()
    await lost
    echo = await scene.alice.conversations.send_text(scene.room_id, "secret plans")
    await scene.bob.session.client.room_put_state(
        scene.room_id, "m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"}
    )
    failed = expect_event(scene.alice, is_state(echo.key, MessageState.FAILED), 30)
    scene.proxy.go_light()
    event = await failed
    assert "encrypted" in event.message.error
    assert echo.key not in scene.proxy.sends  # never went out, in plain text or otherwise
    # Bob writes afterwards; once Alice has it, she has synced past everything.
    await scene.bob.session.client.room_send(
        scene.room_id, "m.room.message", {"msgtype": "m.text", "body": "after"}
    )
    await eventually(
        lambda: "after" in [m.body for m in scene.alice.conversations.messages(scene.room_id)], 30
    )
    assert "secret plans" not in [m.body for m in scene.bob.conversations.messages(scene.room_id)]
    assert scene.alice.conversations.outbox.get(echo.key).failed


# -- a store that cannot save


async def test_store_that_cannot_save_fails_messages_and_retry_sends_them(scene):
    """A second program holds the outbox file's write lock: real for root too."""
    path = scene.alice.conversations.outbox.path
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    problem = expect_event(scene.alice, lambda e: isinstance(e, ev.SendingProblem), 30)
    try:
        echo = await scene.alice.conversations.send_text(scene.room_id, "while the file is locked")
        assert echo.state is MessageState.FAILED
        assert echo.error.startswith("Not saved:")
        event = await problem
        assert event.kind is ev.SendingProblemKind.NOT_SAVED
        assert event.message.startswith("Messages can't be saved:")
    finally:
        other.execute("ROLLBACK")
        other.close()
    recovered = expect_event(scene.alice, lambda e: isinstance(e, ev.SendingRecovered), 30)
    sent = expect_event(scene.alice, is_state(echo.key, MessageState.SENT), 30)
    await scene.alice.conversations.retry_sending()  # the banner's Retry
    await recovered
    await sent
    assert await settle_and_count(scene, "while the file is locked") == 1


# -- a malformed outbox never blocks sign-in


def legacy_json_path(directory: Path, user_id: str) -> Path:
    return directory / f"outbox-{hashlib.sha256(user_id.encode()).hexdigest()[:16]}.json"


def good_item(room_id: str, body: str) -> dict:
    return {
        "txn_id": new_transaction_id(),
        "room_id": room_id,
        "content": {"msgtype": "m.text", "body": body},
        "created_ms": 1,
        "failed_reason": None,
        "extra": {},
    }


async def save_good_row(directory: Path, user_id: str, room_id: str, body: str) -> Path:
    outbox = await Outbox.open(directory, user_id)
    item = good_item(room_id, body)
    await outbox.add([OutboxEntry(**item)])
    await outbox.close()
    return outbox.path


async def json_of_the_wrong_shape(directory: Path, user_id: str, room_id: str) -> None:
    await save_good_row(directory, user_id, room_id, "kept")
    legacy_json_path(directory, user_id).write_text(json.dumps({"txn_id": "x", "room_id": 1}))


async def json_with_some_bad_items(directory: Path, user_id: str, room_id: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    items = [{"txn_id": 5}, good_item(room_id, "kept"), "junk", {**good_item(room_id, "x")}]
    del items[3]["content"]
    legacy_json_path(directory, user_id).write_text(json.dumps(items))


async def corrupt_database(directory: Path, user_id: str, room_id: str) -> None:
    path = await save_good_row(directory, user_id, room_id, "lost with the file")
    path.write_bytes(b"\x00garbage" * 512)
    legacy_json_path(directory, user_id).write_text(json.dumps([good_item(room_id, "kept")]))


async def rows_with_bad_data(directory: Path, user_id: str, room_id: str) -> None:
    path = await save_good_row(directory, user_id, room_id, "kept")
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("bad", 99, room_id, '{"msgtype": "m.text", "body": 7}', 1, None, "{}"),
        )
    conn.close()


@pytest.mark.parametrize(
    ("make_bad", "kind"),
    [
        (json_of_the_wrong_shape, OutboxProblemKind.UNREADABLE_FILE),
        (json_with_some_bad_items, OutboxProblemKind.BAD_ENTRIES),
        (corrupt_database, OutboxProblemKind.UNREADABLE_FILE),
        (rows_with_bad_data, OutboxProblemKind.BAD_ENTRIES),
    ],
    ids=["json-wrong-shape", "json-bad-items", "corrupt-database", "bad-rows"],
)
async def test_malformed_outbox_never_blocks_sign_in(scene, make_bad, kind):
    await scene.alice.session.close()
    await make_bad(scene.alice_dir / "outbox", scene.alice.session.user_id, scene.room_id)

    scene.alice = Engine(scene.alice_dir, scene.store)
    assert await scene.alice.session.restore(homeserver_url=scene.proxy.base_url) is not None
    problem = expect_event(scene.alice, lambda e: isinstance(e, ev.OutboxProblem))
    await scene.alice.session.start()
    event = await problem
    assert event.kind is kind
    assert "set aside" in event.message
    await eventually(
        lambda: "kept" in bodies(scene.bob, scene.room_id, scene.alice.session.user_id), 30
    )
    assert await settle_and_count(scene, "kept") == 1
    assert list((scene.alice_dir / "outbox").glob("*.unreadable")) or kind is (
        OutboxProblemKind.BAD_ENTRIES
    )
