"""The outbox store on real SQLite files: order, IDs, failures, bad files, migration."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from engine.errors import OutboxStoreError
from engine.outbox import Outbox, OutboxEntry, OutboxProblemKind, new_transaction_id

USER = "@a:hs"


def entry(body: str, room: str = "!r:hs") -> OutboxEntry:
    return OutboxEntry(new_transaction_id(), room, {"msgtype": "m.text", "body": body}, 1)


async def reopen(directory: Path, user: str = USER) -> Outbox:
    outbox = await Outbox.open(directory, user)
    await outbox.close()
    return outbox


def db_path(directory: Path) -> Path:
    return next(directory.glob("outbox-*.sqlite3"))


async def test_entries_persist_in_order_with_their_transaction_ids(tmp_path):
    outbox = await Outbox.open(tmp_path, USER)
    first, second = entry("one"), entry("two")
    await outbox.add([first])
    await outbox.add([second])
    await outbox.mark_failed(first.txn_id, "refused")
    await outbox.close()
    reopened = await Outbox.open(tmp_path, USER)
    assert [e.txn_id for e in reopened.entries()] == [first.txn_id, second.txn_id]
    assert [e.txn_id for e in reopened.pending()] == [second.txn_id]
    assert reopened.get(first.txn_id).failed_reason == "refused"
    await reopened.mark_pending(first.txn_id)
    await reopened.remove(second.txn_id)
    await reopened.close()
    assert [e.content["body"] for e in (await reopen(tmp_path)).pending()] == ["one"]


async def test_many_parts_are_one_transaction_and_keep_their_order(tmp_path):
    outbox = await Outbox.open(tmp_path, USER)
    parts = [entry(f"part {i}") for i in range(140)]
    await outbox.add(parts)
    # Confirmations in any order delete rows; they do not rewrite the rest.
    for part in parts[::2]:
        outbox.remove(part.txn_id)
    await outbox.close()
    reopened = await reopen(tmp_path)
    assert [e.txn_id for e in reopened.entries()] == [p.txn_id for p in parts[1::2]]


async def test_entry_is_not_pending_until_saved(tmp_path):
    outbox = await Outbox.open(tmp_path, USER)
    queued = entry("x")
    saved = outbox.add([queued])
    assert outbox.pending() == []  # nothing is sent that quitting would lose
    await saved
    assert outbox.pending() == [queued]
    await outbox.close()


async def test_accounts_do_not_share_an_outbox(tmp_path):
    mine = await Outbox.open(tmp_path, "@a:hs")
    await mine.add([entry("mine")])
    await mine.close()
    assert (await reopen(tmp_path, "@b:hs")).entries() == []


async def test_a_locked_file_fails_writes_then_recovers(tmp_path):
    """Another program holding the file: a real SQLite condition that fails for root too."""
    outbox = await Outbox.open(tmp_path, USER, busy_timeout_s=0.1)
    health: list[OutboxStoreError | None] = []
    outbox.on_health_change = health.append
    other = sqlite3.connect(db_path(tmp_path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    queued = entry("while locked")
    with pytest.raises(OutboxStoreError, match="in use by another program"):
        await outbox.add([queued])
    assert outbox.pending() == [] and not outbox.healthy
    assert len(health) == 1 and "can't be saved" in health[0].user_message
    other.execute("ROLLBACK")
    other.close()
    await outbox.mark_pending(queued.txn_id)  # a retry saves the whole entry
    assert outbox.pending() == [queued] and outbox.healthy and health[-1] is None
    await outbox.close()
    assert [e.txn_id for e in (await reopen(tmp_path)).entries()] == [queued.txn_id]


async def test_a_delete_that_failed_is_done_with_the_next_write(tmp_path):
    outbox = await Outbox.open(tmp_path, USER, busy_timeout_s=0.1)
    confirmed, later = entry("confirmed"), entry("later")
    await outbox.add([confirmed])
    other = sqlite3.connect(db_path(tmp_path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OutboxStoreError):
        await outbox.remove(confirmed.txn_id)
    other.execute("ROLLBACK")
    other.close()
    await outbox.add([later])
    await outbox.close()
    assert [e.txn_id for e in (await reopen(tmp_path)).entries()] == [later.txn_id]


# -- bad files and rows: set aside, never fatal, never lose the good entries


async def test_corrupt_database_file_is_set_aside(tmp_path):
    outbox = await Outbox.open(tmp_path, USER)
    await outbox.close()
    path = outbox.path
    path.write_bytes(b"this is not a database" * 100)
    reopened = await Outbox.open(tmp_path, USER)
    assert reopened.entries() == []
    assert [p.kind for p in reopened.problems] == [OutboxProblemKind.UNREADABLE_FILE]
    assert (tmp_path / reopened.problems[0].detail).read_bytes().startswith(b"this is not")
    await reopened.add([entry("new")])  # and the new file works
    await reopened.close()


async def test_a_directory_in_place_of_the_database_is_set_aside(tmp_path):
    outbox = await Outbox.open(tmp_path, USER)
    await outbox.close()
    outbox.path.unlink()
    outbox.path.mkdir()
    reopened = await Outbox.open(tmp_path, USER)
    assert [p.kind for p in reopened.problems] == [OutboxProblemKind.UNREADABLE_FILE]
    await reopened.add([entry("new")])
    await reopened.close()


async def test_rows_with_bad_data_are_set_aside_and_the_rest_kept(tmp_path):
    outbox = await Outbox.open(tmp_path, USER)
    good = [entry("good one"), entry("good two")]
    await outbox.add(good)
    await outbox.close()
    conn = sqlite3.connect(outbox.path)
    with conn:
        insert = "INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?)"
        conn.execute(insert, ("t-bad-json", 10, "!r:hs", "{not json", 1, None, "{}"))
        conn.execute(insert, ("t-no-body", 11, "!r:hs", '{"msgtype": "m.text"}', 1, None, "{}"))
        conn.execute(insert, ("t-list", 12, "!r:hs", "[1, 2]", 1, None, "{}"))
        conn.execute(
            insert, ("t-room", 13, 42, '{"msgtype": "m.text", "body": "x"}', 1, None, "{}")
        )
    conn.close()
    reopened = await Outbox.open(tmp_path, USER)
    assert [e.content["body"] for e in reopened.entries()] == ["good one", "good two"]
    assert [(p.kind, p.count) for p in reopened.problems] == [(OutboxProblemKind.BAD_ENTRIES, 4)]
    await reopened.close()
    conn = sqlite3.connect(outbox.path)
    assert conn.execute("SELECT COUNT(*) FROM unreadable").fetchone() == (4,)
    conn.close()
    assert (await reopen(tmp_path)).problems == ()  # reported once, not at every sign-in


# -- the JSON outbox of earlier versions


def legacy_file(directory: Path, user: str = USER) -> Path:
    import hashlib

    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"outbox-{hashlib.sha256(user.encode()).hexdigest()[:16]}.json"


def legacy_item(body: str, txn_id: str | None = None) -> dict:
    return {
        "txn_id": txn_id or new_transaction_id(),
        "room_id": "!r:hs",
        "content": {"msgtype": "m.text", "body": body},
        "created_ms": 5,
        "failed_reason": None,
        "extra": {},
    }


async def test_json_outbox_is_migrated_once(tmp_path):
    items = [legacy_item("old one"), legacy_item("old two")]
    items[1]["failed_reason"] = "refused"
    legacy = legacy_file(tmp_path)
    legacy.write_text(json.dumps(items))
    outbox = await Outbox.open(tmp_path, USER)
    assert [e.txn_id for e in outbox.entries()] == [i["txn_id"] for i in items]
    assert outbox.get(items[1]["txn_id"]).failed_reason == "refused"
    assert outbox.problems == () and not legacy.exists()
    later = entry("new")
    await outbox.add([later])
    await outbox.close()
    bodies = [e.content["body"] for e in (await reopen(tmp_path)).entries()]
    assert bodies == ["old one", "old two", "new"]


@pytest.mark.parametrize(
    "text",
    ["{not json", '{"txn_id": "x"}', "42", "null", '"a string"'],
    ids=["invalid-json", "an-object", "a-number", "null", "a-string"],
)
async def test_malformed_json_outbox_is_set_aside(tmp_path, text):
    legacy = legacy_file(tmp_path)
    legacy.write_text(text)
    outbox = await Outbox.open(tmp_path, USER)
    assert outbox.entries() == []
    assert [p.kind for p in outbox.problems] == [OutboxProblemKind.UNREADABLE_FILE]
    assert not legacy.exists()
    assert (tmp_path / outbox.problems[0].detail).read_text() == text
    await outbox.close()


async def test_json_outbox_with_some_bad_items_keeps_the_good_ones(tmp_path):
    good = legacy_item("good")
    wrong_field = {**legacy_item("extra field"), "surprise": 1}
    legacy_file(tmp_path).write_text(
        json.dumps([good, {"txn_id": 3}, "text", None, wrong_field, {**good}])
    )
    outbox = await Outbox.open(tmp_path, USER)
    assert [e.content["body"] for e in outbox.entries()] == ["good"]
    assert [(p.kind, p.count) for p in outbox.problems] == [(OutboxProblemKind.BAD_ENTRIES, 4)]
    await outbox.close()


async def test_unusable_folder_is_reported_not_fatal(tmp_path):
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    outbox = await Outbox.open(blocker, USER)
    assert [p.kind for p in outbox.problems] == [OutboxProblemKind.UNAVAILABLE]
    assert not outbox.healthy
    with pytest.raises(OutboxStoreError):
        await outbox.add([entry("x")])
    blocker.unlink()  # the folder can be made again: the next write works
    await outbox.add([entry("y")])
    assert outbox.healthy
    await outbox.close()
