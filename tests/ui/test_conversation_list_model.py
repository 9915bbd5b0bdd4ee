"""ConversationListModel row operations, fed through the real bus and bridge.

No server here: the events are the engine's own event types published on a
real EventBus, the way the engine publishes them.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from engine import events as ev
from engine.models import ConversationInfo, ConversationKind, ConversationState, Presence
from ui.bridge import EngineBridge
from ui.conversation_list_model import ConversationListModel, ConversationRole

pytestmark = pytest.mark.gui


def conversation(room: str, ts: int, **changes: object) -> ConversationInfo:
    info = ConversationInfo(
        room_id=f"!{room}:example.org",
        kind=ConversationKind.DIRECT,
        display_name=room.title(),
        state=ConversationState.ACTIVE,
        last_activity_ts=ts,
        peer_user_id=f"@{room}:example.org",
    )
    return replace(info, **changes)  # type: ignore[arg-type]


class Recorder:
    """Remembers which row signals the model emitted."""

    def __init__(self, model: ConversationListModel) -> None:
        self.log: list[tuple[str, ...]] = []
        model.rowsInserted.connect(lambda _p, first, last: self.log.append(("insert", first, last)))
        model.rowsRemoved.connect(lambda _p, first, last: self.log.append(("remove", first, last)))
        model.rowsMoved.connect(
            lambda _p, start, _end, _d, dest: self.log.append(("move", start, dest))
        )
        model.dataChanged.connect(
            lambda top, bottom, _roles: self.log.append(("changed", top.row(), bottom.row()))
        )
        model.modelReset.connect(lambda: self.log.append(("reset",)))


@pytest.fixture
def fed_model(qtmodeltester) -> tuple[ev.EventBus, ConversationListModel, Recorder]:
    bus = ev.EventBus()
    bridge = EngineBridge(bus)
    model = ConversationListModel(bridge)
    qtmodeltester.check(model)  # the Qt model tester stays attached to every change below
    return bus, model, Recorder(model)


def test_rows_are_kept_newest_first_with_minimal_row_signals(fed_model) -> None:
    bus, model, recorder = fed_model
    bus.publish(ev.ConversationAdded(conversation("ann", 100)))
    bus.publish(ev.ConversationAdded(conversation("ben", 300)))
    bus.publish(ev.ConversationAdded(conversation("cat", 200)))
    assert [model.conversation_at(r).display_name for r in range(3)] == ["Ben", "Cat", "Ann"]
    assert recorder.log == [("insert", 0, 0), ("insert", 0, 0), ("insert", 1, 1)]

    recorder.log.clear()
    bus.publish(ev.ConversationChanged(conversation("ann", 400, unread_count=3)))
    assert model.room_ids()[0] == "!ann:example.org"
    assert recorder.log == [("move", 2, 0), ("changed", 0, 0)]
    assert model.index(0, 0).data(ConversationRole.UNREAD_COUNT) == 3

    recorder.log.clear()
    bus.publish(ev.ConversationChanged(conversation("ben", 300, display_name="Benjamin")))
    assert recorder.log == [("changed", 1, 1)], "same activity: updated in place"
    assert model.index(1, 0).data(Qt.ItemDataRole.DisplayRole) == "Benjamin"

    recorder.log.clear()
    bus.publish(ev.ConversationChanged(conversation("ann", 50)))
    assert model.room_ids()[-1] == "!ann:example.org"
    assert recorder.log == [("move", 0, 3), ("changed", 2, 2)]

    recorder.log.clear()
    bus.publish(ev.ConversationRemoved("!cat:example.org"))
    assert recorder.log == [("remove", 1, 1)]
    assert model.rowCount() == 2
    bus.publish(ev.ConversationRemoved("!nobody:example.org"))
    assert ("reset",) not in recorder.log


def test_repeated_and_unchanged_events_do_nothing(fed_model) -> None:
    bus, model, recorder = fed_model
    info = conversation("ann", 100)
    bus.publish(ev.ConversationAdded(info))
    bus.publish(ev.ConversationAdded(info))
    bus.publish(ev.ConversationChanged(info))
    assert model.rowCount() == 1
    assert recorder.log == [("insert", 0, 0)]


def test_presence_updates_the_peer_row(fed_model) -> None:
    bus, model, recorder = fed_model
    bus.publish(ev.ConversationAdded(conversation("ann", 100)))
    bus.publish(ev.ConversationAdded(conversation("ben", 200)))
    recorder.log.clear()
    bus.publish(ev.PresenceChanged("@ann:example.org", Presence.AWAY, "At lunch"))
    assert recorder.log == [("changed", 1, 1)]
    index = model.index_of("!ann:example.org")
    assert index.data(ConversationRole.PRESENCE) is Presence.AWAY
    assert index.data(ConversationRole.SUBTITLE) == "Away — At lunch"
    assert "At lunch" in index.data(Qt.ItemDataRole.AccessibleTextRole)


def test_someone_offline_reads_offline_not_the_own_setting(fed_model) -> None:
    bus, model, _ = fed_model
    bus.publish(ev.ConversationAdded(conversation("ann", 100, peer_presence=Presence.OFFLINE)))
    index = model.index_of("!ann:example.org")
    assert index.data(ConversationRole.SUBTITLE) == "Offline"
    assert index.data(Qt.ItemDataRole.AccessibleTextRole) == "Ann, Offline"
    assert "Offline" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert "Appear offline" not in index.data(Qt.ItemDataRole.ToolTipRole)


def test_conferences_have_their_own_icon_and_subtitle(fed_model) -> None:
    bus, model, _ = fed_model
    bus.publish(ev.ConversationAdded(conversation("ann", 100)))
    bus.publish(
        ev.ConversationAdded(
            conversation(
                "weekly", 200, kind=ConversationKind.CONFERENCE, member_count=5, peer_user_id=None
            )
        )
    )
    conference, direct = model.index(0, 0), model.index(1, 0)
    assert conference.data(ConversationRole.KIND) is ConversationKind.CONFERENCE
    assert conference.data(ConversationRole.SUBTITLE) == "Conference · 5 people"
    conference_icon = conference.data(Qt.ItemDataRole.DecorationRole)
    direct_icon = direct.data(Qt.ItemDataRole.DecorationRole)
    assert not conference_icon.isNull() and not direct_icon.isNull()
    assert conference_icon.cacheKey() != direct_icon.cacheKey()


def test_sync_with_a_snapshot_applies_row_changes_only(fed_model) -> None:
    bus, model, recorder = fed_model
    bus.publish(ev.ConversationAdded(conversation("ann", 100)))
    bus.publish(ev.ConversationAdded(conversation("ben", 200)))
    recorder.log.clear()
    model.sync_with([conversation("ben", 200), conversation("cat", 300)])
    assert model.room_ids() == ["!cat:example.org", "!ben:example.org"]
    assert ("reset",) not in recorder.log
    assert recorder.log == [("remove", 1, 1), ("insert", 0, 0)]


def test_markup_in_names_stays_literal_in_tooltips(fed_model) -> None:
    bus, model, _ = fed_model
    bus.publish(ev.ConversationAdded(conversation("ann", 1, display_name="<i>Ann</i> & co")))
    index = model.index(0, 0)
    assert index.data(Qt.ItemDataRole.DisplayRole) == "<i>Ann</i> & co"
    assert "&lt;i&gt;Ann&lt;/i&gt; &amp; co" in index.data(Qt.ItemDataRole.ToolTipRole)
