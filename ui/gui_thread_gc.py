"""Python's cyclic garbage collection, run on the GUI thread only.

Automatic collection runs in whichever thread happens to allocate when a
threshold is crossed: with the media, tone and keyring threads that is often not
the GUI thread, and a collected cycle holding a QObject then deletes it off its
thread (its timers fire on freed memory: a crash). So automatic collection is
switched off and a timer collects here instead, by the same thresholds
(qutebrowser does the same).

A full collection walks every tracked object. Most of them come from imports
(modules, classes, functions: over 100,000 here) and live as long as the app,
yet each full collection walked them again: about 60 ms of UI thread, a stall
every few seconds while a big meeting loads. Once start-up has imported what
the app runs on, they are frozen out of later collections (``gc.freeze()``, as
Instagram does after start-up).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 1000


class GuiThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        gc.disable()
        self._timer.start()

    def collect_due(self) -> None:
        """Collect the oldest generation whose count passed its threshold."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        due = [gen for gen in range(3) if counts[gen] > thresholds[gen]]
        if due:
            gc.collect(max(due))

    @staticmethod
    def freeze_long_lived() -> None:
        """Keep what is alive now (start-up's imports) out of every later collection."""
        gc.freeze()

    def stop(self) -> None:
        """Back to Python's own collection (the app is ending)."""
        self._timer.stop()
        gc.enable()
