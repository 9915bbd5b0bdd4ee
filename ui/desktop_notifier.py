"""Desktop notifications for toasts in the main window, with their buttons.

Shown only when the main window is not in front. Where the desktop has a
notification server (org.freedesktop.Notifications on the session bus: GNOME, KDE,
XFCE, dunst…) the notification carries the toast's buttons (Answer / Decline,
Join / Decline), and a click on one does what the toast's button does
(``action_invoked``). Elsewhere, or when the server cannot be reached, the system
tray's message says the same without buttons; where there is neither, the toast in
the window is all there is. A notification whose toast went away (the call was
answered on another device) is closed with it.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from ui import theme
from ui.freedesktop_notifications import FreedesktopNotifications, notification

#: The action key of a click on the notification itself (the freedesktop spec's).
DEFAULT_ACTION = "default"


class DesktopNotifier(QObject):
    #: The notification was clicked: bring the main window forward.
    clicked = Signal()
    #: One of the notification's buttons was clicked (the toast's key, the action key).
    action_invoked = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tray: QSystemTrayIcon | None = None
        self._native = FreedesktopNotifications(parent=self) if _linux() else None
        self._waiting: dict[str, tuple[str, str, int]] = {}  # sent, not yet shown: for the tray
        if self._native is not None:
            self._native.failed.connect(self._on_failed)
            self._native.shown.connect(self._on_shown)
            self._native.closed.connect(self._on_closed)
            self._native.action_invoked.connect(self._on_action)

    def notify(
        self,
        window: QWidget,
        title: str,
        text: str,
        duration_ms: int,
        *,
        key: str = "",
        actions: Sequence[tuple[str, str]] = (),
        urgent: bool = False,
    ) -> bool:
        """Show ``text`` unless ``window`` is in front; whether it went out.

        ``actions``: (action key, label) buttons, where the desktop draws them.
        """
        if window.isActiveWindow():
            return False
        if self._native is not None and self._native.possible:
            self._waiting[key] = (title, text, duration_ms)
            buttons = [(DEFAULT_ACTION, "Show"), *((k, _plain(label)) for k, label in actions)]
            self._native.notify(notification(key, title, text, buttons, duration_ms, urgent=urgent))
            return True
        return self._tray_message(title, text, duration_ms)

    def close(self, key: str) -> None:
        """The toast for ``key`` went away: so does its notification."""
        self._waiting.pop(key, None)
        if self._native is not None:
            self._native.close(key)

    def hide(self) -> None:
        if self._tray is not None:
            self._tray.hide()
        if self._native is not None:
            self._native.stop()

    # -- internals ----------------------------------------------------------------

    def _tray_message(self, title: str, text: str, duration_ms: int) -> bool:
        if not (QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()):
            return False
        if self._tray is None:
            self._tray = QSystemTrayIcon(theme.app_icon(), self)
            self._tray.setToolTip("Confero")
            self._tray.messageClicked.connect(self.clicked)
        self._tray.show()
        if _linux():  # notification servers read a little markup
            text = html.escape(text, quote=False)
        icon = QSystemTrayIcon.MessageIcon.Information
        self._tray.showMessage(title, text, icon, duration_ms)
        return True

    def _on_failed(self, key: str) -> None:
        """No notification server after all: the tray's message, without buttons."""
        waiting = self._waiting.pop(key, None)
        if waiting is not None:
            self._tray_message(*waiting)

    def _on_shown(self, key: str) -> None:
        self._waiting.pop(key, None)

    def _on_closed(self, key: str) -> None:
        self._waiting.pop(key, None)

    def _on_action(self, key: str, action: str) -> None:
        if action == DEFAULT_ACTION:
            self.clicked.emit()
        else:
            self.action_invoked.emit(key, action)


def _plain(label: str) -> str:
    """A button's words without its mnemonic ("&Join" is "Join" on a notification)."""
    return label.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _linux() -> bool:
    return sys.platform.startswith("linux")
