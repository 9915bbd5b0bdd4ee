"""SIGTERM and SIGINT as a request to quit cleanly, from the first moment of the process.

Installed before anything slow (importing Qt, showing the first window,
starting the event loop), so a signal during start-up still stops the meeting
server and keeps the outbox. Only the standard library is imported here; the
Qt wake-up comes later, once there is an application.

Python runs a signal handler only when the interpreter gets control, which it
does not while Qt's event loop sits in C++. ``wake_qt`` points the signal
wake-up file descriptor at a socket that a QSocketNotifier watches, so the
handler runs at once.
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Callable
from typing import Any

QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class QuitSignals:
    """Turns SIGTERM/SIGINT into one quit request that callbacks can wait for."""

    def __init__(self) -> None:
        self.requested = False
        self._callbacks: list[Callable[[], None]] = []
        self._previous: dict[int, Any] = {}
        self._sockets: tuple[socket.socket, socket.socket] | None = None
        self._notifier: Any = None
        self._previous_wakeup_fd = -1

    def install(self) -> None:
        for signum in QUIT_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_signal)

    def on_request(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the quit request (at once if it came already)."""
        if self.requested:
            callback()
        else:
            self._callbacks.append(callback)

    def wake_qt(self) -> None:
        """Let a signal wake Qt's event loop (needs a QCoreApplication)."""
        from PySide6.QtCore import QSocketNotifier

        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        try:
            self._previous_wakeup_fd = signal.set_wakeup_fd(
                writer.fileno(), warn_on_full_buffer=False
            )
        except ValueError:  # not the main thread: the handler still runs, only later
            reader.close()
            writer.close()
            return
        self._sockets = (reader, writer)
        self._notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, previous)
        self._previous.clear()
        if self._sockets is not None:
            with contextlib.suppress(ValueError):
                signal.set_wakeup_fd(self._previous_wakeup_fd)
            if self._notifier is not None:
                self._notifier.setEnabled(False)
                self._notifier = None
            for sock in self._sockets:
                sock.close()
            self._sockets = None

    def _drain(self, *_args: object) -> None:
        """The wake-up socket is readable: the Python handler has run by now."""
        if self._sockets is not None:
            with contextlib.suppress(OSError):
                while self._sockets[0].recv(512):
                    pass
        self._run_callbacks()

    def _on_signal(self, signum: int, _frame: object) -> None:
        # Keep the handler minimal: it may interrupt the event loop anywhere.
        # With Qt attached, the notifier's slot runs the callbacks instead.
        self.requested = True
        if self._notifier is None:
            self._run_callbacks()

    def _run_callbacks(self) -> None:
        if not self.requested:
            return
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()
