"""The message composer: a multi-line text box where Enter sends."""

from __future__ import annotations

import math

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QSizePolicy, QWidget

MAX_VISIBLE_LINES = 8


class Composer(QPlainTextEdit):
    """Enter or Ctrl+Enter sends; Shift+Enter starts a new line.

    Grows with its text up to a few lines, then scrolls.
    """

    #: The user pressed Enter (or Ctrl+Enter) to send what they wrote.
    submitted = Signal()
    #: The user changed the text (typing, pasting, deleting); not emitted by take_text().
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._quiet = False
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(self.wordWrapMode())
        self.setPlaceholderText("Write a message…")
        self.setAccessibleName("Message")
        self.setAccessibleDescription("Enter sends the message; Shift+Enter starts a new line.")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._connect_signals()
        self._update_height()

    def _connect_signals(self) -> None:
        self.textChanged.connect(self._on_text_changed)
        self.document().documentLayout().documentSizeChanged.connect(self._on_size_changed)

    def take_text(self) -> str:
        """Return the text and empty the box (without counting as an edit)."""
        text = self.toPlainText()
        self._quiet = True
        try:
            self.clear()
        finally:
            self._quiet = False
        return text

    def restore_text(self, text: str) -> None:
        """Put back text that could not be sent, unless the user already typed more."""
        if self.toPlainText():
            return
        self._quiet = True
        try:
            self.setPlainText(text)
            self.moveCursor(self.textCursor().MoveOperation.End)
        finally:
            self._quiet = False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if modifiers in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier):
                event.accept()
                self.submitted.emit()
                return
            if modifiers == Qt.KeyboardModifier.ShiftModifier:
                event.accept()
                self.insertPlainText("\n")
                return
        if event.matches(QKeySequence.StandardKey.InsertLineSeparator):
            event.accept()
            self.insertPlainText("\n")
            return
        super().keyPressEvent(event)

    def _on_text_changed(self) -> None:
        if not self._quiet:
            self.edited.emit()

    def _on_size_changed(self, _size: object) -> None:
        self._update_height()

    def _update_height(self) -> None:
        # The plain-text layout reports its height in lines.
        lines = int(self.document().documentLayout().documentSize().height())
        visible = max(1, min(lines, MAX_VISIBLE_LINES))
        margins = self.contentsMargins()
        viewport = self.viewportMargins()
        height = (
            visible * self.fontMetrics().lineSpacing()
            + 2 * math.ceil(self.document().documentMargin())
            + 2 * self.frameWidth()
            + margins.top()
            + margins.bottom()
            + viewport.top()
            + viewport.bottom()
            + 2
        )
        self.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAsNeeded
            if lines > MAX_VISIBLE_LINES
            else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )
        if height != self.height():
            self.setFixedHeight(height)

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self.height())
