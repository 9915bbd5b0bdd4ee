"""The open conversation windows of one signed-in session: one window per conversation.

The main window owns one and hands it to whoever needs a conversation's window
(the lobby notifier, the main window's own Open); nothing looks windows up in a
module-level table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from ui.bridge import EngineBridge
from ui.conversation_window import ConversationWindow

if TYPE_CHECKING:
    from engine.engine import Engine
    from ui.network_access import NetworkAccess


class ConversationWindows(QObject):
    """Opens, finds and closes the conversation windows of one engine."""

    def __init__(
        self,
        engine: Engine,
        bridge: EngineBridge,
        parent: QObject | None = None,
        *,
        network: NetworkAccess | None = None,
    ) -> None:
        super().__init__(parent)
        self._engine = engine
        self._bridge = bridge
        self._network = network
        self._windows: dict[str, ConversationWindow] = {}

    @property
    def engine(self) -> Engine:
        return self._engine

    def open(self, room_id: str, parent: QWidget | None = None) -> ConversationWindow:
        """Show the window of ``room_id``, reusing and raising it if it is already open."""
        window = self.find(room_id)
        if window is None:
            window = ConversationWindow(
                self._engine, self._bridge, room_id, parent, network=self._network
            )
            window.closed.connect(self._on_window_closed)
            window.room_changed.connect(self._on_room_changed)
            self._windows[room_id] = window
        if window.isMinimized():
            window.showNormal()
        else:
            window.show()
        window.raise_()
        window.activateWindow()
        return window

    def find(self, room_id: str) -> ConversationWindow | None:
        """The open window of ``room_id``, if there is one."""
        window = self._windows.get(room_id)
        if window is None or not shiboken6.isValid(window) or window.is_closing:
            return None
        return window

    def all(self) -> list[ConversationWindow]:
        """Every open conversation window."""
        return [w for room_id in list(self._windows) if (w := self.find(room_id)) is not None]

    def close_all(self) -> None:
        """Close every conversation window (on sign-out, for example)."""
        for window in self.all():
            window.close()

    def _on_window_closed(self, room_id: str) -> None:
        window = self._windows.get(room_id)
        if window is not None and (not shiboken6.isValid(window) or window.is_closing):
            del self._windows[room_id]

    def _on_room_changed(self, old: str, new: str) -> None:
        """A two-party window followed into its meeting: it is now that meeting's window;
        the two-party conversation opens in a window of its own again."""
        window = self._windows.pop(old, None)
        if window is not None:
            self._windows[new] = window
