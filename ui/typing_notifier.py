"""Typing notifications: when to tell others we type, and how to show who types."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

#: Re-announce "typing" at most this often while the user keeps typing.
REPEAT_SECONDS = 4.0
#: Announce "stopped typing" after this long without a keystroke.
IDLE_MS = 5000


class TypingNotifier(QObject):
    """Turns keystrokes into throttled typing on/off announcements."""

    #: Tell the server whether we are typing (bool).
    typing_changed = Signal(bool)

    def __init__(
        self, parent: QObject | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._typing = False
        self._last_sent = 0.0
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_MS)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self._idle.timeout.connect(self._on_idle)

    @property
    def typing(self) -> bool:
        return self._typing

    def user_typed(self) -> None:
        now = self._clock()
        if not self._typing or now - self._last_sent >= REPEAT_SECONDS:
            self._typing = True
            self._last_sent = now
            self.typing_changed.emit(True)
        self._idle.start()

    def stop(self) -> None:
        """The user sent, cleared the box or left: we are no longer typing."""
        self._idle.stop()
        if self._typing:
            self._typing = False
            self.typing_changed.emit(False)

    def _on_idle(self) -> None:
        self.stop()


def typing_text(names: Sequence[str]) -> str:
    """ "Alice is typing…", "Alice and Bob are typing…", "A, B and 3 others are typing…"."""
    names = [n for n in names if n]
    match len(names):
        case 0:
            return ""
        case 1:
            return f"{names[0]} is typing…"
        case 2:
            return f"{names[0]} and {names[1]} are typing…"
        case 3:
            return f"{names[0]}, {names[1]} and {names[2]} are typing…"
        case n:
            return f"{names[0]}, {names[1]} and {n - 2} others are typing…"
