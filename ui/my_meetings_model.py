"""My meetings as a Qt list model, kept from SummaryChanged / SummaryRemoved.

Rows are the engine's ConferenceSummary lines in the engine's order (personal,
then mine, then others'; live first). Each event is applied as the smallest row
change: an insert at the sorted place, a dataChanged, a move, a remove; never a
reset per event. Expired meetings are kept but shown only when asked for.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from engine.conference_models import AccessLevel
from engine.meeting_summary_models import ConferenceSummary
from ui.bridge import EngineBridge

_AnyIndex = QModelIndex | QPersistentModelIndex

ACCESS_TEXT = {
    AccessLevel.LOCKED: "Locked",
    AccessLevel.INVITED: "Invited people",
    AccessLevel.SAME_ENTERPRISE: "People on this server",
    AccessLevel.EVERYONE: "Everyone",
}


class MeetingRole(enum.IntEnum):
    ROOM_ID = Qt.ItemDataRole.UserRole + 1
    SUMMARY = enum.auto()  # the ConferenceSummary itself
    WHEN = enum.auto()  # "Now · 3 people", "Tue 24 Nov, 14:00–15:00"
    DETAILS = enum.auto()  # the second line: ID, when, access level
    STATUS = enum.auto()  # "You're in it", "Not joined" or ""


def people_text(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


def _local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000).astimezone()  # the computer's time zone


def _day_and_time(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b}, {moment:%H:%M}"


def when_text(summary: ConferenceSummary) -> str:
    """When the meeting is, in local time, or that it is going on now."""
    if summary.ended:
        return "Ended"
    if summary.live:
        text = f"Now · {people_text(summary.people_here)}"
        if summary.people_in_call:
            text += f" · {summary.people_in_call} in the call"
        return text
    if summary.start_ms is not None:
        start = _local(summary.start_ms)
        text = _day_and_time(start)
        if summary.end_ms is not None:
            end = _local(summary.end_ms)
            text += f"–{end:%H:%M}" if end.date() == start.date() else f" – {_day_and_time(end)}"
        return f"Ended · {text}" if summary.expired else text
    if summary.personal:
        return "Any time"
    if summary.created_ms:
        return f"Started {_day_and_time(_local(summary.created_ms))}"
    return ""


def status_text(summary: ConferenceSummary) -> str:
    """Whether you are in the meeting, where that is worth saying."""
    if summary.joined:
        return "You're in it"
    if summary.ended or summary.expired:
        return ""
    if summary.live or (summary.organized_by_me and not summary.personal and not summary.start_ms):
        # Going on without you, or one you started and left: Join takes you back.
        return "Not joined"
    return ""


def details_text(summary: ConferenceSummary) -> str:
    # Who may join no longer matters once a meeting is over.
    access = "" if summary.expired else ACCESS_TEXT[summary.access_level]
    parts = [f"ID {summary.conference_id}", when_text(summary), access]
    return " · ".join(p for p in parts if p)


def accessible_text(summary: ConferenceSummary) -> str:
    """What a screen reader says for a row (the painted row shows the same)."""
    kind = "Your personal meeting: " if summary.personal else ""
    by = "" if summary.organized_by_me else ", organized by someone else"
    status = status_text(summary)
    status = f", {status[0].lower()}{status[1:]}" if status else ""
    return f"{kind}{summary.subject}, {details_text(summary)}{by}{status}"


class MyMeetingsModel(QAbstractListModel):
    """ConferenceSummary rows in the engine's order; expired ones only on request."""

    def __init__(self, bridge: EngineBridge | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._all: dict[str, ConferenceSummary] = {}
        self._rows: list[ConferenceSummary] = []
        self._keys: list[tuple[Any, ...]] = []  # sort keys of _rows, for bisect
        self._show_past = False
        if bridge is not None:
            bridge.summary_changed.connect(self._on_summary_changed)
            bridge.summary_removed.connect(self._on_summary_removed)

    # -- Qt model API ------------------------------------------------------------

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        summary = self._rows[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return summary.subject
            case Qt.ItemDataRole.AccessibleTextRole:
                return accessible_text(summary)
            case Qt.ItemDataRole.ToolTipRole:
                return f"{summary.subject}\n{details_text(summary)}\n{summary.link}"
            case MeetingRole.ROOM_ID:
                return summary.room_id
            case MeetingRole.SUMMARY:
                return summary
            case MeetingRole.WHEN:
                return when_text(summary)
            case MeetingRole.DETAILS:
                return details_text(summary)
            case MeetingRole.STATUS:
                return status_text(summary)
        return None

    # -- reading -----------------------------------------------------------------

    @property
    def show_past(self) -> bool:
        return self._show_past

    def summary_at(self, row: int) -> ConferenceSummary | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def index_of(self, room_id: str) -> QModelIndex:
        for row, summary in enumerate(self._rows):
            if summary.room_id == room_id:
                return self.index(row, 0)
        return QModelIndex()

    def hidden_count(self) -> int:
        """Meetings not shown because they are past (for the empty-state text)."""
        return len(self._all) - len(self._rows)

    # -- changing ----------------------------------------------------------------

    def sync_with(self, summaries: Iterable[ConferenceSummary]) -> None:
        """Take an engine snapshot (the first fill): one reset, not a row per meeting."""
        self.beginResetModel()
        self._all = {s.room_id: s for s in summaries}
        self._rebuild_rows()
        self.endResetModel()

    def set_show_past(self, show: bool) -> None:
        """Show or hide expired meetings (a user's choice, applied as one reset)."""
        if show == self._show_past:
            return
        self.beginResetModel()
        self._show_past = show
        self._rebuild_rows()
        self.endResetModel()

    def _rebuild_rows(self) -> None:
        self._rows = sorted(
            (s for s in self._all.values() if self._visible(s)), key=ConferenceSummary.sort_key
        )
        self._keys = [s.sort_key() for s in self._rows]

    def _visible(self, summary: ConferenceSummary) -> bool:
        return self._show_past or not summary.expired

    def _row_of(self, summary: ConferenceSummary) -> int:
        key = summary.sort_key()
        row = bisect.bisect_left(self._keys, key)
        if row < len(self._rows) and self._rows[row].room_id == summary.room_id:
            return row
        return -1

    def _on_summary_changed(self, summary: ConferenceSummary) -> None:
        previous = self._all.get(summary.room_id)
        self._all[summary.room_id] = summary
        old_row = self._row_of(previous) if previous is not None else -1
        if not self._visible(summary):
            if old_row >= 0:
                self._remove_row(old_row)
            return
        key = summary.sort_key()
        if old_row >= 0 and self._keys[old_row] == key:
            self._rows[old_row] = summary
            index = self.index(old_row, 0)
            self.dataChanged.emit(index, index)
            return
        if old_row >= 0:
            self._remove_row(old_row)
        row = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.insert(row, summary)
        self._keys.insert(row, key)
        self.endInsertRows()

    def _on_summary_removed(self, room_id: str) -> None:
        previous = self._all.pop(room_id, None)
        if previous is not None and (row := self._row_of(previous)) >= 0:
            self._remove_row(row)

    def _remove_row(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        del self._keys[row]
        self.endRemoveRows()
