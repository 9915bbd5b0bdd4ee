"""The transcript of one conversation as a Qt list model.

Rows are engine ``Message`` snapshots, oldest first. The model is fed from the
EngineBridge and changes incrementally: live messages are inserted at the end,
older history at the top, and state changes (Sending → Sent / Failed) update
the one row that has the same ``Message.key``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from engine.models import Message, MessageState
from ui.bridge import EngineBridge, disconnect_all
from ui.room_change_text import change_text

#: Consecutive messages from one sender closer than this share one header.
GROUP_GAP_MS = 5 * 60 * 1000

#: The ``Message`` snapshot of a row.
MessageRole = Qt.ItemDataRole.UserRole + 1
#: True when the row continues a group (same sender shortly after the previous row).
ContinuationRole = Qt.ItemDataRole.UserRole + 2
#: True when the row is the first of a calendar day (the view draws a date line).
DayBreakRole = Qt.ItemDataRole.UserRole + 3
#: True on the first row once the start of the conversation has been loaded.
StartOfHistoryRole = Qt.ItemDataRole.UserRole + 4
#: Everything a view needs for one row at once, as a ``RowInfo`` (one call per row).
RowRole = Qt.ItemDataRole.UserRole + 5

_AnyIndex = QModelIndex | QPersistentModelIndex


def local_datetime(timestamp_ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp_ms / 1000).astimezone()


def format_time(timestamp_ms: int) -> str:
    """Short local time of day, in the user's locale (e.g. "14:05")."""
    time = local_datetime(timestamp_ms).time()
    return QLocale().toString(time, QLocale.FormatType.ShortFormat)


def format_full_timestamp(timestamp_ms: int) -> str:
    when = local_datetime(timestamp_ms)
    locale = QLocale()
    return (
        f"{locale.toString(when.date(), QLocale.FormatType.LongFormat)} "
        f"{locale.toString(when.time(), QLocale.FormatType.ShortFormat)}"
    )


def format_day(timestamp_ms: int, today: dt.date | None = None) -> str:
    day = local_datetime(timestamp_ms).date()
    today = today or dt.datetime.now().astimezone().date()
    if day == today:
        return "Today"
    if day == today - dt.timedelta(days=1):
        return "Yesterday"
    return QLocale().toString(day, QLocale.FormatType.LongFormat)


_STATE_TEXT = {
    MessageState.SENDING: "sending",
    MessageState.SENT: "sent",
    MessageState.FAILED: "not sent",
    MessageState.RECEIVED: "",
}


@dataclass(frozen=True, slots=True)
class RowInfo:
    """One row: the message and how it sits among its neighbours.

    A new RowInfo is made only when the row changes, so views may cache
    layout by its identity.
    """

    message: Message
    continuation: bool = False
    day_break: bool = True
    start_of_history: bool = False


def starts_new_day(previous: Message, message: Message) -> bool:
    day = local_datetime(message.timestamp_ms).date()
    return day != local_datetime(previous.timestamp_ms).date()


def continues(previous: Message, message: Message) -> bool:
    """Whether ``message`` joins ``previous``'s group (same sender, shortly after)."""
    return (
        previous.sender == message.sender
        and not previous.changes
        and not message.changes
        and not previous.notice
        and not message.notice
        and 0 <= message.timestamp_ms - previous.timestamp_ms <= GROUP_GAP_MS
    )


def accessible_text(message: Message) -> str:
    """What a screen reader says for one row."""
    if message.changes:
        return f"{change_text(message)}, {format_time(message.timestamp_ms)}"
    parts = [f"{message.sender_name}, {format_time(message.timestamp_ms)}: {message.body}"]
    if state := _STATE_TEXT[message.state]:
        parts.append(state)
    if message.encrypted:
        parts.append("encrypted")
    return ". ".join(parts)


