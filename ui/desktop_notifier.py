"""Desktop notifications (the system tray's messages) for toasts in the main window.

Shown only when the main window is not in front, and only where the desktop has
a tray that shows messages; elsewhere the toast in the window is all there is.
"""

from __future__ import annotations

import html
import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from ui import theme


class DesktopNotifier(QObject):
    #: The notification was clicked: bring the main window forward.
    clicked = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tray: QSystemTrayIcon | None = None

    def notify(self, window: QWidget, title: str, text: str, duration_ms: int) -> bool:
        """Show ``text`` unless ``window`` is in front; whether it was shown."""
        if window.isActiveWindow():
            return False
        if not (QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()):
            return False
        if self._tray is None:
            self._tray = QSystemTrayIcon(theme.app_icon(), self)
            self._tray.setToolTip("Confero")
            self._tray.messageClicked.connect(self.clicked)
        self._tray.show()
        if sys.platform.startswith("linux"):  # notification servers read a little markup
            text = html.escape(text, quote=False)
        icon = QSystemTrayIcon.MessageIcon.Information
        self._tray.showMessage(title, text, icon, duration_ms)
        return True

    def hide(self) -> None:
        if self._tray is not None:
            self._tray.hide()
