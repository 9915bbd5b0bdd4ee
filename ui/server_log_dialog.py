"""The last lines of the meeting server's log, to read, select and copy.

The text is read in a worker thread by the homeserver (secrets removed there);
the dialog shows "Loading…" until it arrives, so the window never waits on disk.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.tasks import TaskGroup

if TYPE_CHECKING:
    from engine.homeserver import EmbeddedHomeserver

log = logging.getLogger(__name__)

LOG_LINES = 200


class ServerLogDialog(QDialog):
    """Shows the tail of the meeting server's log with a Copy button."""

    def __init__(self, homeserver: EmbeddedHomeserver, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._homeserver = homeserver
        self._tasks = TaskGroup()
        self.setWindowTitle("Meeting server log")
        self.resize(760, 480)

        intro = QLabel(f"The last lines of {homeserver.log_path}", self)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.text_view = QPlainTextEdit(self)
        self.text_view.setReadOnly(True)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text_view.setAccessibleName("Meeting server log")
        self.text_view.setPlainText("Loading…")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("&Copy", self)
        self.copy_button.setAccessibleName("Copy the log")
        self.copy_button.setToolTip("Copy these lines, e.g. to paste them into a bug report")
        self.copy_button.setEnabled(False)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAccessibleName("Close")
        self.close_button.setToolTip("Close this window")

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text_view, 1)
        layout.addWidget(buttons)

        self.copy_button.clicked.connect(self._on_copy_clicked)
        buttons.rejected.connect(self.reject)
        self.finished.connect(lambda _result: self._tasks.cancel_all())
        self._tasks.spawn(self._load())

    @property
    def loaded(self) -> bool:
        return self.copy_button.isEnabled()

    async def _load(self) -> None:
        try:
            text = await self._homeserver.read_log(LOG_LINES)
        except OSError as exc:
            text = f"The log could not be read: {exc.strerror or exc}"
        self.text_view.setPlainText(text or "The log is empty.")
        # The newest lines matter most: show the end, from the left edge.
        view = self.text_view
        view.moveCursor(QTextCursor.MoveOperation.End)
        view.moveCursor(QTextCursor.MoveOperation.StartOfLine)
        view.horizontalScrollBar().setValue(0)
        self.copy_button.setEnabled(True)

    def _on_copy_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.text_view.toPlainText())
        self.copy_button.setText("Copied")
