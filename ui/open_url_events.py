"""``matrix:`` links that macOS hands to the running app, as links to open.

On macOS a clicked link reaches an app as an Apple Event, not as a command-line
argument (that is how Windows and Linux pass it): Qt turns it into a
QFileOpenEvent on the application, at first launch as well as later.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QUrl, Signal
from PySide6.QtGui import QFileOpenEvent

#: The URI scheme Confero is registered for (Info.plist's CFBundleURLTypes).
SCHEME = "matrix"


class OpenUrlEvents(QObject):
    """Emits ``link_received`` for each ``matrix:`` link the system asks the app to open."""

    link_received = Signal(str)

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            url = event.url()
            if url.scheme().lower() == SCHEME:
                # As the link was written (percent-encoded), like an argument on Linux.
                self.link_received.emit(url.toString(QUrl.ComponentFormattingOption.FullyEncoded))
                return True
        return super().eventFilter(watched, event)
