"""The bars above a conversation's transcript, stacked in one place.

Each bar has one owner that shows and clears it: the session bar ("You have
left the call", Rejoin) and the lobby bar ("… is waiting in the lobby", Admit)
belong to the meeting parts, the encryption note to the window, the error bar
to whoever reports a failure. A later part (the escalation banner, a call bar)
adds its own bar with ``add_bar`` without touching the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from ui.banner import Banner, BannerKind

W = TypeVar("W", bound=QWidget)


class BannerArea(QWidget):
    """A column of bars, each shown and cleared by its owner."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bannerArea")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 0, 8, 6)
        self._layout.setSpacing(4)
        self._bars: list[QWidget] = []
        self._error_action: Callable[[], None] | None = None

        #: The yellow "You have left the call" bar with Rejoin (a meeting's own session).
        self.session_bar = self.add_bar(Banner(self))
        #: "… is waiting in the lobby", with Admit.
        self.lobby_bar = self.add_bar(Banner(self))
        #: "This conversation is end-to-end encrypted…"
        self.encryption_note = self.add_bar(Banner(self))
        #: What went wrong last, with an optional Try again.
        self.error_bar = self.add_bar(Banner(self))
        self.error_bar.action_triggered.connect(self._on_error_action)

    def add_bar(self, bar: W, index: int | None = None) -> W:
        """Add ``bar`` at ``index`` (0 is the top), else below the others."""
        position = len(self._bars) if index is None else index
        self._bars.insert(position, bar)
        self._layout.insertWidget(position, bar)
        return bar

    def show_error(
        self,
        text: str,
        *,
        action_text: str | None = None,
        action: Callable[[], None] | None = None,
    ) -> None:
        """Show a failure; ``action`` runs when its button is clicked."""
        self._error_action = action
        self.error_bar.show_message(text, BannerKind.ERROR, action_text=action_text)

    def clear_error(self) -> None:
        """Take down the error bar if it shows an error (a later success)."""
        if self.error_bar.kind is BannerKind.ERROR:
            self.error_bar.clear()

    def _on_error_action(self) -> None:
        action, self._error_action = self._error_action, None
        self.error_bar.clear()
        if action is not None:
            action()
