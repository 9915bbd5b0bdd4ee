"""Measuring how long the UI thread stops turning (a liveness check, not a benchmark)."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer


class StallMeter:
    """The longest gap between ticks of a fast QTimer: how long the event loop stood still."""

    def __init__(self, interval_ms: int = 5) -> None:
        self.longest = 0.0
        self.ticks = 0
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.longest, self.ticks, self._last = 0.0, 0, time.perf_counter()
        self._timer.start()

    def stop(self) -> float:
        """Stop measuring, counting the time since the last tick; returns the longest stall."""
        self._tick()
        self._timer.stop()
        return self.longest

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        self._last = now
        self.ticks += 1
