"""Asyncio tasks owned by a window or dialog, cancelled together when it goes away.

Slots stay plain functions: they update the widget at once (busy state,
validation) and hand the slow part to ``TaskGroup.spawn``. Unlike a bare
``create_task``, an unexpected exception is not lost: it goes to
``sys.excepthook`` as qasync's asyncSlot does (pytest-qt turns it into a test
failure), and closing the owner cancels what is still running, so no task
touches a deleted widget.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any


class TaskGroup:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._on_task_done)
        return task

    def pending(self) -> list[asyncio.Task[Any]]:
        return [task for task in self._tasks if not task.done()]

    def cancel_all(self) -> list[asyncio.Task[Any]]:
        """Cancel every running task; returns them so the caller may await their end."""
        pending = self.pending()
        for task in pending:
            task.cancel()
        return pending

    async def wait_idle(self) -> None:
        while pending := self.pending():
            await asyncio.wait(pending)

    def _on_task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            sys.excepthook(type(error), error, error.__traceback__)
