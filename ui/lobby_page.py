"""What someone joining a meeting sees while they wait in its lobby, and how that ends.

Waiting: "Waiting in the lobby: someone in the meeting will let you in", the
time waited and the time left before the lobby gives up (ticking each second,
with a progress bar), and Cancel. Timed out: "Nobody let you in" with Retry.
Denied: a clear message, with Ask again where the engine allows it.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.conference_models import ConferenceDetails, ConferenceSession, SessionState
from ui import theme
from ui.accessibility import announce
from ui.meeting_text import lobby_page_text
from ui.message_delegate import dim_color

TICK_MS = 1000
BOX_WIDTH = 420
_BAR_STEPS = 1000

#: The states this page shows; the window shows the transcript for the others.
LOBBY_STATES = (SessionState.IN_LOBBY, SessionState.LOBBY_TIMED_OUT, SessionState.DENIED)


def format_duration(seconds: float, *, round_up: bool = False) -> str:
    """0:07, 4:48, 1:02:03; time left rounds up, time waited down."""
    seconds = max(0.0, seconds)
    total = math.ceil(seconds - 1e-6) if round_up else math.floor(seconds + 1e-6)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class LobbyPage(QWidget):
    """The lobby wait indicator and its outcomes."""

    #: Cancel was clicked while waiting.
    cancel_requested = Signal()
    #: Retry (timed out) or Ask again (denied) was clicked.
    retry_requested = Signal()
    #: Close was clicked after the wait ended.
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lobbyPage")
        self._state: SessionState | None = None
        self._since_ms: int | None = None
        self._timeout_s = 0.0
        self._now = time.time  # seconds; replaceable in tests

        self.icon_label = QLabel(self)
        self.icon_label.setPixmap(theme.icon("conference").pixmap(56, 56))
        self.icon_label.setMinimumHeight(60)
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.icon_label.setAccessibleName("Meeting")

        self.title_label = QLabel(self)
        self.title_label.setObjectName("lobbyTitle")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        theme.scale_font(self.title_label, 1.2, bold=True)

        self.meeting_label = QLabel(self)
        self.meeting_label.setTextFormat(Qt.TextFormat.PlainText)
        self.meeting_label.setWordWrap(True)
        self.meeting_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.meeting_label.setAccessibleName("Meeting")

        self.detail_label = QLabel(self)
        self.detail_label.setTextFormat(Qt.TextFormat.PlainText)
        self.detail_label.setWordWrap(True)
        self.detail_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Time waited in the lobby")
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.progress.setRange(0, _BAR_STEPS)
        self.progress.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        self.elapsed_label = QLabel(self)
        self.elapsed_label.setTextFormat(Qt.TextFormat.PlainText)
        self.elapsed_label.setAccessibleName("Time waited")
        self.remaining_label = QLabel(self)
        self.remaining_label.setTextFormat(Qt.TextFormat.PlainText)
        self.remaining_label.setAccessibleName("Time left")
        self.remaining_label.setAlignment(Qt.AlignmentFlag.AlignRight)

        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Stop waiting")
        self.cancel_button.setToolTip("Stop waiting and leave the lobby (Esc)")
        self.cancel_button.setShortcut(Qt.Key.Key_Escape)
        self.retry_button = QPushButton("Retry", self)
        self.retry_button.setAccessibleName("Retry")
        self.retry_button.setToolTip("Knock again and wait in the lobby")
        self.close_button = QPushButton("Close", self)
        self.close_button.setAccessibleName("Close")
        self.close_button.setToolTip("Close this window")

        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)

        self._times = QWidget(self)
        times = QHBoxLayout(self._times)
        times.setContentsMargins(0, 0, 0, 0)
        times.addWidget(self.elapsed_label)
        times.addStretch(1)
        times.addWidget(self.remaining_label)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)

        column = QVBoxLayout()
        column.setSpacing(10)
        column.addWidget(self.icon_label)
        column.addWidget(self.title_label)
        column.addWidget(self.meeting_label)
        column.addWidget(self.detail_label)
        column.addSpacing(6)
        column.addWidget(self.progress)
        column.addWidget(self._times)
        column.addSpacing(6)
        column.addLayout(buttons)
        box = QWidget(self)
        box.setLayout(column)
        box.setFixedWidth(BOX_WIDTH)  # wrapped labels then know their height

        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 24, 24, 24)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

        self._apply_palette()
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._timer.timeout.connect(self._on_tick)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.retry_button.clicked.connect(self.retry_requested)
        self.close_button.clicked.connect(self.close_requested)

    # -- public API ---------------------------------------------------------

    @property
    def state(self) -> SessionState | None:
        return self._state

    def apply(self, session: ConferenceSession, details: ConferenceDetails | None = None) -> None:
        """Show ``session`` (one of LOBBY_STATES, or CONNECTING)."""
        previous, self._state = self._state, session.state
        self._since_ms = session.lobby_since_ms
        self._timeout_s = session.lobby_timeout_s
        self.meeting_label.setText(_meeting_text(details))
        self.meeting_label.setVisible(bool(self.meeting_label.text()))
        waiting = session.state is SessionState.IN_LOBBY
        connecting = session.state is SessionState.CONNECTING
        title, detail = lobby_page_text(session)
        self.title_label.setText(title)
        self.detail_label.setText(detail)
        self.detail_label.setVisible(bool(detail))

        self.progress.setVisible(waiting or connecting)
        self._times.setVisible(waiting)
        self.cancel_button.setVisible(waiting or connecting)
        ended = not (waiting or connecting)
        self.close_button.setVisible(ended)
        self.retry_button.setVisible(ended and session.can_rejoin)
        self.retry_button.setText("Ask again" if session.state is SessionState.DENIED else "Retry")
        self.retry_button.setAccessibleName(self.retry_button.text())
        if connecting:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, _BAR_STEPS)
        if waiting:
            self._on_tick()
            self._timer.start()
        else:
            self._timer.stop()
        if previous is not session.state:
            announce(self, title, assertive=not waiting)
            (self.retry_button if self.retry_button.isVisible() else self.cancel_button).setFocus()

    def stop(self) -> None:
        self._timer.stop()

    def elapsed_s(self) -> float:
        if self._since_ms is None:
            return 0.0
        return max(0.0, self._now() - self._since_ms / 1000)

    def remaining_s(self) -> float | None:
        """Seconds before the lobby gives up; None when it never does."""
        if self._timeout_s <= 0 or math.isinf(self._timeout_s):
            return None
        return max(0.0, self._timeout_s - self.elapsed_s())

    # -- internals ----------------------------------------------------------

    def _on_tick(self) -> None:
        elapsed = self.elapsed_s()
        remaining = self.remaining_s()
        self.elapsed_label.setText(f"Waited {format_duration(elapsed)}")
        if remaining is None:
            self.remaining_label.setText("No time limit")
            self.progress.setRange(0, 0)
            return
        left = format_duration(remaining, round_up=True)
        self.remaining_label.setText(f"{left} left")
        self.progress.setRange(0, _BAR_STEPS)
        fraction = min(1.0, elapsed / self._timeout_s) if self._timeout_s else 1.0
        self.progress.setValue(round(fraction * _BAR_STEPS))
        self.progress.setAccessibleDescription(f"Waited {format_duration(elapsed)}, {left} left")

    def _apply_palette(self) -> None:
        dim = dim_color(self.palette())
        for label in (self.meeting_label, self.elapsed_label, self.remaining_label):
            palette = label.palette()
            palette.setColor(label.foregroundRole(), dim)
            label.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._state is SessionState.IN_LOBBY:
            self._on_tick()
            self._timer.start()


def _meeting_text(details: ConferenceDetails | None) -> str:
    if details is None:
        return ""
    parts = [p for p in (details.subject, f"Meeting ID {details.conference_id}") if p]
    return " · ".join(parts) if details.conference_id else details.subject
