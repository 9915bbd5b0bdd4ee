"""Consecutive room-change lines collapse into one summary row, incrementally.

No server here: the events are the engine's own types published on a real
EventBus, as the engine publishes them; the Qt model tester watches every change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from engine import events as ev
from engine.models import Message, MessageState, RoomChange, RoomChangeKind
from ui.bridge import EngineBridge
from ui.message_model import MessageModel, RowRole

pytestmark = pytest.mark.gui

ROOM = "!meeting:example.org"
# Noon today, local time: every line below falls on one day unless a test moves it.
NOON = int(dt.datetime.combine(dt.date.today(), dt.time(12)).astimezone().timestamp() * 1000)


def joined(i: int, ts: int | None = None, kind: RoomChangeKind = RoomChangeKind.JOINED) -> Message:
    user = f"@user{i}:example.org"
    return Message(
        key=f"$change{i}-{kind.value}",
        room_id=ROOM,
        sender=user,
        sender_name=f"User {i}",
        body="",
        timestamp_ms=NOON + i if ts is None else ts,
        state=MessageState.RECEIVED,
        changes=(RoomChange(kind, user, f"User {i}", user, f"User {i}"),),
    )


def said(i: int, text: str = "hello") -> Message:
    return Message(
        key=f"$text{i}",
        room_id=ROOM,
        sender="@alice:example.org",
        sender_name="Alice",
        body=text,
        timestamp_ms=NOON + i,
        state=MessageState.RECEIVED,
    )


class Recorder:
    """Remembers which row signals the model emitted."""

    def __init__(self, model: MessageModel) -> None:
        self.log: list[tuple[object, ...]] = []
        model.rowsInserted.connect(lambda _p, first, last: self.log.append(("insert", first, last)))
        model.rowsRemoved.connect(lambda _p, first, last: self.log.append(("remove", first, last)))
        model.dataChanged.connect(
            lambda top, bottom, _roles: self.log.append(("changed", top.row(), bottom.row()))
        )
        model.modelReset.connect(lambda: self.log.append(("reset",)))
        model.layoutChanged.connect(lambda: self.log.append(("layout",)))

    def take(self) -> list[tuple[object, ...]]:
        log, self.log = self.log, []
        return log


@pytest.fixture
def feed(qtmodeltester):
    bus = ev.EventBus()
    bridge = EngineBridge(bus)
    made: list[MessageModel] = []

    def make(initial: list[Message] = ()) -> tuple[MessageModel, Recorder]:  # type: ignore[assignment]
        model = MessageModel(ROOM, bridge, initial)
        qtmodeltester.check(model)
        made.append(model)
        return model, Recorder(model)

    yield bus, make
    for model in made:
        model.detach()
    bridge.detach()


def shown(model: MessageModel) -> list[str]:
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_one_or_two_lines_stay_as_they_are_three_collapse(feed) -> None:
    _bus, make = feed
    model, _ = make([said(0), joined(1), said(2), joined(3), joined(4), said(5)])
    assert shown(model) == [
        "hello",
        "User 1 joined",
        "hello",
        "User 3 joined",
        "User 4 joined",
        "hello",
    ]
    model, _ = make([said(0), joined(1), joined(2), joined(3), said(5)])
    assert shown(model) == ["hello", "User 1, User 2 and User 3 joined", "hello"]
    assert model.is_summary(1) and not model.is_summary(0)
    assert len(model.messages()) == 5
    assert model.row_of("$change2-joined") == 1


def test_a_join_after_a_summary_changes_that_one_row(feed) -> None:
    bus, make = feed
    model, rec = make([joined(i) for i in range(3)])
    assert shown(model) == ["User 0, User 1 and User 2 joined"]
    for i in range(3, 200):
        bus.publish(ev.MessageAdded(joined(i)))
    assert rec.take() == [("changed", 0, 0)] * 197
    assert shown(model) == ["User 0, User 1 and 198 others joined"]
    assert model.row_of("$change150-joined") == 0
    bus.publish(ev.MessageAdded(joined(500, kind=RoomChangeKind.LEFT)))
    assert shown(model) == ["200 people joined and 1 left"]


def test_the_third_line_turns_two_rows_into_one_summary(feed) -> None:
    bus, make = feed
    model, rec = make([said(0)])
    bus.publish(ev.MessageAdded(joined(1)))
    bus.publish(ev.MessageAdded(joined(2)))
    assert rec.take() == [("insert", 1, 1), ("insert", 2, 2)]
    bus.publish(ev.MessageAdded(joined(3)))
    assert rec.take() == [("remove", 2, 2), ("changed", 1, 1)]
    assert shown(model) == ["hello", "User 1, User 2 and User 3 joined"]
    assert model.data(model.index(1, 0), RowRole).message.key == "$change1-joined"


def test_a_message_between_changes_splits_runs(feed) -> None:
    bus, make = feed
    model, rec = make([joined(i) for i in range(4)])
    bus.publish(ev.MessageAdded(said(10)))
    bus.publish(ev.MessageAdded(joined(11)))
    bus.publish(ev.MessageAdded(joined(12)))
    assert shown(model) == [
        "User 0, User 1 and 2 others joined",
        "hello",
        "User 11 joined",
        "User 12 joined",
    ]
    assert ("reset",) not in rec.take()


def test_a_new_day_splits_runs(feed) -> None:
    bus, make = feed
    day = 24 * 3600 * 1000
    model, _ = make([joined(i) for i in range(3)])
    for i in range(3, 6):
        bus.publish(ev.MessageAdded(joined(i, ts=NOON + day + i)))
    assert model.rowCount() == 2
    assert model.index(1, 0).data(Qt.ItemDataRole.DisplayRole) == "User 3, User 4 and User 5 joined"


def test_older_history_merges_with_the_first_summary(feed) -> None:
    bus, make = feed
    model, rec = make([joined(i) for i in range(10, 14)] + [said(20)])
    older = (said(0, "first"), joined(1), joined(2))
    bus.publish(ev.MessagesPrepended(ROOM, older, False))
    # The rows above go in, then the summary (now of six lines) changes: no row is replaced.
    assert rec.take() == [("insert", 0, 0), ("changed", 1, 1)]
    assert shown(model) == ["first", "User 1, User 2 and 4 others joined", "hello"]
    assert model.row_of("$change12-joined") == 1


def test_older_history_turns_short_first_lines_into_a_summary(feed) -> None:
    bus, make = feed
    model, rec = make([joined(10), joined(11), said(20)])
    bus.publish(ev.MessagesPrepended(ROOM, (said(0, "first"), joined(1)), False))
    assert rec.take() == [("remove", 1, 1), ("insert", 0, 0), ("changed", 1, 1)]
    assert shown(model) == ["first", "User 1, User 10 and User 11 joined", "hello"]
    # Still short after the merge: plain rows of the same run, which a later line extends.
    model, rec = make([joined(10), said(20)])
    bus.publish(ev.MessagesPrepended(ROOM, (joined(1),), False))
    assert shown(model)[:2] == ["User 1 joined", "User 10 joined"]
    bus.publish(ev.MessagesPrepended(ROOM, (joined(0),), True))
    assert shown(model) == ["User 0, User 1 and User 10 joined", "hello"]


def test_expanding_shows_each_line_and_collapsing_hides_them(feed) -> None:
    bus, make = feed
    model, rec = make([said(0)] + [joined(i) for i in range(1, 6)] + [said(9)])
    assert (
        model.index(1, 0)
        .data(Qt.ItemDataRole.AccessibleDescriptionRole)
        .startswith("Show all lines")
    )
    model.set_expanded(1, True)
    assert rec.take() == [("insert", 2, 6), ("changed", 1, 1)]
    assert shown(model)[2:7] == [f"User {i} joined" for i in range(1, 6)]
    assert model.row_of("$change3-joined") == 4
    assert "shown" in model.index(1, 0).data(Qt.ItemDataRole.AccessibleTextRole)
    # A line arriving while expanded: the summary changes and the line gets its row.
    bus.publish(ev.MessageAdded(joined(7)))
    assert rec.take() == [("insert", 8, 8)]  # after "hello" at 7: a new short run
    model.set_expanded(1, False)
    assert rec.take() == [("remove", 2, 6), ("changed", 1, 1)]
    assert model.row_of("$change3-joined") == 1
    assert len(model.messages()) == 8


def test_a_line_after_an_expanded_summary_joins_it(feed) -> None:
    bus, make = feed
    model, rec = make([joined(i) for i in range(3)])
    model.toggle_expanded(0)
    rec.take()
    bus.publish(ev.MessageAdded(joined(3)))
    assert rec.take() == [("changed", 0, 0), ("insert", 4, 4)]
    assert shown(model)[0] == "User 0, User 1 and 2 others joined"
    bus.publish(ev.MessagesPrepended(ROOM, (joined(-1, ts=NOON - 5),), False))
    assert rec.take() == [("insert", 1, 1), ("changed", 0, 0)]
    assert shown(model)[1] == "User -1 joined"


def test_a_changed_line_inside_a_summary_updates_it(feed) -> None:
    bus, make = feed
    model, rec = make([joined(i) for i in range(3)])
    renamed = replace(joined(1), changes=(replace(joined(1).changes[0], target_name="Robert"),))
    bus.publish(ev.MessageChanged(renamed))
    assert rec.take() == [("changed", 0, 0)]
    assert shown(model) == ["User 0, Robert and User 2 joined"]
