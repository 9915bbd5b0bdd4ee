"""Quitting ends Confero whatever it is waiting on, and stops the embedded server.

Each test puts the controller in one kind of wait, then quits: shutdown must
finish within QUIT_BOUND_S (far less than the wait would last on its own).
app.py calls the same ``shutdown()`` for Ctrl+Q, the last window closing,
SIGTERM and SIGINT; tests/ui/test_app.py sends the signals to a real process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.conference_models import SessionState
from engine.homeserver import EmbeddedHomeserver
from tests.helpers.engines import signed_in_engine
from tests.helpers.keyrings import BlockingKeyring, MemoryKeyring
from tests.helpers.qt_async import wait_for_signal, wait_until
from tests.helpers.users import TestUser
from tests.ui.conftest import MakeController
from tests.ui.test_welcome import click, fill_sign_in, main_window_of, open_sign_in
from ui.controller import KEYRING_WAITING, AppController
from ui.welcome import WelcomePage

pytestmark = [pytest.mark.integration, pytest.mark.gui]

MakeUser = Callable[..., TestUser]

#: Generous, yet shorter than every wait below would last on its own.
QUIT_BOUND_S = 20.0


async def quit_within_bound(controller: AppController) -> None:
    """Ctrl+Q asks to quit; then the shutdown app.py runs must end in time."""
    asked = asyncio.ensure_future(wait_for_signal(controller.quit_requested, 5))
    await asyncio.sleep(0)
    controller.welcome.quit_action.trigger()
    await asked
    await asyncio.wait_for(controller.shutdown(), QUIT_BOUND_S)
    assert controller.engine is None
    assert not controller.welcome.isVisible()


@pytest.fixture
def stuck_keyring(memory_keyring: MemoryKeyring) -> Iterator[BlockingKeyring]:
    """A keyring prompt nobody answers during the test."""
    backend = BlockingKeyring()
    keyring.set_keyring(backend)
    yield backend
    backend.close()


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A Matrix server that answers discovery, then never answers a sign-in."""
    stalled: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        if b"/_matrix/client/versions" in request:
            body = b'{"versions": ["v1.11"]}'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            writer.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        elif b"/.well-known/" in request:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        else:
            stalled.append(writer)  # accepted, read, and never answered
            return
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in stalled:
            writer.close()
        server.close()


async def test_quit_while_the_server_starts_stops_it(
    make_controller: MakeController, tmp_path: Path
) -> None:
    controller = make_controller(data_dir=tmp_path / "local", local=True)
    startup = asyncio.ensure_future(controller.start())
    await wait_until(
        lambda: controller.homeserver is not None and controller.homeserver.is_running, 30
    )
    server = controller.homeserver
    assert isinstance(server, EmbeddedHomeserver)
    assert controller.welcome.current_page() is WelcomePage.BUSY  # still starting

    await quit_within_bound(controller)
    assert not server.is_running
    assert not (server.data_dir / "homeserver.pid").exists()
    await asyncio.wait_for(startup, 5)  # start-up ended with the quit, not later
    assert controller.welcome.current_page() is WelcomePage.BUSY, "no page after quitting"


async def test_quit_during_a_keyring_prompt_stops_the_server(
    make_controller: MakeController, stuck_keyring: BlockingKeyring, tmp_path: Path
) -> None:
    controller = make_controller(data_dir=tmp_path / "local", local=True)
    startup = asyncio.ensure_future(controller.start())
    await wait_until(lambda: controller.welcome.banner.text() == KEYRING_WAITING, 90)
    server = controller.homeserver
    assert server is not None and server.is_running
    assert stuck_keyring.calls == ["get"]

    await quit_within_bound(controller)
    assert not server.is_running
    await asyncio.wait_for(startup, 5)
    assert stuck_keyring.calls == ["get"], "the stuck prompt is left behind, not waited on"


async def test_quit_during_a_request_to_a_silent_server(
    make_controller: MakeController, silent_server: str, qtbot
) -> None:
    controller = make_controller()
    page = await open_sign_in(controller, qtbot)
    fill_sign_in(qtbot, page, silent_server, "someone", "a password")
    click(qtbot, page.submit_button)
    await wait_until(lambda: controller.engine is not None, 10)
    assert page.is_busy()

    await quit_within_bound(controller)
    assert controller.main_window is None


async def test_quit_during_a_lobby_wait(
    make_controller: MakeController, make_user: MakeUser, tmp_path: Path, qtbot
) -> None:
    alice = await signed_in_engine(make_user("alice"), tmp_path / "alice")
    try:
        room_id = await alice.conferences.meet_now("Lobby test")
        digits = alice.conferences.details(room_id).conference_id
        bob = make_user("bob")
        controller = make_controller(meeting=digits)
        page = await open_sign_in(controller, qtbot)
        fill_sign_in(qtbot, page, bob.homeserver_url, bob.localpart, bob.password)
        click(qtbot, page.submit_button)
        await main_window_of(controller)
        engine = controller.engine
        assert engine is not None

        def bobs_state() -> SessionState | None:
            session = engine.conferences.session(room_id)
            return session.state if session else None

        await wait_until(lambda: bobs_state() is SessionState.IN_LOBBY, 30)

        # Ctrl+Q in the meeting's own window quits too, not only in the main window.
        main = controller.main_window
        assert main is not None
        window = main.windows.find(room_id)
        assert window is not None
        asked = asyncio.ensure_future(wait_for_signal(controller.quit_requested, 5))
        await asyncio.sleep(0)  # the wait is connected before the key goes in
        window.activateWindow()
        QApplication.setActiveWindow(window)
        target = QApplication.focusWidget() or window
        QTest.keyClick(target, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
        await asked
        await asyncio.wait_for(controller.shutdown(), QUIT_BOUND_S)
        assert controller.engine is None
        assert controller.main_window is None
    finally:
        await alice.session.close()
