"""The list of conversations in the main window, newest activity first.

Fed by EngineBridge signals. Every change is applied as the smallest row
operation that describes it: an insert at the sorted position, a dataChanged
on the row, a move when the activity order changes, a remove. The model never
resets per event; ``sync_with`` reconciles with an engine snapshot the same way.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from engine.models import ConversationInfo, ConversationKind, Presence
from ui import plain_text, theme
from ui.bridge import EngineBridge
from ui.presence_text import presence_text

_AnyIndex = QModelIndex | QPersistentModelIndex


class ConversationRole(enum.IntEnum):
    ROOM_ID = Qt.ItemDataRole.UserRole + 1
    CONVERSATION = enum.auto()  # the ConversationInfo itself
    UNREAD_COUNT = enum.auto()
    PRESENCE = enum.auto()  # Presence of the other party (direct conversations)
    KIND = enum.auto()  # ConversationKind
    SUBTITLE = enum.auto()  # the second line: presence text or member count


def subtitle_of(info: ConversationInfo, status_message: str = "") -> str:
    """The line under the name: the peer's presence, or what kind of room it is."""
    if info.invited:
        return "Invitation"
    if info.kind is ConversationKind.DIRECT:
        text = presence_text(info.peer_presence)
        if status_message and status_message.casefold() != text.casefold():
            return f"{text} — {status_message}" if text else status_message
        return text
    people = f"{info.member_count} people" if info.member_count else ""
    label = "Conference" if info.kind is ConversationKind.CONFERENCE else "Group conversation"
    return f"{label} · {people}" if people else label


def _sort_key(info: ConversationInfo) -> tuple[int, str]:
    # Newest first; ties broken by room ID so the order is total and stable.
    return (-info.last_activity_ts, info.room_id)


class ConversationListModel(QAbstractListModel):
    """ConversationInfo rows sorted by last activity, newest first."""

    def __init__(self, bridge: EngineBridge | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ConversationInfo] = []
        self._status: dict[str, str] = {}  # user_id -> status message
        self._bridge = bridge
        if bridge is not None:
            self._connect_signals()

    def _connect_signals(self) -> None:
        assert self._bridge is not None
        self._bridge.conversation_added.connect(self._on_conversation_added)
        self._bridge.conversation_changed.connect(self._on_conversation_changed)
        self._bridge.conversation_removed.connect(self._on_conversation_removed)
        self._bridge.presence_changed.connect(self._on_presence_changed)

    # -- Qt model API ------------------------------------------------------------

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def roleNames(self) -> dict[int, bytes]:
        names = dict(super().roleNames())
        names.update(
            {
                ConversationRole.ROOM_ID: b"roomId",
                ConversationRole.CONVERSATION: b"conversation",
                ConversationRole.UNREAD_COUNT: b"unreadCount",
                ConversationRole.PRESENCE: b"presence",
                ConversationRole.KIND: b"kind",
                ConversationRole.SUBTITLE: b"subtitle",
            }
        )
        return names

    def flags(self, index: _AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        info = self._rows[index.row()]
        status = self._status.get(info.peer_user_id or "", "")
        match role:
            case Qt.ItemDataRole.DisplayRole | Qt.ItemDataRole.EditRole:
                return info.display_name
            case Qt.ItemDataRole.DecorationRole:
                return theme.icon(
                    "conference" if info.kind is ConversationKind.CONFERENCE else "person"
                )
            case Qt.ItemDataRole.ToolTipRole:
                lines = [info.display_name]
                if info.peer_user_id and info.peer_user_id != info.display_name:
                    lines.append(info.peer_user_id)
                if subtitle := subtitle_of(info, status):
                    lines.append(subtitle)
                if info.unread_count:
                    lines.append(_unread_text(info.unread_count))
                return plain_text.tooltip("\n".join(lines))
            case Qt.ItemDataRole.AccessibleTextRole:
                parts = [info.display_name]
                if info.kind is ConversationKind.CONFERENCE:
                    parts.append("conference")
                if subtitle := subtitle_of(info, status):
                    parts.append(subtitle)
                if info.unread_count:
                    parts.append(_unread_text(info.unread_count))
                return ", ".join(parts)
            case ConversationRole.ROOM_ID:
                return info.room_id
            case ConversationRole.CONVERSATION:
                return info
            case ConversationRole.UNREAD_COUNT:
                return info.unread_count
            case ConversationRole.PRESENCE:
                return info.peer_presence
            case ConversationRole.KIND:
                return info.kind
            case ConversationRole.SUBTITLE:
                return subtitle_of(info, status)
        return None

    # -- queries -----------------------------------------------------------------

    def conversation_at(self, row: int) -> ConversationInfo:
        return self._rows[row]

    def row_of(self, room_id: str) -> int | None:
        for row, info in enumerate(self._rows):
            if info.room_id == room_id:
                return row
        return None

    def index_of(self, room_id: str) -> QModelIndex:
        row = self.row_of(room_id)
        return QModelIndex() if row is None else self.index(row, 0)

    def room_ids(self) -> list[str]:
        return [info.room_id for info in self._rows]

    # -- updates -----------------------------------------------------------------

    def sync_with(self, conversations: Iterable[ConversationInfo]) -> None:
        """Bring the rows in line with an engine snapshot, row by row."""
        wanted = {info.room_id: info for info in conversations}
        for room_id in [r for r in self.room_ids() if r not in wanted]:
            self._on_conversation_removed(room_id)
        for info in wanted.values():
            self._upsert(info)

    def _on_conversation_added(self, info: ConversationInfo) -> None:
        self._upsert(info)

    def _on_conversation_changed(self, info: ConversationInfo) -> None:
        self._upsert(info)

    def _on_conversation_removed(self, room_id: str) -> None:
        row = self.row_of(room_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self.endRemoveRows()

    def _on_presence_changed(self, user_id: str, presence: Presence, status: str) -> None:
        old_status = self._status.get(user_id, "")
        if status:
            self._status[user_id] = status
        else:
            self._status.pop(user_id, None)
        for row, info in enumerate(self._rows):
            if info.peer_user_id != user_id:
                continue
            if info.peer_presence != presence:
                self._rows[row] = replace(info, peer_presence=presence)
            elif old_status == status:
                continue
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    def _upsert(self, info: ConversationInfo) -> None:
        row = self.row_of(info.room_id)
        if row is None:
            position = self._insert_position(info)
            self.beginInsertRows(QModelIndex(), position, position)
            self._rows.insert(position, info)
            self.endInsertRows()
            return
        if self._rows[row] == info:
            return
        old = self._rows.pop(row)
        target = self._insert_position(info)
        self._rows.insert(row, old)
        if target != row:
            # beginMoveRows wants the destination as an index in the old list.
            destination = target + 1 if target > row else target
            self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), destination)
            self._rows.pop(row)
            self._rows.insert(target, info)
            self.endMoveRows()
            row = target
        else:
            self._rows[row] = info
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    def _insert_position(self, info: ConversationInfo) -> int:
        return bisect.bisect_left(self._rows, _sort_key(info), key=_sort_key)


def _unread_text(count: int) -> str:
    return "1 unread message" if count == 1 else f"{count} unread messages"
