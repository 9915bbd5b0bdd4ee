from engine.models import Message, MessageState
from engine.timeline import Appended, Changed, Timeline


def msg(key, body="x", event_id=None, state=MessageState.RECEIVED, ts=1):
    return Message(key, "!r:hs", "@a:hs", "A", body, ts, state, event_id=event_id)


def test_local_echo_settles_by_transaction_id_then_event_id():
    timeline = Timeline("!r:hs")
    timeline.add_local_echo(msg("txn1", state=MessageState.SENDING))
    # The server's copy arrives through sync first.
    change = timeline.add_remote(msg("$e1", event_id="$e1", state=MessageState.SENT), "txn1")
    assert isinstance(change, Changed) and change.message.key == "txn1"
    assert change.message.state == MessageState.SENT and change.message.event_id == "$e1"
    # The send response arrives later: nothing changes, nothing is duplicated.
    assert timeline.mark_sent("txn1", "$e1") is None
    assert timeline.add_remote(msg("$e1", event_id="$e1")) is None
    assert len(timeline) == 1


def test_send_response_first_then_sync_copy():
    timeline = Timeline("!r:hs")
    timeline.add_local_echo(msg("txn1", state=MessageState.SENDING))
    assert timeline.mark_sent("txn1", "$e1").message.state == MessageState.SENT
    assert timeline.add_remote(msg("$e1", event_id="$e1"), None) is None
    assert [m.key for m in timeline.messages()] == ["txn1"]


def test_prepend_skips_what_is_known_and_keeps_order():
    timeline = Timeline("!r:hs")
    assert isinstance(timeline.add_remote(msg("$3", event_id="$3")), Appended)
    added = timeline.prepend(
        [msg("$1", event_id="$1"), msg("$2", event_id="$2"), msg("$3", event_id="$3")]
    )
    assert [m.key for m in added] == ["$1", "$2"]
    assert [m.key for m in timeline.messages()] == ["$1", "$2", "$3"]
    assert timeline.get("$3").key == "$3"
    assert timeline.last_event_id() == "$3"


def test_failed_and_retried_states():
    timeline = Timeline("!r:hs")
    timeline.add_local_echo(msg("txn", state=MessageState.SENDING))
    failed = timeline.set_state("txn", MessageState.FAILED, "too large")
    assert failed.message.error == "too large"
    assert timeline.set_state("txn", MessageState.FAILED, "too large") is None
    assert timeline.set_state("txn", MessageState.SENDING).message.error is None
