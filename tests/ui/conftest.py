"""GUI test glue: a qasync loop for async tests, task errors.

The in-memory keyring every test gets is in tests/conftest.py.

pytest-qt has no qasync support; this is the project's own glue (see
docs "Testing async Qt code" in the architecture notes).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from engine.homeserver import HomeserverProfile
from tests.helpers.gui_people import People
from ui.controller import AppController
from ui.gui_thread_gc import GuiThreadGarbageCollector

#: Messages of the headless "offscreen" platform about what it cannot do; harmless.
OFFSCREEN_LIMITATIONS = (
    r"This plugin does not support raise\(\)",
    r"This plugin does not support propagateSizeHints\(\)",
    r"This plugin does not support requestActivate\(\)",
    r"This plugin does not support grabbing the keyboard",  # a QMenu popping up
)


def pytest_configure(config: pytest.Config) -> None:
    for pattern in OFFSCREEN_LIMITATIONS:
        config.addinivalue_line("qt_log_ignore", pattern)


def _qt_app() -> QApplication:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    # Closing a test's last window must not end the event loop under qasync.
    app.setQuitOnLastWindowClosed(False)
    return app


@pytest.fixture(scope="session", autouse=True)
def collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """As the app does (ui/gui_thread_gc.py): media and tone threads must never
    run a collection that deletes Qt objects; each test's garbage goes here."""
    collector = GuiThreadGarbageCollector(_qt_app())
    yield
    collector.stop()


@pytest.fixture(autouse=True)
def collect_after_each_test() -> Iterator[None]:
    yield
    gc.collect()


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """Async GUI tests run on a qasync loop, so Qt and asyncio share one thread."""
    return {"qt": lambda: qasync.QEventLoop(_qt_app())}


@pytest.fixture(autouse=True)
async def fail_on_task_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """Fail the test if a task died with an exception nobody retrieved.

    pytest-qt reports exceptions in Qt slots (asyncSlot uses sys.excepthook),
    but not those of tasks made with create_task/ensure_future.
    """
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()

    def handler(the_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        errors.append(context)
        the_loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    try:
        yield errors
        gc.collect()  # "exception was never retrieved" is reported when a task is freed
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    if errors:
        details = "; ".join(f"{c.get('message')}: {c.get('exception')!r}" for c in errors)
        pytest.fail(f"unhandled error in an asyncio task: {details}")


MakeController = Callable[..., AppController]


@pytest.fixture
async def make_controller(tmp_path: Path) -> AsyncIterator[MakeController]:
    """``make_controller(data_dir=None, **kwargs)``: an AppController on a private data dir.

    The embedded server (if one is started) uses the TEST profile. Every
    controller is shut down at teardown, which also stops its server.
    """
    controllers: list[AppController] = []

    def factory(data_dir: Path | None = None, **kwargs: Any) -> AppController:
        kwargs.setdefault("homeserver_profile", HomeserverProfile.TEST)
        controller = AppController(data_dir or tmp_path / "confero", **kwargs)
        controllers.append(controller)
        return controller

    yield factory
    for controller in controllers:
        await controller.shutdown()
        controller.welcome.deleteLater()
    await asyncio.sleep(0)


@pytest.fixture
async def people(make_user: Callable[..., Any], tmp_path: Path) -> AsyncIterator[People]:
    """``await people("Bob", main_window=True)``: signed-in people with their windows."""
    crowd = People(make_user, tmp_path)
    try:
        yield crowd
    finally:
        await crowd.close()  # only does something when a test failed half-way
