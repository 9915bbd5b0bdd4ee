"""What the benches share: an offscreen Qt app on a qasync loop, a server, waiting.

The UI-thread stall is measured with tests/helpers/stalls.py's StallMeter, the
same meter the GUI tests use, so a bench's figure and a test's bound mean the
same thing.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication

from engine.conference_models import AccessLevel, PresenterPolicy
from engine.conferences import meeting_create_request
from engine.homeserver import EmbeddedHomeserver, HomeserverProfile
from ui.gui_thread_gc import GuiThreadGarbageCollector


def run_on_qt_loop(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` as the app runs: Qt and asyncio on one thread (qasync)."""
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    # A bench closes windows as it goes; that must not end the loop.
    app.setQuitOnLastWindowClosed(False)
    # Garbage is collected as in the app: on this thread, start-up's objects frozen.
    collector = GuiThreadGarbageCollector(app)
    collector.freeze_long_lived()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(work)


@asynccontextmanager
async def embedded_server(
    data_dir: Path, profile: HomeserverProfile = HomeserverProfile.TEST
) -> AsyncIterator[EmbeddedHomeserver]:
    """A Synapse of its own for the bench (the test profile lifts the rate limits)."""
    server = EmbeddedHomeserver(data_dir, profile=profile)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def wait_until(
    predicate: Callable[[], object], timeout: float = 120.0, poll: float = 0.005
) -> None:
    """Poll ``predicate`` often (a bench's figures are only as fine as this)."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the benchmark's condition was not met")
        await asyncio.sleep(poll)


def raw_meeting_request(
    organizer: str, subject: str, access_level: AccessLevel, **extra_state: Any
) -> dict[str, Any]:
    """The createRoom arguments Confero sends for a new meeting, for a raw client:
    the benches time that very request against the engine's path."""
    conference_id = str(secrets.randbelow(9_000_000) + 1_000_000)
    state = {
        "conference_id": conference_id,
        "subject": subject,
        "organizer": organizer,
        "created_ts": int(time.time() * 1000),
        "presenter_policy": PresenterPolicy.EVERYONE.value,
        **extra_state,
    }
    return meeting_create_request(organizer, conference_id, subject, state, access_level)
