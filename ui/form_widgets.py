"""Pieces every form shares: the inline error line and the busy indicator."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from ui import theme
from ui.accessibility import announce


class ErrorLabel(QLabel):
    """A red, word-wrapped line under a form, hidden while there is no error."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("formError")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAccessibleName("Error")
        self._restyling = False
        theme.set_error_style(self)
        self.hide()

    def changeEvent(self, event: QEvent) -> None:
        """Pick the red again when the desktop switches between light and dark."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._restyling:
            self._restyling = True
            try:
                theme.set_error_style(self)
            finally:
                self._restyling = False

    def show_error(self, text: str) -> None:
        theme.set_error_style(self)
        self.setText(text)
        self.setAccessibleDescription(text)
        self.show()
        announce(self, text, assertive=True)

    def clear_error(self) -> None:
        self.clear()
        self.setAccessibleDescription("")
        self.hide()


class LinkButton(QPushButton):
    """A flat button that reads like a link, in the palette's link colour."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setFlat(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        font = self.font()
        font.setUnderline(True)
        self.setFont(font)
        self._restyling = False
        self._apply_link_colour()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self._restyling:
            self._restyling = True
            try:
                self._apply_link_colour()
            finally:
                self._restyling = False

    def _apply_link_colour(self) -> None:
        palette = self.palette()
        link = palette.color(QPalette.ColorRole.Link)
        if theme.is_dark(palette) and link.lightness() < 140:
            link = link.lighter(170)  # some dark palettes keep a light-mode link blue
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            palette.setColor(group, QPalette.ColorRole.ButtonText, link)
        self.setPalette(palette)


class BusyIndicator(QWidget):
    """An indeterminate progress bar with a short text such as "Signing in…"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bar = QProgressBar(self)
        self._bar.setRange(0, 0)
        self._bar.setTextVisible(False)
        self._bar.setMaximumHeight(8)
        self._bar.setMaximumWidth(120)
        self._bar.setAccessibleName("Busy")
        self._label = QLabel(self)
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self._bar)
        layout.addWidget(self._label, 1)
        self.setAccessibleName("Progress")
        self.hide()

    def start(self, text: str) -> None:
        self._label.setText(text)
        self.setAccessibleDescription(text)
        self.show()
        announce(self, text)

    def stop(self) -> None:
        self.hide()
        self._label.clear()

    def text(self) -> str:
        return self._label.text()


def make_line_edit(
    parent: QWidget,
    name: str,
    *,
    placeholder: str = "",
    tooltip: str = "",
    password: bool = False,
) -> QLineEdit:
    """A line edit with its accessible name, placeholder and tooltip set."""
    edit = QLineEdit(parent)
    edit.setAccessibleName(name)
    if placeholder:
        edit.setPlaceholderText(placeholder)
    if tooltip:
        edit.setToolTip(tooltip)
    if password:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        edit.setInputMethodHints(
            Qt.InputMethodHint.ImhHiddenText
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhNoAutoUppercase
        )
    return edit


def make_remember_check(parent: QWidget) -> QCheckBox:
    """ "Keep me signed in", on by default: the token goes to the system keyring."""
    check = QCheckBox("Keep me signed in", parent)
    check.setChecked(True)
    check.setAccessibleName("Keep me signed in")
    check.setToolTip(
        "Remember this sign-in in the system's password store so you are not asked next time"
    )
    return check
