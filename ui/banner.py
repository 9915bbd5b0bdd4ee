"""A coloured notification bar: a line of text and an optional action button.

Used for "Connection lost: reconnecting…", for notices such as "Confero cannot
remember your sign-in", and later for the yellow "You have left the call" bar
with its Rejoin button. Banner colours are fixed on purpose (they must look
like a banner on light and dark desktops alike) and always pair a pale
background with dark text.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from ui.accessibility import announce


class BannerKind(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


# (background, border, text)
_COLOURS: dict[BannerKind, tuple[str, str, str]] = {
    BannerKind.INFO: ("#dbe9ff", "#8fb6f2", "#0b2a5b"),
    BannerKind.WARNING: ("#fff1b8", "#e2bd3a", "#3d2f00"),
    BannerKind.ERROR: ("#fde0de", "#ee9a94", "#5c0b0b"),
}


class Banner(QFrame):
    """A dismissable, coloured bar shown at the top of a window."""

    #: The action button was clicked.
    action_triggered = Signal()
    #: The second action button (left of the first) was clicked.
    secondary_action_triggered = Signal()
    #: The bar was closed with its dismiss button.
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Notification")
        self._kind = BannerKind.INFO

        self._label = QLabel(self)
        self._label.setObjectName("bannerText")
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self._action = QPushButton(self)
        self._action.setObjectName("bannerAction")
        self._action.setCursor(Qt.CursorShape.PointingHandCursor)
        self._action.setAccessibleName("Notification action")
        self._action.hide()

        # A second choice beside the first, e.g. "Show log" beside "Try again".
        self._secondary = QPushButton(self)
        self._secondary.setObjectName("bannerAction")
        self._secondary.setCursor(Qt.CursorShape.PointingHandCursor)
        self._secondary.setAccessibleName("Second notification action")
        self._secondary.hide()

        self._close = QToolButton(self)
        self._close.setObjectName("bannerClose")
        self._close.setText("✕")
        self._close.setAccessibleName("Dismiss notification")
        self._close.setToolTip("Dismiss")
        self._close.setAutoRaise(True)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.setSpacing(8)
        layout.addWidget(self._label, 1)
        layout.addWidget(self._secondary)
        layout.addWidget(self._action)
        layout.addWidget(self._close)

        self._connect_signals()
        self._apply_colours()
        self.hide()

    def _connect_signals(self) -> None:
        self._action.clicked.connect(self.action_triggered)
        self._secondary.clicked.connect(self.secondary_action_triggered)
        self._close.clicked.connect(self._on_close_clicked)

    # -- public API ---------------------------------------------------------

    def show_message(
        self,
        text: str,
        kind: BannerKind = BannerKind.INFO,
        *,
        action_text: str | None = None,
        action_tooltip: str | None = None,
        dismissable: bool = True,
        secondary_text: str | None = None,
        secondary_tooltip: str | None = None,
    ) -> None:
        """Show ``text`` (always as plain text) with up to two action buttons."""
        changed = text != self._label.text() or self.isHidden()
        self._kind = kind
        self._label.setText(text)
        self.setAccessibleDescription(text)
        if action_text:
            self._action.setText(action_text)
            self._action.setAccessibleName(action_text)
            self._action.setToolTip(action_tooltip or action_text)
            self._action.show()
        else:
            self._action.hide()
        if secondary_text:
            self._secondary.setText(secondary_text)
            self._secondary.setAccessibleName(secondary_text)
            self._secondary.setToolTip(secondary_tooltip or secondary_text)
            self._secondary.show()
        else:
            self._secondary.hide()
        self._close.setVisible(dismissable)
        self._apply_colours()
        self.show()
        if changed:
            announce(self, text, assertive=kind is BannerKind.ERROR)

    def clear(self) -> None:
        self.hide()
        self._label.clear()
        self.setAccessibleDescription("")

    def text(self) -> str:
        """The text on show, or "" while the bar is hidden."""
        return "" if self.isHidden() else self._label.text()

    @property
    def kind(self) -> BannerKind:
        return self._kind

    @property
    def action_button(self) -> QPushButton:
        return self._action

    @property
    def secondary_button(self) -> QPushButton:
        return self._secondary

    # -- internals ----------------------------------------------------------

    def _on_close_clicked(self) -> None:
        self.clear()
        self.dismissed.emit()

    def _apply_colours(self) -> None:
        background, border, text = _COLOURS[self._kind]
        self.setStyleSheet(
            f"""
            QFrame#banner {{
                background: {background};
                border: 1px solid {border};
                border-radius: 6px;
            }}
            QLabel#bannerText {{ color: {text}; background: transparent; border: none; }}
            QPushButton#bannerAction {{
                color: {text};
                background: rgba(255, 255, 255, 0.55);
                border: 1px solid {border};
                border-radius: 4px;
                padding: 3px 12px;
                font-weight: bold;
            }}
            QPushButton#bannerAction:hover {{ background: rgba(255, 255, 255, 0.85); }}
            QPushButton#bannerAction:focus {{ border: 2px solid {text}; }}
            QToolButton#bannerClose {{
                color: {text};
                background: transparent;
                border: none;
                padding: 2px 6px;
            }}
            QToolButton#bannerClose:hover {{ background: rgba(0, 0, 0, 0.08); }}
            QToolButton#bannerClose:focus {{ border: 1px solid {text}; }}
            """
        )
