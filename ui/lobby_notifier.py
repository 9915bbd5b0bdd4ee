"""Tells you when someone starts waiting in the lobby of a meeting you can admit them to.

The meeting's window, when open, gets a banner with Admit. When that window is
not in front (or not open), a desktop notification goes out through the system
tray if the desktop has one; otherwise it asks for a notice (``notice_wanted``),
which the main window shows. It finds windows through the ``ConversationWindows``
it is given and knows nothing of the main window.
"""

from __future__ import annotations

import html
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSystemTrayIcon

from engine.conference_models import Participant
from ui import theme
from ui.bridge import EngineBridge, disconnect_all
from ui.meeting_text import KNOCK_TITLE, knock_text
from ui.window_registry import ConversationWindows

if TYPE_CHECKING:
    from engine.engine import Engine

NOTIFICATION_MS = 10_000


class LobbyNotifier(QObject):
    """Turns LobbyKnock into a banner, a desktop notification or a notice."""

    #: Someone was announced: (room_id, text, where: "window", "tray" or "main").
    notified = Signal(str, str, str)
    #: No window and no tray to tell it: show ``text`` in the main window.
    notice_wanted = Signal(str)
    #: The desktop notification about ``room_id`` was clicked: open its window.
    open_requested = Signal(str)

    def __init__(
        self,
        engine: Engine,
        bridge: EngineBridge,
        windows: ConversationWindows,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._windows = windows
        self._tray: QSystemTrayIcon | None = None
        self._last_room = ""
        bridge.lobby_knock.connect(self._on_lobby_knock)
        self._bridge = bridge

    def detach(self) -> None:
        disconnect_all([(self._bridge.lobby_knock, self._on_lobby_knock)])
        if self._tray is not None:
            self._tray.hide()

    def _on_lobby_knock(self, room_id: str, participant: Participant) -> None:
        details = self._engine.conferences.details(room_id)
        if participant.is_you or details is None or not details.can_admit:
            return
        name = participant.display_name or participant.user_id
        text = knock_text(name, details.subject)
        window = self._windows.find(room_id)
        if window is not None:
            window.show_lobby_notice(participant, text)
            self.notified.emit(room_id, text, "window")
            if window.isActiveWindow():
                return
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            self._last_room = room_id
            tray = self._ensure_tray()
            tray.showMessage(
                KNOCK_TITLE,
                _notification_body(text),
                QSystemTrayIcon.MessageIcon.Information,
                NOTIFICATION_MS,
            )
            self.notified.emit(room_id, text, "tray")
        elif window is None:
            self.notice_wanted.emit(text)
            self.notified.emit(room_id, text, "main")

    def _ensure_tray(self) -> QSystemTrayIcon:
        if self._tray is None:
            self._tray = QSystemTrayIcon(theme.app_icon(), self)
            self._tray.setToolTip("Confero")
            self._tray.messageClicked.connect(self._on_message_clicked)
        self._tray.show()
        return self._tray

    def _on_message_clicked(self) -> None:
        if self._last_room:
            self.open_requested.emit(self._last_room)


def _notification_body(text: str) -> str:
    """Freedesktop notification servers read a little markup: show names literally."""
    return html.escape(text, quote=False) if sys.platform.startswith("linux") else text
