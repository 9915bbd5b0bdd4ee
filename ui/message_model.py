"""The transcript of one conversation as a Qt list model.

Rows are engine ``Message`` snapshots, oldest first. The model is fed from the
EngineBridge and changes incrementally: live messages are inserted at the end,
older history at the top, and state changes (Sending → Sent / Failed) update
the one row that has the same ``Message.key``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
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
from ui.room_change_text import ChangeTally, change_text

#: Consecutive room-change lines from this many on show as one summary row (as Element).
SUMMARY_MIN_LINES = 3

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


class ChangeRun:
    """Consecutive room-change lines of one day; three or more show as one summary row.

    Compared by identity: rows point at their run, and a row's look changes
    when the run's ``version`` does.
    """

    __slots__ = ("_tally", "expanded", "messages", "version")

    def __init__(self, messages: Iterable[Message]) -> None:
        self.messages: list[Message] = list(messages)
        self.expanded = False
        self.version = 0
        self._tally: ChangeTally | None = None

    def __len__(self) -> int:
        return len(self.messages)

    @property
    def summarised(self) -> bool:
        return len(self.messages) >= SUMMARY_MIN_LINES

    def append(self, message: Message) -> None:
        self.messages.append(message)
        if self._tally is not None:
            self._tally.add(message)
        self.version += 1

    def prepend(self, messages: list[Message]) -> None:
        self.messages[0:0] = messages
        self._tally = None  # the first names change: count again when asked
        self.version += 1

    def replace(self, message: Message) -> bool:
        """Put a new snapshot of one of its lines in; False if it is not here."""
        for i, old in enumerate(self.messages):
            if old.key == message.key:
                self.messages[i] = message
                self._tally = None
                self.version += 1
                return True
        return False

    def text(self) -> str:
        if self._tally is None:
            self._tally = ChangeTally(self.messages)
        return self._tally.text()


@dataclass(frozen=True, slots=True)
class RowInfo:
    """One row: the message and how it sits among its neighbours.

    A new RowInfo is made only when the row changes, so views may cache
    layout by its identity. A summary row stands for its whole ``run`` (its
    ``message`` is the run's first); the lines of an expanded run follow it
    as rows of their own, with ``run`` set too.
    """

    message: Message
    continuation: bool = False
    day_break: bool = True
    start_of_history: bool = False
    run: ChangeRun | None = None
    summary: bool = False
    expanded: bool = False
    run_version: int = 0


def summary_row(run: ChangeRun) -> RowInfo:
    return RowInfo(
        run.messages[0], run=run, summary=True, expanded=run.expanded, run_version=run.version
    )


def joins_run(previous: Message, message: Message) -> bool:
    """Whether room-change line ``message`` continues the run ``previous`` ends."""
    return bool(previous.changes and message.changes) and not starts_new_day(previous, message)


def rows_for(messages: list[Message]) -> list[RowInfo]:
    """Rows for consecutive messages (neighbour-dependent fields not yet set)."""
    rows: list[RowInfo] = []
    i, count = 0, len(messages)
    while i < count:
        message = messages[i]
        if not message.changes:
            rows.append(RowInfo(message))
            i += 1
            continue
        end = i + 1
        while end < count and joins_run(messages[end - 1], messages[end]):
            end += 1
        run = ChangeRun(messages[i:end])
        if run.summarised:
            rows.append(summary_row(run))
        else:
            rows.extend(RowInfo(m, run=run) for m in run.messages)
        i = end
    return rows


# The local day last looked up, as [start, end) in ms: a run of thousands of lines
# of one day then costs one time-zone conversion, not two per line.
_last_day = (0, 0)


def local_day_range(timestamp_ms: int) -> tuple[int, int]:
    """[start, end) in ms of the local calendar day ``timestamp_ms`` falls on."""
    global _last_day
    start, end = _last_day
    if start <= timestamp_ms < end:
        return _last_day
    day = local_datetime(timestamp_ms).date()
    midnight = dt.datetime.combine(day, dt.time()).astimezone()
    following = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).astimezone()
    _last_day = (int(midnight.timestamp() * 1000), int(following.timestamp() * 1000))
    return _last_day


def starts_new_day(previous: Message, message: Message) -> bool:
    start, end = local_day_range(previous.timestamp_ms)
    return not start <= message.timestamp_ms < end


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


def summary_accessible_text(run: ChangeRun) -> str:
    state = "shown" if run.expanded else "hidden"
    return (
        f"{run.text()}, {format_time(run.messages[0].timestamp_ms)}. "
        f"{len(run):,} lines about the room, {state}"
    )


def summary_action_text(run: ChangeRun) -> str:
    """The summary row's action, for its hint, menu and screen-reader description."""
    return "Hide lines" if run.expanded else "Show all lines"


class MessageModel(QAbstractListModel):
    """The loaded part of one room's transcript.

    Three or more consecutive room-change lines of a day collapse into one
    summary row ("Alice, Bob and 9,998 others joined") that can be expanded
    (``set_expanded``): a join after it changes that one row, never adds one.
    """

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
        *,
        earlier_room_id: str = "",
    ) -> None:
        """``earlier_room_id``: a second room whose lines this model shows too and
        keeps following (the two-party conversation a meeting came from: a line
        still sending turns Sent here, and a late one is appended)."""
        super().__init__(parent)
        self._room_id = room_id
        self._rooms = frozenset(r for r in (room_id, earlier_room_id) if r)
        self._bridge = bridge
        self._keys: set[str] = set()
        # Message key → row; rebuilt on demand after rows moved (None), kept up
        # to date by appends, which are the common case.
        self._row_cache: dict[str, int] | None = None
        self._start_reached = False
        fresh = self._fresh(m for m in initial if m.room_id in self._rooms)
        self._rows: list[RowInfo] = rows_for(fresh)
        for row in range(len(self._rows)):
            self._rows[row] = self._placed(row, self._rows[row])
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
        """The row's message (a summary row's: the first line of its run)."""
        return self._rows[row].message

    def row_info(self, row: int) -> RowInfo:
        return self._rows[row]

    def is_summary(self, row: int) -> bool:
        return 0 <= row < len(self._rows) and self._rows[row].summary

    def row_of(self, key: str) -> int | None:
        """The row showing the message ``key`` (its summary's while collapsed)."""
        if self._row_cache is None:
            cache: dict[str, int] = {}
            for row, info in enumerate(self._rows):
                if info.summary and info.run is not None:
                    if not info.run.expanded:
                        cache.update(dict.fromkeys((m.key for m in info.run.messages), row))
                else:
                    cache[info.message.key] = row
            self._row_cache = cache
        return self._row_cache.get(key)

    def messages(self) -> list[Message]:
        """Every loaded message, grouped or not, oldest first."""
        found: list[Message] = []
        for info in self._rows:
            if info.summary and info.run is not None:
                if not info.run.expanded:
                    found.extend(info.run.messages)
            else:
                found.append(info.message)
        return found

    def mark_start_reached(self) -> None:
        """The engine says there is nothing older to load."""
        self._set_start_reached(True)

    def set_expanded(self, row: int, expanded: bool) -> None:
        """Show (or hide again) the lines a summary row stands for."""
        if not self.is_summary(row):
            return
        run = self._rows[row].run
        assert run is not None
        if run.expanded == expanded:
            return
        count = len(run)
        if expanded:
            self.beginInsertRows(QModelIndex(), row + 1, row + count)
            run.expanded = True
            self._rows[row + 1 : row + 1] = [RowInfo(m, run=run) for m in run.messages]
            for member in range(row + 1, row + count + 1):
                self._rows[member] = self._placed(member, self._rows[member])
            self.endInsertRows()
        else:
            self.beginRemoveRows(QModelIndex(), row + 1, row + count)
            run.expanded = False
            del self._rows[row + 1 : row + count + 1]
            self.endRemoveRows()
        self._row_cache = None
        self._set_row(row, summary_row(run))
        self._refresh(row + 1)

    def toggle_expanded(self, row: int) -> None:
        if self.is_summary(row):
            run = self._rows[row].run
            self.set_expanded(row, not (run is not None and run.expanded))

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
            if info.summary and info.run is not None:
                return info.run.text()
            return change_text(info.message) if info.message.changes else info.message.body
        if role == ContinuationRole:
            return info.continuation
        if role == DayBreakRole:
            return info.day_break
        if role == StartOfHistoryRole:
            return info.start_of_history
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if info.summary and info.run is not None:
                return summary_accessible_text(info.run)
            return accessible_text(info.message)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            if info.summary and info.run is not None:
                return f"{summary_action_text(info.run)}: press Enter or Space, or click."
            return None
        return None

    # -- row bookkeeping -----------------------------------------------------

    def _fresh(self, messages: Iterable[Message]) -> list[Message]:
        """The messages not shown yet (each once), now counted as shown."""
        fresh: list[Message] = []
        for message in messages:
            if message.key not in self._keys:
                self._keys.add(message.key)
                fresh.append(message)
        return fresh

    def _placed(self, row: int, info: RowInfo) -> RowInfo:
        """``info`` with the fields that depend on the row above ``row``."""
        if row == 0:
            placed = replace(
                info, continuation=False, day_break=True, start_of_history=self._start_reached
            )
        else:
            previous = self._rows[row - 1].message
            day_break = starts_new_day(previous, info.message)
            continuation = not day_break and continues(previous, info.message)
            placed = replace(
                info, continuation=continuation, day_break=day_break, start_of_history=False
            )
        return info if placed == info else placed

    def _set_row(self, row: int, info: RowInfo) -> None:
        """Put a changed row in place and tell the views."""
        self._rows[row] = self._placed(row, info)
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    def _refresh(self, row: int) -> None:
        """Recompute a row's grouping after a neighbour changed; signal if it differs."""
        if not 0 <= row < len(self._rows):
            return
        info = self._placed(row, self._rows[row])
        if info is not self._rows[row]:
            self._rows[row] = info
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    def _append_rows(self, infos: list[RowInfo]) -> None:
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(infos) - 1)
        for offset, info in enumerate(infos):
            self._rows.append(self._placed(first + offset, info))
            if self._row_cache is not None:
                self._row_cache[info.message.key] = first + offset
        self.endInsertRows()

    # -- bridge slots ------------------------------------------------------

    def _on_message_added(self, message: Message) -> None:
        if message.room_id not in self._rooms:
            return
        if message.key in self._keys:  # already here (e.g. echo seen twice)
            self._replace(message)
            return
        self._keys.add(message.key)
        last = self._rows[-1] if self._rows else None
        if last is not None and last.run is not None and joins_run(last.run.messages[-1], message):
            self._extend_last_run(last.run, message)
        else:
            self._append_rows(
                [RowInfo(message, run=ChangeRun([message]) if message.changes else None)]
            )
        self.message_appended.emit(message)

    def _extend_last_run(self, run: ChangeRun, message: Message) -> None:
        """A room-change line after the run at the end: one row changes, at most one comes."""
        shown = len(run)  # rows the run has at the end while it is short
        run.append(message)
        if not run.summarised:
            self._append_rows([RowInfo(message, run=run)])
            return
        if shown == SUMMARY_MIN_LINES - 1:
            # The short run's rows become one summary row: the first stays, the rest go.
            row = len(self._rows) - shown
            if shown > 1:
                self.beginRemoveRows(QModelIndex(), row + 1, len(self._rows) - 1)
                del self._rows[row + 1 :]
                self.endRemoveRows()
            self._row_cache = None
            self._set_row(row, summary_row(run))
            return
        row = len(self._rows) - 1 - (shown if run.expanded else 0)
        self._set_row(row, summary_row(run))
        if run.expanded:
            self._append_rows([RowInfo(message, run=run)])
        elif self._row_cache is not None:
            self._row_cache[message.key] = row

    def _on_messages_prepended(
        self, room_id: str, messages: tuple[Message, ...], reached_start: bool
    ) -> None:
        if room_id != self._room_id:
            return
        fresh = self._fresh(messages)
        if fresh:
            self._row_cache = None
            head = self._rows[0].run if self._rows else None
            if head is not None and joins_run(fresh[-1], head.messages[0]):
                above = self._merge_into_first_run(head, fresh)
                if above:
                    self._insert_at_top(above, refresh=False)
                # The old first row (now maybe the summary of more lines): one signal.
                self._set_row(len(above), self._rows[len(above)])
            else:
                self._insert_at_top(rows_for(fresh))
        if reached_start:
            self._set_start_reached(True)

    def _merge_into_first_run(self, run: ChangeRun, fresh: list[Message]) -> list[RowInfo]:
        """Older lines that continue the first run join it; returns the rows to put above.

        The first row is updated in place without a signal: the caller signals it
        once the rows above are in.
        """
        start = len(fresh) - 1
        while start > 0 and joins_run(fresh[start - 1], fresh[start]):
            start -= 1
        older, above = fresh[start:], rows_for(fresh[:start])
        was_summarised, shown = run.summarised, len(run)
        run.prepend(older)
        if not run.summarised:  # still short: its older lines are rows of their own
            return above + [RowInfo(m, run=run) for m in older]
        if was_summarised:
            # The summary row stays the first row (the view keeps it in place).
            if run.expanded:
                self.beginInsertRows(QModelIndex(), 1, len(older))
                self._rows[1:1] = [RowInfo(m, run=run) for m in older]
                for row in range(1, len(older) + 1):
                    self._rows[row] = self._placed(row, self._rows[row])
                self.endInsertRows()
        elif shown > 1:
            self.beginRemoveRows(QModelIndex(), 1, shown - 1)
            del self._rows[1:shown]
            self.endRemoveRows()
        self._rows[0] = summary_row(run)
        return above

    def _insert_at_top(self, infos: list[RowInfo], *, refresh: bool = True) -> None:
        count = len(infos)
        self.beginInsertRows(QModelIndex(), 0, count - 1)
        self._rows[0:0] = infos
        for row in range(count):
            self._rows[row] = self._placed(row, self._rows[row])
        self.endInsertRows()
        if refresh:
            # The old first row may now continue a group or lose its date line.
            self._refresh(count)

    def _set_start_reached(self, reached: bool) -> None:
        if reached == self._start_reached:
            return
        self._start_reached = reached
        self._refresh(0)
        self.start_reached_changed.emit(reached)

    def _on_message_changed(self, message: Message) -> None:
        if message.room_id not in self._rooms:
            return
        self._replace(message)

    def _replace(self, message: Message) -> None:
        """A new snapshot of a shown message (state, server timestamp) takes its place.

        Room-change lines come from state events, which are never echoed or
        edited, so a replacement never moves a line into or out of a run.
        """
        row = self.row_of(message.key)
        if row is None:
            return
        info = self._rows[row]
        run = info.run
        if run is None:
            if info.message == message:
                return
            self._set_row(row, replace(info, message=message))
            # The server's timestamp may move a message into or out of a group.
            self._refresh(row + 1)
            return
        if not run.replace(message):
            return
        if info.summary:  # collapsed: the summary row is the one shown
            self._set_row(row, summary_row(run))
            return
        self._set_row(row, replace(info, message=message))
        if run.summarised:  # expanded: its summary row is above its lines
            self._set_row(row - 1 - run.messages.index(message), summary_row(run))