class MessageModel(QAbstractListModel):
    """The loaded part of one room's transcript."""

    #: A message was appended at the end (a live message or our own local echo).
    message_appended = Signal(object)
    #: Whether the start of the conversation has been loaded changed (bool).
    start_reached_changed = Signal(bool)

    def __init__(
        self,
        room_id: str,
        bridge: EngineBridge,
        initial: Iterable[Message] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._room_id = room_id
        self._bridge = bridge
        self._rows: list[RowInfo] = []
        # Key → absolute position; row = position - self._first. Prepending
        # lowers _first instead of renumbering every row.
        self._positions: dict[str, int] = {}
        self._first = 0
        self._start_reached = False
        for message in initial:
            if message.room_id == room_id and message.key not in self._positions:
                self._positions[message.key] = len(self._rows)
                self._rows.append(RowInfo(message))
        for row in range(len(self._rows)):
            self._rows[row] = self._row_info(row, self._rows[row].message)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._bridge.message_added.connect(self._on_message_added)
        self._bridge.messages_prepended.connect(self._on_messages_prepended)
        self._bridge.message_changed.connect(self._on_message_changed)

    def detach(self) -> None:
        """Stop following the bridge (the window is closing)."""
        disconnect_all(
            (
                (self._bridge.message_added, self._on_message_added),
                (self._bridge.messages_prepended, self._on_messages_prepended),
                (self._bridge.message_changed, self._on_message_changed),
            )
        )

    # -- queries -----------------------------------------------------------

    @property
    def room_id(self) -> str:
        return self._room_id

    @property
    def start_reached(self) -> bool:
        return self._start_reached

    def message_at(self, row: int) -> Message:
        return self._rows[row].message

    def row_of(self, key: str) -> int | None:
        position = self._positions.get(key)
        return None if position is None else position - self._first

    def messages(self) -> list[Message]:
        return [info.message for info in self._rows]

    def mark_start_reached(self) -> None:
        """The engine says there is nothing older to load."""
        self._set_start_reached(True)

    # -- QAbstractListModel ------------------------------------------------

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: _AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not index.isValid() or not 0 <= row < len(self._rows) or index.parent().isValid():
            return None
        info = self._rows[row]
        if role == RowRole:
            return info
        if role == MessageRole:
            return info.message
        if role == Qt.ItemDataRole.DisplayRole:
            return change_text(info.message) if info.message.changes else info.message.body
        if role == ContinuationRole:
            return info.continuation
        if role == DayBreakRole:
            return info.day_break
        if role == StartOfHistoryRole:
            return info.start_of_history
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return accessible_text(info.message)
        return None

    # -- row bookkeeping -----------------------------------------------------

    def _row_info(self, row: int, message: Message) -> RowInfo:
        """The RowInfo ``message`` gets at ``row``, given the row above it."""
        if row == 0:
            return RowInfo(message, False, True, self._start_reached)
        previous = self._rows[row - 1].message
        day_break = starts_new_day(previous, message)
        return RowInfo(message, not day_break and continues(previous, message), day_break)

    def _refresh(self, row: int) -> None:
        """Recompute a row's grouping after a neighbour changed; signal if it differs."""
        if not 0 <= row < len(self._rows):
            return
        info = self._row_info(row, self._rows[row].message)
        if info != self._rows[row]:
            self._rows[row] = info
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    # -- bridge slots ------------------------------------------------------

    def _on_message_added(self, message: Message) -> None:
        if message.room_id != self._room_id:
            return
        if message.key in self._positions:  # already here (e.g. echo seen twice)
            self._replace(message)
            return
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._positions[message.key] = self._first + row
        self._rows.append(self._row_info(row, message))
        self.endInsertRows()
        self.message_appended.emit(message)

    def _on_messages_prepended(
        self, room_id: str, messages: tuple[Message, ...], reached_start: bool
    ) -> None:
        if room_id != self._room_id:
            return
        fresh: list[Message] = []
        seen: set[str] = set()
        for message in messages:
            if message.key in self._positions or message.key in seen:
                continue
            seen.add(message.key)
            fresh.append(message)
        if fresh:
            count = len(fresh)
            self.beginInsertRows(QModelIndex(), 0, count - 1)
            self._first -= count
            for offset, message in enumerate(fresh):
                self._positions[message.key] = self._first + offset
            self._rows[0:0] = [RowInfo(message) for message in fresh]
            for row in range(count):
                self._rows[row] = self._row_info(row, fresh[row])
            self.endInsertRows()
            # The old first row may now continue a group or lose its date line.
            self._refresh(count)
        if reached_start:
            self._set_start_reached(True)

    def _set_start_reached(self, reached: bool) -> None:
        if reached == self._start_reached:
            return
        self._start_reached = reached
        self._refresh(0)
        self.start_reached_changed.emit(reached)

    def _on_message_changed(self, message: Message) -> None:
        if message.room_id != self._room_id:
            return
        self._replace(message)

    def _replace(self, message: Message) -> None:
        row = self.row_of(message.key)
        if row is None or self._rows[row].message == message:
            return
        self._rows[row] = self._row_info(row, message)
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)
        # The server's timestamp may move a message into or out of a group.
        self._refresh(row + 1)
