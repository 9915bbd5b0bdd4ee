from engine.outbox import Outbox, OutboxEntry, new_transaction_id


def entry(body: str) -> OutboxEntry:
    return OutboxEntry(new_transaction_id(), "!r:hs", {"msgtype": "m.text", "body": body}, 1)


def test_entries_persist_in_order_with_their_transaction_ids(tmp_path):
    outbox = Outbox(tmp_path, "@a:hs")
    first, second = entry("one"), entry("two")
    outbox.add(first)
    outbox.add(second)
    outbox.mark_failed(first.txn_id, "refused")
    reopened = Outbox(tmp_path, "@a:hs")
    assert [e.txn_id for e in reopened.entries()] == [first.txn_id, second.txn_id]
    assert [e.txn_id for e in reopened.pending()] == [second.txn_id]
    reopened.mark_pending(first.txn_id)
    reopened.remove(second.txn_id)
    assert [e.content["body"] for e in Outbox(tmp_path, "@a:hs").pending()] == ["one"]


def test_accounts_do_not_share_an_outbox(tmp_path):
    Outbox(tmp_path, "@a:hs").add(entry("mine"))
    assert Outbox(tmp_path, "@b:hs").entries() == []


def test_unreadable_file_is_set_aside_not_fatal(tmp_path):
    outbox = Outbox(tmp_path, "@a:hs")
    outbox.add(entry("x"))
    path = next(tmp_path.glob("outbox-*.json"))
    path.write_text("{not json")
    assert Outbox(tmp_path, "@a:hs").entries() == []
    assert list(tmp_path.glob("outbox-*.unreadable"))
